"""Schemathesis against the served OpenAPI document (a real server on SQLite): bounded examples per
operation (about 100 in all), each request with a valid channel key filled in where the operation
takes one, and no answer may be a server error; answers must use a documented status code and
content type."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from store import db
from tests.api.conftest import ApiServer, serve, settings_for_tests
from tests.fixtures.stores import Store

pytestmark = pytest.mark.slow
#: Examples per operation (10 operations).
EXAMPLES = 10


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory, small_hierarchy) -> Iterator[ApiServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    fuzz_store = Store("sqlite", url, engine, db.session_factory(engine))
    with serve(fuzz_store, small_hierarchy, settings_for_tests()) as server:
        yield server
    engine.dispose()


@pytest.fixture(scope="module")
def fuzz_key(fuzz_server: ApiServer) -> str:
    return fuzz_server.key(allow="report,alarm,hotline")


def _with_key(case, key: str) -> None:
    names = {p.name for p in case.operation.iter_parameters()}
    if "api_key" in names:
        case.query = {**(case.query or {}), "api_key": key}
    if isinstance(case.body, dict) and "api_key" in case.body:
        case.body["api_key"] = key


def test_no_server_error(fuzz_server, fuzz_key) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    failures: list[str] = []
    calls: dict[str, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            _with_key(case, fuzz_key)
            response = case.call(base_url=fuzz_server.url, timeout=30)
            label = case.operation.label
            calls[label] = calls.get(label, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")
            case.validate_response(response, checks=[status_code_conformance, content_type_conformance])

        run()
    assert failures == []
    assert len(calls) == len(operations) and sum(calls.values()) >= 5 * len(operations), calls
