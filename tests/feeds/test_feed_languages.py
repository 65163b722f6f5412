"""Feeds in every language: /feeds/... in the default language (English), /feeds/ru/... in
Russian, the same events with the same UIDs (a subscriber who switches language sees each
hearing once), texts and names in the reader's language and script, times unchanged; the
private feed and the single download too; the subscribe box offers the reader's language."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tracker.extensions import db
from tracker.feeds import calendars, ical, publish
from tracker.feeds.publish import build_feed, publish_feeds
from tracker.records.models import Court, Defendant, Hearing, HearingKind, HearingStatus

MARKERS = (b"HIDDEN-MARKER", "Скрытый".encode(), b"INTERNAL-MARKER", b"LAWYER-MARKER", b"/defendants/hidden")
FEEDS = ("all.ics", "cases/bolotnaya.ics", "defendants/anna.ics", "defendants/boris.ics")


@pytest.fixture
def bilingual(make_court, make_case, make_defendant, make_hearing):
    """Two public defendants and a hidden one in one case, hearings in two time zones, one
    cancelled, one closed to the public; starts relative to the real clock (the views read it)."""
    moscow = make_court(name="Moscow City Court", address="Bogorodsky Val, 8", timezone="Europe/Moscow")
    vladivostok = make_court(name="Frunzensky District Court", address="Sukhanova, 6", timezone="Asia/Vladivostok")
    case = make_case(slug="bolotnaya", title="Болотное дело")
    anna = make_defendant(slug="anna", name_latin="Anna Ivanova", name_original="Анна Иванова", cases=[case])
    boris = make_defendant(slug="boris", name_latin="Boris Petrov", name_original="Борис Петров", cases=[case])
    hidden = make_defendant(slug="hidden", name_latin="HIDDEN-MARKER", name_original="Скрытый Подсудимый",
                            is_public=False, cases=[case], internal_notes="INTERNAL-MARKER",
                            lawyer_contacts="LAWYER-MARKER")
    soon = datetime.now(timezone.utc).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)
    verdict = make_hearing(court=moscow, case=case, defendants=[anna, hidden], kind=HearingKind.VERDICT,
                           starts_at=soon, judge="Никишина Н. В.", courtroom="14")
    closed = make_hearing(court=vladivostok, case=case, defendants=[boris], kind=HearingKind.CUSTODY_EXTENSION,
                          is_open=False, starts_at=soon + timedelta(days=1))
    cancelled = make_hearing(court=moscow, case=case, defendants=[anna, boris], status=HearingStatus.CANCELLED,
                             starts_at=soon + timedelta(days=2))
    secret = make_hearing(court=moscow, case=case, defendants=[hidden], starts_at=soon + timedelta(days=4))
    db.session.commit()
    return dict(anna=anna, boris=boris, hidden=hidden, verdict=verdict, closed=closed, cancelled=cancelled,
                secret=secret, moscow=moscow)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def test_the_russian_feeds_carry_the_same_events_with_the_same_uids_in_russian(bilingual, feeds_dir, parse):
    publish_feeds(_now())
    for feed in FEEDS:
        for alarm in ("", "with-alarm/"):
            english = parse((feeds_dir / f"{alarm}{feed}").read_bytes())  # four parsers, same UIDs each
            russian = parse((feeds_dir / f"ru/{alarm}{feed}").read_bytes())
            assert english.uids and russian.uids == english.uids, feed  # same events, same order
            for uid in english.uids:
                en, ru = english.event(uid), russian.event(uid)
                # the same moment, in the court's zone, and the same version
                assert ru.decoded("DTSTART") == en.decoded("DTSTART")
                assert ru["DTSTART"].params["TZID"] == en["DTSTART"].params["TZID"]
                assert ru.decoded("DTEND") == en.decoded("DTEND")
                assert int(ru["SEQUENCE"]) == int(en["SEQUENCE"])
                assert str(ru["STATUS"]) == str(en["STATUS"])
                assert str(ru["SUMMARY"]) != str(en["SUMMARY"])
                assert russian.strict_event(uid).begin == english.strict_event(uid).begin
            if alarm:
                assert all(e.alarms for e in russian.strict.events)
                assert "DESCRIPTION:Завтра судебное заседание" in russian.text
            for body in (english.body, russian.body):
                for marker in MARKERS:
                    assert marker not in body, f"{marker!r} in {alarm}{feed}"

    english = parse((feeds_dir / "all.ics").read_bytes())
    russian = parse((feeds_dir / "ru/all.ics").read_bytes())
    assert str(russian.cal["X-WR-CALNAME"]) == str(russian.cal["NAME"]) == "Политзаключённые: все судебные заседания"
    assert "SOURCE;VALUE=URI:http://tracker.test/feeds/ru/all.ics" in russian.text
    assert "SOURCE;VALUE=URI:http://tracker.test/feeds/all.ics" in english.text

    verdict = ical.event_uid(bilingual["verdict"])
    assert str(english.event(verdict)["SUMMARY"]) == "Verdict: Anna Ivanova"
    title = str(russian.event(verdict)["SUMMARY"])
    assert title.startswith("Оглашение приговора") and title.endswith("Анна Иванова")  # the reader's script
    description = str(russian.event(verdict)["DESCRIPTION"])
    assert "Судья: Никишина Н. В." in description
    assert "Анна Иванова (Anna Ivanova): http://tracker.test/defendants/anna" in description
    assert "Anna Ivanova (Анна Иванова): http://tracker.test/defendants/anna" in str(english.event(verdict)["DESCRIPTION"])
    assert str(russian.event(verdict)["LOCATION"]).endswith("зал 14")
    assert russian.event(verdict).decoded("DTSTART").tzinfo.key == "Europe/Moscow"

    closed = str(russian.event(ical.event_uid(bilingual["closed"]))["SUMMARY"])
    assert closed.endswith("Борис Петров (закрытое заседание)")
    assert russian.event(ical.event_uid(bilingual["closed"])).decoded("DTSTART").utcoffset() == timedelta(hours=10)
    cancelled = russian.event(ical.event_uid(bilingual["cancelled"]))
    assert str(cancelled["SUMMARY"]).startswith("Отменено: ") and str(cancelled["STATUS"]) == "CANCELLED"

    person = parse((feeds_dir / "ru/defendants/anna.ics").read_bytes())
    assert str(person.cal["X-WR-CALNAME"]).startswith("Анна Иванова (Anna Ivanova): ")
    # the hearing with only a hidden defendant is in no public feed, in either language
    assert ical.event_uid(bilingual["secret"]) not in english.uids + russian.uids
    assert not (feeds_dir / "ru/defendants/hidden.ics").exists()


def test_switching_language_never_duplicates_a_hearing(bilingual, feeds_dir, parse):
    """A calendar app keys events by UID: the union of both languages' events is one set."""
    publish_feeds(_now())
    english = parse((feeds_dir / "all.ics").read_bytes()).uids
    russian = parse((feeds_dir / "ru/all.ics").read_bytes()).uids
    assert len(set(english) | set(russian)) == len(english) == len(russian) == 3


