"""Schemathesis against the running server's /openapi.json, with real enrolled device tokens: no endpoint answers
5xx, every answer conforms to the published schema, and the schema says what the server accepts: a request the
schema calls valid is not refused as malformed (positive_data_acceptance) and one it calls invalid is refused
(negative_data_rejection).

One test per operation (so a report names the endpoint): the list of operations is read from the server's app at
collection, and a guard test checks that the running server publishes exactly those. Each test draws cases from
the running server's schema with schemathesis (valid and invalid data mixed, sent as an observer, a lead or an
admin) under a fixed seed. (schemathesis.pytest.from_fixture does not run under pytest 9, hence this shape.)
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import create_engine

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.server import errors
from sync.server.app import create_app

EXAMPLES = 100  # per operation and backend: 35-40 s of CPU per backend (about 3 minutes at a load of 25)

# Refusals of schema-valid requests for what JSON Schema cannot state, each with its problem type
# (sync.server.errors) and named in its operation's description in the schema: one field against another, a code
# the server must look up, a rubric file's content. A valid request answered with one of these agrees with the
# schema; answered with any other 400 or 422 it does not.
STATED_BEYOND_THE_SCHEMA = {
    ("POST", "/api/v1/enroll"): {(400, errors.ENROLLMENT_CODE)},
    ("POST", "/api/v1/push"): {(422, errors.PUSH_ENVELOPE)},
    ("POST", "/api/v1/admin/rubrics"): {(422, errors.RUBRIC_CONTENT)},
    ("GET", "/api/v1/export/{fmt}"): {(422, errors.DATE_RANGE)},
}


def _stated(method: str, path: str, response) -> bool:
    """Whether this answer is a refusal the operation states beyond its schema."""
    allowed = STATED_BEYOND_THE_SCHEMA.get((method, path), set())
    kind = response.headers.get("content-type") or [""]  # schemathesis keeps each header as a list of values
    if not allowed or not (kind[0] if isinstance(kind, list) else kind).startswith(errors.PROBLEM):
        return False
    return (response.status_code, response.json().get("type")) in allowed


def _operations() -> list[tuple[str, str]]:
    spec = create_app(engine=create_engine("sqlite://")).openapi()
    return sorted((method.upper(), path) for path, item in spec["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete"))


OPERATIONS = _operations()


def _callers(path: str):
    """Who calls: mostly an admin on admin and export paths (the others then get 403), any role on sync paths."""
    if path.startswith(("/api/v1/admin", "/api/v1/export")):
        return st.sampled_from(("admin", "admin", "admin", "lead", "observer"))
    return st.sampled_from(("observer", "lead", "admin"))


def _headers(who: str, world) -> dict:
    return {PROTOCOL_HEADER: str(PROTOCOL_VERSION), "Authorization": f"Bearer {world.north.members[who].token}"}


def test_the_running_server_publishes_every_operation_fuzzed_here(api_schema):
    published = sorted((op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations())
    assert published == OPERATIONS and len(OPERATIONS) >= 15


@pytest.mark.slow
@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_error_every_answer_as_documented_and_the_schema_says_what_is_accepted(api_schema, world, method, path):
    operation = api_schema[path][method]

    # valid and invalid requests mixed (an operation whose inputs cannot be made invalid draws only valid ones)
    cases = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                      operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @given(case=cases, who=_callers(path))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    def run(case, who):
        headers = _headers(who, world)
        response = case.call(headers=headers, timeout=30)
        # every check (the two data checks included), but the positive one for a refusal stated beyond the schema
        skipped = [positive_data_acceptance] if _stated(method, path, response) else []
        case.validate_response(response, headers=headers, excluded_checks=skipped)

    run()
