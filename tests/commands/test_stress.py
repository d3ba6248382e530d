"""``naef stress``: the JSON document equals the engine's, the default set of paths, --levels, the tables, the files
of --out, and one line on stderr with exit code 2 for bad input.

The command is registered on a test app here; the conversion NaefError -> exit 2 is ``naef.cli.main``'s, so the
bad-input tests run ``main`` with ``naef.cli.app`` swapped for that test app (as tests/commands/test_calibrate.py).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from naef import load_scenario
from naef.analysis.stress_inputs import load_episodes
from naef.commands.stress import register
from naef.studies.stress import stress_scenario
from tests.cli_main import naef_main

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)


@app.callback()
def _root() -> None:
    """Test app (a callback keeps ``stress`` a subcommand, as in ``naef``)."""


register(app)

KEYS = ["scenario", "naef_version", "run", "episodes_source", "paths", "paths_file"]
CSV_COLUMNS = ["path", "period_start", "benchmark_usd_per_bbl", "collections_usd", "dscr", "trapped_usd",
               "to_mdf_usd", "event_of_default"]
N_PERIODS = 120  # the baseline: 30 years of quarters


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["stress", *args], env={"COLUMNS": "200"})


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[Any, str, str]:
    """``naef stress *args`` through the real ``naef.cli.main()``: (exit code, stdout, stderr)."""
    return naef_main(monkeypatch, capsys, "stress", *args)


def write_deck(path: Path, rows: list[tuple[str, float]], header: str = "Date,Price") -> Path:
    path.write_text(header + "\n" + "".join(f"{d},{p!r}\n" for d, p in rows), encoding="utf-8")
    return path


def flat_rows(price: float) -> list[tuple[str, float]]:
    return [(f"{2027 + q // 4}-{3 * (q % 4) + 1:02d}-01", price) for q in range(N_PERIODS)]


# ---- output -----------------------------------------------------------------------------------------------


def test_json_equals_the_engine_and_defaults_to_every_episode() -> None:
    res = invoke("--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert list(doc) == KEYS
    names = [p["name"] for p in doc["paths"]]
    assert names == ["base", *load_episodes().names]
    assert doc == json.loads(json.dumps(stress_scenario(load_scenario("baseline")).summary))
    assert doc["run"]["modes"] == ["scaled"]
    assert all(p["benchmark_usd_per_bbl"]["first"] == 65.0 for p in doc["paths"])
    crash = next(p for p in doc["paths"] if p["name"] == "collapse_2008")
    assert crash["mdf"]["loss_vs_base_usd"] > 0.0
    assert "EIA" in crash["source"]
    assert "2008Q2" in crash["source"]


def test_levels_and_the_chosen_episodes_only() -> None:
    res = invoke("--episode", "collapse_2008", "--episode", "crash_2020", "--levels", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [p["name"] for p in doc["paths"]] == ["base", "collapse_2008", "crash_2020"]
    assert doc["run"]["modes"] == ["levels"]
    assert doc["paths"][1]["benchmark_usd_per_bbl"]["first"] == 121.40  # Brent 2008Q2 as it was
    assert doc["paths"][2]["benchmark_usd_per_bbl"]["first"] == 63.41  # Brent 2019Q4


def test_decks_alone_run_no_episode(tmp_path: Path) -> None:
    low = write_deck(tmp_path / "low.csv", flat_rows(10.0))
    high = write_deck(tmp_path / "high.csv", flat_rows(200.0), header="period_start,price")
    res = invoke("--deck", str(low), "--deck", str(high), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [p["name"] for p in doc["paths"]] == ["base", "low.csv", "high.csv"]
    lo, hi = doc["paths"][1], doc["paths"][2]
    assert any(t["defaulted"] for t in lo["tranches"] if t["seniority"] == 1)
    assert not any(t["defaulted"] for t in hi["tranches"])
    assert doc["run"]["modes"] == []


def test_same_file_name_in_two_folders_keeps_both(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_deck(tmp_path / "a" / "deck.csv", [("2027-01-01", 40.0)])
    b = write_deck(tmp_path / "b" / "deck.csv", [("2027-01-01", 50.0)])
    res = invoke("--deck", str(a), "--deck", str(b), "--json")
    assert res.exit_code == 0, res.output
    assert [p["name"] for p in json.loads(res.stdout)["paths"]] == ["base", str(a), str(b)]


def test_tables_show_paths_tranches_and_the_source() -> None:
    res = invoke("--episode", "slump_2014")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Price paths and the Mexican Development Fund" in out
    assert "Tranches under stress" in out
    rows = [line for line in out.splitlines() if line.lstrip().startswith("slump_2014")]
    assert len(rows) == 1 + 4  # the path row and the four tranches
    assert "eia.gov" in out
    assert "deck resumes" in out


def test_out_writes_stress_json_and_paths_csv(tmp_path: Path) -> None:
    low = write_deck(tmp_path / "low.csv", flat_rows(10.0))
    res = invoke("--episode", "crash_2020", "--deck", str(low), "--out", str(tmp_path / "o"), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "o" / "stress.json").read_text("utf-8"))
    assert doc == json.loads(res.stdout)
    assert doc["paths_file"] == "stress_paths.csv"
    rows = list(csv.DictReader(io.StringIO((tmp_path / "o" / "stress_paths.csv").read_text("utf-8"))))
    assert list(rows[0]) == CSV_COLUMNS
    assert len(rows) == 3 * N_PERIODS
    for p in doc["paths"]:
        mine = [r for r in rows if r["path"] == p["name"]]
        assert len(mine) == N_PERIODS
        assert sum(float(r["to_mdf_usd"]) for r in mine) == pytest.approx(p["mdf"]["inflows_usd"], abs=1.0)
        assert float(mine[0]["benchmark_usd_per_bbl"]) == pytest.approx(p["benchmark_usd_per_bbl"]["first"])
    assert {float(r["benchmark_usd_per_bbl"]) for r in rows if r["path"] == "low.csv"} == {10.0}
    assert rows[0]["dscr"] == ""  # no debt service due in the first quarter: no DSCR
    table = invoke("--episode", "crash_2020", "--out", str(tmp_path / "t"))
    assert table.exit_code == 0, table.output
    assert "Wrote" in table.stdout
    assert (tmp_path / "t" / "stress_paths.csv").exists()


def test_help_documents_the_options_and_keys() -> None:
    res = invoke("--help")
    assert res.exit_code == 0
    text = " ".join(res.stdout.split())
    for word in ("--episode", "--deck", "--scale-to-spot", "--levels", "--json", "--out", *KEYS, *CSV_COLUMNS,
                 *load_episodes().names, "Date,Price", "period_start,price"):
        assert word in text, word


# ---- bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deck", "message"),
    [
        ("", "--deck {p}: empty file"),
        ("Date,Price\n", "--deck {p}: no price rows after the header"),
        ("Day,Value\n2027-01-01,60\n", "--deck {p}:1: expected the header"),
        ("Date,Price\n2027-01-01,sixty\n", "--deck {p}:2: bad price 'sixty'"),
        ("Date,Price\n2027-01-01,-1\n", "--deck {p}:2: negative price -1"),
        ("Date,Price\n2026-10-01,60\n", "--deck {p}:2: date 2026-10-01 is outside the scenario's horizon"),
        ("Date,Price\n2060-01-01,60\n", "--deck {p}:2: date 2060-01-01 is outside the scenario's horizon"),
    ],
)
def test_bad_decks_exit_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, deck: str, message: str
) -> None:
    p = tmp_path / "deck.csv"
    p.write_text(deck, encoding="utf-8")
    code, out, err = run_main(monkeypatch, capsys, "--deck", str(p))
    assert code == 2
    assert out == ""
    assert err.startswith("error: " + message.format(p=p)), err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--episode", "dotcom_2001"), "error: --episode: unknown episode 'dotcom_2001' (shipped: collapse_2008, "),
        (("--episode", "crash_2020", "--episode", "crash_2020"), "error: --episode: 'crash_2020' is given twice"),
        (("--deck", "no-such-deck.csv"), "error: --deck no-such-deck.csv: cannot read the file"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith(message), err
    assert err.count("\n") == 1


def test_same_deck_twice_and_a_bad_scenario_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    p = write_deck(tmp_path / "d.csv", [("2027-01-01", 40.0)])
    code, _, err = run_main(monkeypatch, capsys, "--deck", str(p), "--deck", str(p))
    assert code == 2
    assert err == f"error: --deck {p}: given twice\n"
    code, _, err = run_main(monkeypatch, capsys, str(tmp_path / "missing.toml"))
    assert code == 2
    assert err.startswith("error: ")
    assert err.count("\n") == 1


def test_bad_out_folder_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_main(monkeypatch, capsys, "--episode", "crash_2020", "--out", str(blocker))
    assert code == 2
    assert err.startswith(f"error: --out {blocker}")
