"""``naef.portfolio`` from Python: the same files, byte for byte, as ``naef portfolio --out`` with the same
settings, and typed fields that say what portfolio.json says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import naef
from naef.cli import app
from naef.studies.portfolio import PortfolioHorizon, PortfolioStudy

BASELINE = naef.load_scenario("baseline")
SETTINGS = naef.RunSettings(paths=200, seed=3)
#: seconds for each MILP re-solve: generous, so that a busy machine does not stop one early (a re-solve stopped by
#: its time limit reads "unconfirmed (time limit)", and the two runs would differ for that reason alone)
RESOLVE = "120"


@pytest.fixture(scope="module")
def study() -> PortfolioStudy:
    return naef.portfolio(BASELINE, SETTINGS, resolve_seconds=float(RESOLVE))


def test_the_python_api_writes_what_the_cli_writes(study: PortfolioStudy, tmp_path: Path) -> None:
    out = tmp_path / "pf"
    res = CliRunner().invoke(app, ["portfolio", "--paths", "200", "--seed", "3", "--resolve-seconds", RESOLVE,
                                   "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    files = study.files()
    assert set(files) == {"portfolio.json", "appraisal.csv", "outcomes_by_year.csv", "jobs_by_state.csv",
                          "project_outcomes.csv", "binding_constraints.csv"}
    for name, content in files.items():
        assert (out / name).read_text(encoding="utf-8") == content, name
    assert json.loads(res.stdout) == json.loads(str(files["portfolio.json"]))
    # the command adds the report and run.json beside the study's files, nothing else
    assert {p.name for p in out.iterdir()} == set(files) | {"report.html", "results.xlsx", "run.json"}


def test_the_typed_fields_are_the_document(study: PortfolioStudy) -> None:
    doc = study.summary
    outcomes = doc["outcomes"]
    assert isinstance(outcomes, dict)
    horizon = outcomes["at_horizon"]
    assert isinstance(study.horizon, PortfolioHorizon)
    assert horizon == {k: getattr(study.horizon, k) for k in horizon}
    assert study.horizon.year == study.budget_years[-1] == study.by_year[-1].year
    assert study.horizon.projects_selected == len(study.selection.selected) > 0
    assert len(study.selection.selected) + len(study.selection.rejected) == len(study.pipeline.projects)
    # P10 <= P50 <= P90 in every year, and money invested only grows
    for row in study.by_year:
        assert row.invested_usd_p10 <= row.invested_usd_p50 <= row.invested_usd_p90
    p50 = [row.invested_usd_p50 for row in study.by_year]
    assert p50 == sorted(p50)
    assert doc["run"] == {"paths": 200, "seed": 3, "budget": "monte_carlo", "confidence": 0.8,
                          "base_year": BASELINE.scenario.start.year, "confidence_basis": "year"}
    tables = study.tables()
    assert list(tables["outcomes_by_year"]["year"]) == list(study.budget_years)
    assert len(tables["appraisal"]) == len(study.pipeline.projects)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"confidence": 1.5}, "--confidence: must be strictly between 0 and 1"),
    ({"confidence_basis": "decade"}, "--confidence-basis: 'decade' is not one of"),
    ({"sector_floors": "road:15"}, "--sector-floor: road:15 is ambiguous"),
    ({"migrant_share": -0.1}, "--migrant-share: must be between 0 and 1"),
])
def test_bad_options_name_the_option(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(naef.NaefError) as err:
        naef.portfolio(BASELINE, naef.RunSettings(paths=16), **kwargs)  # type: ignore[arg-type]
    assert message in str(err.value)


def test_portfolio_is_a_lazy_public_name() -> None:
    from naef.studies import portfolio as module

    assert "portfolio" in naef.__all__
    assert "PortfolioStudy" in naef.__all__
    assert naef.portfolio is module.portfolio
