"""A real small run of the baseline (300 Monte Carlo paths, seed 1; the deterministic run; two stress episodes; a
three-input tornado of 100 paths) and its report files, built once for the report tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import naef
from naef.analysis.montecarlo import run_monte_carlo
from naef.engine.montecarlo import median_path, path_table, prepare
from naef.report import report_files
from naef.scenario.models import Scenario
from naef.studies.sensitivity import run_sensitivity
from naef.studies.stress import stress_scenario

#: an ILLUSTRATIVE portfolio in the shape docs/reports.md gives (the MDF's own code is not used here)
PORTFOLIO: dict[str, Any] = {
    "note": "ILLUSTRATIVE: a hand-made portfolio for the tests.",
    "confidence": 0.8,
    "objective_usd": 4.2e9,
    "projects": [
        {"id": "R1", "name": "Morelia–Lázaro Cárdenas road", "sector": "road", "state": "MX-MIC",
         "cost_usd": 1.2e9, "start_year": 2031, "jobs": 5200},
        {"id": "S1", "name": "Scholarships <Zacatecas> & exchange", "sector": "education", "state": "MX-ZAC",
         "cost_usd": 0.3e9, "start": "2032-01-01", "jobs": 800},
        {"id": "E1", "name": "SME fund Oaxaca", "sector": "small_enterprise", "state": "MX-OAX",
         "cost_usd": 0.5e9, "start_year": 2031, "jobs": 3100},
    ],
    "spend_usd_by_year": {"2031": 0.6e9, "2032": 0.9e9, "2033": 0.5e9},
    "budget_usd_by_year": [{"year": 2031, "budget_usd": 1.0e9}, {"year": 2032, "budget_usd": 1.0e9},
                           {"year": 2033, "budget_usd": 1.0e9}],
    "outcomes_by_state": [
        {"state": "MX-MIC", "jobs": 5200, "invested_usd": 1.2e9, "projects_finished": 1},
        {"state": "MX-ZAC", "jobs": 800, "invested_usd": 0.3e9, "projects_finished": 1},
        {"state": "MX-OAX", "jobs": 3100, "invested_usd": 0.5e9, "projects_finished": 1},
    ],
    "binding_constraints": ["budget 2031", {"name": "sector floor: education"}],
}


@dataclass(frozen=True, repr=False)
class Run:
    """Everything a report is built from, the files, and the JSON documents as written to disk and read back."""

    scenario: Scenario
    summary: dict[str, Any]
    deterministic: dict[str, Any]
    percentiles: pd.DataFrame
    cashflows: pd.DataFrame
    p50_cashflows: pd.DataFrame
    stress: dict[str, Any]
    sensitivity: dict[str, Any]
    files: dict[str, str | bytes]
    folder: Path

    @property
    def html(self) -> str:
        text = self.files["report.html"]
        assert isinstance(text, str)
        return text


def _as_written(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as summary.json holds it (written with json.dumps, read back)."""
    loaded: dict[str, Any] = json.loads(json.dumps(doc, allow_nan=False))
    return loaded


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    sc = naef.load_scenario("baseline")
    mc = run_monte_carlo(sc, n_paths=300, seed=1)
    det = naef.simulate(sc)
    p50 = path_table(prepare(sc), seed=1, path=median_path(mc.metrics_path))
    stress = stress_scenario(sc, episodes=["crash_2020", "collapse_2008"]).summary
    sens = run_sensitivity(sc, method="tornado", names=["price_level", "price_volatility", "capex_multiplier"],
                           paths=100, seed=1)
    files = report_files(scenario=sc, summary=mc.summary, percentiles=mc.percentiles, cashflows=det.table,
                         p50_cashflows=p50, stress=stress, sensitivity=sens, portfolio=PORTFOLIO,
                         deterministic_summary=det.summary)
    folder = tmp_path_factory.mktemp("report")
    for name, content in files.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    return Run(scenario=sc, summary=_as_written(mc.summary), deterministic=_as_written(det.summary),
               percentiles=mc.percentiles, cashflows=det.table, p50_cashflows=p50, stress=_as_written(stress),
               sensitivity=_as_written(sens), files=files, folder=folder)
