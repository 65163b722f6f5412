"""Model rules: extension chains, release dates, the timeline, search names."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from tracker.extensions import db
from tracker.records.custody import custody_status, custody_summary, describe_sentence, expected_release, measure_in_force, sentence_in_force
from tracker.records.queries import next_birthday
from tracker.records.timeline import timeline
from tracker.records.models import (
    Decision,
    Defendant,
    Hearing,
    HearingStatus,
    MeasureKind,
    Outcome,
    Placement,
)


def test_extension_chain_gives_since_count_and_until(make_defendant, make_measure):
    person = make_defendant()
    first = make_measure(person, starts_on=date(2012, 6, 8), until=date(2012, 8, 6))
    previous = first
    for until in (date(2012, 11, 6), date(2012, 12, 6), date(2013, 2, 6), date(2013, 3, 6)):
        previous = make_measure(person, starts_on=previous.until, until=until, extends=previous)
    db.session.commit()
    db.session.expire_all()

    summary = custody_summary(db.session.get(Defendant, person.id))
    assert summary.since == date(2012, 6, 8)
    assert summary.extensions == 4
    assert summary.until == date(2013, 3, 6)
    assert summary.kind is MeasureKind.PRE_TRIAL_DETENTION


def test_a_new_kind_of_measure_restarts_the_count(make_defendant, make_measure):
    person = make_defendant()
    detention = make_measure(person, starts_on=date(2012, 6, 8), until=date(2012, 8, 6))
    make_measure(
        person, kind=MeasureKind.COMPULSORY_TREATMENT, starts_on=date(2013, 10, 8),
        next_review_on=date(2014, 4, 8), extends=detention,
    )
    summary = custody_summary(person)
    assert summary.kind is MeasureKind.COMPULSORY_TREATMENT
    assert summary.extensions == 0
    assert summary.since == date(2013, 10, 8)
    assert summary.until is None and summary.next_review_on == date(2014, 4, 8)


def test_released_has_no_custody_line(make_defendant, make_measure):
    person = make_defendant()
    detention = make_measure(person, starts_on=date(2012, 6, 8), until=date(2012, 8, 6))
    make_measure(person, kind=MeasureKind.RELEASED, starts_on=date(2012, 8, 1), extends=detention)
    assert custody_summary(person) is None


def test_a_sentence_replaces_the_pre_trial_measure_it_followed(make_defendant, make_measure, make_decision):
    """Luzyanin: detention "until 2012-11-27" is history once he was sentenced on 2012-11-24."""
    person = make_defendant()
    first = make_measure(person, starts_on=date(2012, 5, 27), until=date(2012, 7, 27))
    make_measure(person, starts_on=date(2012, 7, 27), until=date(2012, 11, 27), extends=first)
    make_decision(person, decided_on=date(2012, 11, 24), term_years=4, term_months=6,
                  regime="general regime colony", credited_days=181)
    db.session.add(Placement(defendant=person, facility="SIZO-5, Moscow", since=date(2012, 5, 28)))
    db.session.add(Placement(defendant=person, facility="IK-0, Example region", since=date(2013, 2, 15)))
    db.session.commit()
    db.session.expire_all()
    person = db.session.get(Defendant, person.id)

    assert measure_in_force(person) is None
    assert custody_summary(person) is None
    status = custody_status(person)
    assert status.custody is None
    assert status.sentence.decided_on == date(2012, 11, 24)
    assert status.place.facility == "IK-0, Example region"  # where it is served: the latest placement
    assert status.release == date(2016, 11, 24)
    assert describe_sentence(status.sentence) == (
        "Sentenced on Nov 24, 2012 to 4 years 6 months of imprisonment, general regime colony")
    # the chain is still there, as history
    assert [e.text for e in timeline(person, []) if e.kind in ("measure", "extension")] == [
        "Pre-trial detention", "Pre-trial detention extended"]


def test_a_measure_ordered_with_the_decision_stays_in_force(make_defendant, make_measure, make_decision):
    """Kosenko: compulsory treatment ordered by the decision is the measure he is under."""
    person = make_defendant()
    detention = make_measure(person, starts_on=date(2012, 6, 8), until=date(2013, 3, 6))
    make_decision(person, decided_on=date(2013, 10, 8), outcome=Outcome.COMPULSORY_TREATMENT)
    treatment = make_measure(person, kind=MeasureKind.COMPULSORY_TREATMENT, starts_on=date(2013, 10, 8),
                             next_review_on=date(2014, 4, 8), extends=detention)
    db.session.expire(person)
    assert measure_in_force(person).id == treatment.id
    status = custody_status(person)
    assert status.custody.kind is MeasureKind.COMPULSORY_TREATMENT
    assert status.sentence is None  # the measure in force says it all


def test_expected_release_subtracts_credited_days(make_defendant, make_decision):
    person = make_defendant()
    decision = make_decision(
        person, decided_on=date(2012, 11, 24), term_years=4, term_months=6, credited_days=181
    )
    # 2012-11-24 + 4y6m = 2017-05-24, less 181 days
    assert decision.computed_release == date(2016, 11, 24)
    assert expected_release(person) == date(2016, 11, 24)


def test_release_override_wins(make_defendant, make_decision):
    person = make_defendant()
    decision = make_decision(person, term_years=2, release_override=date(2026, 1, 1))
    assert decision.expected_release == date(2026, 1, 1)


def test_no_release_date_without_a_prison_term(make_defendant, make_decision):
    person = make_defendant()
    assert make_decision(person, outcome=Outcome.SUSPENDED, term_years=3).expected_release is None
    assert make_decision(person, outcome=Outcome.IMPRISONMENT).expected_release is None


def test_appeal_decision_replaces_the_first(make_defendant, make_decision):
    person = make_defendant()
    make_decision(person, decided_on=date(2012, 11, 24), term_years=4, term_months=6)
    appeal = make_decision(person, decided_on=date(2013, 3, 1), term_years=3)
    db.session.expire(person)
    assert sentence_in_force(person).id == appeal.id


def test_negative_term_is_refused_by_the_database(make_defendant):
    person = make_defendant()
    db.session.add(Decision(defendant=person, decided_on=date(2020, 1, 1), outcome=Outcome.IMPRISONMENT,
                            term_months=-1))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_timeline_is_in_date_order_and_derived(make_defendant, make_measure, make_decision, make_hearing):
    person = make_defendant(arrested_on=date(2012, 6, 7))
    first = make_measure(person, starts_on=date(2012, 6, 8), until=date(2012, 8, 6))
    make_measure(person, starts_on=date(2012, 8, 6), until=date(2012, 11, 6), extends=first)
    make_decision(person, decided_on=date(2012, 11, 24), term_years=4, term_months=6)
    hearing = make_hearing(
        defendants=[person], starts_at=datetime(2012, 8, 3, 7, 0, tzinfo=timezone.utc),
        status=HearingStatus.HELD,
    )
    db.session.commit()
    entries = timeline(person, [hearing])
    assert [e.kind for e in entries] == ["arrest", "measure", "hearing", "extension", "decision"]
    assert [e.day for e in entries] == sorted(e.day for e in entries)


def test_search_name_keys_both_scripts_and_follows_changes(make_defendant):
    """The stored key is both names in one canonical Latin spelling (records.names)."""
    person = make_defendant(name_original="Михаил Косенко", name_latin="Mikhail Kosenko")
    assert person.search_name == "mihail kosenko"
    person.name_latin = "Mikhail KOSENKO-Petrov"
    assert person.search_name == "mihail kosenko petrov"
    person.name_original = "Михаил Косенко-Петров"
    assert person.search_name == "mihail kosenko petrov"


def test_hearing_version_rises_on_each_change_and_refuses_stale_writes(make_hearing, now):
    hearing = make_hearing()
    db.session.commit()
    assert hearing.version == 1
    hearing.courtroom = "635"
    db.session.commit()
    assert hearing.version == 2

    # Another writer changed the row meanwhile: the ORM refuses to overwrite it.
    with db.engine.begin() as other:
        other.execute(sa.update(Hearing.__table__).where(Hearing.id == hearing.id).values(version=3))
    hearing.judge = "Someone"
    with pytest.raises(StaleDataError):
        db.session.flush()
    db.session.rollback()


def test_timestamps_come_back_aware_in_utc(make_hearing):
    start = datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)
    hearing = make_hearing(starts_at=start)
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.get(Hearing, hearing.id)
    assert loaded.starts_at == start and loaded.starts_at.tzinfo is not None
    assert loaded.local_start.hour == 13  # Moscow, UTC+3


@pytest.mark.parametrize("stored", [datetime(2026, 3, 5, 10, 0), datetime(2026, 10, 25, 1, 30, 15, 123456),
                                    datetime(2026, 10, 25, 1, 30, fold=1)])
def test_a_stored_timestamp_is_read_as_the_same_instant_in_utc(stored):
    """UTCDateTime attaches UTC without `replace` (docs/rendering.md, fifth pass): the same value,
    microseconds and fold kept, and timezone.utc itself (feeds compare and format it)."""
    from tracker.extensions import UTCDateTime

    read = UTCDateTime().process_result_value(stored, db.engine.dialect)
    expected = stored.replace(tzinfo=timezone.utc)
    assert read == expected and read.tzinfo is timezone.utc
    assert (read.microsecond, read.fold, read.isoformat()) == (expected.microsecond, expected.fold, expected.isoformat())


def test_naive_datetimes_are_refused(make_hearing):
    with pytest.raises(Exception, match="naive"):
        make_hearing(starts_at=datetime(2026, 3, 5, 10, 0))
    db.session.rollback()


def test_birthday_on_29_february_in_a_common_year():
    assert next_birthday(date(1992, 2, 29), date(2027, 2, 10)) == date(2027, 3, 1)
    assert next_birthday(date(1992, 2, 29), date(2028, 2, 10)) == date(2028, 2, 29)
