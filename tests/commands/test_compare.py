"""``naef compare`` (issue 17, item 1): designs side by side.

Checked: comparing the baseline with a copy whose senior coupon is edited by hand finds exactly that key path as the
one input that differs; the headline results are those of the baseline's own Monte Carlo (the same seed and paths,
run directly through ``naef.monte_carlo``); the runs share the seed and the table says "common random numbers";
``compare.html`` is self-contained with the differences highlighted and the overlaid fan charts, ``compare.xlsx``
holds the rows; an earlier run's folder is read back and equals the same scenario run here; bad input (unknown
name, a run of another scenario schema, a folder of another kind, one input) exits 2 with one line, writing
nothing.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import naef
from naef.scenario import load_scenario
from naef.studies.settings import RunSettings
from tests.cli_main import naef_main

PATHS = "300"
BASELINE_TOML = (Path(naef.__file__).parent / "scenario" / "scenarios" / "baseline.toml").read_text("utf-8")


def _mine(folder: Path) -> Path:
    a1 = BASELINE_TOML.index('name = "A1"')
    at = BASELINE_TOML.index("coupon_rate", a1)
    text = BASELINE_TOML[:at] + "coupon_rate = 0.0725" + BASELINE_TOML[BASELINE_TOML.index("\n", at):]
    path = folder / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("compare")
    mine = _mine(root)
    mp = pytest.MonkeyPatch()
    cap: list[str] = []
    try:
        import sys

        from naef.cli import main

        mp.setattr(sys, "argv", ["naef", "compare", "baseline", str(mine), "--paths", PATHS, "--out",
                                 str(root / "o"), "--quiet"])
        with pytest.raises(SystemExit) as exc:
            main()
        cap.append(str(exc.value.code))
    finally:
        mp.undo()
    return {"root": root, "out": root / "o", "mine": mine, "code": cap[0]}


def test_compare_writes_its_files(compared: dict[str, Any]) -> None:
    assert compared["code"] in ("0", "None")
    out = compared["out"]
    assert sorted(p.name for p in out.iterdir()) == ["compare.html", "compare.json", "compare.xlsx", "run.json"]
    run = json.loads((out / "run.json").read_text("utf-8"))
    assert run["kind"] == "compare"
    assert [s["name"] for s in run["scenarios"]] == ["baseline", "baseline"]


def test_the_one_input_that_differs_and_common_random_numbers(compared: dict[str, Any]) -> None:
    doc = json.loads((compared["out"] / "compare.json").read_text("utf-8"))
    base = load_scenario("baseline")
    assert doc["differences"] == [{"key": "tranches[0].coupon_rate", "values": [base.tranches[0].coupon_rate, 0.0725]}]
    assert doc["common_random_numbers"] is True
    assert "common random numbers" in doc["common_random_numbers_note"]
    assert [i["label"] for i in doc["inputs"]] == ["baseline", "mine"]


def test_headlines_are_the_scenarios_own_monte_carlo(compared: dict[str, Any]) -> None:
    doc = json.loads((compared["out"] / "compare.json").read_text("utf-8"))
    direct = naef.monte_carlo(load_scenario("baseline"), RunSettings(paths=int(PATHS), seed=1)).summary
    got = doc["results"][0]
    assert got["issuance_usd"] == direct["issuance_usd"]
    for mine, ref in zip(got["tranches"], direct["tranches"], strict=True):
        assert mine["pd"] == ref["pd"]
        assert mine["expected_loss"] == ref["expected_loss"]
        assert mine["implied_rating"] == ref["implied_rating"]
        assert mine["min_dscr_p50"] == ref["min_dscr"]["p50"]
    assert got["mdf"]["nominal_p50_usd"] == direct["mdf"]["nominal_usd"]["p50"]
    assert got["mdf"]["pv_p50_usd"] == direct["mdf"]["pv_usd"]["p50"]
    worst = max(direct["tranches"], key=lambda t: t["expected_loss"])
    assert got["binding_constraint"]["tranche"] == worst["name"]
    # a higher senior coupon costs the senior class coverage on the same paths: its minimum DSCR cannot rise
    other = doc["results"][1]
    assert other["tranches"][0]["min_dscr_p50"] <= got["tranches"][0]["min_dscr_p50"]


def test_html_is_self_contained_and_highlights_differences(compared: dict[str, Any]) -> None:
    html = (compared["out"] / "compare.html").read_text("utf-8")
    assert "tranches[0].coupon_rate" in html
    assert re.search(r'<td class="[^"]*\bdiff\b', html)
    assert "chart-compare-to-mdf-usd" in html
    assert "common random numbers" in html
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://', html)


def test_workbook_holds_the_rows(compared: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(io.BytesIO((compared["out"] / "compare.xlsx").read_bytes()))
    ws = wb["comparison"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("section", "figure", "baseline", "mine", "differs")
    coupon = next(r for r in rows if r[1] == "tranches[0].coupon_rate")
    assert coupon[2:] == (load_scenario("baseline").tranches[0].coupon_rate, 0.0725, "yes")


def test_a_run_folder_is_read_back(compared: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = compared["root"]
    code, _, err = naef_main(monkeypatch, capsys, "run", "--paths", PATHS, "--out", str(root / "r"), "--quiet")
    assert code in (0, None), err
    code, out, err = naef_main(monkeypatch, capsys, "compare", str(root / "r"), "baseline", "--paths", PATHS,
                               "--out", str(root / "c2"))
    assert code in (0, None), err
    doc = json.loads((root / "c2" / "compare.json").read_text("utf-8"))
    assert doc["differences"] == []
    assert doc["results"][0]["tranches"] == doc["results"][1]["tranches"]
    assert doc["common_random_numbers"] is True
    assert "Common random numbers: yes" in out
    # two run folders only: nothing is simulated, so run.json records no seed or paths it did not use
    code, _, err = naef_main(monkeypatch, capsys, "compare", str(root / "r"), str(root / "r"), "--out",
                             str(root / "c3"), "--quiet")
    assert code in (0, None), err
    run = json.loads((root / "c3" / "run.json").read_text("utf-8"))
    assert run["seed"] is None
    assert run["paths"] is None


@pytest.mark.parametrize("case", ["unknown", "one", "schema", "kind"])
def test_bad_input_exits_2_writing_nothing(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    if case == "unknown":
        args, words = ["baseline", "no-such-scenario"], ["no-such-scenario", "not a scenario file"]
    elif case == "one":
        args, words = ["baseline"], ["at least two"]
    elif case == "kind":
        code, _, err = naef_main(monkeypatch, capsys, "stress", "--episode", "crash_2020", "--out", "s", "--json")
        assert code in (0, None), err
        args, words = ["s", "baseline"], ["a stress folder"]
    else:
        code, _, err = naef_main(monkeypatch, capsys, "run", "--out", "r", "--quiet")
        assert code in (0, None), err
        run = json.loads(Path("r/run.json").read_text())
        run["scenario_inputs"]["fees"]["old_fee_kind"] = 1  # a key this naef's scenario schema does not have
        Path("r/run.json").write_text(json.dumps(run))
        args, words = ["r", "baseline"], ["another scenario schema", "fees.old_fee_kind"]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, stdout, err = naef_main(monkeypatch, capsys, "compare", *args, "--paths", "100")
    assert code == 2, (stdout, err)
    lines = err.strip().split("\n")
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == before
