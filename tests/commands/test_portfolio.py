"""``naef portfolio``: the baseline in seconds (small --paths), the JSON keys, the files of --out, a given budget,
and one line on stderr with exit code 2 (nothing written) for bad input.

The command is registered on a test app here; the conversion NaefError -> exit 2 is ``naef.cli.main``'s, so the
bad-input tests run ``main`` with ``naef.cli.app`` swapped for that test app.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner, Result

from naef.commands.portfolio import register
from naef.engine.montecarlo import mdf_inflows_by_year, prepare
from naef.scenario import load_scenario
from tests.cli_main import naef_main

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)


@app.callback()
def _root() -> None:
    """Test app (a callback keeps ``portfolio`` a subcommand, as in ``naef``)."""


register(app)

PATHS = "200"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["portfolio", *args], env={"COLUMNS": "160"})


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[Any, str, str]:
    """``naef portfolio *args`` through the real ``naef.cli.main()``: (exit code, stdout, stderr)."""
    return naef_main(monkeypatch, capsys, "portfolio", *args)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, float]:
    out = tmp_path_factory.mktemp("pf") / "out"
    t0 = time.perf_counter()
    res = invoke("--paths", PATHS, "--seed", "3", "--json", "--out", str(out), "--resolve-seconds", "5")
    elapsed = time.perf_counter() - t0
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout), out, elapsed


def test_baseline_runs_in_seconds_with_the_promised_keys(baseline: tuple[dict[str, Any], Path, float]) -> None:
    data, _, _ = baseline
    for key in ("price_basis", "budget", "budget_marginal_value", "selected", "objective_usd", "budget_usd_by_year",
                "spend_usd_by_year", "binding_constraints",
                "rejected", "outcomes"):
        assert key in data
    assert data["selected"]
    assert all({"id", "start_year"} <= set(s) for s in data["selected"])
    assert data["objective_usd"] == pytest.approx(sum(s["enpv_usd"] for s in data["selected"]))
    assert all(r["reason"] for r in data["rejected"])
    assert len(data["selected"]) + len(data["rejected"]) == data["pipeline"]["projects"]
    assert data["pipeline"]["illustrative"] is True


def test_budget_is_the_p80_of_cumulative_inflows(baseline: tuple[dict[str, Any], Path, float]) -> None:
    data, _, _ = baseline
    years, nominal = mdf_inflows_by_year(prepare(load_scenario("baseline")), n_paths=int(PATHS), seed=3)
    # one price basis: the nominal inflows deflated to the pipeline's 2024 dollars at the scenario's 2 % a year
    inflows = nominal / 1.02 ** (np.array(years) - 2024)
    assert data["price_basis"]["price_year"] == 2024
    assert data["price_basis"]["discount_rate_kind"] == "real"
    assert data["price_basis"]["columns"]["enpv_usd"] == "constant 2024 US$, discounted to 2027 at 10.0% real"
    q = np.quantile(np.cumsum(inflows, axis=1), 0.2, axis=0)
    got = np.cumsum([data["budget_usd_by_year"][str(y)] for y in years])
    assert got == pytest.approx(q, rel=1e-9, abs=1e-3)
    spend = np.cumsum([data["spend_usd_by_year"][str(y)] for y in years])
    assert np.all(spend <= got * (1 + 1e-6) + 1.0)
    # the joint probabilities are direct counts over the same paths
    cum = np.cumsum(inflows, axis=1)
    assert data["budget"]["joint_probability"] == pytest.approx(np.mean(np.all(cum >= got * (1 - 1e-9), axis=1)))
    assert data["budget"]["schedule_funded_probability"] == pytest.approx(
        np.mean(np.all(cum >= spend * (1 - 1e-9), axis=1)))
    assert data["budget"]["joint_probability"] < 0.8
    # a dollar received in a year is worth the sum of the budget duals from that year on
    lam = {b["year"]: b["lp_shadow_price"] for b in data["binding_constraints"] if b["kind"] == "budget"}
    for v in data["budget_marginal_value"]:
        assert v["lp_value_per_usd"] == pytest.approx(sum(x for y, x in lam.items() if y >= v["year"]), abs=1e-9)


def test_outcome_percentiles_are_ordered_and_bounded(baseline: tuple[dict[str, Any], Path, float]) -> None:
    """Percentiles of the outcomes are ordered and bounded (that no path spends more than it received is checked
    path by path in tests/mdf/test_outcomes.py)."""
    data, _, _ = baseline
    rows = data["outcomes"]["by_year"]
    for r in rows:
        assert r["spent_usd_p10"] <= r["spent_usd_p50"] <= r["spent_usd_p90"]
        assert 0 <= r["projects_finished_p50"] <= len(data["selected"])
    h = data["outcomes"]["at_horizon"]
    assert 0 <= h["share_of_paths_all_finished"] <= 1
    assert h["gdp_effect_usd_p50"] > 0
    assert data["outcomes"]["gdp_assumptions"]["output_elasticity"] == 0.122


def test_out_writes_every_table(baseline: tuple[dict[str, Any], Path, float]) -> None:
    data, out, _ = baseline
    assert sorted(p.name for p in out.iterdir()) == [
        "appraisal.csv", "binding_constraints.csv", "jobs_by_state.csv", "outcomes_by_year.csv", "portfolio.json",
        "project_outcomes.csv", "report.html", "results.xlsx", "run.json"]
    assert json.loads((out / "portfolio.json").read_text()) == data
    rows = list(csv.DictReader(io.StringIO((out / "appraisal.csv").read_text())))
    assert len(rows) == data["pipeline"]["projects"]
    years = list(csv.DictReader(io.StringIO((out / "outcomes_by_year.csv").read_text())))
    assert [int(r["year"]) for r in years] == [int(y) for y in data["budget_usd_by_year"]]


def test_given_budget_and_tables(tmp_path: Path) -> None:
    res = invoke("--paths", "50", "--budget-usd-by-year", "2030:1e9,2031:1e9,2032:1e9,2033:1e9,2034:1e9,2035:1e9",
                 "--sector-floor", "none", "--migrant-share", "0")
    assert res.exit_code == 0, res.output
    assert "Selected projects" in res.stdout
    assert "Rejected projects" in res.stdout
    res = invoke("--paths", "50", "--budget-usd-by-year", "2030:1e9,2035:1e9", "--json")
    data = json.loads(res.stdout)
    assert data["budget_usd_by_year"] == {"2030": 1e9, "2031": 0.0, "2032": 0.0, "2033": 0.0, "2034": 0.0,
                                          "2035": 1e9}
    assert data["run"]["budget"] == "given"
    assert data["run"]["confidence"] is None


def test_twins_are_decided_by_the_stated_rule_and_said_to_be_tied(tmp_path: Path) -> None:
    """Two identical projects and money for one: the first id is chosen in either row order; the other is reported
    as tied in the JSON, in the terminal's Ties line and in its reason."""
    rows = ("zz,Z,road,MX-MIC,1e6,2030,1,3e5,10,1,", "aa,A,road,MX-MIC,1e6,2030,1,3e5,10,1,")
    for order in (rows, rows[::-1]):
        path = _pipeline(tmp_path, *order)
        common = ("--pipeline", str(path), "--paths", "20", "--budget-usd-by-year", "2030:1.3e6", "--sector-floor",
                  "none", "--migrant-share", "0")
        res = invoke(*common, "--json")
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        assert [s["id"] for s in data["selected"]] == ["aa"]
        assert data["ties_settled"] is True
        assert data["tie_rule"].startswith("portfolios within a hundred-millionth of the optimum's ENPV are tied")
        (rejected,) = data["rejected"]
        assert rejected["id"] == "zz"
        assert rejected["tied"] is True
        assert rejected["reason"].startswith("tied: a portfolio of the same value")
        text = invoke(*common).stdout
        assert "Ties: zz is in portfolios of the same value; chosen by the rule: portfolios within" in text


