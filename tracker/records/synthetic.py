"""A large synthetic movement for benchmarks and query-count tests.

Core bulk inserts, not ORM objects: seeding 20,000 hearings must take seconds,
not minutes, or nobody runs the benchmarks.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.records.enums import DefendantStatus, HearingKind, HearingStatus, MeasureKind, Outcome
from tracker.records.names import stored_name_keys
from tracker.records.models import (
    Case,
    Court,
    CustodyMeasure,
    Decision,
    Defendant,
    Hearing,
    case_defendants,
    hearing_defendants,
)


def _ids(session: Session, model, column, values) -> dict:  # noqa: ANN001
    rows = session.execute(sa.select(column, model.id).where(column.in_(values))).all()
    return dict(rows)


def seed_movement(
    session: Session,
    *,
    defendants: int,
    hearings: int,
    now: datetime,
    cases: int = 10,
    seed: int = 6,
    prefix: str = "syn",
) -> None:
    """Insert `defendants` public defendants with custody chains, and `hearings` hearings.

    Half of the hearings are in the past (held), half upcoming within 60 days;
    each concerns one to three defendants of the same case. The caller commits.
    """
    rng = random.Random(seed)
    court_names = [f"{prefix} court {i}" for i in range(5)]
    session.execute(
        sa.insert(Court),
        [{"name": n, "address": f"{i} Court Street", "timezone": "Europe/Moscow"} for i, n in enumerate(court_names)],
    )
    court_ids = list(_ids(session, Court, Court.name, court_names).values())
    case_slugs = [f"{prefix}-case-{i}" for i in range(cases)]
    session.execute(
        sa.insert(Case),
        [{"slug": s, "title": f"Synthetic case {i}", "description": "", "charges": "", "is_demo": False,
          "version": 1, "created_at": now, "updated_at": now} for i, s in enumerate(case_slugs)],
    )
    case_ids = list(_ids(session, Case, Case.slug, case_slugs).values())

    slugs = [f"{prefix}-defendant-{i}" for i in range(defendants)]
    session.execute(
        sa.insert(Defendant),
        [
            {
                "slug": s, "name_latin": f"Synthetic Person {i}", "name_original": f"Синтетический Человек {i}",
                **stored_name_keys(f"Synthetic Person {i}", f"Синтетический Человек {i}"),
                "bio": "", "charges": "Art. 212", "birth_date": date(1980 + i % 20, 1 + i % 12, 1 + i % 28),
                "status": DefendantStatus.IMPRISONED if i % 10 == 0 else DefendantStatus.PRE_TRIAL_DETENTION,
                "letters_address": f"SIZO {i % 7}", "letters_status": "reach", "is_public": True,
                "lawyer_contacts": "", "internal_notes": "", "version": 1, "created_at": now, "updated_at": now,
            }
            for i, s in enumerate(slugs)
        ],
    )
    defendant_ids = [did for _, did in sorted(_ids(session, Defendant, Defendant.slug, slugs).items(),
                                              key=lambda kv: int(kv[0].rsplit("-", 1)[1]))]
    case_of = {did: case_ids[i % len(case_ids)] for i, did in enumerate(defendant_ids)}
    session.execute(sa.insert(case_defendants), [{"case_id": c, "defendant_id": d} for d, c in case_of.items()])

    today = now.date()
    measures = []
    for did in defendant_ids:
        start = today - timedelta(days=300)
        for k in range(3):  # a first order and two extensions
            measures.append({"defendant_id": did, "kind": MeasureKind.PRE_TRIAL_DETENTION, "starts_on": start,
                             "until": start + timedelta(days=90 if k < 2 else 400), "ordered_by": "court",
                             "note": "", "created_at": now, "_k": k})
            start += timedelta(days=90)
    # extends_id needs the previous id: insert chain by chain level
    previous: dict[int, int] = {}
    for level in range(3):
        rows = [{k: v for k, v in m.items() if k != "_k"} | {"extends_id": previous.get(m["defendant_id"])}
                for m in measures if m["_k"] == level]
        session.execute(sa.insert(CustodyMeasure), rows)
        latest = session.execute(
            sa.select(CustodyMeasure.defendant_id, sa.func.max(CustodyMeasure.id))
            .where(CustodyMeasure.defendant_id.in_(defendant_ids))
            .group_by(CustodyMeasure.defendant_id)
        ).all()
        previous = dict(latest)
    session.execute(
        sa.insert(Decision),
        [{"defendant_id": did, "decided_on": today - timedelta(days=100), "court": "court",
          "outcome": Outcome.IMPRISONMENT, "term_years": 2, "term_months": 6, "term_days": 0, "regime": "",
          "credited_days": 300, "under_appeal": False, "note": "", "created_at": now, "instance": "first"}
         for i, did in enumerate(defendant_ids) if i % 10 == 0],
    )

    by_case: dict[int, list[int]] = {}
    for did, cid in case_of.items():
        by_case.setdefault(cid, []).append(did)
    hearing_rows, concerned = [], []
    for h in range(hearings):
        upcoming = h % 2 == 0
        offset = timedelta(days=rng.randint(0, 59), hours=rng.randint(0, 8))
        starts = now + offset if upcoming else now - offset - timedelta(days=1)
        cid = case_ids[h % len(case_ids)]
        hearing_rows.append({
            "case_id": cid, "court_id": court_ids[h % len(court_ids)], "starts_at": starts,
            "duration_minutes": 120, "courtroom": str(100 + h % 50), "judge": "Judge", "is_open": True,
            "video_link_note": "", "kind": HearingKind.TRIAL,
            "status": HearingStatus.SCHEDULED if upcoming else HearingStatus.HELD, "outcome_note": "",
            "version": 1, "created_at": now, "updated_at": now,
        })
        members = by_case.get(cid) or defendant_ids
        concerned.append(rng.sample(members, k=min(len(members), rng.randint(1, 3))))
    first_id = (session.scalar(sa.select(sa.func.max(Hearing.id))) or 0) + 1
    session.execute(sa.insert(Hearing), hearing_rows)
    ids = session.scalars(sa.select(Hearing.id).where(Hearing.id >= first_id).order_by(Hearing.id)).all()
    session.execute(
        sa.insert(hearing_defendants),
        [{"hearing_id": hid, "defendant_id": did} for hid, dids in zip(ids, concerned) for did in dids],
    )
