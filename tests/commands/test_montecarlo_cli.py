"""``naef run --paths`` and ``naef size`` through the installed command: files, keys, reproducibility and bad
input (exit 2, one line, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests import data_paths

NAEF = Path(sys.executable).parent / "naef"


def run_naef(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NAEF), *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
        env={"PATH": str(NAEF.parent), "HOME": str(cwd), "LANG": "C.UTF-8", "COLUMNS": "200"},
    )


def test_run_paths_writes_summary_and_percentiles(tmp_path: Path) -> None:
    proc = run_naef("run", "--paths", "400", "--seed", "3", "--out", "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "o"
    assert sorted(p.name for p in out.iterdir()) == ["percentiles.csv", "report.html", "results.xlsx", "run.json",
                                                     "summary.json"]
    s = json.loads((out / "summary.json").read_text())
    assert s["run"]["kind"] == "monte_carlo"
    assert s["run"]["paths"] == 400
    assert s["run"]["seed"] == 3
    assert {"pd", "expected_loss", "implied_rating", "wal_years", "min_dscr"} <= set(s["tranches"][0])
    assert {"p10", "p50", "p90"} <= set(s["mdf"]["nominal_usd"])
    assert {"p10", "p50", "p90"} <= set(s["mdf"]["pv_usd"])
    assert s["breakeven_flat_price_usd_per_bbl"]["senior"] is not None
    p = pd.read_csv(out / "percentiles.csv")
    assert len(p) == s["scenario"]["years"] * s["scenario"]["periods_per_year"]
    for name in ("benchmark_usd_per_bbl_p5", "collections_usd_p95", "dscr_p50", "to_mdf_usd_p95"):
        assert name in p.columns
    for text in ("PD", "EL", "Mexican Development Fund", "summary.json"):
        assert text in proc.stdout


def test_chunk_size_does_not_change_the_files(tmp_path: Path) -> None:
    a = run_naef("run", "--paths", "300", "--chunk-size", "300", "--out", "a", "--quiet", cwd=tmp_path)
    b = run_naef("run", "--paths", "300", "--chunk-size", "37", "--threads", "1", "--out", "b", "--quiet",
                 cwd=tmp_path)
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    assert a.stdout == b.stdout == ""
    assert (tmp_path / "a" / "percentiles.csv").read_bytes() == (tmp_path / "b" / "percentiles.csv").read_bytes()
    sa = json.loads((tmp_path / "a" / "summary.json").read_text())
    sb = json.loads((tmp_path / "b" / "summary.json").read_text())
    sa["run"].pop("chunk_size")
    sb["run"].pop("chunk_size")
    assert sa == sb


def test_reference_engine_agrees_with_the_compiled_one(tmp_path: Path) -> None:
    a = run_naef("run", "--paths", "24", "--out", "a", "--quiet", cwd=tmp_path)
    b = run_naef("run", "--paths", "24", "--engine", "reference", "--out", "b", "--quiet", cwd=tmp_path)
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    sa = json.loads((tmp_path / "a" / "summary.json").read_text())
    sb = json.loads((tmp_path / "b" / "summary.json").read_text())
    for ta, tb in zip(sa["tranches"], sb["tranches"], strict=True):
        assert ta["pd"] == tb["pd"]
        assert ta["expected_loss"] == pytest.approx(tb["expected_loss"], rel=1e-8, abs=1e-12)
        assert ta["wal_years"] == pytest.approx(tb["wal_years"], rel=1e-9)
    assert sa["mdf"]["pv_usd"]["p50"] == pytest.approx(sb["mdf"]["pv_usd"]["p50"], rel=1e-9)


@pytest.mark.parametrize(("args", "needle"), [
    (["--paths", "0"], "--paths"),
    (["--paths", "10", "--chunk-size", "0"], "--chunk-size"),
    (["--paths", "10", "--seed", "-1"], "--seed"),
    (["--paths", "10", "--deterministic"], "--deterministic"),
    (["--paths", "10", "--engine", "fast"], "--engine"),
    (["--paths", "10", "--threads", "0"], "--threads"),
    (["--paths", "10", "--per-path", "all"], "--per-path"),
    (["--deterministic", "--per-path", "stream"], "--per-path"),
])
def test_bad_run_options_exit_2_with_one_line_and_write_nothing(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = run_naef("run", *args, "--out", "o", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0], proc.stderr
    assert not (tmp_path / "o").exists()


def test_per_path_stream_agrees_with_keep(tmp_path: Path) -> None:
    """``--per-path stream`` (mergeable summaries) against ``--per-path keep`` (every path's metrics) on the same
    paths: counts and PD equal, EL and means to rounding, quantiles within the sketch's 0.1 %; the streamed run
    says so in summary.json; the percentiles by period (histograms) are the same bytes."""
    a = run_naef("run", "--paths", "600", "--per-path", "keep", "--chunk-size", "250", "--out", "a", "--quiet",
                 cwd=tmp_path)
    b = run_naef("run", "--paths", "600", "--per-path", "stream", "--chunk-size", "250", "--out", "b", "--quiet",
                 cwd=tmp_path)
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    sa = json.loads((tmp_path / "a" / "summary.json").read_text())
    sb = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert sb["run"]["per_path_results"] == "streamed"
    assert "per_path_results" not in sa["run"]
    for ta, tb in zip(sa["tranches"], sb["tranches"], strict=True):
        assert ta["pd"] == tb["pd"]
        assert ta["expected_loss"] == pytest.approx(tb["expected_loss"], rel=1e-12, abs=1e-15)
    for key in ("p10", "p50", "p90"):
        assert sb["mdf"]["pv_usd"][key] == pytest.approx(sa["mdf"]["pv_usd"][key], rel=2e-3)
    assert (tmp_path / "a" / "percentiles.csv").read_bytes() == (tmp_path / "b" / "percentiles.csv").read_bytes()


def test_per_path_help_states_the_memory_trade_off() -> None:
    from naef.analysis.montecarlo import KEEP_PATHS_LIMIT
    from naef.cli import PER_PATH_HELP
    from naef.engine.metrics import N_METRICS_PATH, N_METRICS_TRANCHE
    from naef.scenario import load_scenario

    assert f"{KEEP_PATHS_LIMIT:,}" in PER_PATH_HELP
    assert "(7 per tranche + 8)" in PER_PATH_HELP
    assert (N_METRICS_TRANCHE, N_METRICS_PATH) == (7, 8)
    per_path_bytes = 8 * (len(load_scenario("baseline").tranches) * N_METRICS_TRANCHE + N_METRICS_PATH)
    assert f"{per_path_bytes} MB per million paths" in PER_PATH_HELP
    assert "flat in paths" in PER_PATH_HELP


def _structure_only(tmp_path: Path) -> str:
    """The baseline with an Aaa originator under an Aaa ceiling: no cap and (almost) no originator default, so that
    the search runs on the structure alone (issue 13 item 4 puts PEMEX's B1 + 2 = Ba2 above every size)."""
    from naef.resources import read_package_text

    text = read_package_text("naef.scenario", "scenarios", "baseline.toml")
    path = tmp_path / "structure.toml"
    path.write_text(text + '\n[originator]\nrating = "Aaa"\n\n[sovereign]\ncountry_ceiling = "Aaa"\n',
                    encoding="utf-8")
    return str(path)


def test_size_of_the_baseline_names_the_cap_that_binds(tmp_path: Path) -> None:
    proc = run_naef("size", "--target-rating", "Baa3", "--paths", "200", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())  # as one line, however the console wrapped it
    assert "Rating cap Ba2: PEMEX B1 + 2 notches = Ba2, Mexico's country ceiling A3" in out
    assert "Binding: the rating cap" in out
    # and both bases of what the structure alone would support, the structure's binding one named (issue 13)
    assert "What the structure alone would support (structural ratings, before the cap):" in out
    assert "EL basis" in out
    assert "PD basis" in out
    assert "The structure's binding basis:" in out


def test_size_finds_a_passing_size_with_every_evaluation(tmp_path: Path) -> None:
    proc = run_naef("size", _structure_only(tmp_path), "--target-rating", "A3", "--paths", "400", "--json",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["target_rating"] == "A3"
    assert r["size_usd"] > 0
    passing = [e for e in r["evaluations"] if e["passes"]]
    failing = [e for e in r["evaluations"] if not e["passes"]]
    assert r["size_usd"] == max(e["size_usd"] for e in passing)
    # monotone: every passing size is below every failing one
    assert not failing or max(e["scale"] for e in passing) < min(e["scale"] for e in failing)


def test_size_of_one_tranche(tmp_path: Path) -> None:
    proc = run_naef("size", _structure_only(tmp_path), "--target-rating", "B3", "--tranche", "B", "--paths", "300",
                    "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["tranche"] == "B"
    assert r["basis"] == "both"
    assert r["el"]["implied_rating"] is not None
    assert r["pd"]["implied_rating"] is not None
    # the binding basis is the one with the smaller size (none at all counts as the smallest)
    assert r["size_usd"] == r[r["binding"]]["size_usd"]
    other = r["pd" if r["binding"] == "el" else "el"]["size_usd"]
    assert r["size_usd"] is None or (other is not None and r["size_usd"] <= other)


@pytest.mark.parametrize(("args", "needle"), [
    (["--target-rating", "AAA"], "--target-rating"),
    (["--target-rating", "A2", "--tranche", "Z9"], "--tranche"),
    (["--target-rating", "A2", "--basis", "xx"], "--basis"),
    (["--target-rating", "A2", "--paths", "0"], "--paths"),
])
def test_bad_size_options_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = run_naef("size", *args, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0], proc.stderr


BASELINE_TOML = (Path(__file__).resolve().parents[2] / "src" / "naef" / "scenario" / "scenarios" / "baseline.toml"
                 ).read_text(encoding="utf-8")


def _with(extra: str, old: str = "\n[gas_price]") -> str:
    assert old in BASELINE_TOML
    return BASELINE_TOML.replace(old, f"\n{extra}\n{old}", 1)


@pytest.mark.parametrize(("text", "needle"), [
    (BASELINE_TOML.replace("sigma = 0.47", "sigma = -0.2"), "price.stochastic.sigma"),
    (BASELINE_TOML.replace('model = "ou"\nkappa = 0.20', 'model = "schwartz_smith"\nkappa = 0.20\nsigma_chi = 0.3\n'
                           'sigma_xi = 0.1\nrho = 1.5'), "price.stochastic"),
    (BASELINE_TOML.replace('model = "ou"\nkappa = 0.20\nlong_run_usd_per_bbl = 66.8\nsigma = 0.47',
                           'model = "bootstrap"\nhistory_csv = "missing.csv"'), "price.stochastic.history_csv"),
    (BASELINE_TOML.replace('model = "ou"\nkappa = 0.20\nlong_run_usd_per_bbl = 66.8\nsigma = 0.47',
                           'model = "bootstrap"\nhistory_csv = "empty.csv"'), "price.stochastic.history_csv"),
    (BASELINE_TOML.replace('model = "ou"\nkappa = 0.20', 'model = "garch"\nkappa = 0.20'), "price.stochastic.model"),
    (_with("[uncertainty.classes.deepwater]\ndelay_year_probabilities = [0.5, 0.4]"),
     "uncertainty.classes.deepwater.delay_year_probabilities"),
    (_with('[[hedges]]\nkind = "collar"\nshare_of_expected_production = 0.5\nput_strike_usd_per_bbl = 50\n'
           'first_year = 2030\nlast_year = 2032'), "hedges[0]"),
    (BASELINE_TOML.replace("deck = [[2026, 70.0], [2027, 65.0], [2030, 65.0], [2035, 70.0]]",
                           "deck = [[2026, 0.0], [2027, 0.0], [2035, 70.0]]"), "price.stochastic"),
])
def test_bad_stochastic_inputs_exit_2_naming_the_key(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    proc = run_naef("run", "s.toml", "--paths", "50", "--out", "o", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0], proc.stderr
    assert not (tmp_path / "o").exists()


def test_bootstrap_from_the_eia_history_runs(tmp_path: Path) -> None:
    eia = data_paths.BRENT_MONTHLY
    text = BASELINE_TOML.replace('model = "ou"\nkappa = 0.20\nlong_run_usd_per_bbl = 66.8\nsigma = 0.47',
                                 f'model = "bootstrap"\nblock_months = 12\nhistory_csv = "{eia}"')
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    proc = run_naef("run", "s.toml", "--paths", "300", "--out", "o", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["run"]["price_model"] == "bootstrap"
    assert "history" not in s["run"]["price_model_parameters"]