def _pipeline(tmp_path: Path, *rows: str) -> Path:
    header = ("id,name,sector,state,cost_usd,start_year_min,duration_years,annual_benefit_usd,benefit_years,jobs,"
              "requires")
    path = tmp_path / "pipe.csv"
    path.write_text("\n".join([header, *rows, "# cost_price_year: 2024"]) + "\n")
    return path


@pytest.mark.parametrize(("rows", "extra", "start"), [
    (("a,A,bridge,MX-MIC,1e6,2030,1,1e5,10,1,",), (),
     "error: pipe.csv: row 2 (id a), column sector: unknown sector 'bridge'"),
    (("a,A,road,MX-ZZZ,1e6,2030,1,1e5,10,1,",), (), "error: pipe.csv: row 2 (id a), column state: unknown state"),
    (("a,A,road,MX-MIC,0,2030,1,1e5,10,1,",), (),
     "error: pipe.csv: row 2 (id a), column cost_usd: must be a positive number (got '0')"),
    (("a,A,road,MX-MIC,1e6,2030,1,1e5,10,1,b", "b,B,road,MX-MIC,1e6,2030,1,1e5,10,1,a"), (),
     "error: pipe.csv: row 2 (id a), column requires: a cycle of requirements: a -> b -> a"),
    (("a,A,road,MX-MIC,1e6,2030,1,1e5,10,1,",), ("--sector-floor", "education:5bn", "--migrant-share", "0"),
     "error: portfolio: infeasible: sector floor education >= USD 5.00 bn cannot be met"),
    (("a,A,road,MX-MIC,1e6,2030,1,1e5,10,1,", "e,E,education,MX-MIC,1e6,2030,1,1e5,10,1,"),
     ("--sector-floor", "education:1m,road:1m", "--budget-usd-by-year", "2030:1e6", "--migrant-share", "0"),
     "error: portfolio: infeasible: the budget (USD 1.0 m by 2030) and sector floor"),
])
def test_bad_pipelines_and_constraints_exit_2_with_one_line_and_write_nothing(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        rows: tuple[str, ...], extra: tuple[str, ...], start: str) -> None:
    path = _pipeline(tmp_path, *rows)
    out = tmp_path / "out"
    code, stdout, err = run_main(monkeypatch, capsys, "--pipeline", str(path), "--paths", "20", "--out", str(out),
                                 *extra)
    assert code == 2
    assert stdout == ""
    assert err.startswith(start), err
    assert err.count("\n") == 1, err
    assert not out.exists()


