"""The demo data set: loads, follows the article for the two named defendants, renders."""
from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa
import time_machine

from tracker.extensions import db
from tracker.records.custody import HELD_STATUSES, sentence_in_force
from tracker.records.queries import upcoming_dates
from tracker.records.timeline import timeline
from tracker.records.demo import database_is_empty, load_demo
from tracker.records.models import Defendant, DefendantStatus, Hearing, HearingStatus, Outcome


def test_demo_loads_and_every_page_renders(app, client, now):
    with time_machine.travel(now, tick=False):
        load_demo(db.session, now.date())
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(Defendant.id))) >= 12

        luzyanin = db.session.scalar(sa.select(Defendant).where(Defendant.slug == "maksim-luzyanin"))
        sentence = sentence_in_force(luzyanin)
        assert (sentence.term_years, sentence.term_months, sentence.outcome) == (4, 6, Outcome.IMPRISONMENT)
        assert sentence.expected_release == date(2016, 11, 24)

        kosenko = db.session.scalar(sa.select(Defendant).where(Defendant.slug == "mikhail-kosenko"))
        assert sentence_in_force(kosenko).outcome is Outcome.COMPULSORY_TREATMENT
        assert sum(1 for e in timeline(kosenko, []) if e.kind == "extension") == 4

        upcoming = db.session.scalar(
            sa.select(sa.func.count(Hearing.id)).where(
                Hearing.starts_at > now, Hearing.status == HearingStatus.SCHEDULED
            )
        )
        assert upcoming >= 10

        urls = ["/", "/hearings", "/dates", "/cases/may-6th-affair", "/cases/demo-leaflets-case"]
        urls += [f"/defendants/{slug}" for slug in db.session.scalars(
            sa.select(Defendant.slug).where(Defendant.is_public.is_(True)))]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert "Demo data" in response.get_data(as_text=True), url
        assert "Expected release: Nov 24, 2016" in client.get("/defendants/maksim-luzyanin").get_data(as_text=True)
        assert client.get("/defendants/hidden-defendant").status_code == 404
        birthdays, _ = upcoming_dates(db.session, now.date())
        assert any(row.day <= now.date() + timedelta(days=30) for row in birthdays)


def test_demo_command_loads_only_into_an_empty_database(app, now):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-data", "--if-empty"])
    assert result.exit_code == 0 and "Loaded" in result.output
    assert not database_is_empty(db.session)
    again = runner.invoke(args=["demo-data", "--if-empty"])
    assert again.exit_code == 0 and "already has data" in again.output
    refused = runner.invoke(args=["demo-data"])
    assert refused.exit_code != 0 and "empty database only" in refused.output


FACILITY = re.compile(r"\b(SIZO|IK)-\d+")


def test_the_demo_says_where_sentenced_people_are_and_sends_letters_where_they_are(client, now):
    with time_machine.travel(now, tick=False):
        load_demo(db.session, now.date())
        db.session.commit()
        page = client.get("/defendants/maksim-luzyanin").get_data(as_text=True)
        status = " ".join(re.search(r'<p class="status">(.*?)</p>', page, re.S).group(1).split())
        assert "Pre-trial detention since" not in status and "now until 2012-11-27" not in status
        assert "Sentenced on Nov 24, 2012 to 4 years 6 months of imprisonment, general regime colony" in status
        assert "held at IK-0" in status and "expected release Nov 24, 2016" in status
        assert "Pre-trial detention extended" in page  # the chain stays in the timeline

        for person in db.session.scalars(sa.select(Defendant)):
            named = FACILITY.search(person.letters_address or "")
            held_at = person.placements[-1].facility if person.placements else ""
            if named:  # letters go to a detention centre or colony: the person is held there
                assert named.group(0) in held_at, (person.slug, person.letters_address, held_at)
            if person.status not in HELD_STATUSES or person.status is DefendantStatus.HOUSE_ARREST:
                assert not named, (person.slug, person.status, person.letters_address)


def test_a_sentence_ending_in_a_russian_date_takes_one_period(app, client, now):
    """CLDR's Russian dates end in an abbreviation ("6 янв. 2027 г."); a sentence that ends
    with one must not read "г.." (seen on the demo's defendant pages). Walks every public
    page of the demo in Russian, today and when its facts have gone stale."""
    with time_machine.travel(now, tick=False):
        load_demo(db.session, now.date())
        db.session.commit()
        slugs = list(db.session.scalars(sa.select(Defendant.slug).where(Defendant.is_public.is_(True))))
    urls = ["/", "/hearings", "/dates", "/actions", "/cases/may-6th-affair", "/cases/demo-leaflets-case"]
    urls += [f"/defendants/{slug}" for slug in slugs]
    for moment in (now, now + timedelta(days=400)):
        with time_machine.travel(moment, tick=False):
            for url in urls:
                html = client.get(url, headers={"Accept-Language": "ru"}).get_data(as_text=True)
                text = re.sub(r"<[^>]+>", "", html)  # "…г.</span>." reads "г.." too
                doubled = re.findall(r".{0,40}[^.]\.\.(?!\.).{0,10}", text)
                assert not doubled, (url, doubled)
