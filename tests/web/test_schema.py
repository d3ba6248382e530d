"""Schemathesis against the OpenAPI schema: no generated request — valid (positive) or invalid (negative) — gets
a 5xx from any operation.

Examples per operation are bounded (``max_examples``) so the whole run stays well under two minutes; runs are
capped at a few paths and queued runs at one, so generated run requests cost little. (The operations are looped
over here rather than through ``schemathesis.pytest.from_fixture``, which does not work with pytest 9.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from fastapi import FastAPI  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from naef.web import create_app  # noqa: E402
from tests.web.conftest import copy_ledger, web_config  # noqa: E402

MAX_EXAMPLES = 60


@pytest.fixture(scope="module")
def api_app(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    db = copy_ledger(demo_template, tmp_path_factory.mktemp("schema") / "ledger.db")
    app = create_app(web_config(db, max_paths=20, default_paths=10, max_queued_runs=1, run_rate_per_minute=600,
                                run_burst=50))
    app.state.naef.overview.result(timeout=120)
    yield app
    app.state.naef.close()


@pytest.fixture(scope="module")
def api_schema(api_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json", api_app)


def _checker(label: str, strategy: Any, statuses: dict[str, set[int]]) -> Any:
    @given(case=strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case: Any) -> None:
        response = case.call()
        statuses.setdefault(label, set()).add(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    return check


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_no_server_errors(api_schema: Any, mode: GenerationMode) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    statuses: dict[str, set[int]] = {}

    nothing_invalid: list[str] = []
    for operation in operations:
        try:
            _checker(operation.label, operation.as_strategy(generation_mode=mode), statuses)()
        except Unsatisfiable:  # negative mode: an operation without parameters has no invalid request to make
            nothing_invalid.append(operation.label)
    assert len(statuses) >= len(operations) // 2, (sorted(statuses), nothing_invalid)
    assert all(code < 500 or code in (501, 503) for codes in statuses.values() for code in codes), statuses
    # the write endpoints answered without a valid signature: never a success from generated data
    for label in ("POST /api/proposals", "POST /api/approvals", "POST /api/executions"):
        assert statuses.get(label), label
        assert not any(200 <= c < 300 for c in statuses[label]), (label, statuses[label])
