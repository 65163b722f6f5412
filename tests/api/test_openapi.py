"""The OpenAPI description is valid 3.1 and names exactly the routes the app serves."""
from __future__ import annotations

import re

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

import pytest


def test_the_served_document_is_valid_openapi_3_1(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any error


def test_the_validator_would_catch_a_broken_document(openapi_document):
    broken = {**openapi_document, "paths": {"/hearings": {"get": {"responses": {"200": {"content": "?"}}}}}}
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_api_route_is_documented_and_every_documented_path_exists(app, openapi_document):
    prefix = openapi_document["servers"][0]["url"]
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in ("api.not_found", "api.openapi_document"):
            served.add(re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule))
    documented = {prefix + path if path != "/" else prefix + "/" for path in openapi_document["paths"]}
    assert served == documented


def test_every_query_parameter_a_view_accepts_is_documented(client, openapi_document):
    """An undocumented parameter is refused by the view, so the lists must agree: probe each documented one."""
    for path, item in openapi_document["paths"].items():
        if "{" in path:
            continue
        for parameter in item["get"].get("parameters", []):
            response = client.get(f"/api/v1{path}", query_string={parameter["name"]: "x"})
            message = (response.get_json() or {}).get("error", {}).get("message", "")
            assert "Unknown parameter" not in message, (path, parameter["name"])
