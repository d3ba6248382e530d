"""Loading scenarios: the Python API, immutability, the study's conditions and key paths in errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

import naef
from naef.scenario import ScenarioError, content_hash, load_scenario, shipped_scenarios

SMALL = """
[scenario]
name = "small"
start = 2027-04-01
years = 12

[price]
deck = [[2027, 70.0]]

[[fields]]
name = "F"
capex_usd = [1e9]
first_production_year = 2028
initial_rate_bpd = 50000
decline = { model = "exponential", di = 0.1 }
reserves_mmbbl = 100
opex_usd_per_bbl = 10

[[tranches]]
name = "A"
size_usd = 1e9
coupon_rate = 0.06
amortization = "level"
issue_year = 2027
maturity_years = 8
grace_years = 1
"""


def test_text_path_and_shipped_name_give_the_same_scenario(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text(SMALL, encoding="utf-8")
    a, b, c = load_scenario(SMALL), load_scenario(f), load_scenario(str(f))
    assert a == b == c
    assert content_hash(a) == content_hash(b)
    assert "baseline" in shipped_scenarios()
    assert load_scenario("baseline").scenario.name == "baseline"


def test_scenario_is_immutable_and_defaults_are_filled() -> None:
    sc = load_scenario(SMALL)
    with pytest.raises(ValidationError):
        sc.scenario.years = 3  # type: ignore[misc]
    assert sc.scenario.periods_per_year == 4
    assert sc.fiscal.regime == "mx_dpb_2025"
    assert sc.fields[0].operator == "PEMEX"
    assert content_hash(sc) != content_hash(load_scenario(SMALL.replace("years = 12", "years = 13")))


def test_python_api_as_in_the_readme() -> None:
    result = naef.simulate(naef.load_scenario(SMALL))
    assert isinstance(result.table, pd.DataFrame)
    assert len(result.table) == 12 * 4
    assert result.summary["scenario"]["name"] == "small"
    # ample production at 70 USD: the tranche is repaid on schedule and the investors earn the coupon
    (tr,) = result.summary["tranches"]
    assert tr["principal_outstanding_usd"] == pytest.approx(0.0, abs=1e-3)
    assert tr["investor_yield"] == pytest.approx(0.06, rel=1e-9)
    assert result.summary["totals"]["to_mdf_usd"] > 0


@pytest.mark.parametrize(
    ("edit", "path", "reason"),
    [
        (('opex_usd_per_bbl = 10', 'opex_usd_per_bbl = 10\noperator = "ACME Oil"'), "fields[0].operator",
         "be carried out by PEMEX"),
        (("[[tranches]]", '[collateral]\nsource = "reserves"\n\n[[tranches]]'), "collateral.source",
         "backed by oil revenues (not by the oil itself)"),
        (("[[tranches]]", '[collateral]\nsource = "oil_in_kind"\n\n[[tranches]]'), "collateral.source",
         "not by the oil itself"),
        (("[[tranches]]", "[collateral]\ntransfers_ownership = true\n\n[[tranches]]"),
         "collateral.transfers_ownership", "transfer of ownership"),
        (('model = "exponential", di = 0.1', 'model = "hyperbolic", di = 0.1'), "fields[0].decline.b", "required"),
        (("maturity_years = 8", "maturity_years = 30"), "tranches[0].maturity_years", "after the horizon"),
        (("start = 2027-04-01", "start = 2027-05-01"), "scenario.start", "first day of a quarter"),
        (("years = 12", "years = 12\ncolour = 1"), "scenario.colour", "unknown key"),
        (("deck = [[2027, 70.0]]", "deck = [[2028, 70.0], [2027, 60.0]]"), "price.deck", "strictly increasing"),
        # issue 13: a horizon short of a legal final names the tranche; bad credit keys name the key
        (("maturity_years = 8", "maturity_years = 8\nlegal_final_years = 14"), "tranches[0].legal_final_years",
         "tranche A's legal final maturity 2041-04-01 is after the horizon"),
        (("[[tranches]]", "[reserve]\nreinvestment_rate = -0.06\n\n[[tranches]]"), "reserve.reinvestment_rate",
         "greater than or equal to -0.05"),
        (("[[tranches]]", "[reserve]\nreinvestment_rate = 0.51\n\n[[tranches]]"), "reserve.reinvestment_rate",
         "less than or equal to 0.5"),
        (("[[tranches]]", "[triggers]\ndefault_interest_margin = -0.01\n\n[[tranches]]"),
         "triggers.default_interest_margin", "greater than or equal to 0"),
        (("[[tranches]]", "[triggers]\nrelease_periods = 0\n\n[[tranches]]"), "triggers.release_periods",
         "greater than or equal to 1"),
        (("opex_usd_per_bbl = 10", 'opex_usd_per_bbl = 10\nshut_in = "sometimes"'), "fields[0].shut_in",
         "must be true or false"),
        # issue 13 item 4: the originator, the sovereign and the pledge profile
        (("[[tranches]]", '[originator]\nrating = "BB+"\n\n[[tranches]]'), "originator.rating",
         "unknown rating 'BB+'"),
        (("[[tranches]]", '[sovereign]\ncountry_ceiling = "Caa1"\n\n[[tranches]]'), "sovereign.country_ceiling",
         "unknown rating 'Caa1'"),
        (("[[tranches]]", "[originator]\nmax_uplift_notches = 11\n\n[[tranches]]"), "originator.max_uplift_notches",
         "less than or equal to 10"),
        (("[[tranches]]", "[originator]\nmax_uplift_notches = -1\n\n[[tranches]]"), "originator.max_uplift_notches",
         "greater than or equal to 0"),
        (("[[tranches]]", "[originator]\noperating_continuity = 1.2\n\n[[tranches]]"),
         "originator.operating_continuity", "less than or equal to 1"),
        (("[[tranches]]", '[collateral]\nsource = "incremental_plus_exports"\n'
          "pledged_exports_profile = [[2028, 100000], [2030, -5]]\n\n[[tranches]]"),
         "collateral.pledged_exports_profile[1][1]", "greater than or equal to 0"),
        (("[[tranches]]", '[collateral]\nsource = "incremental_plus_exports"\npledged_exports_bpd = 900000\n\n'
          "[[tranches]]"), "collateral.pledged_exports_bpd",
         "900,000 bbl/d pledged in 2027 is more than PEMEX's crude exports of 2024 (811,000 bbl/d"),
    ],
)
def test_errors_name_the_key_and_the_reason(edit: tuple[str, str], path: str, reason: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(SMALL.replace(*edit))
    message = str(info.value)
    assert "\n" not in message
    assert f": {path}: " in message
    assert reason in message
    assert info.value.path == path
