"""Editors' pages: the dashboard, cases and courts (defendants and hearings have their own
modules). Thin: check access, parse the form, call one service, commit, redirect; the
steps every page shares are in pages.py.
"""
from __future__ import annotations

from typing import Callable

from flask import abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from tracker.access import can_edit, can_see, editor_required, edits_every_case, require_edit
from tracker.editing import audit, history, queries, services, stale_list
from tracker.editing.forms import CaseForm, CourtForm
from tracker.editing.pages import bp, create, get_or_404, load_form, render_page, save, submit
from tracker.extensions import db, utcnow
from tracker.records.display import Display, url_maker
from tracker.records.models import Case, Court, Defendant
from tracker.records.staleness import site_today


@bp.get("/")
@editor_required
def dashboard():
    now = utcnow()
    stale, stale_total = stale_list.dashboard_entries(db.session, current_user, now)
    return render_template(
        "editing/dashboard.html", cases=queries.editable_cases(db.session, current_user),
        defendants=queries.editable_defendants(db.session, current_user),
        hearings=queries.dashboard_hearings(db.session, current_user, now),
        transits=queries.editable_transits(db.session, current_user), today=site_today(now),
        alert_days=current_app.config["TRANSIT_ALERT_DAYS"], stale=stale, stale_total=stale_total,
    )


# --- cases ---------------------------------------------------------------------------------


@bp.route("/cases/new", methods=["GET", "POST"])
@editor_required
def new_case():
    if not edits_every_case(current_user):
        abort(403, description=_("Your account is limited to some cases; an admin can add new ones."))
    form = CaseForm()
    return create(
        form, lambda: services.create_case(db.session, form.values(), by=current_user, now=utcnow()),
        message=_("Case created."), to=lambda case: url_for("editing.edit_case", case_id=case.id),
        template="editing/case.html", case=None, history=[],
    )


@bp.route("/cases/<int:case_id>", methods=["GET", "POST"])
@editor_required
def edit_case(case_id: int):
    case = get_or_404(Case, case_id)
    require_edit(case)
    form = load_form(CaseForm, case, version=case.version)
    done, case, report = submit(
        form, case, lambda: get_or_404(Case, case_id),
        lambda case: services.update_case(db.session, case, form.values(), expected_version=form.loaded_version(),
                                          by=current_user, now=utcnow()),
        message=_("Case saved."), to=url_for("editing.edit_case", case_id=case.id),
    )
    if done:
        return done
    changes = history.describe(db.session, audit.history(db.session, "case", case.id))
    return render_page("editing/case.html", form, report, case=case, history=changes)


# --- courts ----------------------------------------------------------------------------------


def _require_court_editor() -> None:
    """A court is shared by the hearings of every case: admins and editors of all cases only."""
    if not edits_every_case(current_user):
        abort(403, description=_("Courts are shared by every case: an admin or an editor of all cases can "
                                 "change them."))


@bp.get("/courts")
@editor_required
def courts():
    _require_court_editor()
    return render_template("editing/courts.html", courts=queries.courts_with_hearing_counts(db.session))


@bp.route("/courts/<int:court_id>", methods=["GET", "POST"])
@editor_required
def edit_court(court_id: int):
    _require_court_editor()
    court = get_or_404(Court, court_id)
    form = CourtForm(obj=court if request.method != "POST" else None)
    if form.validate_on_submit():
        done, _report = save(
            form,
            lambda: services.update_court(db.session, court, form.values(), by=current_user, now=utcnow()),
            message=_("Court saved; its hearings follow."),
            to=url_for("editing.edit_court", court_id=court_id),
        )
        if done:
            return done
        court = get_or_404(Court, court_id)
    changes = history.describe(db.session, audit.history(db.session, "court", court_id))
    return render_page("editing/court.html", form, court=court, history=changes)


# --- for templates (also inside imported macros, which see only globals) ----------------------


def can_edit_current(thing: object) -> bool:
    return can_edit(current_user, thing)


def visible_to_current(defendants: list[Defendant]) -> list[Defendant]:
    """The defendants of a joint hearing the current user may see by name."""
    return [d for d in defendants if can_see(current_user, d)]


def current_user_edits_every_case() -> bool:
    """Whether the current user may change what every case shares: courts, new cases."""
    return edits_every_case(current_user)


def hearing_tools(lines: list, show: Display) -> Callable[[object], str] | None:
    """The editor's link on each hearing line of a public list they may change (records.display);
    nothing at all for a visitor."""
    editable = show.editable(lines)
    if not editable:
        return None
    edit = url_maker("editing.edit_hearing", "hearing_id")
    text = Markup(_("Edit, postpone, history"))

    def line_html(line) -> str:  # noqa: ANN001
        if line.id not in editable:
            return ""
        return f'<p class="editor-tools"><a href="{edit(line.id)}">{text}</a></p>'

    return line_html
