"""Editors' pages for a defendant: the record itself, and what is recorded about them
(custody measures and their extensions, transfers, court decisions). Thin, like views.py.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from tracker.access import editor_required, edits_every_case, require_edit
from tracker.edge import query_id
from tracker.editing import audit, history, queries, services
from tracker.editing.forms import DecisionForm, DefendantForm, ExtendForm, MeasureForm, TransferForm, VersionedForm
from tracker.editing.pages import PREFIX, bp, create, get_or_404, load_form, render_page, submit
from tracker.extensions import db, utcnow
from tracker.records.custody import measure_in_force, next_instance, sentence_in_force
from tracker.records.enums import Instance
from tracker.records.models import CustodyMeasure, Decision, Defendant
from tracker.records.names import first_script
from tracker.records.transit import current_placement, transit_of

T = TypeVar("T")


def _defendant_form(defendant: Defendant | None) -> DefendantForm:
    if defendant is not None:
        form = load_form(DefendantForm, defendant, version=defendant.version, enums=("status", "letters_status"))
        if request.method != "POST":
            form.cases.data = [c.id for c in defendant.cases]
    else:
        form = DefendantForm()
        if request.method != "POST":
            case_id = query_id("case")
            form.cases.data = [case_id] if case_id else []
    form.cases.choices = [SelectChoice(c.id, first_script(c.title, c.title_original))
                          for c in queries.editable_cases(db.session, current_user)]
    return form


@bp.route("/defendants/new", methods=["GET", "POST"])
@editor_required
def new_defendant():
    form = _defendant_form(None)

    def add() -> Defendant:
        if not form.cases.data and not edits_every_case(current_user):
            # an editor limited to some cases must attach what they create to one of them
            raise services.DomainError("cases", _("Choose one of your cases."))
        cases = queries.editable_cases_by_id(db.session, current_user, form.cases.data)
        return services.create_defendant(db.session, form.values(), cases=cases, by=current_user, now=utcnow())

    return create(form, add, message=_("Defendant created."),
                  to=lambda person: url_for("editing.edit_defendant", defendant_id=person.id),
                  template="editing/defendant_new.html")


@bp.route("/defendants/<int:defendant_id>", methods=["GET", "POST"])
@editor_required
def edit_defendant(defendant_id: int):
    defendant = get_or_404(Defendant, defendant_id)
    require_edit(defendant)
    form = _defendant_form(defendant)

    def update(defendant: Defendant) -> Defendant:
        cases = queries.editable_cases_by_id(db.session, current_user, form.cases.data)
        # Cases outside an editor's limits stay as they are; they cannot see or untick them.
        hidden = [c for c in defendant.cases if c.id not in {x.value for x in form.cases.choices}]
        return services.update_defendant(db.session, defendant, form.values(), cases=cases + hidden,
                                         expected_version=form.loaded_version(), by=current_user, now=utcnow())

    done, defendant, report = submit(form, defendant, lambda: get_or_404(Defendant, defendant_id), update,
                                     message=_("Saved."),
                                     to=url_for("editing.edit_defendant", defendant_id=defendant.id))
    if done:
        return done
    extend = ExtendForm(formdata=None, version=str(defendant.version), prefix=PREFIX[ExtendForm])
    return render_page(
        "editing/defendant.html", form, report,
        defendant=defendant, extend_form=extend, current_measure=measure_in_force(defendant),
        sentence=sentence_in_force(defendant), next_instance=next_instance(defendant), transit=transit_of(defendant),
        hearings=sorted(defendant.hearings, key=lambda h: h.starts_at, reverse=True),
        history=history.describe(db.session, audit.defendant_history(db.session, defendant.id)),
    )


# --- what is recorded about a defendant ----------------------------------------------------------


def _add_to_defendant(
    defendant_id: int, form: VersionedForm, template: str, act: Callable[[Defendant], T], *,
    message: str | Callable[[T], str], context: Callable[[Defendant], dict],
) -> Response | tuple[str, int]:
    """The shared shape of what an editor adds to a defendant: one form, one service call.

    `context` gives the template what it shows besides the form; it is called again with
    the reloaded defendant after a conflict, so the page shows the newer state.
    """
    defendant = get_or_404(Defendant, defendant_id)
    require_edit(defendant)
    if request.method != "POST":
        form.version.data = str(defendant.version)
    done, defendant, report = submit(form, defendant, lambda: get_or_404(Defendant, defendant_id), act,
                                     message=message, to=url_for("editing.edit_defendant", defendant_id=defendant.id))
    return done or render_page(template, form, report, defendant=defendant, **context(defendant))


def _correct_defendant_record(
    model: type[CustodyMeasure] | type[Decision], record_id: int, form_class: type[VersionedForm], *,
    name: str, enums: tuple[str, ...], message: str,
) -> Response | tuple[str, int]:
    """The shared shape of correcting a measure or a decision already recorded: its
    defendant's version guards it, and the page goes back to the defendant."""
    record = get_or_404(model, record_id)
    require_edit(record.defendant)
    form = load_form(form_class, record, version=record.defendant.version, enums=enums)
    done, record, report = submit(
        form, record, lambda: get_or_404(model, record_id),
        lambda record: services.correct_record(db.session, record, form.values(),
                                               expected_version=form.loaded_version(), by=current_user, now=utcnow()),
        message=message, to=url_for("editing.edit_defendant", defendant_id=record.defendant_id),
    )
    return done or render_page(f"editing/{name}.html", form, report, defendant=record.defendant, **{name: record})


