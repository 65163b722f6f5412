"""Schemathesis fuzzes the running API from its own OpenAPI description.

The app is served over real HTTP on a loopback port (the browser tests' `live_server`),
on the test database with `public_records` in it. For every operation Schemathesis
generates parameters from the schema (well-formed and hostile strings, huge numbers,
odd dates) and checks that no answer is a 5xx, that each status code is documented,
and that each body matches its schema. Bounded and deterministic: a fixed number of
examples per operation, derandomised, no example database.
"""
from __future__ import annotations

import logging

import pytest

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.browser.conftest import live_server  # noqa: F401  (fixture)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


EXAMPLES = 25  # per operation and mode: 10 operations x 2 modes x 25 = 500 requests


@pytest.fixture
def quiet_server_log():
    """The live server logs each of the hundreds of requests; keep the output for failures."""
    logger = logging.getLogger("werkzeug")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


def test_the_api_survives_fuzzing_and_answers_as_documented(live_server, public_records, quiet_server_log):  # noqa: F811
    # Schemathesis' pytest loader (`from_fixture`) relies on a pytest internal that pytest 9
    # removed, so the operations are driven here through its Hypothesis strategies.
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10, [op.label for op in operations]
    failures: list[str] = []
    nothing_to_break: list[str] = []
    requests = 0
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
            def call(case) -> None:  # noqa: ANN001
                nonlocal requests
                requests += 1
                case.call_and_validate(checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                # nothing to get wrong: no parameters, or only free-text ones (a slug may be anything)
                assert mode is GenerationMode.NEGATIVE, operation.label
                nothing_to_break.append(operation.label)
            except Exception as error:  # noqa: BLE001  (collected, reported together below)
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert not failures, "\n\n".join(failures)
    assert sorted(nothing_to_break) == ["GET /", "GET /cases/{slug}", "GET /defendants/{slug}"]
    assert requests >= len(operations) * EXAMPLES  # the fuzzing really sent requests
