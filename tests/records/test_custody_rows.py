"""The public lists read defendants as light rows (records/custody_rows.py) and apply the same
custody and staleness rules as the entities: the same facts and the same status sentences,
in both languages, today and when the facts have gone stale."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.records import queries
from tracker.records.custody_rows import PERSON_COLUMNS, PersonRow, people_of
from tracker.records.display import Display
from tracker.records.enums import DefendantStatus, MeasureKind, Outcome
from tracker.records.models import CustodyMeasure, Decision, Defendant, Placement
from tracker.records.staleness import StaleRule, defendant_finding, last_hearing_days, site_today
from tracker.records.status_text import prepare_rows


def _facts(row: queries.DefendantRow) -> tuple:
    """What the rules derived, with ids where they chose a row."""
    status = row.status
    custody = status.custody
    return (
        (custody.current.id, custody.kind, custody.since, custody.extensions, custody.until, custody.next_review_on)
        if custody else None,
        status.sentence.id if status.sentence else None,
        (status.sentence.term_text, status.sentence.expected_release) if status.sentence else None,
        status.place.id if status.place else None,
        status.release,
        (row.stale.rule, row.stale.since, row.stale.explanation) if row.stale else None,
        row.freshness,
    )


def _both_paths(app, now, language: str) -> tuple[dict, dict]:
    """Each public defendant's facts and sentences, read as entities and as light rows, in a
    request of its own (its own session, language and Display)."""
    with app.app_context(), app.test_request_context(f"/?lang={language}"):
        public = Defendant.is_public.is_(True)
        entities = db.session.scalars(
            sa.select(Defendant).where(public)
            .options(selectinload(Defendant.measures), selectinload(Defendant.decisions),
                     selectinload(Defendant.placements))
            .order_by(Defendant.name_latin, Defendant.id)).all()
        light = people_of(db.session, sa.select(*PERSON_COLUMNS).where(public)
                          .order_by(Defendant.name_latin, Defendant.id), {})
        assert light and all(isinstance(person, PersonRow) for person in light)
        result = []
        for people in (list(entities), light):
            rows = prepare_rows(queries.defendant_rows(db.session, people, now), site_today(now), Display())
            # the rows' finding reads the status line's measure and decision; worked out anew, the same
            last = last_hearing_days(db.session, [person.id for person in people])
            assert [row.stale for row in rows] == [
                defendant_finding(row.defendant, last.get(row.defendant.id), site_today(now)) for row in rows]
            result.append({row.defendant.slug: (_facts(row), str(row.name_html), str(row.status_html),
                                                str(row.fresh_html)) for row in rows})
        return result[0], result[1]


@pytest.mark.parametrize("later", [timedelta(0), timedelta(days=400)], ids=["today", "stale"])
@pytest.mark.parametrize("language", ["en", "ru"])
def test_light_rows_say_what_the_entities_say_on_the_demo(app, now, language, later):
    from tracker.records.demo import load_demo

    with time_machine.travel(now, tick=False):
        load_demo(db.session, now.date())
        db.session.commit()
    entity, light = _both_paths(app, now + later, language)
    assert light == entity
    assert len(light) >= 12
    # the kinds of status line the demo holds are all there, and not empty
    lines = {slug: status for slug, (_facts, _name, status, _fresh) in light.items()}
    kosenko, luzyanin = lines["mikhail-kosenko"], lines["maksim-luzyanin"]
    if language == "en" and not later:
        assert kosenko.startswith("In compulsory psychiatric treatment. Compulsory psychiatric treatment since")
        assert "next review" in kosenko
        assert "Status unverified since Nov 24, 2016" in luzyanin
        assert "Sentenced on Nov 24, 2012 to 4 years 6 months of imprisonment" in luzyanin
        assert any("in transit since" in line for line in lines.values())
        assert any("extended 4 times, now until" in line for line in lines.values())
        # a status and a measure kind share a value (both str enums): each keeps its own label
        assert any(line.startswith("Under house arrest. House arrest since") for line in lines.values())
        assert any(line.startswith("In pre-trial detention. Pre-trial detention since") for line in lines.values())
    assert all(fresh for *_rest, fresh in light.values())


def test_light_rows_say_what_the_entities_say_where_the_rules_choose(app, now, make_defendant, make_measure,
                                                                      make_decision):
    """The cases the rules tell apart: ties on a date (the later id wins), a sentence that
    replaces the measure before it, a measure ordered with the decision, a change of kind in an
    extension chain, a release, an override, credited days, transit, and facts going stale."""
    held, treated = DefendantStatus.PRE_TRIAL_DETENTION, DefendantStatus.COMPULSORY_TREATMENT
    tie = make_defendant(slug="tie", status=DefendantStatus.IMPRISONED)
    make_decision(tie, decided_on=date(2025, 5, 1), term_years=2, source_checked_on=date(2026, 1, 3))
    make_decision(tie, decided_on=date(2025, 5, 1), term_years=3, term_months=2, credited_days=40, regime="strict",
                  under_appeal=True)
    replaced = make_defendant(slug="replaced", status=DefendantStatus.IMPRISONED)
    make_measure(replaced, starts_on=date(2024, 1, 1), until=date(2026, 1, 1))
    make_decision(replaced, decided_on=date(2025, 6, 1), term_years=1, release_override=date(2026, 12, 24))
    ordered = make_defendant(slug="ordered", status=treated)
    make_decision(ordered, decided_on=date(2025, 6, 1), outcome=Outcome.COMPULSORY_TREATMENT)
    make_measure(ordered, kind=MeasureKind.COMPULSORY_TREATMENT, starts_on=date(2025, 6, 1),
                 next_review_on=date(2026, 2, 1), source_checked_on=date(2025, 12, 1))
    chain = make_defendant(slug="chain", status=DefendantStatus.HOUSE_ARREST)
    first = make_measure(chain, starts_on=date(2025, 1, 1), until=date(2025, 4, 1))
    second = make_measure(chain, starts_on=date(2025, 4, 1), until=date(2025, 7, 1), extends=first)
    third = make_measure(chain, kind=MeasureKind.HOUSE_ARREST, starts_on=date(2025, 7, 1), until=date(2025, 10, 1),
                         extends=second)
    make_measure(chain, kind=MeasureKind.HOUSE_ARREST, starts_on=date(2025, 10, 1), until=date(2026, 4, 1),
                 extends=third)
    freed = make_defendant(slug="freed", status=DefendantStatus.RELEASED)
    make_measure(freed, starts_on=date(2025, 1, 1), until=date(2025, 4, 1))
    make_measure(freed, kind=MeasureKind.RELEASED, starts_on=date(2025, 3, 1))
    for slug, outcome in (("acquitted", Outcome.ACQUITTAL), ("dropped", Outcome.DROPPED),
                          ("suspended", Outcome.SUSPENDED), ("fined", Outcome.FINE)):
        person = make_defendant(slug=slug, status=DefendantStatus.RELEASED)
        make_decision(person, outcome=outcome, term_years=1 if outcome is Outcome.SUSPENDED else 0)
    moving = make_defendant(slug="moving", status=held)
    make_measure(moving, starts_on=date(2025, 9, 1), until=date(2026, 3, 1))
    db.session.add_all([Placement(defendant=moving, facility="SIZO-1", facility_original="СИЗО-1",
                                  since=date(2025, 9, 1), source_checked_on=date(2026, 2, 1)),
                        Placement(defendant=moving, facility="", since=date(2026, 1, 5), in_transit=True)])
    db.session.commit()
    seen = set()
    for later in (timedelta(0), timedelta(days=200), timedelta(days=900)):
        for language in ("en", "ru"):
            entity, light = _both_paths(app, now + later, language)
            assert light == entity
            seen |= {facts[5] and facts[5][0] for facts, *_html in light.values()}
    assert seen >= {None, StaleRule.RELEASE_PASSED, StaleRule.MEASURE_ENDED, StaleRule.REVIEW_PASSED}


def test_the_home_and_case_lists_load_no_entity(client, now, app):
    """What the light rows are for: the lists' defendants, measures, decisions and placements
    never become ORM entities (the session's identity map stays empty of them)."""
    from tracker.records.demo import load_demo

    with time_machine.travel(now, tick=False):
        load_demo(db.session, now.date())
        db.session.commit()
        db.session.expunge_all()
        listing = queries.list_defendants(db.session, now=now)
        case = queries.get_case(db.session, "may-6th-affair")
        of_case = queries.defendant_rows(db.session, queries.case_defendants(db.session, case), now)
    assert len(listing.rows) >= 12 and of_case
    loaded = [type(held).__name__ for held in db.session.identity_map.values()
              if isinstance(held, (Defendant, CustodyMeasure, Decision, Placement))]
    assert loaded == []
    assert any(row.defendant.measures for row in listing.rows + of_case)
    assert any(row.defendant.decisions for row in listing.rows + of_case)
    assert any(row.defendant.placements for row in listing.rows + of_case)


def test_a_defendants_page_reads_custody_as_rows_that_say_what_the_entities_say(client, now, app):
    """A defendant's page reads their measures, decisions and placements as rows
    (`custody_rows.person_detail`), never as entities, and its timeline, sentence and transit
    are what the entities give, for every public defendant of the demo, today and later."""
    from tracker.records.custody import sentence_in_force
    from tracker.records.custody_rows import person_detail
    from tracker.records.demo import load_demo
    from tracker.records.timeline import timeline
    from tracker.records.transit import transit_of

    with time_machine.travel(now, tick=False):
        load_demo(db.session, now.date())
        db.session.commit()
    people = db.session.scalars(sa.select(Defendant).where(Defendant.is_public.is_(True))).all()
    assert len(people) >= 12
    for person in people:
        rows = person_detail(db.session, person)

        def said(facts) -> tuple:  # noqa: ANN001
            sentence, transit = sentence_in_force(facts), transit_of(facts)
            return ([(e.day, e.order, e.kind, e.text, e.detail, e.source_url, e.source_checked_on)
                     for e in timeline(facts, [])],
                    sentence and (sentence.id, sentence.court, sentence.source_url, sentence.expected_release),
                    transit and transit.id)

        assert said(rows) == said(person), person.slug
    assert any(sentence_in_force(person) for person in people) and any(transit_of(person) for person in people)

    loaded = []

    def on_load(target, context) -> None:  # noqa: ANN001
        loaded.append(type(target).__name__)

    for model in (CustodyMeasure, Decision, Placement):
        sa.event.listen(model, "load", on_load)
    try:
        with time_machine.travel(now, tick=False):
            for person in people:
                assert client.get(f"/defendants/{person.slug}").status_code == 200
    finally:
        for model in (CustodyMeasure, Decision, Placement):
            sa.event.remove(model, "load", on_load)
    assert loaded == []
