"""Facts going stale: the four rules, the public wording that replaces a stale status, freshness."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from tests.auth.support import make_user  # noqa: F401  (fixture)
from tracker.extensions import db
from tracker.records.enums import DefendantStatus, HearingStatus, MeasureKind, Outcome
from tracker.records.models import CustodyMeasure, Defendant, Hearing, Placement
from tracker.records.staleness import StaleRule, stale_facts
from tracker.records.synthetic import seed_movement

TODAY = date(2026, 3, 2)  # the suite's `now`, in Moscow


@pytest.fixture
def freeze(now):
    with time_machine.travel(now, tick=False):
        yield now


def rules(today: date = TODAY, **kw) -> list[tuple[StaleRule, date, str]]:
    found = stale_facts(db.session, today, **kw)
    return [(f.rule, f.since, f.defendant.slug if f.defendant else f"hearing {f.hearing.id}") for f in found]


def status_line(page: str) -> str:
    return " ".join(re.search(r'<p class="status">(.*?)</p>', page, re.S).group(1).split())


# --- rule 1: the expected release has passed, the status still says serving a sentence ----------


def test_an_expected_release_in_the_past_is_stale_while_the_status_says_serving(make_defendant, make_decision):
    person = make_defendant(slug="served", status=DefendantStatus.IMPRISONED)
    make_decision(person, decided_on=date(2023, 3, 1), term_years=3)  # release 2026-03-01
    serving = make_defendant(slug="serving", status=DefendantStatus.IMPRISONED)
    make_decision(serving, decided_on=date(2023, 3, 2), term_years=3)  # release today: still true today
    freed = make_defendant(slug="freed", status=DefendantStatus.RELEASED)
    make_decision(freed, decided_on=date(2020, 1, 1), term_years=1)
    suspended = make_defendant(slug="suspended", status=DefendantStatus.SUSPENDED_SENTENCE)
    make_decision(suspended, decided_on=date(2020, 1, 1), term_years=1, outcome=Outcome.SUSPENDED)
    db.session.commit()
    assert rules() == [(StaleRule.RELEASE_PASSED, date(2026, 3, 1), "served")]
    assert rules(TODAY + timedelta(days=1)) == [(StaleRule.RELEASE_PASSED, date(2026, 3, 1), "served"),
                                                (StaleRule.RELEASE_PASSED, date(2026, 3, 2), "serving")]


# --- rules 2 and 3: a measure ended (or its review was due) and nothing since is recorded ---------


def test_a_lapsed_measure_is_stale_until_an_extension_release_or_hearing_is_recorded(
        make_defendant, make_measure, make_decision, make_hearing, now):
    lapsed = make_defendant(slug="lapsed")
    make_measure(lapsed, starts_on=date(2025, 12, 1), until=date(2026, 2, 27))
    # the hearing that ordered it, and one held before its end (whose result nobody recorded): no answer
    make_hearing(defendants=[lapsed], starts_at=datetime(2025, 12, 1, 8, tzinfo=timezone.utc),
                 status=HearingStatus.HELD)
    make_hearing(defendants=[lapsed], starts_at=datetime(2026, 2, 24, 8, tzinfo=timezone.utc),
                 status=HearingStatus.HELD)
    make_hearing(defendants=[lapsed], starts_at=now + timedelta(days=1), status=HearingStatus.CANCELLED)

    extended = make_defendant(slug="extended")
    first = make_measure(extended, starts_on=date(2025, 12, 1), until=date(2026, 2, 27))
    make_measure(extended, starts_on=date(2026, 2, 27), until=date(2026, 5, 27), extends=first)
    heard = make_defendant(slug="heard")
    make_measure(heard, starts_on=date(2025, 12, 1), until=date(2026, 2, 27))
    make_hearing(defendants=[heard], starts_at=now + timedelta(days=4))  # the court has it in hand
    released = make_defendant(slug="released")
    make_measure(released, starts_on=date(2025, 12, 1), until=date(2026, 2, 27))
    make_measure(released, kind=MeasureKind.RELEASED, starts_on=date(2026, 2, 20))
    freed_by_hand = make_defendant(slug="freed-by-hand", status=DefendantStatus.RELEASED)
    make_measure(freed_by_hand, starts_on=date(2025, 12, 1), until=date(2026, 2, 27))
    running = make_defendant(slug="running")
    make_measure(running, starts_on=date(2025, 12, 1), until=TODAY)  # ends today: still true today
    sentenced = make_defendant(slug="sentenced", status=DefendantStatus.IMPRISONED)
    make_measure(sentenced, starts_on=date(2025, 12, 1), until=date(2026, 2, 27))
    make_decision(sentenced, decided_on=date(2026, 2, 20), term_years=4)  # a verdict replaced the measure
    db.session.commit()

    assert rules() == [(StaleRule.MEASURE_ENDED, date(2026, 2, 27), "lapsed")]
    [finding] = stale_facts(db.session, TODAY)
    assert finding.explanation == ("pre-trial detention ended on Feb 27, 2026, and no extension, release or "
                                   "hearing since is recorded")


def test_a_compulsory_treatment_review_that_passed_unrecorded_is_stale(make_defendant, make_measure, make_hearing,
                                                                      now):
    person = make_defendant(slug="treated", status=DefendantStatus.COMPULSORY_TREATMENT)
    make_measure(person, kind=MeasureKind.COMPULSORY_TREATMENT, starts_on=date(2025, 8, 1),
                 next_review_on=date(2026, 2, 1))
    db.session.commit()
    assert rules() == [(StaleRule.REVIEW_PASSED, date(2026, 2, 1), "treated")]
    assert stale_facts(db.session, TODAY)[0].explanation == (
        "the review of compulsory psychiatric treatment was due on Feb 1, 2026, and none is recorded")
    make_hearing(defendants=[person], starts_at=datetime(2026, 2, 3, 8, tzinfo=timezone.utc),
                 status=HearingStatus.HELD)
    db.session.commit()
    assert rules() == []


# --- rule 4: a hearing in the past still "scheduled" --------------------------------------------


def test_a_past_hearing_still_scheduled_is_stale_by_its_own_courts_date(make_hearing, make_court, now):
    kaliningrad = make_court(name="Kaliningrad court", timezone="Europe/Kaliningrad")
    yesterday = make_hearing(starts_at=now - timedelta(days=1))
    # 23:30 on 1 March in Kaliningrad is already 2 March in Moscow: a past day at that court
    late = make_hearing(court=kaliningrad, starts_at=datetime(2026, 3, 1, 21, 30, tzinfo=timezone.utc))
    make_hearing(starts_at=now - timedelta(hours=2))  # this morning: the day is not over
    make_hearing(starts_at=now - timedelta(days=3), status=HearingStatus.HELD)
    make_hearing(starts_at=now - timedelta(days=3), status=HearingStatus.POSTPONED)
    make_hearing(starts_at=now - timedelta(days=3), status=HearingStatus.CANCELLED)
    db.session.commit()
    assert rules() == [(StaleRule.HEARING_NOT_UPDATED, date(2026, 3, 1), f"hearing {yesterday.id}"),
                       (StaleRule.HEARING_NOT_UPDATED, date(2026, 3, 1), f"hearing {late.id}")]


# --- who sees which findings, and at what cost ----------------------------------------------------


def test_an_editor_gets_only_the_findings_about_records_they_may_edit(
        make_defendant, make_measure, make_case, make_hearing, make_user, now):
    ours, theirs = make_case(), make_case()
    hidden = make_defendant(slug="hidden", is_public=False, cases=[ours])
    make_measure(hidden, starts_on=date(2025, 12, 1), until=date(2026, 2, 1))
    other = make_defendant(slug="other", cases=[theirs])
    make_measure(other, starts_on=date(2025, 12, 1), until=date(2026, 3, 1))
    make_hearing(defendants=[other], starts_at=now - timedelta(days=2))  # before the end, left "scheduled"
    limited = make_user("limited@example.org", cases=[ours])
    everywhere = make_user("everywhere@example.org")
    assert [slug for _r, _d, slug in rules(user=limited)] == ["hidden"]
    assert len(rules(user=everywhere)) == 3


def test_finding_the_stale_facts_takes_the_same_number_of_queries_whatever_the_data(count_queries, now):
    def seed(n: int, prefix: str) -> None:
        seed_movement(db.session, defendants=n, hearings=n * 4, now=now, prefix=prefix)
        # every past hearing left "scheduled", every third chain lapsed with nothing since
        db.session.execute(sa.update(Hearing).where(Hearing.starts_at < now).values(status=HearingStatus.SCHEDULED))
        db.session.execute(sa.update(CustodyMeasure).where(CustodyMeasure.until > now.date(),
                                                           CustodyMeasure.id % 3 == 0)
                           .values(until=now.date() - timedelta(days=1)))
        db.session.commit()
        db.session.expire_all()

    seed(10, "few")
    with count_queries() as few:
        small = stale_facts(db.session, TODAY)
    db.session.expire_all()
    seed(600, "many")
    with count_queries() as many:
        large = stale_facts(db.session, TODAY)
    assert len(large) > len(small) > 0
    assert {f.rule for f in large} >= {StaleRule.MEASURE_ENDED, StaleRule.HEARING_NOT_UPDATED}
    assert few.count == many.count


# --- the public wording ---------------------------------------------------------------------------


def test_the_public_page_says_the_status_is_unverified_instead_of_a_stale_now_until(
        client, make_defendant, make_measure, freeze):
    person = make_defendant(slug="lapsed", status=DefendantStatus.PRE_TRIAL_DETENTION)
    first = make_measure(person, starts_on=date(2025, 6, 8), until=date(2025, 9, 8))
    make_measure(person, starts_on=date(2025, 9, 8), until=date(2026, 2, 27), extends=first)
    db.session.commit()
    for url in ("/defendants/lapsed", "/"):
        line = status_line(client.get(url).get_data(as_text=True))
        assert line.startswith('<strong class="unverified">Status unverified since Feb 27, 2026</strong>: '
                               "pre-trial detention ended on Feb 27, 2026, and no extension, release or hearing "
                               "since is recorded. Last known: in pre-trial detention."), url
        assert "Pre-trial detention since Jun 8, 2025, extended 1 time, until Feb 27, 2026." in line
        assert "now until" not in line


def test_the_demo_shows_luzyanin_as_unverified_since_his_expected_release(client, now):
    from tracker.records.demo import load_demo

    with time_machine.travel(now, tick=False):
        load_demo(db.session, now.date())
        db.session.commit()
        line = status_line(client.get("/defendants/maksim-luzyanin").get_data(as_text=True))
    assert "Status unverified since Nov 24, 2016" in line
    assert "the expected release date (Nov 24, 2016) has passed, but the status still says serving a sentence" in line
    assert "Last known: serving a prison sentence." in line
    assert "expected release Nov 24, 2016" in line


def test_a_status_that_can_still_be_true_is_shown_as_it_is(client, make_defendant, make_measure, freeze):
    person = make_defendant(slug="running")
    make_measure(person, starts_on=date(2025, 12, 1), until=date(2026, 5, 1))
    db.session.commit()
    line = status_line(client.get("/defendants/running").get_data(as_text=True))
    assert line == "In pre-trial detention. Pre-trial detention since Dec 1, 2025, now until May 1, 2026."


# --- freshness --------------------------------------------------------------------------------------


def test_each_page_says_how_fresh_its_key_facts_are(client, make_case, make_defendant, make_measure, freeze, now):
    case = make_case(slug="case")
    person = make_defendant(slug="checked", cases=[case], updated_at=now - timedelta(days=40))
    make_measure(person, starts_on=date(2025, 12, 1), until=date(2026, 5, 1), source_checked_on=date(2026, 2, 27))
    db.session.add(Placement(defendant=person, facility="SIZO-1", since=date(2025, 12, 2)))
    fresh = make_defendant(slug="unchecked", cases=[case], updated_at=now - timedelta(hours=1))
    make_measure(fresh, starts_on=date(2025, 12, 1), until=date(2026, 5, 1))
    db.session.commit()
    db.session.execute(sa.update(Defendant).where(Defendant.slug == "checked")
                       .values(updated_at=now - timedelta(days=40)))
    db.session.commit()
    page = client.get("/defendants/checked").get_data(as_text=True)
    assert "Custody status checked 3 days ago." in page
    assert "Place of detention last updated 40 days ago." in page  # no source check noted: the last change
    assert '<time datetime="2026-02-27" title="Feb 27, 2026">' in page
    for url in ("/", "/cases/case"):
        listing = client.get(url).get_data(as_text=True)
        assert "Custody status checked 3 days ago." in listing, url
        assert "Custody status last updated today." in listing, url
    russian = client.get("/defendants/checked", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "3 дня назад" in russian