@bp.route("/defendants/<int:defendant_id>/extend", methods=["GET", "POST"])
@editor_required
def extend_custody(defendant_id: int):
    form = ExtendForm(prefix=PREFIX[ExtendForm])
    return _add_to_defendant(
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
    return _add_to_defendant(
        defendant_id, form, "editing/transfer.html",
        lambda defendant: services.record_transfer(
            db.session, defendant, form.values(), letters_address=form.letters_address.data or None,
            letters_address_original=form.letters_address_original.data or None,
            letters_status=form.chosen_letters_status(), expected_version=form.loaded_version(), by=current_user,
            now=utcnow(),
        ),
        message=lambda placement: _("Recorded: in transit, letters marked as not delivered.") if placement.in_transit
        else _("Transfer recorded."),
        context=lambda defendant: {"current_placement": current_placement(defendant),
                                   "transit": transit_of(defendant)},
    )


@bp.route("/defendants/<int:defendant_id>/measures/new", methods=["GET", "POST"])
@editor_required
def new_measure(defendant_id: int):
    form = MeasureForm()
    return _add_to_defendant(
        defendant_id, form, "editing/measure.html",
        lambda defendant: services.add_measure(db.session, defendant, form.values(),
                                               expected_version=form.loaded_version(), by=current_user, now=utcnow()),
        message=_("Measure recorded."),
        context=lambda defendant: {"measure": None},
    )


@bp.route("/measures/<int:measure_id>", methods=["GET", "POST"])
@editor_required
def edit_measure(measure_id: int):
    return _correct_defendant_record(CustodyMeasure, measure_id, MeasureForm, name="measure", enums=("kind",),
                                     message=_("Measure saved."))


@bp.route("/defendants/<int:defendant_id>/verdict", methods=["GET", "POST"])
@editor_required
def record_verdict(defendant_id: int):
    form = DecisionForm()
    if request.method != "POST":  # "Record an appeal decision" opens the form at the next instance
        chosen = request.args.get("instance")
        if chosen in {i.value for i in Instance}:
            form.instance.data = chosen
    return _add_to_defendant(
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
    return _correct_defendant_record(Decision, decision_id, DecisionForm, name="decision",
                                     enums=("instance", "outcome"), message=_("Decision saved."))
