"""Every email in its reader's language: a subscription keeps the language it was made in,
an account has its own; dates and times in that language, in the court's zone, the zone named.

Messages go through the real SMTP test server and are read back decoded, as a mail client would.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.auth.support import csrf_token, new_client
from tests.reminders.helpers import minutes
from tracker.auth import logic
from tracker.auth.models import Role, User
from tracker.editing import services
from tracker.editing.alerts import enqueue_deadline_alerts
from tracker.extensions import db, utcnow
from tracker.mail import language as lang
from tracker.mail.sending import send_pending
from tracker.reminders.changes import notify_hearing_changes
from tracker.reminders.due import enqueue_due
from tracker.reminders.models import Scope, Subscription

MOSCOW = ZoneInfo("Europe/Moscow")


def _text(message) -> str:  # noqa: ANN001
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message) -> str:  # noqa: ANN001
    return message.get_body(preferencelist=("html",)).get_content()


@pytest.fixture
def luzyanin_hearing(make_court, make_defendant, make_hearing):
    court = make_court(name="Moscow City Court", address="Bogorodsky Val, 8, Moscow", timezone="Europe/Moscow")
    person = make_defendant(name_latin="Maksim Luzyanin", name_original="Максим Лузянин", slug="luzyanin")
    # Tuesday 3 March 2026, 11:00 in Moscow; `now` is Monday 12:00 there
    return make_hearing(starts_at=datetime(2026, 3, 3, 8, 0, tzinfo=timezone.utc), court=court,
                        defendants=[person], courtroom="635")


def test_dates_and_zones_are_written_in_the_readers_language(app):
    moment = datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)
    with lang.in_language("ru"):
        assert lang.when(moment, MOSCOW, "ru") == "ср, 2 дек. 2026\u202fг., 11:00 (МСК, Москва, стандартное время)"
    with lang.in_language("en"):
        assert lang.when(moment, MOSCOW, "en") == "Wed, Dec 2, 2026, 11:00 (MSK, Moscow Standard Time)"
    # a zone tzdata names by its offset, in a court far from Moscow
    with lang.in_language("ru"):
        assert lang.when(moment, ZoneInfo("Asia/Vladivostok"), "ru") == \
            "ср, 2 дек. 2026\u202fг., 18:00 (+10, Владивосток, стандартное время)"
    assert lang.day_range(date(2026, 3, 2), date(2026, 3, 8), "ru") == "2—8 мар."
    assert lang.short_when(moment, MOSCOW, "ru") == "ср, 2 дек. 11:00"
    assert lang.reads_latin("en") and not lang.reads_latin("ru")


def remind_in_both_languages(now, make_subscription):  # noqa: ANN001, ANN201
    """A Russian and an English subscription to everything, reminded of what is due at `now`."""
    russian = make_subscription(language="ru")
    english = make_subscription(language="en")
    db.session.commit()
    enqueue_due(db.session, now)
    db.session.commit()
    assert send_pending(db.session, now).sent == 2
    return russian, english


def test_a_reminder_arrives_in_the_language_of_the_subscription(now, luzyanin_hearing, make_subscription,
                                                               smtp_server):
    russian, english = remind_in_both_languages(now, make_subscription)

    [ru] = smtp_server.received_by(russian.email)
    assert ru["Subject"] == "Завтра 11:00: заседание — М. Лузянин, Moscow City Court"
    for body in (_text(ru), _html(ru)):
        assert "вт, 3 мар. 2026\u202fг., 11:00 (МСК, Москва, стандартное время)" in body
        assert "Максим Лузянин" in body and "Суд" in body and "Зал" in body
        assert "Изменить подписку или отписаться" in body
        assert "Tomorrow" not in body and "Courtroom" not in body

    [en] = smtp_server.received_by(english.email)
    assert en["Subject"] == "Tomorrow 11:00: hearing of M. Luzyanin, Moscow City Court"
    for body in (_text(en), _html(en)):
        assert "Tue, Mar 3, 2026, 11:00 (MSK, Moscow Standard Time)" in body
        assert "Maksim Luzyanin (Максим Лузянин)" in body or "Maksim Luzyanin</a> (Максим Лузянин)" in body
        assert "Courtroom: 635" in body
        assert "Завтра" not in body and "Зал" not in body
    # each volunteer's own links, though the text was rendered once per language
    assert russian.token in _text(ru) and english.token not in _text(ru)


def test_a_change_notice_arrives_in_the_language_of_the_subscription(now, luzyanin_hearing, make_subscription,
                                                                    editor, smtp_server):
    russian = make_subscription(language="ru", leads=(60,))
    english = make_subscription(language="en", leads=(60,))
    db.session.commit()
    notify_hearing_changes(db.session, now)  # the change job has seen the hearing as it is
    db.session.commit()

    services.postpone_hearing(db.session, luzyanin_hearing, luzyanin_hearing.starts_at + timedelta(days=7),
                              by=editor, now=now)
    db.session.commit()
    notify_hearing_changes(db.session, now + minutes(1))
    db.session.commit()
    assert send_pending(db.session, now + minutes(1)).sent == 2

    [ru] = smtp_server.received_by(russian.email)
    assert ru["Subject"] == "Перенесено на вт, 10 мар. 11:00: заседание — М. Лузянин, Moscow City Court"
    text = _text(ru)
    assert "Оно было назначено на вт, 3 мар. 2026\u202fг., 11:00 (МСК, Москва, стандартное время)" in text
    assert "вт, 10 мар. 2026\u202fг., 11:00 (МСК" in text
    assert "moved" not in text.lower()

    [en] = smtp_server.received_by(english.email)
    assert en["Subject"] == "Moved to Tue, Mar 10 11:00: hearing of M. Luzyanin, Moscow City Court"
    assert "It was set for Tue, Mar 3, 2026, 11:00 (MSK, Moscow Standard Time)" in _text(en)


def test_a_sign_up_keeps_the_language_of_its_page_and_is_confirmed_in_it(app, now, smtp_server):
    web = new_client(app)
    token = csrf_token(web, "/")
    response = web.post("/reminders/signup", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}, data={
        "email": "volunteer@example.org", "follow": "all", "mode": "each", "leads": ["1440"], "next": "/",
        "csrf_token": token,
    })
    assert response.status_code == 302
    subscription = db.session.scalar(sa.select(Subscription))
    assert subscription.language == "ru"
    send_pending(db.session, utcnow())  # the view wrote it at the real time
    [confirmation] = smtp_server.received_by("volunteer@example.org")
    assert confirmation["Subject"] == "Подтвердите подписку на напоминания о заседаниях"
    assert "все опубликованные заседания" in _text(confirmation)


def test_the_manage_page_changes_the_language_of_the_emails(app, make_subscription):
    subscription = make_subscription(language="en")
    db.session.commit()
    web = new_client(app)
    page = f"/reminders/manage/{subscription.token}"
    assert '<option selected value="en">English</option>' in web.get(page).text
    response = web.post(page, data={"mode": "each", "leads": ["1440"], "language": "ru",
                                    "csrf_token": csrf_token(web, page)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).language == "ru"
    refused = web.post(page, data={"mode": "each", "leads": ["1440"], "language": "xx",
                                   "csrf_token": csrf_token(web, page)})
    assert refused.status_code == 400 and "Not a valid choice" in refused.text
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).language == "ru"


def test_editors_alerts_go_in_the_accounts_language(now, make_defendant, make_measure, make_user, smtp_server):
    person = make_defendant(name_latin="Ivan Primerov", name_original="Иван Примеров")
    make_measure(person, starts_on=date(2025, 12, 1), until=date(2026, 3, 9))
    russian = make_user("ru-editor@example.org", language="ru")
    english = make_user("en-editor@example.org")
    assert enqueue_deadline_alerts(db.session, now) == 2
    db.session.commit()
    send_pending(db.session, now)
    [ru] = smtp_server.received_by(russian.email)
    assert "И. Примеров" in ru["Subject"] and "пн, 9 мар. 2026 г." in ru["Subject"]  # a subject is one line of plain spaces
    assert "Иван Примеров" in _text(ru) and "ends" not in _text(ru)
    [en] = smtp_server.received_by(english.email)
    assert en["Subject"] == "Pre-trial detention of I. Primerov ends in 7 days (Mon, Mar 9, 2026), no hearing scheduled"


def test_the_account_page_sets_the_language_of_ones_emails(app, now, editor, editor_client, smtp_server):
    page = editor_client.get("/account")
    assert page.status_code == 200 and 'name="language"' in page.text
    response = editor_client.post("/account", data={"language": "ru", "csrf_token": csrf_token(editor_client, "/account")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, editor.id).language == "ru"
    bad = editor_client.post("/account", data={"language": "../etc", "csrf_token": csrf_token(editor_client, "/account")})
    assert bad.status_code == 422
    # a password reset now comes in Russian
    assert logic.request_password_reset(db.session, editor.email, now)
    db.session.commit()
    send_pending(db.session, now)
    [reset] = smtp_server.received_by(editor.email)
    assert "Reset" not in reset["Subject"] and "парол" in reset["Subject"]


def test_an_invitation_goes_in_the_language_the_admin_chose(app, now, admin, admin_client, smtp_server):
    page = "/admin/accounts/invite"
    response = admin_client.post(page, data={"email": "new@example.org", "role": "editor", "language": "ru",
                                             "csrf_token": csrf_token(admin_client, page)})
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "new@example.org"))
    assert user.language == "ru" and user.role is Role.EDITOR
    send_pending(db.session, utcnow())  # the view wrote it at the real time
    [invitation] = smtp_server.received_by("new@example.org")
    assert invitation["Subject"] == "Приглашение редактировать сайт поддержки политзаключённых"
    assert "new@example.org" in _text(invitation) and "Hello" not in _text(invitation)


def test_a_hearings_people_come_in_the_readers_order(now, make_court, make_defendant, make_hearing,
                                                    make_subscription, smtp_server):
    """Vera (Вера) sorts after Timur in Latin and before Тимур in Cyrillic: a Russian reader's
    reminder lists «Вера» first, as the pages and the Russian feeds do (docs/search.md "Order of
    lists"); an English one keeps the Latin order."""
    court = make_court(name="Moscow City Court", timezone="Europe/Moscow")
    timur = make_defendant(name_latin="Timur Obraztsov", name_original="Тимур Образцов", slug="timur")
    vera = make_defendant(name_latin="Vera Ustareva", name_original="Вера Устарева", slug="vera")
    make_hearing(starts_at=datetime(2026, 3, 3, 8, 0, tzinfo=timezone.utc), court=court, defendants=[vera, timur])
    russian, english = remind_in_both_languages(now, make_subscription)
    [ru] = smtp_server.received_by(russian.email)
    [en] = smtp_server.received_by(english.email)
    assert "В. Устарева, Т. Образцов" in ru["Subject"]
    assert "T. Obraztsov, V. Ustareva" in en["Subject"]
    for body in (_text(ru), _html(ru)):
        assert body.index("Вера Устарева") < body.index("Тимур Образцов")
    for body in (_text(en), _html(en)):
        assert body.index("Timur Obraztsov") < body.index("Vera Ustareva")
