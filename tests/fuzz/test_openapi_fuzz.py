"""Schemathesis against the running server's /openapi.json, with real enrolled device tokens: no endpoint answers
5xx, and every answer conforms to the published schema.

One test per operation (so a report names the endpoint): the list of operations is read from the server's app at
collection, and a guard test checks that the running server publishes exactly those. Each test draws cases from
the running server's schema with schemathesis (valid and invalid data mixed, sent as an observer, a lead or an
admin) under a fixed seed. (schemathesis.pytest.from_fixture does not run under pytest 9, hence this shape.)
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from sqlalchemy import create_engine

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.server.app import create_app

# Every default check (no 5xx; status code, content type, headers and body as documented; ...) except two that
# judge the request rather than the answer:
#   positive_data_acceptance expects a 2xx for any schema-valid request, but the schema does not (and need not)
#     say which enrollment codes exist, which emails are valid, or that a small-cell threshold is 1..50: such
#     requests get a 400 with a sentence;
#   negative_data_rejection expects a 4xx for any schema-invalid request, but pydantic's lax parsing reads
#     `0` as false and a repeated query parameter as its last value, which is harmless.
EXCLUDED = [positive_data_acceptance, negative_data_rejection]
EXAMPLES = 100  # per operation and backend: about half a minute each on a loaded 2-core machine


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
def test_no_answer_is_a_server_error_and_every_answer_conforms_to_the_schema(api_schema, world, method, path):
    operation = api_schema[path][method]

    # valid and invalid requests mixed (an operation whose inputs cannot be made invalid draws only valid ones)
    cases = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                      operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @given(case=cases, who=_callers(path))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    def run(case, who):
        case.call_and_validate(headers=_headers(who, world), timeout=30, excluded_checks=EXCLUDED)

    run()
