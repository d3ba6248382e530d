"""``--set KEY=VALUE`` on every command that takes a scenario (issue 17, item 2).

Checked: values are TOML values (numbers, arrays, strings, dates) and a bare word is a string; array entries by
index or by name (``fields[Zama]``); the derived scenario equals one loaded from the edited TOML (same content
hash), remembers its changes, and every summary records them; each command (run, run --paths, validate, size,
stress, sensitivity, portfolio) takes ``--set`` and its result moves the way the change says; an unknown key, a
value of the wrong type or a malformed argument exits 2 with one line naming the ``--set`` argument, writing
nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

import naef
import naef.cli
from naef.scenario import content_hash, load_scenario
from naef.scenario.changes import Named, changes_of, parse_assignments, parse_key
from naef.scenario.errors import ScenarioError
from tests.cli_main import naef_main

BASELINE_TOML = (Path(naef.__file__).parent / "scenario" / "scenarios" / "baseline.toml").read_text("utf-8")


def test_values_are_toml_values() -> None:
    got = parse_assignments(["a.b=0.07", "c[0].d=[1e9, 2e9]", 'e.f="x y"', "g.h=true", "i.j=2031-01-01",
                             "k.l=bare", "m.n=7"])
    assert got == {"a.b": 0.07, "c[0].d": [1e9, 2e9], "e.f": "x y", "g.h": True, "i.j": dt.date(2031, 1, 1),
                   "k.l": "bare", "m.n": 7}
    assert isinstance(got["m.n"], int)


def test_keys_by_index_and_by_name() -> None:
    assert parse_key("tranches[0].coupon_rate") == ["tranches", 0, "coupon_rate"]
    assert parse_key("fields[Zama].capex_usd") == ["fields", Named("Zama"), "capex_usd"]
    assert parse_key("fields[Ixachi expansion].reserves_mmbbl") == ["fields", Named("Ixachi expansion"),
                                                                     "reserves_mmbbl"]


@pytest.mark.parametrize("arg", ["no-equals", "=1", "a..b=1", "a.b="])
def test_malformed_arguments_name_themselves(arg: str) -> None:
    with pytest.raises(ScenarioError, match=rf"^--set {arg.replace('.', '[.]')}: "):
        parse_assignments([arg])


def test_derived_scenario_is_the_edited_toml() -> None:
    """Hand-made case: the TOML edited by hand loads to the same content hash as the --set change."""
    base = load_scenario("baseline")
    derived = base.with_changes(parse_assignments(["tranches[0].coupon_rate=0.07", "fields[Zama].capex_usd=[1e9,2e9]"]))
    zama = BASELINE_TOML.index('name = "Zama"')
    capex_at = BASELINE_TOML.index("capex_usd", zama)
    line_end = BASELINE_TOML.index("\n", capex_at)
    edited = BASELINE_TOML[:capex_at] + "capex_usd = [1e9, 2e9]" + BASELINE_TOML[line_end:]
    a1 = BASELINE_TOML.index('name = "A1"')
    coupon_at = edited.index("coupon_rate", a1)
    edited = edited[:coupon_at] + "coupon_rate = 0.07" + edited[edited.index("\n", coupon_at):]
    assert content_hash(derived) == content_hash(load_scenario(edited))
    assert content_hash(derived) != content_hash(base)
    assert changes_of(derived) == {"tranches[0].coupon_rate": 0.07, "fields[Zama].capex_usd": [1e9, 2e9]}
    assert changes_of(base) == {}
    # changes accumulate over successive derivations
    again = derived.with_changes({"price.stochastic.sigma": 0.45})
    assert list(changes_of(again)) == ["tranches[0].coupon_rate", "fields[Zama].capex_usd", "price.stochastic.sigma"]


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[Any, str, str]:
    return naef_main(monkeypatch, capsys, *argv)


def test_every_scenario_command_declares_set() -> None:
    group = get_command(naef.cli.app)
    assert hasattr(group, "commands")
    commands = {**group.commands, **{name: naef.cli.load_command(name) for name in naef.cli.LAZY_COMMANDS}}
    # serve's --scenario is the portal's scenario for the runs it starts, not a run of this command
    takes_scenario = [name for name, cmd in commands.items()
                      if name != "serve" and any(p.name == "scenario" for p in cmd.params)]
    assert {"run", "validate", "size", "stress", "sensitivity", "portfolio"} <= set(takes_scenario)
    takes_scenario.append("compare")  # its arguments are scenarios or run folders
    for name in takes_scenario:
        opts = [o for p in commands[name].params for o in getattr(p, "opts", [])]
        assert "--set" in opts, name


def test_run_records_the_changes_and_moves_the_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(monkeypatch, capsys, "run", "--quiet", "--out", str(tmp_path / "a"))
    assert code in (0, None), err
    code, _, err = _run(monkeypatch, capsys, "run", "--quiet", "--out", str(tmp_path / "b"),
                        "--set", "tranches[0].coupon_rate=0.08", "--set", "scenario.discount_rate=0.12")
    assert code in (0, None), err
    a = json.loads((tmp_path / "a" / "summary.json").read_text("utf-8"))
    b = json.loads((tmp_path / "b" / "summary.json").read_text("utf-8"))
    assert "changes" not in a["scenario"]
    assert b["scenario"]["changes"] == {"tranches[0].coupon_rate": 0.08, "scenario.discount_rate": 0.12}
    assert b["tranches"][0]["coupon_rate"] == 0.08
    assert a["tranches"][0]["coupon_rate"] != 0.08
    assert b["totals"]["discount_rate"] == 0.12
    assert b["scenario"]["content_hash_sha256"] == content_hash(load_scenario("baseline").with_changes(
        {"tranches[0].coupon_rate": 0.08, "scenario.discount_rate": 0.12}))
    html = (tmp_path / "b" / "report.html").read_text("utf-8")
    assert "tranches[0].coupon_rate = 0.08" in html
    assert "scenario.discount_rate = 0.12" in html


def test_monte_carlo_takes_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(monkeypatch, capsys, "run", "--quiet", "--paths", "300", "--out", str(tmp_path / "mc"),
                        "--set", "price.stochastic.sigma=0.45")
    assert code in (0, None), err
    doc = json.loads((tmp_path / "mc" / "summary.json").read_text("utf-8"))
    assert doc["scenario"]["changes"] == {"price.stochastic.sigma": 0.45}


def test_validate_prints_the_changed_hash(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(monkeypatch, capsys, "validate", "baseline", "--set", "price.stochastic.sigma=0.45")
    assert code in (0, None)
    assert content_hash(load_scenario("baseline").with_changes({"price.stochastic.sigma": 0.45})) in out


def test_size_takes_set(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A higher coupon on every class costs size at the same target: the searched size cannot grow."""
    base = ("size", "--paths", "300", "--json", "--basis", "el")
    code, out_a, err = _run(monkeypatch, capsys, *base)
    assert code in (0, None), err
    code, out_b, err = _run(monkeypatch, capsys, *base, "--set", "price.differential_usd_per_bbl=-25")
    assert code in (0, None), err
    a, b = json.loads(out_a), json.loads(out_b)
    assert b["scenario"]["changes"] == {"price.differential_usd_per_bbl": -25}
    assert (b["size_usd"] or 0.0) <= (a["size_usd"] or 0.0)


