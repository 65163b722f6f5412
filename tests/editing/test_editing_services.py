"""The editing services: quick actions, audit entries (the hearing-change contract), versions, conflicts."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tracker.editing import services
from tracker.editing.models import AuditEntry
from tracker.extensions import db
from tracker.records.models import (
    DefendantStatus,
    Hearing,
    HearingStatus,
    MeasureKind,
    Outcome,
)


def _entries(entity_type: str, entity_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)
    ))


def _fresh_hearing(hearing_id: int) -> Hearing:
    db.session.expire_all()
    return db.session.get(Hearing, hearing_id)


def test_postpone_to_a_date_keeps_it_scheduled_and_records_the_old_date(make_hearing, editor, now):
    hearing = make_hearing()
    db.session.commit()
    old_start, old_version = hearing.starts_at, hearing.version
    new_start = now + timedelta(days=10, hours=2)

    services.postpone_hearing(db.session, hearing, new_start, reason="judge ill", by=editor, now=now,
                              expected_version=old_version)
    db.session.commit()

    hearing = _fresh_hearing(hearing.id)
    assert hearing.starts_at == new_start
    assert hearing.status is HearingStatus.SCHEDULED
    assert hearing.version == old_version + 1
    [entry] = _entries("hearing", hearing.id)
    assert entry.action == "postpone"
    assert entry.user_id == editor.id
    assert entry.defendant_id is None
    assert entry.at == now
    assert entry.note == "judge ill"
    assert entry.changes == {"starts_at": [old_start.isoformat(), new_start.isoformat()]}
    assert entry.changes["starts_at"][0].endswith("+00:00")


def test_postpone_without_a_date_sets_postponed(make_hearing, editor, now):
    hearing = make_hearing()
    db.session.commit()
    services.postpone_hearing(db.session, hearing, None, by=editor, now=now)
    db.session.commit()
    hearing = _fresh_hearing(hearing.id)
    assert hearing.status is HearingStatus.POSTPONED
    [entry] = _entries("hearing", hearing.id)
    assert entry.action == "postpone"
    assert entry.changes == {"status": ["scheduled", "postponed"]}

    # then a date is fixed: scheduled again, at the new time
    new_start = now + timedelta(days=20)
    services.postpone_hearing(db.session, hearing, new_start, by=editor, now=now)
    db.session.commit()
    hearing = _fresh_hearing(hearing.id)
    assert (hearing.status, hearing.starts_at, hearing.version) == (HearingStatus.SCHEDULED, new_start, 3)
    assert _entries("hearing", hearing.id)[-1].changes["status"] == ["postponed", "scheduled"]


def test_postpone_refuses_the_past_and_finished_hearings(make_hearing, editor, now):
    hearing = make_hearing()
    db.session.commit()
    with pytest.raises(services.DomainError) as error:
        services.postpone_hearing(db.session, hearing, now - timedelta(hours=1), by=editor, now=now)
    assert error.value.field == "to"
    services.cancel_hearing(db.session, hearing, "case dropped", by=editor, now=now)
    db.session.commit()
    with pytest.raises(services.DomainError, match="already cancelled"):
        services.postpone_hearing(db.session, hearing, now + timedelta(days=3), by=editor, now=now)


def test_cancel_records_the_reason(make_hearing, editor, now):
    hearing = make_hearing()
    db.session.commit()
    with pytest.raises(services.DomainError) as error:
        services.cancel_hearing(db.session, hearing, "  ", by=editor, now=now)
    assert error.value.field == "reason"
    services.cancel_hearing(db.session, hearing, "The court is closed", by=editor, now=now)
    db.session.commit()
    hearing = _fresh_hearing(hearing.id)
    assert hearing.status is HearingStatus.CANCELLED and hearing.version == 2
    [entry] = _entries("hearing", hearing.id)
    assert entry.action == "cancel"
    assert entry.changes == {"status": ["scheduled", "cancelled"], "outcome_note": ["", "The court is closed"]}


def test_mark_held_with_an_outcome_note(make_hearing, editor, now):
    hearing = make_hearing(starts_at=now - timedelta(hours=3))
    future = make_hearing(starts_at=now + timedelta(days=1))
    db.session.commit()
    services.mark_held(db.session, hearing, "Detention extended by 3 months", by=editor, now=now)
    db.session.commit()
    hearing = _fresh_hearing(hearing.id)
    assert hearing.status is HearingStatus.HELD
    assert hearing.outcome_note == "Detention extended by 3 months"
    [entry] = _entries("hearing", hearing.id)
    assert entry.action == "mark_held"
    assert entry.changes["status"] == ["scheduled", "held"]
    with pytest.raises(services.DomainError, match="not started"):
        services.mark_held(db.session, future, "", by=editor, now=now)


def test_changing_only_the_defendants_still_raises_the_version(make_hearing, make_defendant, editor, now):
    hearing = make_hearing()
    other = make_defendant()
    db.session.commit()
    first = hearing.defendants[0]
    data = services.HearingData(court=hearing.court, starts_at=hearing.starts_at,
                                defendants=[first, other], values={})
    services.update_hearing(db.session, hearing, data, expected_version=1, by=editor, now=now)
    db.session.commit()
    hearing = _fresh_hearing(hearing.id)
    assert hearing.version == 2
    [entry] = _entries("hearing", hearing.id)
    assert entry.action == "update"
    assert entry.changes == {"defendants": [[first.id], sorted([first.id, other.id])]}


def test_create_hearing_needs_a_defendant_and_records_create(make_court, make_defendant, editor, now):
    court = make_court()
    with pytest.raises(services.DomainError) as error:
        services.create_hearing(db.session, services.HearingData(court=court, starts_at=now, defendants=[]),
                                by=editor, now=now)
    assert error.value.field == "defendants"
    person = make_defendant()
    hearing = services.create_hearing(
        db.session, services.HearingData(court=court, starts_at=now + timedelta(days=2), defendants=[person]),
        by=editor, now=now,
    )
    db.session.commit()
    [entry] = _entries("hearing", hearing.id)
    assert entry.action == "create" and entry.defendant_id is None
    assert entry.changes["starts_at"] == [None, (now + timedelta(days=2)).isoformat()]
    assert entry.changes["status"] == [None, "scheduled"]
    assert entry.changes["defendants"] == [None, [person.id]]


def test_extend_custody_adds_the_next_measure_of_the_chain(make_defendant, make_measure, editor, now):
    person = make_defendant()
    first = make_measure(person, starts_on=date(2025, 6, 8), until=date(2025, 8, 6))
    db.session.commit()
    version = person.version

    with pytest.raises(services.DomainError) as error:
        services.extend_custody(db.session, person, date(2025, 8, 1), by=editor, now=now)
    assert error.value.field == "until" and "Aug 6, 2025" in error.value.message

    measure = services.extend_custody(db.session, person, date(2025, 11, 6), ordered_by="Basmanny court",
                                      by=editor, now=now, expected_version=version)
    db.session.commit()
    assert measure.extends_id == first.id
    assert (measure.kind, measure.starts_on, measure.until) == (
        MeasureKind.PRE_TRIAL_DETENTION, date(2025, 8, 6), date(2025, 11, 6))
    assert person.version == version + 1
    [entry] = _entries("custody_measure", measure.id)
    assert entry.action == "extend" and entry.defendant_id == person.id
    assert entry.changes["until"] == [None, "2025-11-06"]
    assert entry.changes["extends_id"] == [None, first.id]


def test_extend_needs_a_measure_in_force(make_defendant, editor, now):
    person = make_defendant()
    with pytest.raises(services.DomainError, match="no measure"):
        services.extend_custody(db.session, person, date(2025, 11, 6), by=editor, now=now)


def test_record_verdict_sets_the_status(make_defendant, make_measure, editor, now):
    person = make_defendant(status=DefendantStatus.PRE_TRIAL_DETENTION)
    make_measure(person)
    db.session.commit()
    decision = services.record_decision(
        db.session, person,
        {"decided_on": date(2026, 2, 20), "outcome": Outcome.IMPRISONMENT, "term_years": 4, "term_months": 6},
        expected_version=person.version, by=editor, now=now,
    )
    db.session.commit()
    assert person.status is DefendantStatus.IMPRISONED
    assert decision.expected_release == date(2030, 8, 20)
    [entry] = _entries("decision", decision.id)
    assert entry.action == "record_decision"
    assert entry.changes["status"] == ["pre_trial_detention", "imprisoned"]
    assert entry.changes["term_months"] == [None, 6]


def test_a_negative_term_is_refused(make_defendant, editor, now):
    person = make_defendant()
    with pytest.raises(services.DomainError) as error:
        services.record_decision(db.session, person, {"decided_on": date(2026, 2, 20),
                                 "outcome": Outcome.IMPRISONMENT, "term_months": -3},
                                 expected_version=None, by=editor, now=now)
    assert error.value.field == "term_months"


def test_update_defendant_records_private_fields_for_editors(make_defendant, make_case, editor, now):
    person = make_defendant()
    case = make_case()
    db.session.commit()
    services.update_defendant(db.session, person, {"lawyer_contacts": "+7 900 000-00-00"}, cases=[case],
                              expected_version=person.version, by=editor, now=now)
    db.session.commit()
    [entry] = _entries("defendant", person.id)
    assert entry.changes == {"lawyer_contacts": ["", "+7 900 000-00-00"], "cases": [[], [case.id]]}
    assert person.version == 2


def test_a_stale_version_is_refused_before_anything_changes(make_hearing, editor, now):
    hearing = make_hearing()
    db.session.commit()
    services.postpone_hearing(db.session, hearing, now + timedelta(days=5), by=editor, now=now,
                              expected_version=1)
    db.session.commit()
    with pytest.raises(services.EditConflict) as conflict:
        services.cancel_hearing(db.session, hearing, "typo", by=editor, now=now, expected_version=1)
    db.session.rollback()
    report = services.explain_conflict(db.session, conflict.value)
    assert report.current_version == 2
    assert [e.action for e in report.entries] == ["postpone"]
    assert _fresh_hearing(hearing.id).status is HearingStatus.SCHEDULED


def test_a_commit_in_between_check_and_flush_is_caught_by_the_version_column(make_hearing, editor, now):
    """Another transaction saves after our check: the ORM's versioned UPDATE matches no row."""
    hearing = make_hearing()
    db.session.commit()
    hearing_id = hearing.id
    with db.engine.begin() as other:  # a second editor's request, committed on its own connection
        other.execute(sa.update(Hearing).where(Hearing.id == hearing_id)
                      .values(version=Hearing.version + 1, courtroom="12"))
    assert hearing.version == 1  # our session still holds the version it loaded
    with pytest.raises(services.EditConflict) as conflict:
        services.postpone_hearing(db.session, hearing, now + timedelta(days=9), by=editor, now=now,
                                  expected_version=1)
    assert conflict.value.loaded_version == 1
    fresh = _fresh_hearing(hearing_id)
    assert (fresh.version, fresh.courtroom, fresh.starts_at) == (2, "12", now + timedelta(days=3))
    assert _entries("hearing", hearing_id) == []  # the audit entry went with the rollback


