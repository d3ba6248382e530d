"""``naef sensitivity``: tornado signs on the baseline, Sobol' indices (finite, ST >= S1 within the confidence,
zero for an input that does nothing), reproducibility for a seed, the files of --out, the tables, and one line on
stderr with exit code 2 for bad input.

The command is registered on a test app here; the conversion NaefError -> exit 2 is ``naef.cli.main``'s, so the
bad-input tests run ``main`` with ``naef.cli.app`` swapped for that test app. Runs are small (256-512 paths,
8 Sobol' samples) to stay fast.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from naef.analysis.factor_analysis import OUTPUTS, model_outputs
from naef.analysis.factors import FACTORS, Factor, available_factors
from naef.commands.sensitivity import HELP, register
from naef.scenario import load_scenario
from naef.scenario.models import Scenario
from tests.cli_main import naef_main

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)


@app.callback()
def _root() -> None:
    """Test app (a callback keeps ``sensitivity`` a subcommand, as in ``naef``)."""


register(app)

BASE = load_scenario("baseline")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["sensitivity", *args], env={"COLUMNS": "140"})


def run_json(*args: str) -> dict[str, Any]:
    res = invoke(*args, "--json")
    assert res.exit_code == 0, res.output
    data: dict[str, Any] = json.loads(res.stdout)
    return data


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[Any, str, str]:
    """``naef sensitivity *args`` through the real ``naef.cli.main()``: (exit code, stdout, stderr)."""
    return naef_main(monkeypatch, capsys, "sensitivity", *args)


@pytest.fixture(scope="module")
def tornado() -> dict[str, Any]:
    return run_json("--method", "tornado", "--paths", "512", "--seed", "7")


def _rows(result: dict[str, Any], output: str) -> dict[str, dict[str, Any]]:
    return {r["factor"]: r for r in result["tornado"][output]}


# ---- tornado ------------------------------------------------------------------------------------------------


def test_tornado_covers_every_factor_of_the_baseline(tornado: dict[str, Any]) -> None:
    names = available_factors(BASE)
    assert [f["name"] for f in tornado["factors"]] == names
    assert tornado["run"] == {"method": "tornado", "paths": 512, "seed": 7, "evaluations": 2 * len(names) + 1,
                              "common_random_numbers": True}
    assert [o["name"] for o in tornado["outputs"]] == [o.name for o in OUTPUTS]
    for o in OUTPUTS:
        rows = tornado["tornado"][o.name]
        assert sorted(r["factor"] for r in rows) == sorted(names)
        swings = [r["swing"] for r in rows]
        assert swings == sorted(swings, reverse=True)
        for r in rows:
            assert r["swing"] == pytest.approx(abs(r["output_high"] - r["output_low"]))


def test_tornado_base_is_the_scenarios_own_monte_carlo(tornado: dict[str, Any]) -> None:
    assert tornado["base"] == model_outputs(BASE, n_paths=512, seed=7)
    assert tornado["scenario"]["name"] == "baseline"


def test_tornado_signs_on_the_baseline(tornado: dict[str, Any]) -> None:
    el, pv, p50 = (_rows(tornado, o.name) for o in OUTPUTS)
    # a higher price level: lower senior EL, more for the MDF
    assert el["price_level"]["output_high"] < tornado["base"]["senior_el"] < el["price_level"]["output_low"]
    assert pv["price_level"]["output_high"] > tornado["base"]["mdf_pv_mean_usd"] > pv["price_level"]["output_low"]
    assert p50["price_level"]["output_high"] > p50["price_level"]["output_low"]
    # more capex: no more for the MDF
    assert pv["capex_multiplier"]["output_high"] <= pv["capex_multiplier"]["output_low"]
    assert p50["capex_multiplier"]["output_high"] <= p50["capex_multiplier"]["output_low"]
    # more volatility: a higher senior EL
    assert el["price_volatility"]["output_high"] > el["price_volatility"]["output_low"]
    # a wider coupon, a higher duty, dearer operations: a higher senior EL and less for the MDF
    for name in ("senior_coupon_bp", "duty_rate", "opex_multiplier"):
        assert el[name]["output_high"] >= el[name]["output_low"], name
        assert pv[name]["output_high"] < pv[name]["output_low"], name
    # more pledged exports: a lower senior EL
    assert el["pledged_exports_bpd"]["output_high"] < el["pledged_exports_bpd"]["output_low"]
    # the low/high values are the factors' default ranges
    table = {f["name"]: f for f in tornado["factors"]}
    for name, row in el.items():
        assert (row["low_value"], row["high_value"]) == (table[name]["low"], table[name]["high"])


def test_inputs_choose_the_factors_and_the_csv_holds_every_row(tmp_path: Path) -> None:
    res = invoke("--method", "tornado", "--paths", "256", "--inputs", "price_level, capex_multiplier",
                 "--json", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert json.loads((tmp_path / "sensitivity.json").read_text("utf-8")) == data
    assert [f["name"] for f in data["factors"]] == ["price_level", "capex_multiplier"]
    assert data["run"]["evaluations"] == 5
    rows = list(csv.DictReader(io.StringIO((tmp_path / "sensitivity.csv").read_text("utf-8"))))
    assert len(rows) == 2 * len(OUTPUTS)
    assert list(rows[0]) == ["output", "base_output", "factor", "low_value", "high_value", "output_low",
                             "output_high", "swing"]
    for r in rows:
        match = next(x for x in data["tornado"][r["output"]] if x["factor"] == r["factor"])
        assert float(r["swing"]) == match["swing"]
        assert float(r["base_output"]) == data["base"][r["output"]]


def test_tables_show_inputs_ranges_and_outputs(tmp_path: Path) -> None:
    res = invoke("--method", "tornado", "--paths", "256", "--inputs", "price_level,pledged_exports_bpd",
                 "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    out = res.stdout
    for text in ("Inputs", "price_level", "pledged_exports_bpd", "400,000", "ILLUSTRATIVE", "senior_el: base case",
                 "mdf_pv_mean_usd: base case", "mdf_p50_usd: base case", "sensitivity.json"):
        assert text in out, text
    assert (tmp_path / "sensitivity.csv").is_file()


# ---- Sobol' -------------------------------------------------------------------------------------------------


def _nothing(data: dict[str, Any], value: float, scenario: Scenario) -> None:
    del data, value, scenario


DUMMY = Factor(name="dummy", description="changes nothing", unit="x", base=lambda s: 0.0,
               default_range=lambda s: (0.0, 1.0), range_source="ILLUSTRATIVE: test only", illustrative=True,
               change=_nothing)


@pytest.fixture
def with_dummy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registers ``dummy`` for one test (monkeypatch removes it afterwards)."""
    monkeypatch.setitem(FACTORS, "dummy", DUMMY)


