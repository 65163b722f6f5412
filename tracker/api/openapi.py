"""The OpenAPI 3.1 description of /api/v1/, served at /api/v1/openapi.json.

Written by hand as Python data, beside the serialisers it describes; it stays true
because the tests hold the two together: every object schema forbids properties it
does not list, every answer the tests receive is validated against it, Schemathesis
fuzzes the running app with it, and openapi-spec-validator checks the document.
Enum values come from the model enums themselves.
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from tracker.actions.models import PUBLIC_STATUSES
from tracker.api.params import MAX_ID, MAX_VALUE_LENGTH
from tracker.records.enums import (
    DefendantStatus, HearingKind, HearingStatus, Instance, LettersStatus, MeasureKind, Outcome,
)

ENUMS = {
    "DefendantStatus": DefendantStatus,
    "MeasureKind": MeasureKind,
    "HearingKind": HearingKind,
    "HearingStatus": HearingStatus,
    "Outcome": Outcome,
    "Instance": Instance,
    "LettersStatus": LettersStatus,
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    """An object with exactly these properties, all present (a missing value is null)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": list(properties),
                              "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


STRING = {"type": "string"}
TEXT = {"type": "string", "description": "May be empty."}
ID = {"type": "integer", "minimum": 1}
URL = {"type": "string", "format": "uri"}
DATE = {"type": "string", "format": "date"}
NULL_DATE = {"type": ["string", "null"], "format": "date"}
COUNT = {"type": "integer", "minimum": 0}
LOCAL_TIME = {
    "type": "string", "format": "date-time",
    "description": "ISO 8601 with the UTC offset of the court's zone, e.g. 2026-12-02T11:00:00+03:00.",
}
ZONE = {"type": "string", "description": "IANA time zone of the court, e.g. Europe/Moscow."}


