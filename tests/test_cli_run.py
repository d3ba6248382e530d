"""The ``naef`` command, run as a user runs it: the installed console script in a subprocess.

Exit codes matter here and the NaefError → exit code 2 conversion lives in ``naef.cli.main()``, so the tests call
the real entry point (``<venv>/bin/naef``) rather than Typer's CliRunner on ``naef.cli.app``.

Checked: the main job (``naef run --out DIR`` on the built-in baseline) writes ``cashflows.csv`` with one row per
period and the columns issue #2 lists, in that order, and ``summary.json`` with the keys it lists; the cash
identity of ``naef.engine.waterfall.cash_identity_residual`` holds on the CSV's own columns; ``--engine reference``
gives the same numbers; every bad input exits 2 with one line on stderr that names the key path and the reason,
no traceback, and nothing written to the output folder; ``naef validate`` and ``naef scenarios``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import naef
from naef.scenario import content_hash, load_scenario

NAEF = Path(sys.executable).parent / "naef"
BASELINE_TOML = (
    Path(naef.__file__).parent / "scenario" / "scenarios" / "baseline.toml"
).read_text(encoding="utf-8")


def run_naef(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NAEF), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": str(NAEF.parent), "HOME": str(cwd), "LANG": "C.UTF-8"},
    )


# ---- the main job ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("run")
    out = root / "out-vector"
    proc = run_naef("run", "--deterministic", "--out", str(out), cwd=root)
    return {"proc": proc, "out": out, "root": root}


@pytest.fixture(scope="module")
def baseline_csv(baseline_run: dict[str, Any]) -> pd.DataFrame:
    assert baseline_run["proc"].returncode == 0, baseline_run["proc"].stderr
    return pd.read_csv(baseline_run["out"] / "cashflows.csv")


@pytest.fixture(scope="module")
def baseline_summary(baseline_run: dict[str, Any]) -> dict[str, Any]:
    assert baseline_run["proc"].returncode == 0, baseline_run["proc"].stderr
    return json.loads((baseline_run["out"] / "summary.json").read_text(encoding="utf-8"))


def test_run_baseline_exits_zero_and_writes_the_two_files(baseline_run: dict[str, Any]) -> None:
    proc = baseline_run["proc"]
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert sorted(p.name for p in baseline_run["out"].iterdir()) == ["cashflows.csv", "report.html", "results.xlsx",
                                                                    "run.json", "summary.json"]
    # the readable summary on the terminal
    for text in ("baseline", "Sources and uses", "A1", "B", "MDF", "cashflows.csv", "summary.json"):
        assert text in proc.stdout


def test_cashflows_has_one_row_per_period(baseline_csv: pd.DataFrame) -> None:
    sc = load_scenario("baseline")
    n = sc.scenario.years * sc.scenario.periods_per_year
    assert len(baseline_csv) == n
    starts = pd.to_datetime(baseline_csv["period_start"])
    assert starts.iloc[0] == pd.Timestamp(sc.scenario.start)
    months = (starts.dt.year * 12 + starts.dt.month).to_numpy()
    assert np.all(np.diff(months) == 12 // sc.scenario.periods_per_year)
    days = (starts.shift(-1) - starts).dt.days.to_numpy()[:-1]
    np.testing.assert_array_equal(baseline_csv["period_days"].to_numpy()[:-1], days)


def test_cashflows_columns_are_those_of_the_issue_in_order(baseline_csv: pd.DataFrame) -> None:
    names = [t.name for t in load_scenario("baseline").tranches]
    required = [
        "period_start", "production_bpd", "price_usd_per_bbl", "revenue_usd", "opex_usd", "duties_usd",
        "collections_usd", "fees_usd",
    ]
    for name in names:
        required += [f"interest_paid_usd_{name}", f"principal_paid_usd_{name}", f"interest_shortfall_usd_{name}",
                     f"principal_outstanding_usd_{name}"]
    required += ["dsra_balance_usd", "dsra_draw_usd", "dsra_deposit_usd", "trapped_usd", "trap_release_usd",
                 "to_mdf_usd"]
    columns = list(baseline_csv.columns)
    missing = [c for c in required if c not in columns]
    assert not missing
    positions = [columns.index(c) for c in required]
    # the tranche columns come after the operating ones and before the reserve/trap/MDF ones
    assert positions[7] < min(positions[8:8 + 4 * len(names)])
    assert max(positions[8:8 + 4 * len(names)]) < min(positions[8 + 4 * len(names):])
    assert not baseline_csv[required[1:]].isna().any().any()


def test_cash_identity_holds_on_the_csv_columns(baseline_csv: pd.DataFrame) -> None:
    """README / waterfall.py: proceeds + collections + pemex_capex_funding + reinvestment_income = capex
    + issuance_costs + fees + Σ interest + Σ principal + to_mdf + returned_to_pemex
    + Δ(construction + cia + dsra + trap balances)."""
    df = baseline_csv
    names = [t.name for t in load_scenario("baseline").tranches]
    paid = sum(df[f"interest_paid_usd_{n}"] + df[f"principal_paid_usd_{n}"] for n in names)
    balances = df["construction_balance_usd"] + df["cia_balance_usd"] + df["dsra_balance_usd"] + df["trap_balance_usd"]
    delta = balances.diff().fillna(balances.iloc[0])
    residual = (
        df["proceeds_usd"] + df["collections_usd"] + df["pemex_capex_funding_usd"] + df["reinvestment_income_usd"]
        - df["capex_usd"] - df["issuance_costs_usd"] - df["fees_usd"] - paid
        - df["to_mdf_usd"] - df["returned_to_pemex_usd"] - delta
    )
    # the CSV has 6 decimals; amounts are up to ~1e10 USD, so float rounding is ~1e-5 USD
    assert residual.abs().max() < 1e-3
    # and the identity is not vacuous: money actually moves through every term
    for col in ("proceeds_usd", "collections_usd", "capex_usd", "to_mdf_usd", "dsra_deposit_usd"):
        assert df[col].abs().sum() > 1e6


def test_cashflows_operating_columns_are_consistent(baseline_csv: pd.DataFrame) -> None:
    df = baseline_csv
    np.testing.assert_allclose(df["revenue_usd"], df["oil_revenue_usd"] + df["gas_revenue_usd"], rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(
        df["oil_revenue_usd"], df["production_bpd"] * df["period_days"] * df["price_usd_per_bbl"], rtol=1e-6,
        atol=1e-3,
    )
    net = (df["revenue_usd"] - df["opex_usd"] - df["duties_usd"]).clip(lower=0.0)
    np.testing.assert_allclose(df["collections_usd"], net + df["pledged_exports_usd"], rtol=1e-9, atol=1e-3)
    for col in ("dsra_balance_usd", "trap_balance_usd", "to_mdf_usd", "fees_usd"):
        assert (df[col] >= -1e-6).all()


def test_summary_has_the_keys_of_the_issue(baseline_summary: dict[str, Any], baseline_csv: pd.DataFrame) -> None:
    s = baseline_summary
    sc = load_scenario("baseline")
    assert s["scenario"]["name"] == "baseline"
    assert s["scenario"]["content_hash_sha256"] == content_hash(sc)
    assert re.fullmatch(r"[0-9a-f]{64}", s["scenario"]["content_hash_sha256"])
    assert s["naef_version"] == naef.__version__
    assert s["issuance_usd"] == pytest.approx(sum(t.size_usd for t in sc.tranches), rel=1e-12)
    su = s["sources_and_uses"]
    assert su["sources"]["securities_proceeds_usd"] == pytest.approx(s["issuance_usd"])
    assert set(su["uses"]) >= {"field_capex_usd", "issuance_costs_usd", "initial_dsra_usd",
                               "capitalised_interest_usd"}
    assert su["total_uses_usd"] == pytest.approx(sum(su["uses"].values()), rel=1e-12)
    assert s["issuance_usd"] - su["total_uses_usd"] == pytest.approx(su["surplus_usd"] - su["shortfall_usd"],
                                                                      abs=1e-3)
    assert su["uses"]["field_capex_usd"] == pytest.approx(sum(sum(f.capex_usd) for f in sc.fields), rel=1e-12)
    assert [t["name"] for t in s["tranches"]] == [t.name for t in sc.tranches]
    for t in s["tranches"]:
        for key in ("wal_years", "min_dscr", "mean_dscr"):
            assert isinstance(t[key], float)
        assert 0.0 < t["wal_years"] < 30.0
        assert t["min_dscr"] <= t["mean_dscr"]
        assert t["interest_paid_usd"] == pytest.approx(baseline_csv[f"interest_paid_usd_{t['name']}"].sum(),
                                                       rel=1e-9)
    assert s["production"]["cumulative_oil_mmbbl"] == pytest.approx(
        (baseline_csv["production_bpd"] * baseline_csv["period_days"]).sum() / 1e6, rel=1e-9)
    assert s["production"]["cumulative_oil_mmbbl"] <= sum(
        f.reserves_mmbbl for f in sc.fields if f.reserves_mmbbl is not None)
    assert s["totals"]["to_mdf_usd"] == pytest.approx(baseline_csv["to_mdf_usd"].sum(), rel=1e-9, abs=1e-3)
    assert s["cash_identity_max_abs_error_usd"] < 1e-3


def test_reference_engine_gives_the_same_numbers(
    baseline_run: dict[str, Any], baseline_csv: pd.DataFrame, baseline_summary: dict[str, Any]
) -> None:
    out = baseline_run["root"] / "out-reference"
    proc = run_naef("run", "baseline", "--engine", "reference", "--out", str(out), "--quiet", cwd=baseline_run["root"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    ref = pd.read_csv(out / "cashflows.csv")
    assert list(ref.columns) == list(baseline_csv.columns)
    assert (ref["period_start"] == baseline_csv["period_start"]).all()
    numeric = [c for c in ref.columns if c != "period_start"]
    np.testing.assert_allclose(ref[numeric].to_numpy(), baseline_csv[numeric].to_numpy(), rtol=1e-9, atol=1e-3)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == baseline_summary["scenario"]
    assert summary["totals"]["to_mdf_usd"] == pytest.approx(baseline_summary["totals"]["to_mdf_usd"], rel=1e-9)
    for a, b in zip(summary["tranches"], baseline_summary["tranches"], strict=True):
        assert a["wal_years"] == pytest.approx(b["wal_years"], rel=1e-9)
        assert a["investor_yield"] == pytest.approx(b["investor_yield"], rel=1e-9)


def test_run_a_scenario_file_and_the_default_output_folder(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(BASELINE_TOML.replace('name = "baseline"', 'name = "mine"'), encoding="utf-8")
    proc = run_naef("run", str(path), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out" / "mine" / "latest"  # out/<scenario>/run-<UTC time>/, latest pointing at it
    assert out.is_symlink()
    assert str(out.readlink()).startswith("run-")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"]["name"] == "mine"
    assert summary["scenario"]["content_hash_sha256"] == content_hash(load_scenario(path))
    assert summary["scenario"]["content_hash_sha256"] != content_hash(load_scenario("baseline"))


# ---- bad input ---------------------------------------------------------------------------------------------


def _edit(old: str, new: str, count: int = 1) -> str:
    assert old in BASELINE_TOML, old
    return BASELINE_TOML.replace(old, new, count)


_A1_MATURITY = 'maturity_years = 15\ngrace_years = 3\nseniority = 1\n\n[[tranches]]\nname = "A2"'

BAD_INPUTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # case: (TOML text, key path named, words of the reason)
    "unknown-key": (_edit("issuance_pct = 0.0075", "issuance_pct = 0.0075\nbogus_key = 1"),
                    "fees.bogus_key", ("unknown key",)),
    "unknown-section": (BASELINE_TOML + "\n[extras]\nx = 1\n", "extras", ("unknown table `extras`",)),
    "wrong-type": (_edit("years = 30", 'years = "thirty"'), "scenario.years", ("whole number", "'thirty'")),
    "wrong-type-nested": (_edit("decline = { model = \"hyperbolic\", di = 0.15, b = 0.5 }   # ILLUSTRATIVE (no",
                                "decline = { model = \"hyperbolic\", di = \"fast\", b = 0.5 }   # ILLUSTRATIVE (no"),
                          "fields[0].decline.di", ("number",)),
    "negative-size": (_edit("size_usd = 25.0e9", "size_usd = -25.0e9"), "tranches[0].size_usd", ("greater than 0",)),
    "negative-reserves": (_edit("reserves_mmbbl = 450", "reserves_mmbbl = -450"), "fields[1].reserves_mmbbl",
                          ("greater than 0",)),
    "missing-field": (_edit(_A1_MATURITY, _A1_MATURITY.removeprefix("maturity_years = 15\n")),
                      "tranches[0].maturity_years", ("missing",)),
    "missing-section": (_edit("[price]", "[price_]").replace("[price_]", "[unused]", 1), "price", ("missing",)),
    "impossible-date-quoted": (_edit("start = 2027-01-01", 'start = "2027-02-30"'), "scenario.start", ("date",)),
    "impossible-date": (_edit("start = 2027-01-01", "start = 2027-02-30"), "scenario.start", ("date",)),
    "start-not-a-quarter": (_edit("start = 2027-01-01", "start = 2027-02-01"), "scenario.start",
                            ("first day of a quarter",)),
    "pledges-reserves": (_edit('source = "incremental_plus_exports"', 'source = "reserves"'),
                         "collateral.source", ("reserves", "not allowed", "revenues")),
    "non-pemex-operator": (_edit('name = "Zama"', 'name = "Zama"\noperator = "Shell"'), "fields[0].operator",
                           ("Shell", "PEMEX")),
    "grace-covers-maturity": (
        _edit('amortization = "straight"\nissue_year = 2028\nmaturity_years = 16\ngrace_years = 4',
              'amortization = "bullet"\nissue_year = 2028\nmaturity_years = 16\ngrace_years = 16'),
        "tranches[3].grace_years", ("shorter than maturity",)),
    "transfers-ownership": (_edit("[collateral]", "[collateral]\ntransfers_ownership = true"),
                            "collateral.transfers_ownership", ("ownership", "not allowed", "revenues")),
}


def _assert_one_clean_error_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "Traceback" not in proc.stdout
    lines = proc.stderr.strip("\n").split("\n")
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def _run_bad(case: str, tmp_path: Path, *, out_exists: bool) -> None:
    text, key_path, reason = BAD_INPUTS[case]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    if out_exists:
        out.mkdir()
    proc = run_naef("run", str(path), "--out", str(out), cwd=tmp_path)
    line = _assert_one_clean_error_line(proc, key_path, *reason)
    assert str(path) in line
    assert (not out.exists()) if not out_exists else list(out.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == (["bad.toml", "out"] if out_exists else ["bad.toml"])


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_scenario_exits_2_with_one_line_and_writes_nothing(case: str, tmp_path: Path) -> None:
    _run_bad(case, tmp_path, out_exists=False)


@pytest.mark.parametrize("case", ["negative-size", "pledges-reserves"])
def test_bad_scenario_leaves_an_existing_output_folder_empty(case: str, tmp_path: Path) -> None:
    _run_bad(case, tmp_path, out_exists=True)


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = _edit('name = "baseline"', 'name = "baseline')
    line_no = text.split("\n").index('name = "baseline') + 1
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    proc = run_naef("run", str(path), "--out", str(out), cwd=tmp_path)
    _assert_one_clean_error_line(proc, str(path), "TOML syntax error", f"line {line_no}")
    assert not out.exists()


@pytest.mark.parametrize("case", ["wrong-type", "pledges-reserves", "impossible-date"])
def test_validate_rejects_bad_scenarios_the_same_way(case: str, tmp_path: Path) -> None:
    text, key_path, reason = BAD_INPUTS[case]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    _assert_one_clean_error_line(run_naef("validate", str(path), cwd=tmp_path), key_path, *reason)


def test_missing_scenario_file_and_bad_options(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _assert_one_clean_error_line(run_naef("run", "no-such.toml", "--out", str(out), cwd=tmp_path), "no-such.toml")
    _assert_one_clean_error_line(run_naef("run", "--engine", "bogus", "--out", str(out), cwd=tmp_path),
                                 "--engine", "bogus")
    assert not out.exists()


# ---- validate and scenarios ------------------------------------------------------------------------------


def test_validate_baseline_prints_name_and_hash_on_one_line(tmp_path: Path) -> None:
    """Run in a pipe (no terminal, so Rich assumes 80 columns): the hash must stay on the ``ok:`` line so a
    script or a person can copy it."""
    proc = run_naef("validate", "baseline", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"ok: baseline (sha256 {content_hash(load_scenario('baseline'))})"


def test_scenarios_lists_and_prints_the_baseline(tmp_path: Path) -> None:
    listing = run_naef("scenarios", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "baseline" in listing.stdout.split()
    shown = run_naef("scenarios", "baseline", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == BASELINE_TOML
    # the printed text is a starting point: saved to a file it validates to the same content hash
    copy = tmp_path / "copy.toml"
    copy.write_text(shown.stdout, encoding="utf-8")
    assert content_hash(load_scenario(copy)) == content_hash(load_scenario("baseline"))
    _assert_one_clean_error_line(run_naef("scenarios", "nosuch", cwd=tmp_path), "nosuch")
