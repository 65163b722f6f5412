"""/api/v1/: the public records as JSON, read-only. Thin: read parameters, query, serialise.

Every answer is JSON (errors too, and unknown paths under /api/v1/), carries an ETag
and Cache-Control, and may be read from any origin. Views never touch the session,
so no answer sets a cookie or varies on one.
"""
from __future__ import annotations

from typing import Any, Callable
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

from tracker.api import cursor, openapi, queries, serialise
from tracker.api.http import allow_cross_origin, json_answer, json_error
from tracker.api.params import (
    MAX_ID,
    BadParameter,
    has_control_characters,
    parse_enum,
    parse_id,
    parse_instant,
    parse_limit,
    read_args,
)
from tracker.access import public
from tracker.extensions import db, utcnow
from tracker.records.enums import DefendantStatus, HearingStatus

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PAGING = {"limit", "cursor"}
SLUG_MAX = 120


@bp.after_request
def _cross_origin(response):  # noqa: ANN001, ANN202
    return allow_cross_origin(response)


@bp.errorhandler(BadParameter)
def _bad_parameter(error: BadParameter):  # noqa: ANN202
    return json_error(400, str(error))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):  # noqa: ANN202
    if error.description != type(error).description:  # a reason given with abort()
        return json_error(error.code or 500, error.description)
    if error.code == 404:
        return json_error(404, _("There is no such record or address in this API."))
    return json_error(error.code or 500, error.name)


@bp.errorhandler(InternalServerError)
def _server_error(error: InternalServerError):  # noqa: ANN202
    db.session.rollback()
    current_app.logger.exception("unhandled error on %s", request.path)
    return json_error(500, _("Something went wrong on our side."))


def _limit(args: dict[str, str]) -> int:
    config = current_app.config
    return parse_limit(args.get("limit"), config["API_PAGE_SIZE"], config["API_MAX_PAGE_SIZE"])


def _after(listing: str, args: dict[str, str]) -> tuple | None:
    raw = args.get("cursor")
    return cursor.decode(listing, raw) if raw is not None else None


def _slug(raw: str) -> str:
    """A path slug that cannot name a record answers 404 before it reaches SQL."""
    if len(raw) > SLUG_MAX or has_control_characters(raw):
        abort(404)
    return raw


def _record_id(value: int) -> int:
    """An id past the INTEGER range names nothing (and PostgreSQL would refuse to compare it)."""
    if value > MAX_ID:
        abort(404)
    return value


def _record(found: Any, serialise_item: Callable[[Any], dict]):  # noqa: ANN202
    """One record as JSON, or the API's 404 when there is no such (public) record."""
    if found is None:
        abort(404)
    return json_answer(serialise_item(found))


def _listing(listing: str, page: queries.Page, serialise_item: Callable[[Any], dict], args: dict[str, str]):  # noqa: ANN202
    """A page of items, with a `next` link in the body and in a Link header."""
    body: dict[str, Any] = {"items": [serialise_item(item) for item in page.items], "next": None}
    headers = {}
    if page.next_key is not None:
        kept = {name: value for name, value in args.items() if name != "cursor"}
        body["next"] = serialise.api_url(request.endpoint, **kept, cursor=cursor.encode(listing, page.next_key))
        headers["Link"] = f'<{body["next"]}>; rel="next"'
    return json_answer(body, headers)


@bp.get("/")
@public
def index():
    read_args(request.args, set())
    url = serialise.api_url
    return json_answer({
        "version": "v1",
        "openapi": url("api.openapi_document"),
        "cases": url("api.cases"),
        "defendants": url("api.defendants"),
        "hearings": url("api.hearings"),
        "courts": url("api.courts"),
        "actions": url("api.actions"),
        "defendants_csv": url("export.defendants_csv"),
    })


@bp.get("/openapi.json")
@public
def openapi_document():
    read_args(request.args, set())
    return json_answer(openapi.document())


@bp.get("/cases")
@public
def cases():
    args = read_args(request.args, PAGING)
    page = queries.list_cases(db.session, limit=_limit(args), after=_after("cases", args))
    return _listing("cases", page, serialise.case, args)


@bp.get("/cases/<slug>")
@public
def case(slug: str):
    read_args(request.args, set())
    return _record(queries.get_case(db.session, _slug(slug)), serialise.case)


@bp.get("/defendants")
@public
def defendants():
    args = read_args(request.args, PAGING | {"case", "status"})
    case_id = queries.case_id_for(db.session, args["case"]) if "case" in args else None
    status = parse_enum("status", args["status"], DefendantStatus) if "status" in args else None
    page = queries.list_defendants(db.session, now=utcnow(), limit=_limit(args), after=_after("defendants", args),
                                   case_id=case_id, status=status)
    return _listing("defendants", page, serialise.defendant, args)


@bp.get("/defendants/<slug>")
@public
def defendant(slug: str):
    read_args(request.args, set())
    return _record(queries.get_defendant(db.session, _slug(slug), now=utcnow()), serialise.defendant)


@bp.get("/hearings")
@public
def hearings():
    args = read_args(request.args, PAGING | {"from", "to", "case", "defendant", "court", "status"})
    zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    where = queries.HearingFilter(
        starts_from=parse_instant("from", args["from"], zone, end_of_day=False) if "from" in args else None,
        starts_before=parse_instant("to", args["to"], zone, end_of_day=True) if "to" in args else None,
        status=parse_enum("status", args["status"], HearingStatus) if "status" in args else None,
    )
    if where.starts_from and where.starts_before and where.starts_from >= where.starts_before:
        raise BadParameter(_("'from' must come before 'to'."))
    limit, after = _limit(args), _after("hearings", args)
    if "case" in args:
        where.case_id = queries.case_id_for(db.session, args["case"])
    if "defendant" in args:
        where.defendant_id = queries.defendant_id_for(db.session, args["defendant"])
    if "court" in args:
        where.court_id = queries.court_exists(db.session, parse_id("court", args["court"]))
    page = queries.list_hearings(db.session, where, limit=limit, after=after)
    return _listing("hearings", page, serialise.hearing, args)


@bp.get("/hearings/<int:hearing_id>")
@public
def hearing(hearing_id: int):
    read_args(request.args, set())
    return _record(queries.get_hearing(db.session, _record_id(hearing_id)), serialise.hearing)


@bp.get("/courts")
@public
def courts():
    args = read_args(request.args, PAGING)
    page = queries.list_courts(db.session, limit=_limit(args), after=_after("courts", args))
    return _listing("courts", page, serialise.court, args)


@bp.get("/courts/<int:court_id>")
@public
def court(court_id: int):
    read_args(request.args, set())
    return _record(queries.get_court(db.session, _record_id(court_id)), serialise.court)


@bp.get("/actions")
@public
def actions():
    args = read_args(request.args, PAGING | {"case", "defendant"})
    case_id = queries.case_id_for(db.session, args["case"]) if "case" in args else None
    defendant_id = queries.defendant_id_for(db.session, args["defendant"]) if "defendant" in args else None
    page = queries.list_actions(db.session, utcnow(), case_id=case_id, defendant_id=defendant_id,
                                limit=_limit(args), after=_after("actions", args))
    return _listing("actions", page, serialise.action, args)


@bp.get("/<path:anything>")
@public
def not_found(anything: str):
    """Unknown paths under /api/v1/ answer in JSON like the rest, not with the HTML error page."""
    abort(404)