@pytest.mark.parametrize(("args", "message"), [
    (("--confidence", "1.2"), "error: --confidence: must be strictly between 0 and 1 (got 1.2)\n"),
    (("--confidence", "0"), "error: --confidence: must be strictly between 0 and 1 (got 0.0)\n"),
    (("--budget-usd-by-year", "2030:-5"),
     "error: --budget-usd-by-year: the amount for 2030 must be a finite number >= 0 (got '-5')\n"),
    (("--budget-usd-by-year", "1990:5"),
     "error: --budget-usd-by-year: year 1990 is outside the scenario's years 2027-2056\n"),
    (("--sector-floor", "ports:0.1"), "error: --sector-floor: unknown sector 'ports' (choose one of road, seaport, "
                                      "airport, railway, education, small_enterprise)\n"),
    (("--sector-floor", "road:70%,education:70%"),
     "error: sector floors: the shares add up to 140%, more than 100% of spending\n"),
    (("--sector-floor", "airport:1.5"),
     "error: --sector-floor: airport:1.5 is ambiguous: write a share as 'airport:15%' or an amount as "
     "'airport:1.5bn' or 'airport:200m' (constant US$ of the pipeline's price year)\n"),
    (("--confidence-basis", "joint"), "error: --confidence-basis: 'joint' is not one of year, schedule\n"),
    (("--migrant-share", "2"), "error: --migrant-share: must be between 0 and 1 (got 2.0)\n"),
    (("--paths", "0"), "error: --paths: must be at least 1 (got 0)\n"),
    (("--pipeline", "/nonexistent/p.csv"), "error: --pipeline /nonexistent/p.csv: no such file\n"),
])
def test_bad_options_exit_2_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    out = tmp_path / "out"
    code, stdout, err = run_main(monkeypatch, capsys, "--paths", "20", *args, "--out", str(out))
    assert code == 2
    assert stdout == ""
    assert err == message
    assert not out.exists()


def test_sector_floor_units() -> None:
    from naef.commands.portfolio import parse_sector_floors

    floors = parse_sector_floors("airport:15%,road:1.5bn,railway:200m")
    assert [(f.sector, f.share, f.amount_usd) for f in floors] == [
        ("airport", 0.15, None), ("road", None, 1.5e9), ("railway", None, 2e8)]


