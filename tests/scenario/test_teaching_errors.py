"""Errors that teach (issue 17, item 4): an unknown key or table names itself and the closest valid key, strings are
not numbers (strict types, also in the content hash), a rate above 1 says rates are fractions; the same in
``Scenario.with_changes``. Every message is one line naming the key path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from naef.scenario import ScenarioError, content_hash, load_scenario
from naef.scenario.errors import valid_keys
from naef.scenario.models import Scenario
from tests.cli_main import naef_main
from tests.scenario.test_load import SMALL


def _error(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(text)
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        # a misspelt key also makes the intended one "missing": the typo is what is reported, with the fix
        (("coupon_rate", "coupon_rte"), "tranches[0].coupon_rte",
         "unknown key `coupon_rte` in tranches[0]; did you mean `coupon_rate`?"),
        (("[[tranches]]", "[[tranche]]"), "tranche", "unknown table `tranche`; did you mean `tranches`?"),
        (("[price]", "[prices]"), "prices", "unknown table `prices`; did you mean `price`?"),
        (("opex_usd_per_bbl", "opex_usd_per_bl"), "fields[0].opex_usd_per_bl",
         "unknown key `opex_usd_per_bl` in fields[0]; did you mean `opex_usd_per_bbl`?"),
        (('di = 0.1', 'dii = 0.1'), "fields[0].decline.dii",
         "unknown key `dii` in fields[0].decline; did you mean `di`?"),
        # nothing close: no suggestion
        (("years = 12", "years = 12\ncolour = 1"), "scenario.colour", "unknown key `colour` in scenario"),
        # tables of tables, dictionaries of models and tagged unions are walked too
        (("[[tranches]]", "[uncertainty.classes.deepwater]\nqi_sigm = 0.2\n\n[[tranches]]"),
         "uncertainty.classes.deepwater.qi_sigm",
         "unknown key `qi_sigm` in uncertainty.classes.deepwater; did you mean `qi_sigma`?"),
        (("[[tranches]]", "[price.stochastic]\nmodel = \"gbm\"\nsigm = 0.3\n\n[[tranches]]"),
         "price.stochastic.sigm", "unknown key `sigm` in price.stochastic; did you mean `sigma`?"),
        (("[[tranches]]", "[triggers]\ncash_trap_dcsr = 1.2\n\n[[tranches]]"), "triggers.cash_trap_dcsr",
         "unknown key `cash_trap_dcsr` in triggers; did you mean `cash_trap_dscr`?"),
    ],
)
def test_an_unknown_key_names_itself_and_the_closest_valid_key(edit: tuple[str, str], path: str,
                                                               message: str) -> None:
    err = _error(SMALL.replace(*edit, 1))
    assert err.path == path
    assert str(err).startswith(f"<text>: {path}: {message}")
    if "did you mean" not in message:
        assert "did you mean" not in str(err)


def test_valid_keys_are_read_from_the_models() -> None:
    assert "coupon_rate" in valid_keys(Scenario, ("tranches", 0))
    assert set(valid_keys(Scenario, ())) >= {"scenario", "price", "fields", "tranches", "governance", "mdf"}
    assert valid_keys(Scenario, ("fields", 0, "decline")) == ["model", "di", "b"]
    assert "sigma" in valid_keys(Scenario, ("price", "stochastic", "gbm"))


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        (("opex_usd_per_bbl = 10", 'opex_usd_per_bbl = "12"'), "fields[0].opex_usd_per_bbl",
         "must be a number, not the string '12' (write 12 without quotes)"),
        (("size_usd = 1e9", 'size_usd = "1e9"'), "tranches[0].size_usd",
         "must be a number, not the string '1e9' (write 1e9 without quotes)"),
        (("years = 12", 'years = "12"'), "scenario.years", "must be a whole number, not the string '12'"),
        (("maturity_years = 8", "maturity_years = 8.0"), "tranches[0].maturity_years", "valid integer"),
        (("opex_usd_per_bbl = 10", 'opex_usd_per_bbl = 10\nshut_in = "true"'), "fields[0].shut_in",
         "must be true or false, not the string 'true' (write true without quotes)"),
        (("opex_usd_per_bbl = 10", 'opex_usd_per_bbl = 10\nshut_in = 1'), "fields[0].shut_in", "valid boolean"),
        (("capex_usd = [1e9]", 'capex_usd = ["1e9"]'), "fields[0].capex_usd[0]", "must be a number"),
        (("name = \"A\"", "name = 7"), "tranches[0].name", "valid string"),
    ],
)
def test_strings_are_not_numbers(edit: tuple[str, str], path: str, message: str) -> None:
    err = _error(SMALL.replace(*edit, 1))
    assert err.path == path
    assert str(err).startswith(f"<text>: {path}: ")
    assert message in str(err)


def test_integers_are_floats_and_the_content_hash_follows_the_value() -> None:
    """TOML integers are still accepted for floats (``opex_usd_per_bbl = 10``) and hash as the float; the string
    "12" no longer loads at all, so no hash can equate it with 12."""
    as_int = load_scenario(SMALL.replace("opex_usd_per_bbl = 10", "opex_usd_per_bbl = 12"))
    as_float = load_scenario(SMALL.replace("opex_usd_per_bbl = 10", "opex_usd_per_bbl = 12.0"))
    assert as_int == as_float
    assert content_hash(as_int) == content_hash(as_float)
    assert isinstance(as_int.fields[0].opex_usd_per_bbl, float)
    assert content_hash(as_int) != content_hash(load_scenario(SMALL))
    _error(SMALL.replace("opex_usd_per_bbl = 10", 'opex_usd_per_bbl = "12"'))


def test_the_shipped_scenario_loads_strictly_with_its_published_hash() -> None:
    # the baseline's hash as published with issue 13's [originator] and [sovereign] defaults (the defaults enter the
    # hash); strict types refuse, they never change a value, so loading strictly keeps it
    assert content_hash(load_scenario("baseline")) == (
        "65726527c4bab03016af6899c9a16c0899c4e74a7235724fe08648f2e27a0a89")


@pytest.mark.parametrize(
    ("edit", "path", "hint"),
    [
        (("coupon_rate = 0.06", "coupon_rate = 6.5"), "tranches[0].coupon_rate",
         "rates are fractions: 6.5 % is 0.065"),
        (("[[tranches]]", "[fees]\nissuance_pct = 2\n\n[[tranches]]"), "fees.issuance_pct",
         "rates are fractions: 2 % is 0.02"),
        (("[[tranches]]", "[reserve]\nreinvestment_rate = 3\n\n[[tranches]]"), "reserve.reinvestment_rate",
         "rates are fractions: 3 % is 0.03"),
    ],
)
def test_a_rate_above_one_says_rates_are_fractions(edit: tuple[str, str], path: str, hint: str) -> None:
    err = _error(SMALL.replace(*edit, 1))
    assert err.path == path
    assert str(err).endswith(hint)


def test_a_refused_rate_below_one_has_no_fraction_hint() -> None:
    err = _error(SMALL.replace("coupon_rate = 0.06", "coupon_rate = 0.6"))
    assert "less than or equal to 0.5" in str(err)
    assert "fractions" not in str(err)


def test_with_changes_is_strict_and_teaches_too() -> None:
    sc = load_scenario(SMALL)
    with pytest.raises(ScenarioError, match=re.escape(
            "tranches[0].coupon_rate: must be a number, not the string '0.07' (write 0.07 without quotes)")):
        sc.with_changes({"tranches[0].coupon_rate": "0.07"})
    with pytest.raises(ScenarioError, match=re.escape("rates are fractions: 7 % is 0.07")):
        sc.with_changes({"tranches[0].coupon_rate": 7})
    assert sc.with_changes({"tranches[0].coupon_rate": 0.07}).tranches[0].coupon_rate == 0.07
    assert sc.with_changes({"fields[0].capex_usd": [1e9, 2e9]}).fields[0].capex_usd == (1e9, 2e9)


def test_the_cli_prints_the_teaching_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "typo.toml"
    f.write_text(SMALL.replace("coupon_rate", "coupon_rte"), encoding="utf-8")
    code, out, err = naef_main(monkeypatch, capsys, "validate", str(f))
    assert code == 2
    assert out == ""
    assert err.strip() == (f"error: {f}: tranches[0].coupon_rte: unknown key `coupon_rte` in tranches[0]; did you "
                           "mean `coupon_rate`?")