SOBOL_ARGS = ("--method", "sobol", "--samples", "8", "--paths", "256", "--inputs",
              "price_level,price_volatility,first_production_delay_years,dummy")


@pytest.fixture
def sobol(with_dummy: None) -> dict[str, Any]:
    return run_json(*SOBOL_ARGS)


def test_sobol_indices_are_finite_and_consistent(sobol: dict[str, Any]) -> None:
    assert sobol["run"]["evaluations"] == 8 * (4 + 2) == sobol["sample"]["rows"]
    assert sobol["run"]["samples"] == 8
    for o in OUTPUTS:
        res = sobol["sobol"][o.name]
        assert res["constant"] is False
        assert [r["factor"] for r in res["indices"]] == ["price_level", "price_volatility",
                                                          "first_production_delay_years", "dummy"]
        for r in res["indices"]:
            for key in ("S1", "S1_conf", "ST", "ST_conf"):
                assert math.isfinite(r[key]), (o.name, r["factor"], key)
            assert r["S1_conf"] >= 0.0
            assert r["ST_conf"] >= 0.0
            # ST >= S1 up to the estimators' noise
            assert r["ST"] >= r["S1"] - r["S1_conf"] - r["ST_conf"] - 0.05, (o.name, r)


def test_sobol_gives_an_input_that_does_nothing_zero_indices(sobol: dict[str, Any]) -> None:
    for o in OUTPUTS:
        dummy = next(r for r in sobol["sobol"][o.name]["indices"] if r["factor"] == "dummy")
        for key in ("S1", "ST", "ST_conf"):
            assert abs(dummy[key]) < 1e-12, (o.name, key, dummy[key])


def test_sobol_ranks_the_price_level_first_for_the_mdf(sobol: dict[str, Any]) -> None:
    for name in ("mdf_pv_mean_usd", "mdf_p50_usd"):
        st = {r["factor"]: r["ST"] for r in sobol["sobol"][name]["indices"]}
        assert max(st, key=lambda k: st[k]) == "price_level", st


def test_sobol_is_reproducible_for_a_seed(with_dummy: None) -> None:
    a = run_json(*SOBOL_ARGS, "--seed", "3")
    b = run_json(*SOBOL_ARGS, "--seed", "3")
    c = run_json(*SOBOL_ARGS, "--seed", "4")
    assert a == b
    assert a["sobol"] != c["sobol"]