def test_a_small_pipeline_on_the_schedule_basis(tmp_path: Path) -> None:
    """--confidence-basis schedule sizes the budget so every year is funded together on >= c of the paths; the
    output states the price basis and the honest headline."""
    path = _pipeline(tmp_path, "a,A,road,MX-MIC,5e8,2031,2,1.5e8,20,10,", "b,B,road,MX-GUA,5e8,2031,2,1.4e8,20,10,a",
                     "c,C,education,MX-OAX,1e8,2031,1,3e7,20,10,")
    res = invoke("--pipeline", str(path), "--paths", "300", "--confidence-basis", "schedule", "--json",
                 "--sector-floor", "none", "--migrant-share", "0")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["budget"]["basis"] == "schedule"
    assert data["budget"]["joint_probability"] >= 0.8
    assert data["budget"]["per_year_confidence"] >= 0.8
    starts = {s["id"]: s["start_year"] for s in data["selected"]}
    if "b" in starts:  # b requires a: a is paid for (two years) before b starts
        assert starts["b"] >= starts["a"] + 2
    res = invoke("--pipeline", str(path), "--paths", "300", "--sector-floor", "none", "--migrant-share", "0")
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())
    assert "Price basis: constant 2024 US$" in text
    assert "every year together on" in text
    assert "finishes on schedule on" in text


def test_an_inflation_rate_out_of_bounds_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    from importlib import resources

    text = resources.files("naef").joinpath("scenario", "scenarios", "baseline.toml").read_text("utf-8")
    bad = tmp_path / "inflated.toml"
    bad.write_text(text + "\n[mdf]\ninflation_rate = 0.6\n")
    code, stdout, err = run_main(monkeypatch, capsys, str(bad), "--paths", "20")
    assert code == 2
    assert stdout == ""
    assert "mdf.inflation_rate" in err
    assert err.count("\n") == 1


def test_shipped_dependents_start_after_their_prerequisite_is_finished(
        baseline: tuple[dict[str, Any], Path, float]) -> None:
    """The issue's case on the shipped pipeline: sp-oax-1, sp-ver-1 and rl-chp-1 require rl-oax-1; each selected
    dependent starts only after its prerequisite's last year of construction, in the selection and on every path."""
    from naef.mdf.pipeline import load_pipeline

    data, _, _ = baseline
    by_id = load_pipeline(None).by_id()
    starts = {s["id"]: s["start_year"] for s in data["selected"]}
    checked = 0
    for pid, start in starts.items():
        for q in by_id[pid].requires:
            assert q in starts, (pid, q)
            assert start >= starts[q] + by_id[q].duration_years, (pid, start, q, starts[q])
            checked += 1
    outcome = {p["id"]: p for p in data["outcomes"]["projects"]}
    for pid in starts:
        for q in by_id[pid].requires:
            # the dependent is never finished more often than its prerequisite
            assert outcome[pid]["probability_finished"] <= outcome[q]["probability_finished"] + 1e-12
    assert {"sp-oax-1", "sp-ver-1", "rl-chp-1"} & set(starts) or checked == 0


def test_the_report_lists_only_confirmed_shadow_prices_with_their_values() -> None:
    from naef.commands.reporting import confirmed_prices

    result: dict[str, Any] = {"binding_constraints": [
                  {"name": "budget by 2032", "kind": "budget", "year": 2032, "confirmed_value": 0.45,
                   "status": "confirmed", "shadow_price_unit": "US$ of ENPV per US$ received in that year"},
                  {"name": "rd-gua-3 excludes rl-gua-1", "kind": "excludes", "confirmed_value": 0.0,
                   "status": "degenerate", "shadow_price_unit": "US$ of ENPV per project"},
                  {"name": "sector floor small_enterprise >= 5% of spending", "kind": "sector_floor",
                   "confirmed_value": 0.795, "status": "lower bound (time limit)",
                   "shadow_price_unit": "US$ of ENPV per US$ of shortfall allowed"},
                  {"name": "budget by 2040", "kind": "budget", "year": 2040, "confirmed_value": 0.0,
                   "status": "unconfirmed (time limit)", "shadow_price_unit": "US$ of ENPV per US$"}]}
    assert confirmed_prices(result["binding_constraints"]) == [
        "money received in 2032: 0.450 of ENPV per US$ more received in 2032 (confirmed)",
        "sector floor small_enterprise >= 5% of spending: 0.795 of ENPV per US$ of shortfall allowed "
        "(lower bound (time limit))"]