def test_a_change_reaches_every_language_and_a_hidden_defendant_leaves_both(bilingual, feeds_dir, parse):
    publish_feeds(_now())
    court = db.session.get(Court, bilingual["moscow"].id)
    court.address = "Bogorodsky Val, 8A"  # courts carry no version: compared field by field
    db.session.commit()
    report = publish_feeds(_now())
    assert "all.ics" in report.written and "ru/all.ics" in report.written
    for prefix in ("", "ru/"):
        assert b"8A" in (feeds_dir / f"{prefix}all.ics").read_bytes()

    anna = db.session.get(Defendant, bilingual["anna"].id)
    anna.name_original = "Анна Сергеевна Иванова"
    db.session.commit()
    publish_feeds(_now())
    assert "Анна Сергеевна Иванова" in parse((feeds_dir / "ru/all.ics").read_bytes()).text

    anna.is_public = False
    db.session.commit()
    report = publish_feeds(_now())
    assert {"defendants/anna.ics", "ru/defendants/anna.ics", "ru/with-alarm/defendants/anna.ics"} <= set(report.removed)
    for path in feeds_dir.rglob("*.ics"):
        body = path.read_bytes()
        assert b"Anna" not in body and "Анна".encode() not in body, path


def test_a_link_added_to_a_hearing_reaches_both_languages(bilingual, feeds_dir, parse):
    """Adding a defendant to a hearing changes no column of the hearing: the link itself is compared."""
    publish_feeds(_now())
    hearing = db.session.get(Hearing, bilingual["verdict"].id)
    hearing.defendants.append(db.session.get(Defendant, bilingual["boris"].id))
    db.session.commit()
    report = publish_feeds(_now())
    assert "ru/defendants/boris.ics" in report.written
    boris = parse((feeds_dir / "ru/defendants/boris.ics").read_bytes())
    assert ical.event_uid(bilingual["verdict"]) in boris.uids


