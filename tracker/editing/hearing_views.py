"""Editors' pages for a hearing: adding and editing one, and the quick actions (postpone,
mark held, cancel). Thin, like views.py.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from tracker.access import can_see, editor_required, require_edit
from tracker.edge import query_id
from tracker.editing import audit, history, queries, services
from tracker.editing.forms import CancelForm, HearingForm, MarkHeldForm, PostponeForm, VersionedForm
from tracker.editing.pages import PREFIX, bp, create, get_or_404, render_page, submit
from tracker.extensions import db, utcnow
from tracker.records.enums import HearingStatus
from tracker.records.models import Case, Court, Hearing
from tracker.records.names import in_script, reader_reads_original
from tracker import formats
from tracker.forms import offer_offsets
from tracker.records import wallclock


def _hearing_form(hearing: Hearing | None) -> HearingForm:
    if request.method != "POST" and hearing is not None:
        form = HearingForm(obj=hearing)
        form.kind.data = hearing.kind.value
        form.starts_at.data = hearing.local_start.replace(tzinfo=None)
        offer_offsets(form.starts_at_offset, form.starts_at.data, hearing.court.tz)  # the second 02:30 stays so
        form.starts_at_offset.data = wallclock.format_offset(hearing.local_start.utcoffset())
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
    defendants = queries.editable_defendants(db.session, current_user)
    if hearing is not None:  # public co-defendants outside the editor's cases stay visible and kept
        defendants += [d for d in hearing.defendants if d not in defendants and can_see(current_user, d)]
    reads_original = reader_reads_original()  # once for the list, not once a name
    form.defendants.choices = [SelectChoice(d.id, in_script(d.name_latin, d.name_original, reads_original).first)
                               for d in defendants]
    form.case.choices = [SelectChoice(0, _("(no case)"))] + [
        SelectChoice(c.id, in_script(c.title, c.title_original, reads_original).first)
        for c in queries.editable_cases(db.session, current_user)
    ]
    form.court.choices = [SelectChoice(0, _("(choose)"))] + [
        SelectChoice(c.id, in_script(c.name, c.name_original, reads_original).first)
        for c in queries.courts_by_name(db.session)
    ]
    return form


def _hearing_data(form: HearingForm) -> services.HearingData:
    if form.court.data:
        court = get_or_404(Court, form.court.data)
    else:
        court = services.get_or_create_court(
            db.session, form.new_court_name.data, address=form.new_court_address.data or "",
            name_original=form.new_court_name_original.data or "",
            address_original=form.new_court_address_original.data or "",
            tz=form.new_court_timezone.data or "Europe/Moscow", by=current_user, now=utcnow(),
        )
    defendants = queries.defendants_by_id(db.session, set(form.defendants.data))
    case = db.session.get(Case, form.case.data) if form.case.data else None
    offer_offsets(form.starts_at_offset, form.starts_at.data, court.tz)  # shown again if the time repeats
    starts_at = services.court_time(form.starts_at.data, court, choice=form.starts_at_offset.data)
    return services.HearingData(court=court, starts_at=starts_at,
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

    def add() -> Hearing:
        data = _hearing_data(form)
        _check_hearing_access(data, None)
        return services.create_hearing(db.session, data, by=current_user, now=utcnow())

    return create(form, add, message=_("Hearing created."),
                  to=lambda hearing: url_for("editing.edit_hearing", hearing_id=hearing.id),
                  template="editing/hearing_new.html")


@bp.route("/hearings/<int:hearing_id>", methods=["GET", "POST"])
@editor_required
def edit_hearing(hearing_id: int):
    hearing = get_or_404(Hearing, hearing_id)
    require_edit(hearing)
    form = _hearing_form(hearing)

    def update(hearing: Hearing) -> None:
        data = _hearing_data(form)
        # hidden co-defendants the editor may not see were not offered on the form: kept as they are
        data.defendants += [d for d in hearing.defendants if not can_see(current_user, d)]
        _check_hearing_access(data, hearing)
        services.update_hearing(db.session, hearing, data, expected_version=form.loaded_version(),
                                by=current_user, now=utcnow())

    done, hearing, report = submit(form, hearing, lambda: get_or_404(Hearing, hearing_id), update,
                                   message=_("Hearing saved."),
                                   to=url_for("editing.edit_hearing", hearing_id=hearing.id))
    if done:
        return done
    version = str(hearing.version)
    return render_page(
        "editing/hearing.html", form, report, hearing=hearing,
        postpone_form=PostponeForm(formdata=None, version=version, prefix=PREFIX[PostponeForm]),
        held_form=MarkHeldForm(formdata=None, version=version, prefix=PREFIX[MarkHeldForm]),
        cancel_form=CancelForm(formdata=None, version=version, prefix=PREFIX[CancelForm]),
        history=history.describe(db.session, audit.history(db.session, "hearing", hearing.id)), now=utcnow(),
    )


# --- quick actions -----------------------------------------------------------------------------


def _hearing_action(
    hearing_id: int, form_class: type[VersionedForm], template: str,
    act: Callable[[Hearing, VersionedForm], str],
) -> Response | tuple[str, int]:
    """The shared shape of postpone / mark held / cancel: one form, one service call."""
    hearing = get_or_404(Hearing, hearing_id)
    require_edit(hearing)
    form = form_class(prefix=PREFIX[form_class])
    if request.method != "POST":
        form.version.data = str(hearing.version)
    # `act` says what it did (the message) while the hearing is still in memory, before the commit.
    done, hearing, report = submit(form, hearing, lambda: get_or_404(Hearing, hearing_id),
                                   lambda hearing: act(hearing, form), message=lambda said: said,
                                   to=url_for("editing.edit_hearing", hearing_id=hearing.id))
    return done or render_page(template, form, report, hearing=hearing)


@bp.route("/hearings/<int:hearing_id>/postpone", methods=["GET", "POST"])
@editor_required
def postpone_hearing(hearing_id: int):
    def act(hearing: Hearing, form: PostponeForm) -> str:
        offer_offsets(form.to_offset, form.to.data, hearing.court.tz)
        to = services.court_time(form.to.data, hearing.court, field="to", choice=form.to_offset.data) \
            if form.to.data else None
        services.postpone_hearing(db.session, hearing, to, reason=form.reason.data or "",
                                  expected_version=form.loaded_version(), by=current_user, now=utcnow())
        if hearing.status is HearingStatus.POSTPONED:
            return _("Hearing postponed; no new date yet.")
        return _("Hearing moved to %(when)s.", when=formats.hearing_moment(hearing))

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