NAME_LATIN = {"type": "string", "description": "In latin letters."}
ORIGINAL = {"type": "string", "description": "As written originally (Cyrillic for Russia); empty when not known. "
            "Beside the field of the same name in latin letters."}


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for name, cls in ENUMS.items():
        schemas[name] = obj(
            {"value": {"type": "string", "enum": [m.value for m in cls], "description": "Stable; use this in code."},
             "label": {"type": "string", "description": "For people, in the language of Accept-Language."}},
            f"One of the {name} values with a human label.",
        )
    schemas["Source"] = nullable(obj(
        {"url": {"type": ["string", "null"]}, "checked_on": NULL_DATE},
        "Where the fact was published and when someone last checked it.",
    ))
    schemas["Error"] = obj({"error": obj({"status": {"type": "integer"}, "message": STRING})})
    schemas["Court"] = obj({"id": ID, "name": NAME_LATIN, "name_original": ORIGINAL, "address": TEXT,
                            "address_original": ORIGINAL, "timezone": ZONE, "url": URL})
    schemas["CaseRef"] = obj({"id": ID, "slug": STRING, "title": NAME_LATIN, "title_original": ORIGINAL, "url": URL})
    defendant_ref = {"id": ID, "slug": STRING, "name_latin": STRING, "name_original": STRING, "url": URL}
    schemas["DefendantRef"] = obj(defendant_ref, "A public defendant named from elsewhere.")
    schemas["HearingRef"] = obj({
        "id": ID, "starts_at": LOCAL_TIME, "timezone": ZONE,
        "court": obj({"id": ID, "name": NAME_LATIN, "name_original": ORIGINAL}), "url": URL,
    })
    schemas["Hearing"] = obj({
        "id": ID, "starts_at": LOCAL_TIME, "ends_at": LOCAL_TIME, "timezone": ZONE,
        "duration_minutes": {"type": "integer", "minimum": 1},
        "kind": ref("HearingKind"), "status": ref("HearingStatus"),
        "is_open": {"type": "boolean", "description": "False: closed to the public."},
        "court": ref("Court"), "courtroom": TEXT, "judge": TEXT, "video_link_note": TEXT, "outcome_note": TEXT,
        "case": nullable(ref("CaseRef")),
        "defendants": {"type": "array", "items": ref("DefendantRef"),
                       "description": "The public defendants concerned (hidden ones are never listed)."},
        "source": ref("Source"),
        "version": {"type": "integer", "minimum": 1, "description": "Goes up on every change of the hearing."},
        "url": URL,
    }, "A court hearing with at least one public defendant.")
    schemas["CustodyMeasure"] = obj({
        "id": ID, "kind": ref("MeasureKind"), "starts_on": DATE, "until": NULL_DATE, "next_review_on": NULL_DATE,
        "ordered_by": TEXT,
        "extends_id": {"type": ["integer", "null"], "description": "The measure this one extends (the chain)."},
        "note": TEXT, "source": ref("Source"),
    })
    schemas["Decision"] = obj({
        "id": ID, "decided_on": DATE, "court": TEXT, "instance": ref("Instance"), "outcome": ref("Outcome"),
        "term": obj({"years": COUNT, "months": COUNT, "days": COUNT, "label": TEXT}),
        "regime": TEXT, "credited_days": COUNT, "expected_release": NULL_DATE,
        "under_appeal": {"type": "boolean"}, "note": TEXT, "source": ref("Source"),
    })
    schemas["Placement"] = obj({
        "id": ID, "facility": STRING, "facility_original": ORIGINAL, "since": DATE,
        "in_transit": {"type": "boolean", "description": "True: taken from the last place, destination not yet "
                       "known (the facility is empty). The latest placement says where the person is now."},
        "note": TEXT, "source": ref("Source"),
    }, "Where the defendant is held from a date on; each transfer is a new one.")
    schemas["Defendant"] = obj({
        **defendant_ref,
        "status": ref("DefendantStatus"),
        "birth_date": NULL_DATE, "arrested_on": NULL_DATE, "bio": TEXT,
        "charges": {"type": "array", "items": STRING, "description": "One article per item."},
        "cases": {"type": "array", "items": ref("CaseRef")},
        "custody": nullable(obj({
            "measure": ref("MeasureKind"), "since": DATE, "extensions": COUNT, "until": NULL_DATE,
            "next_review_on": NULL_DATE, "measure_id": ID,
        }, "The measure in force: since when (its kind), extended how often, until when.")),
        "custody_measures": {"type": "array", "items": ref("CustodyMeasure"), "description": "Oldest first."},
        "sentence_in_force_id": {"type": ["integer", "null"], "description": "The latest decision's id."},
        "expected_release": NULL_DATE,
        "decisions": {"type": "array", "items": ref("Decision"), "description": "Oldest first."},
        "placement": nullable(ref("Placement")),
        "placements": {"type": "array", "items": ref("Placement"), "description": "Oldest first."},
        "letters": obj({"address": {"type": ["string", "null"], "description": "In latin letters."},
                        "address_original": {"type": ["string", "null"], "description": ORIGINAL["description"]},
                        "status": ref("LettersStatus")}),
        "next_hearing": nullable(ref("HearingRef")),
        "hearings_url": URL, "page_url": URL,
    }, "A public defendant with their custody chain, decisions and placements.")
    schemas["Case"] = obj({
        "id": ID, "slug": STRING, "title": NAME_LATIN, "title_original": ORIGINAL, "url": URL,
        "case_number": {"type": ["string", "null"]}, "description": TEXT, "charges": TEXT,
        "defendants": {"type": "array", "items": obj({**defendant_ref, "status": ref("DefendantStatus")})},
        "hearings_url": URL, "page_url": URL,
    })
    schemas["ActionStatus"] = obj(
        {"value": {"type": "string", "enum": [m.value for m in PUBLIC_STATUSES],
                   "description": "approved, or cancelled: called off after it was announced."},
         "label": {"type": "string", "description": "For people, in the language of Accept-Language."}},
        "Whether a public action takes place.",
    )
    action_time = {**LOCAL_TIME, "description": "ISO 8601 with the UTC offset of the place's zone."}
    schemas["Action"] = obj({
        "id": ID, "title": STRING, "description": TEXT, "organiser": TEXT, "status": ref("ActionStatus"),
        "city": STRING,
        "country": obj({"code": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2."},
                        "name": {"type": "string", "description": "In the language of Accept-Language."}}),
        "address": TEXT, "timezone": {"type": "string", "description": "IANA time zone of the place."},
        "starts_at": action_time, "ends_at": action_time,
        "case": nullable(ref("CaseRef")),
        "defendants": {"type": "array", "items": ref("DefendantRef"),
                       "description": "The public defendants it is for (hidden ones are never listed)."},
        "version": {"type": "integer", "minimum": 1, "description": "Goes up on every change of the action."},
        "page_url": URL,
    }, "A solidarity action an editor approved. The organiser's contact is never published.")
    for name in ("Case", "Defendant", "Hearing", "Court", "Action"):
        schemas[f"{name}List"] = obj({
            "items": {"type": "array", "items": ref(name)},
            "next": {"type": ["string", "null"], "format": "uri",
                     "description": "The next page, or null on the last one (also in the Link header)."},
        })
    schemas["Index"] = obj({name: URL for name in
                            ("openapi", "cases", "defendants", "hearings", "courts", "actions", "defendants_csv")}
                           | {"version": {"const": "v1"}})
    return schemas


