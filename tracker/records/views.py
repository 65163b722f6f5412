"""Public, read-only pages. Thin: parse the request, call `records.queries`, render."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _

from tracker.access import public
from tracker.caching import cacheable_page
from tracker.extensions import db, utcnow
from tracker.records import queries
from tracker.records.custody import sentence_in_force
from tracker.records.custody_rows import person_detail
from tracker.records.display import display
from tracker.records.lines import dates_html, group_by_local_day, prepare, prepare_next
from tracker.records.staleness import site_today
from tracker.records.status_text import case_items, home_items, prepare_rows
from tracker.records.transit import transit_of
from tracker.records.timeline import timeline, timeline_html
from tracker.records.enums import DefendantStatus

bp = Blueprint("records", __name__)

PAST_HEARINGS_SHOWN = 30  # the case page lists the most recent ones; each defendant page has them all


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    try:
        return int(raw)
    except ValueError:
        abort(400, description=_("'page' must be a whole number."))


@bp.get("/")
@public
@cacheable_page()
def index():
    now = utcnow()
    args = request.args
    try:
        listing = queries.list_defendants(
            db.session,
            now=now,
            case_slug=args.get("case") or None,
            status=args.get("status") or None,
            q=args.get("q") or None,
            page=_page_arg(),
            per_page=current_app.config["DEFENDANTS_PER_PAGE"],
        )
    except queries.BadQuery as error:
        abort(400, description=str(error))
    cases = queries.case_choices(db.session)
    show = display()
    prepare_next(prepare_rows(listing.rows, site_today(now), show), show)
    return render_template(
        "records/index.html",
        listing=listing,
        items=home_items(listing.rows, show),
        cases=cases,
        statuses=list(DefendantStatus),
        args=args,
        today=site_today(now),
        feed_scope=("all", None),
    )


@bp.get("/defendants/<slug>")
@public
@cacheable_page()
def defendant(slug: str):
    person = queries.get_public_defendant(db.session, slug)
    if person is None:
        abort(404)
    custody = person_detail(db.session, person)  # the rules read rows, as on the lists
    hearings = queries.defendant_hearings(db.session, person)
    now = utcnow()
    [row] = queries.defendant_rows(db.session, [custody], now)
    show = display()
    prepare_rows([row], site_today(now), show)
    return render_template(
        "records/defendant.html",
        defendant=person,
        cases=queries.defendant_cases(db.session, person),
        row=row,
        today=site_today(now),
        transit=transit_of(custody),
        sentence=sentence_in_force(custody),
        timeline=timeline_html(timeline(custody, hearings), show),
        upcoming=prepare([h for h in hearings if h.ends_at >= now and h.is_active], show),
        feed_scope=("defendant", person),
        show=show,
    )


@bp.get("/cases/<slug>")
@public
@cacheable_page()
def case(slug: str):
    found = queries.get_case(db.session, slug)
    if found is None:
        abort(404)
    now = utcnow()
    hearings = queries.case_hearings(db.session, found)
    upcoming = [h for h in hearings if h.ends_at >= now]
    past = [h for h in reversed(hearings) if h.ends_at < now][:PAST_HEARINGS_SHOWN]
    show = display()
    return render_template(
        "records/case.html",
        case=found,
        defendants=case_items(prepare_rows(
            queries.defendant_rows(db.session, queries.case_defendants(db.session, found), now), site_today(now), show)),
        today=site_today(now),
        upcoming=prepare(upcoming, show),
        past=prepare(past, show),
        feed_scope=("case", found),
        show=show,
    )


@bp.get("/hearings")
@public
@cacheable_page()
def hearings():
    days = current_app.config["UPCOMING_DAYS"]
    limit = current_app.config["UPCOMING_LIMIT"]
    case_slug = request.args.get("case") or None
    try:
        found = queries.upcoming_hearings(db.session, utcnow(), days, case_slug=case_slug, limit=limit)
    except queries.BadQuery as error:
        abort(400, description=str(error))
    cases = queries.case_choices(db.session)
    show = display()
    return render_template(
        "records/hearings.html", days=days, groups=group_by_local_day(prepare(found, show)), cases=cases,
        case_slug=case_slug, truncated=len(found) >= limit, limit=limit, feed_scope=("all", None), show=show,
    )


@bp.get("/dates")
@public
@cacheable_page(clock="day")
def dates():
    today = utcnow().date()
    birthdays, releases = queries.upcoming_dates(db.session, today)
    show = display()
    return render_template("records/dates.html", birthdays=dates_html(birthdays, show, with_age=True),
                           releases=dates_html(releases, show), today=today)
