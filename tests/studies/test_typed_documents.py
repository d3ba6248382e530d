"""The typed documents name exactly the keys the JSON files hold: a key added to a document without its type (or a
type naming a key the document lacks) fails here, so mypy's check of the contract between layers stays true."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import pytest

import naef
from naef.analysis.mc_summary import (
    EventOfDefault,
    HedgeSection,
    MdfInflows,
    MonteCarloRun,
    MonteCarloSummary,
    MonteCarloTranche,
    OriginatorDefault,
    SeniorBreakeven,
)
from naef.analysis.stress import StressDocument, StressMdf, StressPathSummary, StressRun, StressTranche
from naef.engine.results import DeterministicSummary, DeterministicTranche, SourcesAndUses, Totals
from naef.studies.sensitivity import SensitivityDocument

BASELINE = naef.load_scenario("baseline")


def keys_of(typed: Any) -> tuple[frozenset[str], frozenset[str]]:
    """A TypedDict's required and optional keys (``NotRequired[...]`` read from the evaluated hints: under
    ``from __future__ import annotations`` Python 3.11's ``__optional_keys__`` does not see it)."""
    hints = typing.get_type_hints(typed, include_extras=True)
    optional = frozenset(k for k, h in hints.items() if typing.get_origin(h) is typing.NotRequired)
    return frozenset(hints) - optional, optional


def assert_shape(doc: Mapping[str, object], typed: Any) -> None:
    required, optional = keys_of(typed)
    assert required <= set(doc), f"{typed.__name__}: missing {sorted(required - set(doc))}"
    assert set(doc) <= required | optional, f"{typed.__name__}: untyped {sorted(set(doc) - required - optional)}"


def test_the_deterministic_summary_is_its_type() -> None:
    result = naef.run(BASELINE)
    summary = result.simulation.summary
    assert result.summary is summary  # the study hands on the typed document itself
    assert_shape(summary, DeterministicSummary)
    assert_shape(summary["sources_and_uses"], SourcesAndUses)
    assert_shape(summary["totals"], Totals)
    for row in summary["tranches"]:
        assert_shape(row, DeterministicTranche)


def test_the_monte_carlo_sections_are_their_types() -> None:
    data = BASELINE.model_dump()
    data["hedges"] = [{"first_year": 2030, "last_year": 2033, "share_of_expected_production": 0.5, "kind": "collar",
                       "put_strike_usd_per_bbl": 55.0, "call_strike_usd_per_bbl": 85.0, "volatility": 0.32,
                       "risk_free_rate": 0.035, "premium": "proceeds", "volatility_from": "flat"}]
    sc = naef.Scenario.model_validate(data)
    summary = naef.monte_carlo(sc, naef.RunSettings(paths=64, seed=1)).summary
    assert_shape(summary, MonteCarloSummary)
    assert_shape(summary["run"], MonteCarloRun)
    assert "per_path_results" not in summary["run"]  # every path kept: not a streamed run
    assert_shape(summary["event_of_default"], EventOfDefault)
    assert_shape(summary["breakeven_flat_price_usd_per_bbl"], SeniorBreakeven)
    for row in summary["tranches"]:
        assert_shape(row, MonteCarloTranche)
    assert_shape(summary["mdf"], MdfInflows)
    assert_shape(summary["originator_default"], OriginatorDefault)
    assert_shape(summary["hedge"], HedgeSection)  # the hedged run beside the unhedged one


def test_a_streamed_monte_carlo_summary_is_its_type() -> None:
    from naef.analysis.montecarlo import run_monte_carlo

    summary = run_monte_carlo(BASELINE, n_paths=64, seed=1, keep_paths=False, threads=1).summary
    assert_shape(summary, MonteCarloSummary)
    assert_shape(summary["run"], MonteCarloRun)
    assert summary["run"]["per_path_results"] == "streamed"
    assert list(summary["run"])[-1] == "per_path_results"  # summary.json's key order: added last, as before


def test_the_stress_paths_are_their_types() -> None:
    summary = naef.stress(BASELINE, episodes=["crash_2020"]).summary
    assert_shape(summary, StressDocument)
    assert_shape(summary["run"], StressRun)
    for path in summary["paths"]:
        assert_shape(path, StressPathSummary)
        assert_shape(path["mdf"], StressMdf)
        for row in path["tranches"]:
            assert_shape(row, StressTranche)


@pytest.mark.parametrize(("method", "present"), [("tornado", {"base", "tornado"}), ("sobol", {"sample", "sobol"})])
def test_the_sensitivity_document_is_its_type(method: str, present: set[str]) -> None:
    kwargs = {"samples": 4} if method == "sobol" else {}
    doc = naef.sensitivity(BASELINE, naef.RunSettings(paths=16, seed=1), method=method,
                           inputs=["price_level", "capex_multiplier"], **kwargs).summary
    assert_shape(doc, SensitivityDocument)
    _, optional = keys_of(SensitivityDocument)
    assert set(doc) & optional == present