def test_russian_feeds_are_served_and_built_on_demand_identically(client, bilingual, feeds_dir, parse):
    for path in ("ru/all.ics", "ru/with-alarm/defendants/anna.ics", "ru/cases/bolotnaya.ics"):
        on_demand = client.get(f"/feeds/{path}")  # nothing published yet
        assert on_demand.status_code == 200, path
        assert on_demand.headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert on_demand.data == build_feed(path, _now())
    calendars.EVENTS.clear()
    publish.forget_published_state()
    publish_feeds(_now())
    for path in ("ru/all.ics", "ru/with-alarm/defendants/anna.ics", "ru/cases/bolotnaya.ics"):
        served = client.get(f"/feeds/{path}")
        assert served.data == (feeds_dir / path).read_bytes() == build_feed(path, _now())
        assert client.get(f"/feeds/{path}", headers={"If-None-Match": served.headers["ETag"]}).status_code == 304
        assert served.headers["ETag"] != client.get(f"/feeds/{path[3:]}").headers["ETag"]  # another language
    assert "Политзаключённые" in parse(client.get("/feeds/ru/all.ics").data).text
    # only configured languages other than the default have a folder
    for path in ("/feeds/en/all.ics", "/feeds/xx/all.ics", "/feeds/ru/defendants/hidden.ics", "/feeds/ru/nothing.ics"):
        assert client.get(path).status_code == 404, path


def test_the_middleware_answers_russian_revalidations_before_flask(app, bilingual, feeds_dir):
    publish_feeds(_now())
    client = app.test_client()
    etag = client.get("/feeds/ru/all.ics").headers["ETag"]
    with app.test_request_context():
        from tracker.feeds import serving

        assert serving.PUBLISHED_PATH.match("/feeds/ru/with-alarm/cases/bolotnaya.ics")
        assert not serving.PUBLISHED_PATH.match("/feeds/ru/private/token.ics")
    assert client.get("/feeds/ru/all.ics", headers={"If-None-Match": etag}).status_code == 304


def test_the_download_and_the_private_feed_follow_their_address(client, bilingual, make_user, parse):
    hearing_id = bilingual["verdict"].id
    english = parse(client.get(f"/feeds/hearings/{hearing_id}.ics").data)
    russian = parse(client.get(f"/feeds/ru/hearings/{hearing_id}.ics").data)
    assert english.uids == russian.uids == [ical.event_uid(bilingual["verdict"])]
    assert str(russian.events[0]["SUMMARY"]).startswith("Оглашение приговора")
    assert str(english.events[0]["SUMMARY"]).startswith("Verdict")

    user = make_user()
    db.session.commit()
    english = client.get(f"/feeds/private/{user.feed_token}.ics")
    russian = client.get(f"/feeds/ru/private/{user.feed_token}.ics")
    assert russian.status_code == 200 and russian.headers["Cache-Control"] == "private, no-cache"
    english, russian = parse(english.data), parse(russian.data)
    assert russian.uids == english.uids and ical.event_uid(bilingual["secret"]) in russian.uids
    assert "Скрытый Подсудимый" in russian.text and "INTERNAL-MARKER" in russian.text  # editors see them
    assert str(russian.cal["X-WR-CALNAME"]).startswith("Личный календарь заседаний: ")
    assert str(english.cal["X-WR-CALNAME"]).startswith("Private hearings calendar of ")
    assert client.get("/feeds/ru/private/wrong-token.ics").status_code == 404


