"""Editors' pages. Thin: check access, parse the form, call one service, commit, redirect.

A form that fails validation is shown again with everything typed and the reason
next to each field (422). A save over someone else's newer change is refused and
shown again with what changed in between (409).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from tracker.access import (
    admin_required,
    can_edit,
    can_see,
    editor_required,
    edits_every_case,
    limit_to_editable,
    require_edit,
)
from tracker.edge import query_id
from tracker.editing import audit, history, services
from tracker.editing.forms import (
    CancelForm,
    CaseForm,
    CourtForm,
    DecisionForm,
    DefendantForm,
    ExtendForm,
    HearingForm,
    MarkHeldForm,
    MeasureForm,
    PostponeForm,
    TransferForm,
)
from tracker.extensions import db, utcnow
from tracker.records.logic import measure_in_force, next_instance, sentence_in_force
from tracker.records.models import (
    Case,
    Court,
    CustodyMeasure,
    Decision,
    Defendant,
    Hearing,
    HearingStatus,
    Instance,
)

bp = Blueprint("editing", __name__, url_prefix="/edit")
# Quick-action forms share a page with the full form: prefixes keep their field ids apart.
PREFIX = {PostponeForm: "postpone", MarkHeldForm: "held", CancelForm: "cancel", ExtendForm: "extend"}
admin_bp = Blueprint("editing_admin", __name__)


# --- helpers -----------------------------------------------------------------------------


def _get(model: type, ident: int):  # noqa: ANN202
    return db.session.get(model, ident) or abort(404)


def _status(form) -> int:  # noqa: ANN001
    return 422 if form.errors else 200


def _domain_error(form, error: services.DomainError) -> None:  # noqa: ANN001
    db.session.rollback()  # nothing half-changed may be flushed while the page is drawn again
    target = getattr(form, error.field, None) if error.field else None
    if target is None:
        form.form_errors.append(error.message)
    else:
        target.errors = list(target.errors) + [error.message]


def _conflict(form, conflict: services.EditConflict):  # noqa: ANN001, ANN202
    """Keep what the editor typed, show what was saved meanwhile, and let them save again."""
    db.session.rollback()
    report = services.explain_conflict(db.session, conflict)
    report.entries = history.describe(db.session, report.entries)  # in the same words as the history
    form.version.data = str(report.current_version)
    return report


T = TypeVar("T")


def _save(
    form, call: Callable[[], T], *, message: str | Callable[[T], str], to: str | Callable[[T], str]  # noqa: ANN001
) -> tuple[Response | None, services.ConflictReport | None]:
    """Run one service call for a submitted form and settle its three outcomes in one place.

    Returns (redirect, None) once saved; (None, report) on a conflict, so the caller reloads
    its record and shows what changed meanwhile (409); (None, None) when the service refused,
    with the reason already next to its field (422). `message` and `to` may be functions of
    what the call returned, for what exists only once it has run (a new record's id).
    """
    try:
        result = call()
    except services.DomainError as error:
        _domain_error(form, error)
        return None, None
    except services.EditConflict as conflict:
        return None, _conflict(form, conflict)
    db.session.commit()
    flash(message(result) if callable(message) else message)
    return redirect(to(result) if callable(to) else to), None


def _defendant_action(
    defendant_id: int, form, template: str, act: Callable[[Defendant], T], *,  # noqa: ANN001
    message: str | Callable[[T], str], context: Callable[[Defendant], dict],
) -> Response | tuple[str, int]:
    """The shared shape of what an editor adds to a defendant: one form, one service call.

    `context` gives the template what it shows besides the form; it is called again with
    the reloaded defendant after a conflict, so the page shows the newer state.
    """
    defendant = _get(Defendant, defendant_id)
    require_edit(defendant)
    if request.method != "POST":
        form.version.data = str(defendant.version)
    report = None
    if form.validate_on_submit():
        done, report = _save(form, lambda: act(defendant), message=message,
                             to=url_for("editing.edit_defendant", defendant_id=defendant.id))
        if done:
            return done
        if report:
            defendant = _get(Defendant, defendant_id)
    return _quick_action_page(template, form, _status(form), report, defendant=defendant, **context(defendant))


def _limited_cases() -> list[Case]:
    """Cases the current user may attach things to."""
    return list(db.session.scalars(limit_to_editable(sa.select(Case).order_by(Case.title), Case, current_user)))


def _cases_by_id(ids: list[int]) -> list[Case]:
    allowed = {c.id: c for c in _limited_cases()}
    return [allowed[i] for i in ids if i in allowed]


def _editable_defendants() -> list[Defendant]:
    query = sa.select(Defendant).options(selectinload(Defendant.cases)).order_by(Defendant.name_latin)
    return list(db.session.scalars(limit_to_editable(query, Defendant, current_user)))


def _must_pick_case(form) -> bool:  # noqa: ANN001
    """An editor limited to some cases must attach what they create to one of them."""
    if edits_every_case(current_user) or form.cases.data:
        return False
    form.cases.errors = list(form.cases.errors) + [_("Choose one of your cases.")]
    return True


# --- dashboard and admin feed ------------------------------------------------------------


@bp.get("/")
@editor_required
def dashboard():
    now = utcnow()
    cases = _limited_cases()
    defendants = _editable_defendants()
    hearing_query = (
        sa.select(Hearing)
        .where(Hearing.starts_at >= now - timedelta(days=7))
        .options(selectinload(Hearing.defendants).selectinload(Defendant.cases))
        .order_by(Hearing.starts_at)
        .limit(100)
    )
    hearings = db.session.scalars(limit_to_editable(hearing_query, Hearing, current_user)).all()
    return render_template("editing/dashboard.html", cases=cases, defendants=defendants, hearings=hearings)


@admin_bp.get("/admin/audit")
@admin_required
def audit_feed():
    before = query_id("before")
    entries = audit.recent(db.session, before_id=before, limit=100)
    return render_template("editing/audit_feed.html", entries=history.describe(db.session, entries))


# --- cases ---------------------------------------------------------------------------------


@bp.route("/cases/new", methods=["GET", "POST"])
@editor_required
def new_case():
    if not edits_every_case(current_user):
        abort(403, description=_("Your account is limited to some cases; an admin can add new ones."))
    form = CaseForm()
    if form.validate_on_submit():
        done, _report = _save(
            form,
            lambda: services.create_case(db.session, form.values(), by=current_user, now=utcnow()),
            message=_("Case created."),
            to=lambda case: url_for("editing.edit_case", case_id=case.id),
        )
        if done:
            return done
    return render_template("editing/case.html", form=form, case=None, history=[]), _status(form)


@bp.route("/cases/<int:case_id>", methods=["GET", "POST"])
@editor_required
def edit_case(case_id: int):
    case = _get(Case, case_id)
    require_edit(case)
    form = CaseForm(obj=case if request.method != "POST" else None)
    if request.method != "POST":
        form.version.data = str(case.version)
    report = None
    if form.validate_on_submit():
        done, report = _save(
            form,
            lambda: services.update_case(db.session, case, form.values(), expected_version=form.loaded_version(),
                                         by=current_user, now=utcnow()),
            message=_("Case saved."),
            to=url_for("editing.edit_case", case_id=case.id),
        )
        if done:
            return done
        if report:
            case = _get(Case, case_id)
    changes = history.describe(db.session, audit.history(db.session, "case", case.id))
    status = 409 if report else _status(form)
    return render_template("editing/case.html", form=form, case=case, history=changes, conflict=report), status


# --- defendants ------------------------------------------------------------------------------


def _defendant_form(defendant: Defendant | None) -> DefendantForm:
    if request.method != "POST" and defendant is not None:
        form = DefendantForm(obj=defendant)
        form.status.data = defendant.status.value
        form.letters_status.data = defendant.letters_status.value
        form.cases.data = [c.id for c in defendant.cases]
        form.version.data = str(defendant.version)
    else:
        form = DefendantForm()
        if request.method != "POST":
            case_id = query_id("case")
            form.cases.data = [case_id] if case_id else []
    form.cases.choices = [SelectChoice(c.id, c.title) for c in _limited_cases()]
    return form


@bp.route("/defendants/new", methods=["GET", "POST"])
@editor_required
def new_defendant():
    form = _defendant_form(None)
    if form.validate_on_submit() and not _must_pick_case(form):
        done, _report = _save(
            form,
            lambda: services.create_defendant(db.session, form.values(), cases=_cases_by_id(form.cases.data),
                                              by=current_user, now=utcnow()),
            message=_("Defendant created."),
            to=lambda person: url_for("editing.edit_defendant", defendant_id=person.id),
        )
        if done:
            return done
    return render_template("editing/defendant_new.html", form=form), _status(form)


def _defendant_page(defendant: Defendant, form: DefendantForm, status: int, report=None):  # noqa: ANN001
    extend = ExtendForm(formdata=None, version=str(defendant.version), prefix=PREFIX[ExtendForm])
    return render_template(
        "editing/defendant.html",
        defendant=defendant, form=form, extend_form=extend, current_measure=measure_in_force(defendant),
        sentence=sentence_in_force(defendant), next_instance=next_instance(defendant),
        hearings=sorted(defendant.hearings, key=lambda h: h.starts_at, reverse=True),
        history=history.describe(db.session, audit.defendant_history(db.session, defendant.id)), conflict=report,
    ), status


@bp.route("/defendants/<int:defendant_id>", methods=["GET", "POST"])
@editor_required
def edit_defendant(defendant_id: int):
    defendant = _get(Defendant, defendant_id)
    require_edit(defendant)
    form = _defendant_form(defendant)
    report = None
    if form.validate_on_submit():
        cases = _cases_by_id(form.cases.data)
        # Cases outside an editor's limits stay as they are; they cannot see or untick them.
        hidden = [c for c in defendant.cases if c.id not in {x.value for x in form.cases.choices}]
        done, report = _save(
            form,
            lambda: services.update_defendant(db.session, defendant, form.values(), cases=cases + hidden,
                                              expected_version=form.loaded_version(), by=current_user, now=utcnow()),
            message=_("Saved."),
            to=url_for("editing.edit_defendant", defendant_id=defendant.id),
        )
        if done:
            return done
        if report:
            defendant = _get(Defendant, defendant_id)
    return _defendant_page(defendant, form, 409 if report else _status(form), report)


def _quick_action_page(template: str, form, status: int, report=None, **context):  # noqa: ANN001, ANN202
    return render_template(template, form=form, conflict=report, **context), (409 if report else status)


@bp.route("/defendants/<int:defendant_id>/extend", methods=["GET", "POST"])
@editor_required
def extend_custody(defendant_id: int):
    form = ExtendForm(prefix=PREFIX[ExtendForm])
    return _defendant_action(
        defendant_id, form, "editing/extend.html",
        lambda defendant: services.extend_custody(
            db.session, defendant, form.until.data, ordered_by=form.ordered_by.data or "",
            note=form.note.data or "", source_url=form.source_url.data or None,
            expected_version=form.loaded_version(), by=current_user, now=utcnow(),
        ),
        message=_("Extension recorded."),
        context=lambda defendant: {"current_measure": measure_in_force(defendant)},
    )


@bp.route("/defendants/<int:defendant_id>/transfer", methods=["GET", "POST"])
@editor_required
def record_transfer(defendant_id: int):
    form = TransferForm()
    return _defendant_action(
        defendant_id, form, "editing/transfer.html",
        lambda defendant: services.record_transfer(
            db.session, defendant, form.values(), letters_address=form.letters_address.data or None,
            expected_version=form.loaded_version(), by=current_user, now=utcnow(),
        ),
        message=_("Transfer recorded."),
        context=lambda defendant: {"current_placement": defendant.placements[-1] if defendant.placements else None},
    )


@bp.route("/defendants/<int:defendant_id>/measures/new", methods=["GET", "POST"])
@editor_required
def new_measure(defendant_id: int):
    form = MeasureForm()
    return _defendant_action(
        defendant_id, form, "editing/measure.html",
        lambda defendant: services.add_measure(db.session, defendant, form.values(),
                                               expected_version=form.loaded_version(), by=current_user, now=utcnow()),
        message=_("Measure recorded."),
        context=lambda defendant: {"measure": None},
    )


@bp.route("/measures/<int:measure_id>", methods=["GET", "POST"])
@editor_required
def edit_measure(measure_id: int):
    measure = _get(CustodyMeasure, measure_id)
    defendant = measure.defendant
    require_edit(defendant)
    form = MeasureForm(obj=measure if request.method != "POST" else None)
    if request.method != "POST":
        form.kind.data = measure.kind.value
        form.version.data = str(defendant.version)
    report = None
    if form.validate_on_submit():
        done, report = _save(
            form,
            lambda: services.update_measure(db.session, measure, form.values(),
                                            expected_version=form.loaded_version(), by=current_user, now=utcnow()),
            message=_("Measure saved."),
            to=url_for("editing.edit_defendant", defendant_id=defendant.id),
        )
        if done:
            return done
        if report:
            measure = _get(CustodyMeasure, measure_id)
            defendant = measure.defendant
    return _quick_action_page("editing/measure.html", form, _status(form), report, defendant=defendant,
                              measure=measure)


@bp.route("/defendants/<int:defendant_id>/verdict", methods=["GET", "POST"])
@editor_required
def record_verdict(defendant_id: int):
    form = DecisionForm()
    if request.method != "POST":  # "Record an appeal decision" opens the form at the next instance
        chosen = request.args.get("instance")
        if chosen in {i.value for i in Instance}:
            form.instance.data = chosen
    return _defendant_action(
        defendant_id, form, "editing/decision.html",
        lambda defendant: services.record_decision(
            db.session, defendant, form.values(), case=defendant.cases[0] if len(defendant.cases) == 1 else None,
            expected_version=form.loaded_version(), by=current_user, now=utcnow(),
        ),
        # The outcome sets the status, so the message is written once the decision is saved.
        message=lambda decision: _("Decision recorded; the status is now: %(status)s.",
                                   status=decision.defendant.status.label),
        context=lambda defendant: {"decision": None},
    )


@bp.route("/decisions/<int:decision_id>", methods=["GET", "POST"])
@editor_required
def edit_decision(decision_id: int):
    decision = _get(Decision, decision_id)
    defendant = decision.defendant
    require_edit(defendant)
    form = DecisionForm(obj=decision if request.method != "POST" else None)
    if request.method != "POST":
        form.instance.data = decision.instance.value
        form.outcome.data = decision.outcome.value
        form.version.data = str(defendant.version)
    report = None
    if form.validate_on_submit():
        done, report = _save(
            form,
            lambda: services.update_decision(db.session, decision, form.values(),
                                             expected_version=form.loaded_version(), by=current_user, now=utcnow()),
            message=_("Decision saved."),
            to=url_for("editing.edit_defendant", defendant_id=defendant.id),
        )
        if done:
            return done
        if report:
            decision = _get(Decision, decision_id)
            defendant = decision.defendant
    return _quick_action_page("editing/decision.html", form, _status(form), report, defendant=defendant,
                              decision=decision)


# --- hearings --------------------------------------------------------------------------------


def _hearing_form(hearing: Hearing | None) -> HearingForm:
    if request.method != "POST" and hearing is not None:
        form = HearingForm(obj=hearing)
        form.kind.data = hearing.kind.value
        form.starts_at.data = hearing.local_start.replace(tzinfo=None)
        form.defendants.data = [d.id for d in hearing.defendants]
        form.case.data = hearing.case_id or 0
        form.court.data = hearing.court_id
        form.version.data = str(hearing.version)
    else:
        form = HearingForm()
        if request.method != "POST":
            defendant_id = query_id("defendant")
            form.defendants.data = [defendant_id] if defendant_id else []
            form.case.data = query_id("case") or 0
    defendants = _editable_defendants()
    if hearing is not None:  # public co-defendants outside the editor's cases stay visible and kept
        defendants += [d for d in hearing.defendants if d not in defendants and can_see(current_user, d)]
    form.defendants.choices = [SelectChoice(d.id, d.name_latin) for d in defendants]
    form.case.choices = [SelectChoice(0, _("(no case)"))] + [SelectChoice(c.id, c.title) for c in _limited_cases()]
    form.court.choices = [SelectChoice(0, _("(choose)"))] + [
        SelectChoice(c.id, c.name) for c in db.session.scalars(sa.select(Court).order_by(Court.name))
    ]
    return form


def _hearing_data(form: HearingForm) -> services.HearingData:
    now = utcnow()
    if form.court.data:
        court = _get(Court, form.court.data)
    else:
        court = services.get_or_create_court(
            db.session, form.new_court_name.data, address=form.new_court_address.data or "",
            tz=form.new_court_timezone.data or "Europe/Moscow", by=current_user, now=now,
        )
    chosen = set(form.defendants.data)
    defendants = list(db.session.scalars(sa.select(Defendant).where(Defendant.id.in_(chosen)))) if chosen else []
    case = db.session.get(Case, form.case.data) if form.case.data else None
    return services.HearingData(court=court, starts_at=services.court_time(form.starts_at.data, court),
                                defendants=defendants, case=case, values=form.values())


def _check_hearing_access(data: services.HearingData, hearing: Hearing | None) -> None:
    before = {d.id for d in hearing.defendants} if hearing else set()
    for person in data.defendants:
        if person.id not in before:
            require_edit(person)
    if data.case is not None and (hearing is None or data.case.id != hearing.case_id):
        require_edit(data.case)


@bp.route("/hearings/new", methods=["GET", "POST"])
@editor_required
def new_hearing():
    form = _hearing_form(None)

    def create() -> Hearing:
        data = _hearing_data(form)
        _check_hearing_access(data, None)
        return services.create_hearing(db.session, data, by=current_user, now=utcnow())

    if form.validate_on_submit():
        done, _report = _save(
            form, create, message=_("Hearing created."),
            to=lambda hearing: url_for("editing.edit_hearing", hearing_id=hearing.id),
        )
        if done:
            return done
    return render_template("editing/hearing_new.html", form=form), _status(form)


def _hearing_page(hearing: Hearing, form: HearingForm, status: int, report=None):  # noqa: ANN001
    version = str(hearing.version)
    return render_template(
        "editing/hearing.html", hearing=hearing, form=form, conflict=report,
        postpone_form=PostponeForm(formdata=None, version=version, prefix=PREFIX[PostponeForm]),
        held_form=MarkHeldForm(formdata=None, version=version, prefix=PREFIX[MarkHeldForm]),
        cancel_form=CancelForm(formdata=None, version=version, prefix=PREFIX[CancelForm]),
        history=history.describe(db.session, audit.history(db.session, "hearing", hearing.id)), now=utcnow(),
    ), status


@bp.route("/hearings/<int:hearing_id>", methods=["GET", "POST"])
@editor_required
def edit_hearing(hearing_id: int):
    hearing = _get(Hearing, hearing_id)
    require_edit(hearing)
    form = _hearing_form(hearing)

    def update() -> None:
        data = _hearing_data(form)
        # hidden co-defendants the editor may not see were not offered on the form: kept as they are
        data.defendants += [d for d in hearing.defendants if not can_see(current_user, d)]
        _check_hearing_access(data, hearing)
        services.update_hearing(db.session, hearing, data, expected_version=form.loaded_version(),
                                by=current_user, now=utcnow())

    report = None
    if form.validate_on_submit():
        done, report = _save(form, update, message=_("Hearing saved."),
                             to=url_for("editing.edit_hearing", hearing_id=hearing.id))
        if done:
            return done
        if report:
            hearing = _get(Hearing, hearing_id)
    return _hearing_page(hearing, form, 409 if report else _status(form), report)


def _hearing_action(hearing_id: int, form_class: type, template: str, act):  # noqa: ANN001, ANN202
    """The shared shape of postpone / mark held / cancel: one form, one service call."""
    hearing = _get(Hearing, hearing_id)
    require_edit(hearing)
    form = form_class(prefix=PREFIX[form_class])
    if request.method != "POST":
        form.version.data = str(hearing.version)
    report = None
    if form.validate_on_submit():
        # `act` says what it did (the message) while the hearing is still in memory, before the commit.
        done, report = _save(form, lambda: act(hearing, form), message=lambda said: said,
                             to=url_for("editing.edit_hearing", hearing_id=hearing.id))
        if done:
            return done
        if report:
            hearing = _get(Hearing, hearing_id)
    return _quick_action_page(template, form, _status(form), report, hearing=hearing)


@bp.route("/hearings/<int:hearing_id>/postpone", methods=["GET", "POST"])
@editor_required
def postpone_hearing(hearing_id: int):
    def act(hearing: Hearing, form: PostponeForm) -> str:
        to = services.court_time(form.to.data, hearing.court) if form.to.data else None
        services.postpone_hearing(db.session, hearing, to, reason=form.reason.data or "",
                                  expected_version=form.loaded_version(), by=current_user, now=utcnow())
        if hearing.status is HearingStatus.POSTPONED:
            return _("Hearing postponed; no new date yet.")
        return _("Hearing moved to %(when)s.", when=history.moment_text(hearing.starts_at, hearing.court.tz))

    return _hearing_action(hearing_id, PostponeForm, "editing/postpone.html", act)


@bp.route("/hearings/<int:hearing_id>/held", methods=["GET", "POST"])
@editor_required
def mark_held(hearing_id: int):
    def act(hearing: Hearing, form: MarkHeldForm) -> str:
        services.mark_held(db.session, hearing, form.outcome_note.data or "",
                           expected_version=form.loaded_version(), by=current_user, now=utcnow())
        return _("Hearing marked as held.")

    return _hearing_action(hearing_id, MarkHeldForm, "editing/mark_held.html", act)


@bp.route("/hearings/<int:hearing_id>/cancel", methods=["GET", "POST"])
@editor_required
def cancel_hearing(hearing_id: int):
    def act(hearing: Hearing, form: CancelForm) -> str:
        services.cancel_hearing(db.session, hearing, form.reason.data, expected_version=form.loaded_version(),
                                by=current_user, now=utcnow())
        return _("Hearing cancelled.")

    return _hearing_action(hearing_id, CancelForm, "editing/cancel.html", act)


def can_edit_current(thing) -> bool:  # noqa: ANN001
    """For templates (also inside imported macros, which see only globals)."""
    return can_edit(current_user, thing)


def visible_to_current(defendants: list[Defendant]) -> list[Defendant]:
    """For templates: the defendants of a joint hearing the current user may see by name."""
    return [d for d in defendants if can_see(current_user, d)]


# --- courts ----------------------------------------------------------------------------------


def current_user_edits_every_case() -> bool:
    """For templates: a court is shared by the hearings of every case, so are new cases."""
    return edits_every_case(current_user)


def _require_court_editor() -> None:
    if not edits_every_case(current_user):
        abort(403, description=_("Courts are shared by every case: an admin or an editor of all cases can "
                                 "change them."))


@bp.get("/courts")
@editor_required
def courts():
    _require_court_editor()
    rows = db.session.execute(
        sa.select(Court, sa.func.count(Hearing.id)).outerjoin(Hearing).group_by(Court.id).order_by(Court.name)
    ).all()
    return render_template("editing/courts.html", courts=rows)


@bp.route("/courts/<int:court_id>", methods=["GET", "POST"])
@editor_required
def edit_court(court_id: int):
    _require_court_editor()
    court = _get(Court, court_id)
    form = CourtForm(obj=court if request.method != "POST" else None)
    if form.validate_on_submit():
        done, _report = _save(
            form,
            lambda: services.update_court(db.session, court, form.values(), by=current_user, now=utcnow()),
            message=_("Court saved; its hearings follow."),
            to=url_for("editing.edit_court", court_id=court_id),
        )
        if done:
            return done
        court = _get(Court, court_id)
    changes = history.describe(db.session, audit.history(db.session, "court", court_id))
    return render_template("editing/court.html", form=form, court=court, history=changes), _status(form)
