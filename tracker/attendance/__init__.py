"""Going to a hearing ("I'll be there"): sign-up, confirmation, the public count, withdrawing,
and the editors' list and message. An attendance is a reminders subscription to one hearing
(tracker/attendance/logic.py says why)."""
from __future__ import annotations

from typing import Callable

from flask import Flask
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from tracker.attendance import logic, views
from tracker.attendance.demo import load_demo_attendees
from tracker.extensions import db, utcnow
from tracker.records.demo import add_to_demo
from tracker.records.display import Display, add_hearing_extra, id_url_parts
from tracker.records.enums import HearingStatus
from tracker.reminders.models import Scope
from tracker.reminders.subscriptions import register_pages


def hearing_attendance(lines: list, show: Display) -> Callable[[object], str] | None:
    """On each hearing line of a public list (records.display): how many are going and the way
    to join them while one still can, and the editors' link to the list. One count query for
    the whole list, none when no line is open; each phrase and count worded once."""
    now = utcnow()
    open_ids = {line.id for line in lines
                if line.status is HearingStatus.SCHEDULED and line.starts_at > now and line.public_defendants()}
    editable = show.editable(lines)
    if not open_ids and not editable:
        return None
    counts = logic.going_counts(db.session, open_ids) if open_ids else {}
    # each paragraph around its hearing's id written once for the list (no call a line for a link)
    attend_head, attend_tail = id_url_parts("attendance.attend", "hearing_id")
    who_head, who_tail = id_url_parts("attendance.attendees", "hearing_id")
    # translations are trusted as in a template's _(): not escaped
    join, who, nobody = Markup(_("I'll be there")), Markup(_("Who is going")), Markup(
        _("Nobody has said they are going yet"))
    going_before = '<p class="attendance"><span class="going">'
    attend_before = f'</span>\n <a class="button" href="{attend_head}'
    attend_after = f'{attend_tail}">{join}</a></p>'
    who_before, who_after = f'<p class="editor-tools"><a href="{who_head}', f'{who_tail}">{who}</a></p>'
    words: dict[tuple[int, int | None], Markup] = {}

    def going(count: int, seats: int | None) -> Markup:
        found = (Markup(ngettext("%(num)d person is going", "%(num)d people are going", count)) if count
                 else Markup(nobody))
        if seats:
            found += Markup(" · ") + Markup(
                ngettext("%(num)d seat for the public", "%(num)d seats for the public", seats))
        words[(count, seats)] = found
        return found

    def line_html(line) -> str:  # noqa: ANN001
        html = ""
        if line.id in open_ids:
            count, seats = counts.get(line.id, 0), line.seats
            html = (f"{going_before}{words.get((count, seats)) or going(count, seats)}"
                    f"{attend_before}{line.id}{attend_after}")
        if line.id in editable:
            html = f"{html}{who_before}{line.id}{who_after}"
        return html

    return line_html


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    # reminders' and notices' links of an attendance lead to its own pages
    register_pages(app, Scope.HEARING, confirm="attendance.confirm", manage="attendance.withdraw",
                   unsubscribe="attendance.withdraw")
    add_to_demo(app, load_demo_attendees)
    add_hearing_extra(app, 20, hearing_attendance)