def test_the_subscribe_box_offers_the_readers_language_and_the_other(client, bilingual):
    russian = client.get("/defendants/anna", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert 'href="webcal://tracker.test/feeds/ru/defendants/anna.ics"' in russian
    assert 'href="webcal://tracker.test/feeds/ru/with-alarm/defendants/anna.ics"' in russian
    assert 'value="http://tracker.test/feeds/ru/defendants/anna.ics"' in russian
    assert "cid=https%3A%2F%2Ftracker.test%2Ffeeds%2Fru%2Fdefendants%2Fanna.ics" in russian
    assert '<a href="webcal://tracker.test/feeds/defendants/anna.ics" hreflang="en" lang="en">English</a>' in russian
    assert f'href="/feeds/ru/hearings/{bilingual["verdict"].id}.ics"' in russian

    english = client.get("/defendants/anna", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="webcal://tracker.test/feeds/defendants/anna.ics"' in english
    assert 'href="webcal://tracker.test/feeds/ru/defendants/anna.ics" hreflang="ru" lang="ru">русский</a>' in english
    assert f'href="/feeds/hearings/{bilingual["verdict"].id}.ics"' in english


def test_each_language_keeps_its_own_cached_events(bilingual, feeds_dir):
    """Publishing both languages in turn must not make them evict each other's events."""
    first = publish_feeds(_now())
    assert first.events_rendered == 6  # three public hearings, two languages
    hearing = db.session.get(Hearing, bilingual["closed"].id)
    hearing.courtroom = "3"
    db.session.commit()
    again = publish_feeds(_now())
    assert again.events_rendered == 2  # the one changed event, once per language
    calendars.EVENTS.hits = 0
    publish.forget_published_state()  # a restart of the publisher, the cache still warm
    assert publish_feeds(_now()).events_rendered == 0 and calendars.EVENTS.hits == 6


def test_the_same_moment_in_both_languages_across_a_zone_change(make_court, make_hearing, make_defendant,
                                                                feeds_dir, parse):
    """Berlin in summer: the VTIMEZONE of each language's file gives the same UTC instant."""
    berlin = make_court(name="Berlin court", timezone="Europe/Berlin")
    person = make_defendant(name_latin="Ivan", name_original="Иван")
    summer = make_hearing(court=berlin, defendants=[person],
                          starts_at=datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=200))
    db.session.commit()
    publish_feeds(_now())
    uid = ical.event_uid(summer)
    for prefix in ("", "ru/"):
        parsed = parse((feeds_dir / f"{prefix}all.ics").read_bytes())
        begin = parsed.strict_event(uid).begin.datetime
        assert begin == summer.starts_at
        assert parsed.event(uid).decoded("DTSTART") == summer.starts_at.astimezone(ZoneInfo("Europe/Berlin"))


def test_the_people_of_an_event_come_in_the_readers_order(make_court, make_case, make_defendant, make_hearing,
                                                          feeds_dir, parse, app):
    """Vera (Вера) sorts after Timur in Latin and before Тимур in Cyrillic: the Russian feed, the
    Russian download and the Russian private feed list «Вера» first, as the pages do
    (docs/search.md "Order of lists"); the English ones keep the Latin order."""
    court = make_court(timezone="Europe/Moscow")
    case = make_case(slug="order", title="Order case")
    timur = make_defendant(slug="timur", name_latin="Timur Obraztsov", name_original="Тимур Образцов", cases=[case])
    vera = make_defendant(slug="vera", name_latin="Vera Ustareva", name_original="Вера Устарева", cases=[case])
    hearing = make_hearing(court=court, case=case, defendants=[vera, timur], starts_at=_now() + timedelta(days=2))
    db.session.commit()
    publish_feeds(_now())
    uid = ical.event_uid(hearing)
    english = parse((feeds_dir / "all.ics").read_bytes()).event(uid)
    russian = parse((feeds_dir / "ru/all.ics").read_bytes()).event(uid)
    assert str(english.get("SUMMARY")).endswith("Timur Obraztsov, Vera Ustareva")
    assert str(russian.get("SUMMARY")).endswith("Вера Устарева, Тимур Образцов")
    english_text, russian_text = str(english.get("DESCRIPTION")), str(russian.get("DESCRIPTION"))
    assert english_text.index("Timur Obraztsov (") < english_text.index("Vera Ustareva (")
    assert russian_text.index("Вера Устарева (") < russian_text.index("Тимур Образцов (")
    with app.test_request_context():
        download = calendars.hearing_ics(hearing, app.config["BASE_URL"])
    assert b"/defendants/timur" in download.split(b"BEGIN:VEVENT")[0]  # the calendar's page: the first named
    client = app.test_client()
    russian_download = client.get(f"/feeds/ru/hearings/{hearing.id}.ics").data
    assert "Вера Устарева\\, Тимур Образцов".encode() in russian_download.replace(b"\r\n ", b"")