def test_stress_takes_set(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("stress", "--episode", "crash_2020", "--json")
    code, out_a, err = _run(monkeypatch, capsys, *base)
    assert code in (0, None), err
    code, out_b, err = _run(monkeypatch, capsys, *base, "--set", "price.differential_usd_per_bbl=-25")
    assert code in (0, None), err
    a, b = json.loads(out_a), json.loads(out_b)
    assert b["scenario"]["changes"] == {"price.differential_usd_per_bbl": -25}
    mdf = [doc["paths"][0]["mdf"]["inflows_usd"] for doc in (a, b)]
    assert mdf[1] < mdf[0]  # a wider discount on every barrel leaves less for the MDF


def test_sensitivity_takes_set(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(monkeypatch, capsys, "sensitivity", "--method", "tornado", "--inputs", "price_level",
                          "--paths", "200", "--json", "--set", "scenario.discount_rate=0.12")
    assert code in (0, None), err
    assert json.loads(out)["scenario"]["changes"] == {"scenario.discount_rate": 0.12}


def test_portfolio_takes_set(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(monkeypatch, capsys, "portfolio", "--paths", "50", "--json", "--resolve-seconds", "2",
                          "--budget-usd-by-year", "2030:1e9,2031:1e9", "--sector-floor", "none", "--migrant-share", "0",
                          "--set", "mdf.inflation_rate=0.03")
    assert code in (0, None), err
    doc = json.loads(out)
    assert doc["scenario"]["changes"] == {"mdf.inflation_rate": 0.03}
    assert doc["price_basis"]["inflation_rate"] == 0.03


@pytest.mark.parametrize(("command", "arg", "words"), [
    (("run",), "tranches[0].coupon_rte=0.07", ("unknown key", "coupon_rate")),
    (("run",), "tranches[0].coupon_rate=abc", ("must be a number, not the string 'abc'",)),
    (("run",), "tranches[9].coupon_rate=0.07", ("out of range",)),
    (("run",), "fields[Nope].capex_usd=[1]", ("no entry named 'Nope'",)),
    (("run", "--paths", "100"), "price.stochastic.sigma=[1]", ("price.stochastic.sigma",)),
    (("size", "--paths", "100"), "bogus=1", ("unknown key",)),
    (("stress",), "tranches[0].coupon_rate=abc", ("must be a number, not the string 'abc'",)),
    (("sensitivity", "--method", "tornado", "--paths", "100"), "nope.x=1", ("unknown key",)),
    (("portfolio", "--paths", "50"), "mdf.inflation_rate=abc", ("must be a number, not the string 'abc'",)),
    (("validate", "baseline"), "tranches[0].coupon_rate", ("KEY=VALUE",)),
    (("compare", "baseline", "baseline", "--paths", "100"), "tranches[0].coupon_rte=0.07", ("unknown key",)),
])
def test_bad_set_exits_2_naming_the_argument(command: tuple[str, ...], arg: str, words: tuple[str, ...],
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "o"
    extra = () if command[0] == "validate" else ("--out", str(out))
    code, stdout, err = _run(monkeypatch, capsys, *command, *extra, "--set", arg)
    assert code == 2, (stdout, err)
    lines = err.strip().split("\n")
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: --set {arg}: "), lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