def test_sobol_csv_and_table(tmp_path: Path) -> None:
    res = invoke("--method", "sobol", "--samples", "4", "--paths", "256", "--inputs",
                 "price_level,capex_multiplier", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    for text in ("senior_el: Sobol' indices", "S1", "ST", "price_level", "capex_multiplier"):
        assert text in res.stdout, text
    rows = list(csv.DictReader(io.StringIO((tmp_path / "sensitivity.csv").read_text("utf-8"))))
    assert list(rows[0]) == ["output", "factor", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(rows) == 2 * len(OUTPUTS)
    data = json.loads((tmp_path / "sensitivity.json").read_text("utf-8"))
    assert data["run"]["evaluations"] == 4 * 4


def test_an_output_that_never_varies_has_no_indices(with_dummy: None) -> None:
    data = run_json("--method", "sobol", "--samples", "4", "--paths", "64", "--inputs", "dummy")
    for o in OUTPUTS:
        res = data["sobol"][o.name]
        assert res["constant"] is True
        assert res["indices"] == [{"factor": "dummy", "S1": None, "S1_conf": None, "ST": None, "ST_conf": None}]


# ---- bad input ----------------------------------------------------------------------------------------------


def _gbm_scenario(tmp_path: Path) -> Path:
    from importlib import resources

    text = resources.files("naef.scenario").joinpath("scenarios", "baseline.toml").read_text("utf-8")
    ou = 'model = "ou"\nkappa = 0.20\nlong_run_usd_per_bbl = 66.8\nsigma = 0.47\n'
    assert ou in text
    path = tmp_path / "gbm.toml"
    path.write_text(text.replace(ou, 'model = "gbm"\nsigma = 0.366\n'), encoding="utf-8")
    return path


@pytest.mark.parametrize(("args", "start"), [
    (("--method", "morris"), "error: --method: unknown method 'morris' (choose 'tornado' or 'sobol')"),
    (("--method", "tornado", "--inputs", "price_level,oil_price"),
     "error: --inputs: unknown input 'oil_price' (valid: price_level, price_volatility, price_kappa"),
    (("--method", "tornado", "--inputs", "price_level,price_level"), "error: --inputs: named more than once"),
    (("--method", "tornado", "--inputs", " , "), "error: --inputs: name at least one input"),
    (("--method", "sobol", "--samples", "6"), "error: --samples: must be a power of 2 (>= 2), got 6"),
    (("--method", "sobol", "--samples", "1"), "error: --samples: must be a power of 2"),
    (("--method", "tornado", "--samples", "8"), "error: --samples: only used with --method sobol"),
    (("--method", "tornado", "--paths", "0"), "error: --paths: must be at least 1"),
    (("--method", "tornado", "--seed", "-1"), "error: --seed:"),
    (("no-such-scenario", "--method", "tornado"), "error: "),
])
def test_bad_input_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                          args: tuple[str, ...], start: str) -> None:
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith(start), err
    assert err.count("\n") == 1, err


def test_unknown_input_lists_every_valid_name(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = run_main(monkeypatch, capsys, "--method", "tornado", "--inputs", "nope")
    for name in FACTORS:
        assert name in err, name


def test_an_input_that_does_not_apply_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _gbm_scenario(tmp_path)
    code, _, err = run_main(monkeypatch, capsys, str(path), "--method", "tornado", "--inputs", "price_kappa")
    assert code == 2
    assert err.startswith("error: --inputs: price_kappa does not apply to scenario 'baseline': the price model (gbm)")
    assert err.count("\n") == 1


def test_default_inputs_skip_factors_that_do_not_apply(tmp_path: Path) -> None:
    path = _gbm_scenario(tmp_path)
    res = invoke(str(path), "--method", "tornado", "--paths", "64", "--json")
    assert res.exit_code == 0, res.output
    names = [f["name"] for f in json.loads(res.stdout)["factors"]]
    assert "price_kappa" not in names
    assert "price_volatility" in names


def test_missing_method_is_a_usage_error() -> None:
    res = invoke("--paths", "64")
    assert res.exit_code == 2


def test_help_names_every_factor_and_the_cost() -> None:
    text = " ".join(HELP.split())
    for name in FACTORS:
        if name != "dummy":
            assert name in text, name
    assert "N (d + 2)" in text


def test_sobol_without_salib_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "SALib" else real(name, *a))
    code, _, err = run_main(monkeypatch, capsys, "--method", "sobol")
    assert code == 2
    assert err == "error: --method sobol: needs SALib, which is not installed (pip install 'naef[risk]')\n"
