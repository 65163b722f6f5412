"""Solidarity actions' pages: the public list and submission form, the calendars, and the
editors' review queue and review page. Thin: parse, call `logic`, commit, redirect.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.access import editor_required, public, require_edit
from tracker.actions import listing, logic
from tracker.actions.forms import ActionForm, EditActionForm, ReviewForm, SubmitActionForm
from tracker.actions.ical import actions_calendar
from tracker.actions.models import Action, ActionStatus
from tracker.editing import audit, history
from tracker.caching import cacheable_page
from tracker.extensions import db, limiter, utcnow
from tracker.feeds.calendars import FeedInfo
from tracker.feeds.serving import MIMETYPE, Served, public_cache_control, wants_gzip
from tracker.forms import form_status, sessionless_csrf
from tracker.links import external_url
from tracker.records import queries as records
from tracker.records import wallclock
from tracker.records.names import first_script

bp = Blueprint("actions", __name__)


# --- public ----------------------------------------------------------------------------------


@bp.get("/actions")
@public
@cacheable_page()
def upcoming():
    found = listing.upcoming_listed(db.session, utcnow())
    return render_template("actions/upcoming.html", countries=logic.group_by_place(found), count=len(found))


def _submit_limit() -> str:
    return current_app.config["ACTION_SUBMIT_LIMIT"]


def _prefill(form: ActionForm) -> None:
    """Coming from a defendant's or case's page: that one is already ticked."""
    slug = request.args.get("defendant")
    if slug:
        person = records.get_public_defendant(db.session, slug)
        if person is not None:
            form.defendants.data = [str(person.id)]
    slug = request.args.get("case")
    if slug:
        case = records.get_case(db.session, slug)
        if case is not None:
            form.case.data = str(case.id)


@bp.route("/actions/new", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
@sessionless_csrf
@public
@cacheable_page()
def submit():
    form = SubmitActionForm() if request.method == "POST" else SubmitActionForm(formdata=None)
    form.fill_choices(logic.linkable_cases(db.session), logic.linkable_defendants(db.session))
    if request.method != "POST":
        _prefill(form)
        return render_template("actions/submit.html", form=form)
    if form.validate():
        try:
            logic.submit_action(db.session, form.values(), utcnow())
        except logic.ActionErrors as problem:
            db.session.rollback()
            for name, message in problem.errors.items():
                form[name].errors = [*form[name].errors, message]
            form.offer_offsets()
        else:
            db.session.commit()
            return redirect(url_for("actions.received"))
    return render_template("actions/submit.html", form=form), form_status(form)


@bp.get("/actions/received")
@public
@cacheable_page(clock="day")
def received():
    return render_template("actions/received.html")


def _calendar(body: bytes, filename: str) -> Response:
    served = Served.of(body, cache_control=public_cache_control(current_app.config))
    zipped = wants_gzip(request.headers.get("Accept-Encoding"))
    headers = served.headers(zipped)
    if served.not_modified(request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")):
        return Response(status=304, headers=headers)
    response = Response(served.gzipped if zipped else served.body, content_type=MIMETYPE, headers=headers)
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.get("/actions.ics", defaults={"kind": "all", "slug": None})
@bp.get("/actions/cases/<slug>.ics", defaults={"kind": "case"})
@bp.get("/actions/defendants/<slug>.ics", defaults={"kind": "defendant"})
@public
def feed(kind: str, slug: str | None):
    """Built on each request: actions are few (hundreds), unlike hearings; the ETag still lets
    calendar apps revalidate for a 304."""
    base = current_app.config["BASE_URL"]
    case = person = None
    if kind == "case":
        case = records.get_case(db.session, slug) or abort(404, description=_("There is no such calendar."))
        name = _("Solidarity actions: %(title)s", title=first_script(case.title, case.title_original))
        page = external_url("records.case", base_url=base, slug=case.slug)
    elif kind == "defendant":
        person = records.get_public_defendant(db.session, slug) or abort(
            404, description=_("There is no such calendar."))
        name = _("Solidarity actions: %(name)s", name=first_script(person.name_latin, person.name_original))
        page = external_url("records.defendant", base_url=base, slug=person.slug)
    else:
        name = _("Solidarity actions")
        page = external_url("actions.upcoming", base_url=base)
    info = FeedInfo(name=name, description=_("Vigils, letter-writing evenings and other actions of solidarity, "
                                             "in each place's own time."),
                    url=page, source=base.rstrip("/") + request.path)
    found = logic.for_feed(db.session, utcnow(), case=case, defendant=person)
    filename = "actions.ics" if kind == "all" else f"actions-{slug}.ics"
    return _calendar(actions_calendar(found, info, base), filename)


# --- editors ---------------------------------------------------------------------------------


@bp.get("/edit/actions")
@editor_required
def queue():
    return render_template("actions/queue.html", pending=logic.review_queue(db.session, current_user),
                           reviewed=logic.reviewed(db.session, current_user, utcnow()))


def _action_or_404(action_id: int) -> Action:
    return db.session.get(Action, action_id) or abort(404)


def _review_page(action: Action, form: EditActionForm, review: ReviewForm, status: int):  # noqa: ANN202
    changes = history.describe(db.session, audit.history(db.session, "action", action.id))
    for entry in changes:
        if entry.entry.action == "submit":
            entry.who = _("the organiser (no account)")
    return render_template("actions/review.html", action=action, form=form, review=review,
                           history=changes), status


def _edit_form(action: Action) -> EditActionForm:
    """The editors' form: as saved (local times in the place's zone) on GET, as sent on POST."""
    if request.method == "POST" and request.endpoint == "actions.review":
        form = EditActionForm()
    else:
        form = EditActionForm(formdata=None, obj=action)
        form.starts.data = action.local_start.replace(tzinfo=None)
        form.ends.data = action.local_end.replace(tzinfo=None)
        form.offer_offsets()  # an action at the second 02:30, saved unchanged, stays there
        form.starts_offset.data = wallclock.format_offset(action.local_start.utcoffset())
        form.ends_offset.data = wallclock.format_offset(action.local_end.utcoffset())
        form.case.data = str(action.case_id) if action.case_id else ""
        form.defendants.data = [str(d.id) for d in action.defendants]
        form.version.data = str(action.version)
    form.fill_choices(logic.linkable_cases(db.session), logic.linkable_defendants(db.session, action.defendants))
    return form


@bp.route("/edit/actions/<int:action_id>", methods=["GET", "POST"])
@editor_required
def review(action_id: int):
    action = _action_or_404(action_id)
    require_edit(action)
    review_form = ReviewForm(formdata=None, version=str(action.version), prefix="review")
    form = _edit_form(action)
    if request.method != "POST" or not form.validate():
        return _review_page(action, form, review_form, form_status(form))
    approve = "approve" in request.form
    try:
        logic.update_action(db.session, action, form.values(), expected_version=form.loaded_version(),
                            by=current_user, now=utcnow(), approve=approve)
    except logic.ActionErrors as problem:
        db.session.rollback()
        for name, message in problem.errors.items():
            form[name].errors = [*form[name].errors, message]
        form.offer_offsets()
        return _review_page(_action_or_404(action_id), form, review_form, 422)
    except logic.ActionConflict as conflict:
        db.session.rollback()
        form.version.data = str(conflict.current_version)
        form.form_errors.append(_("Someone saved this action after you opened it: see its history below. "
                                  "What you typed is kept; save again to apply it."))
        return _review_page(_action_or_404(action_id), form, review_form, 409)
    db.session.commit()
    flash(_("Action approved: it is public now.") if approve else _("Action saved."))
    return redirect(url_for("actions.queue") if approve else url_for("actions.review", action_id=action.id))


@bp.post("/edit/actions/<int:action_id>/reject", defaults={"decision": "reject"})
@bp.post("/edit/actions/<int:action_id>/cancel", defaults={"decision": "cancel"})
@editor_required
def decide(action_id: int, decision: str):
    action = _action_or_404(action_id)
    require_edit(action)
    form = ReviewForm(prefix="review")
    status = ActionStatus.REJECTED if decision == "reject" else ActionStatus.CANCELLED
    if status is ActionStatus.CANCELLED and action.status is not ActionStatus.APPROVED:
        abort(409, description=_("Only an approved action can be called off."))
    if not form.validate():
        return _review_page(action, _edit_form(action), form, 422)
    try:
        logic.set_status(db.session, action, status, expected_version=form.loaded_version(), by=current_user,
                         now=utcnow(), reason=form.reason.data or "")
    except logic.ActionConflict:
        db.session.rollback()
        flash(_("Someone changed this action after you opened it; look again before deciding."))
        return redirect(url_for("actions.review", action_id=action_id))
    db.session.commit()
    flash(_("Action rejected: it is not public.") if status is ActionStatus.REJECTED
          else _("Action called off: it stays public, marked so."))
    return redirect(url_for("actions.queue"))