def _answer(schema: str, description: str, listing: bool = False) -> dict[str, Any]:
    headers = {
        "ETag": {"description": "Strong validator of this body; send it back in If-None-Match.",
                 "schema": STRING},
        "Cache-Control": {"description": "public, max-age=N", "schema": STRING},
    }
    if listing:
        headers["Link"] = {"description": '<next page>; rel="next", when there is one.', "schema": STRING}
    return {"description": description, "headers": headers,
            "content": {"application/json": {"schema": ref(schema)}}}


ERRORS = {
    "304": {"description": "Not modified: the ETag in If-None-Match is still current."},
    "400": {"description": "A parameter cannot be honoured; the message says why.",
            "content": {"application/json": {"schema": ref("Error")}}},
    "404": {"description": "No such (public) record.", "content": {"application/json": {"schema": ref("Error")}}},
}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string", "maxLength": MAX_VALUE_LENGTH}}


def _paging() -> list[dict[str, Any]]:
    config = current_app.config
    return [
        _query("limit", f"Items per page (default {config['API_PAGE_SIZE']}).",
               {"type": "integer", "minimum": 1, "maximum": config["API_MAX_PAGE_SIZE"]}),
        _query("cursor", "The opaque cursor from the previous page's `next` link."),
    ]


def _list(name: str, summary: str, filters: list[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"get": {"operationId": f"list{name}s", "summary": summary, "parameters": [*filters, *_paging()],
                    "responses": {"200": _answer(f"{name}List", f"A page of {name.lower()}s.", listing=True),
                                  **ERRORS}}}


def _one(name: str, summary: str, parameter: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"operationId": f"get{name}", "summary": summary,
                    "parameters": [{**parameter, "in": "path", "required": True}],
                    "responses": {"200": _answer(name, f"The {name.lower()}."), **ERRORS}}}


SLUG = {"name": "slug", "schema": {"type": "string"}, "description": "The slug, as in the public page's address."}


def _record_id(name: str) -> dict[str, Any]:
    return {"name": name, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def document() -> dict[str, Any]:
    statuses = [m.value for m in HearingStatus]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Political prisoners support tracker: public records",
            "version": "1.0.0",
            "description": (
                "Read-only, public data only: the defendants, cases, hearings, courts and solidarity actions the "
                "public pages show. No authentication. Lists are paginated by cursor (follow `next`). Answers carry a "
                "strong ETag (send If-None-Match to get 304) and Cache-Control, and may be read from any "
                "origin (CORS). Labels follow Accept-Language (en, ru). Times are in the court's zone."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/": {"get": {"operationId": "index", "summary": "Where everything is.",
                          "responses": {"200": _answer("Index", "Links to the listings."), **ERRORS}}},
            "/cases": _list("Case", "All cases, oldest first."),
            "/cases/{slug}": _one("Case", "One case with its public defendants.", SLUG),
            "/defendants": _list("Defendant", "Public defendants by Latin name.", [
                _query("case", "Only the defendants of the case with this slug."),
                _query("status", "Only defendants with this status.",
                       {"type": "string", "enum": [m.value for m in DefendantStatus]}),
            ]),
            "/defendants/{slug}": _one("Defendant", "One public defendant.", SLUG),
            "/hearings": _list("Hearing", "Public hearings in start order.", [
                _query("from", "Hearings starting at or after this date (midnight in the site's zone) or "
                               "date-time (with an offset; without one, in the site's zone).",
                       {"anyOf": [DATE, {"type": "string", "format": "date-time"}]}),
                _query("to", "Hearings starting before this date-time, or up to the end of this date.",
                       {"anyOf": [DATE, {"type": "string", "format": "date-time"}]}),
                _query("case", "Only the hearings of the case with this slug."),
                _query("defendant", "Only the hearings of the public defendant with this slug."),
                _query("court", "Only the hearings at the court with this id.", _record_id("court")["schema"]),
                _query("status", "Only hearings with this status.", {"type": "string", "enum": statuses}),
            ]),
            "/hearings/{hearing_id}": _one("Hearing", "One public hearing.", _record_id("hearing_id")),
            "/courts": _list("Court", "All courts."),
            "/courts/{court_id}": _one("Court", "One court.", _record_id("court_id")),
            "/actions": _list("Action", "Approved solidarity actions that have not ended, in start order.", [
                _query("case", "Only the actions of the case with this slug (linked to it or to its public "
                               "defendants)."),
                _query("defendant", "Only the actions for the public defendant with this slug."),
            ]),
        },
        "components": {"schemas": _schemas()},
    }
