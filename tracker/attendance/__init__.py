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
from tracker.records.display import Display, add_hearing_extra, url_maker
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
    attend = url_maker("attendance.attend", "hearing_id")
    attendees = url_maker("attendance.attendees", "hearing_id")
    # translations are trusted as in a template's _(): not escaped
    join, who, nobody = Markup(_("I'll be there")), Markup(_("Who is going")), Markup(
        _("Nobody has said they are going yet"))
    words: dict[tuple[int, int | None], Markup] = {}

    def going(count: int, seats: int | None) -> Markup:
        found = words.get((count, seats))
        if found is None:
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
            html = (f'<p class="attendance"><span class="going">{going(counts.get(line.id, 0), line.seats)}</span>\n'
                    f' <a class="button" href="{attend(line.id)}">{join}</a></p>')
        if line.id in editable:
            html += f'<p class="editor-tools"><a href="{attendees(line.id)}">{who}</a></p>'
        return html

    return line_html


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    # reminders' and notices' links of an attendance lead to its own pages
    register_pages(app, Scope.HEARING, confirm="attendance.confirm", manage="attendance.withdraw",
                   unsubscribe="attendance.withdraw")
    add_to_demo(app, load_demo_attendees)
    add_hearing_extra(app, 20, hearing_attendance)