def test_court_time_reads_wall_clock_in_the_courts_zone(make_court):
    court = make_court(timezone="Asia/Yekaterinburg")
    assert services.court_time(datetime(2026, 3, 5, 10, 0), court) == datetime(2026, 3, 5, 5, 0, tzinfo=timezone.utc)


def test_each_change_raises_the_version_exactly_once_even_at_the_same_instant(
    make_defendant, make_measure, make_hearing, editor, now
):
    person = make_defendant()
    make_measure(person, starts_on=date(2025, 6, 8), until=date(2025, 8, 6))
    hearing = make_hearing(defendants=[person])
    db.session.commit()
    # a new kind of measure also changes the status: still one UPDATE, one version
    services.add_measure(db.session, person, {"kind": MeasureKind.HOUSE_ARREST, "starts_on": date(2025, 8, 6),
                          "until": date(2025, 9, 6)},
                         expected_version=1, by=editor, now=now)
    db.session.commit()
    assert (person.version, person.status) == (2, DefendantStatus.HOUSE_ARREST)
    # two changes sharing one `now` (updated_at does not change) still count as two
    services.extend_custody(db.session, person, date(2025, 11, 6), by=editor, now=now, expected_version=2)
    db.session.commit()
    services.extend_custody(db.session, person, date(2026, 2, 6), by=editor, now=now, expected_version=3)
    db.session.commit()
    assert person.version == 4
    services.postpone_hearing(db.session, hearing, now + timedelta(days=4), by=editor, now=now, expected_version=1)
    db.session.commit()
    services.postpone_hearing(db.session, hearing, now + timedelta(days=5), by=editor, now=now, expected_version=2)
    db.session.commit()
    assert _fresh_hearing(hearing.id).version == 3
    assert len(_entries("hearing", hearing.id)) == 2
