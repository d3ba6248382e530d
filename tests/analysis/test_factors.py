"""Tests of naef.analysis.factors: each factor changes exactly the keys it names, by the stated amount, validates
its value (one-line errors naming the factor), applies in any order; default ranges hold the base; the volatility
range is recomputed from EIA Brent; the outputs (senior EL, MDF inflows) are what the module docstring says."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from naef.analysis.calibrate import fit_gbm
from naef.analysis.factor_analysis import OUTPUTS, model_outputs, senior_el
from naef.analysis.factors import (
    FACTORS,
    VOLATILITY_RANGE,
    FactorError,
    apply_factors,
    available_factors,
    factor_table,
)
from naef.errors import NaefError
from naef.scenario import load_scenario
from naef.scenario.differentials import FixedDifferential, OUDifferential
from naef.scenario.fiscal import duty_rates
from naef.scenario.history import log_prices, read_monthly_prices
from naef.scenario.models import Scenario
from naef.scenario.price_models import GBM, MeanRevertingOU, SchwartzSmith
from tests import data_paths

BRENT = data_paths.BRENT_MONTHLY
BASE = load_scenario("baseline")

#: the factors the issue asks for (each must be registered)
REQUIRED = ("price_level", "price_volatility", "price_kappa", "differential_usd_per_bbl", "duty_rate",
            "opex_multiplier", "capex_multiplier", "initial_rate_multiplier", "reserves_multiplier",
            "first_production_delay_years", "senior_coupon_bp", "pledged_exports_bpd")


def variant(**changes: Any) -> Scenario:
    """The baseline with top-level sections replaced (``price=...``) or the price section's keys updated."""
    data = BASE.model_dump()
    for key, value in changes.items():
        if key.startswith("price__"):
            data["price"][key.removeprefix("price__")] = value
        else:
            data[key] = value
    return Scenario.model_validate(data)


def changed_keys(a: Any, b: Any, path: str = "") -> set[str]:
    """Key paths where two ``model_dump()`` trees differ; indices into lists of tables are written ``[]`` (a list
    of numbers, such as a deck, is one value)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: set[str] = set()
        for k in a.keys() | b.keys():
            out |= changed_keys(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        return out
    if (isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b) and a
            and all(isinstance(x, dict) for x in (*a, *b))):
        out = set()
        for x, y in zip(a, b, strict=True):
            out |= changed_keys(x, y, f"{path}[]")
        return out
    return set() if a == b else {path}


def diff(name: str, value: float, scenario: Scenario = BASE) -> tuple[Scenario, set[str]]:
    new = FACTORS[name].apply(scenario, value)
    return new, changed_keys(scenario.model_dump(), new.model_dump())


# ---- the registry ------------------------------------------------------------------------------------------


def test_registry_has_every_required_factor_with_metadata() -> None:
    for name in REQUIRED:
        assert name in FACTORS, name
    for name, f in FACTORS.items():
        assert f.name == name
        assert f.description, name
        assert f.unit, name
        assert f.range_source, name
        # a range marked illustrative says so in its source text, and an unmarked one names a source
        assert f.illustrative == f.range_source.startswith("ILLUSTRATIVE"), name


def test_every_factor_applies_to_the_baseline_and_its_range_holds_the_base() -> None:
    assert available_factors(BASE) == list(FACTORS)
    for row in factor_table(BASE, FACTORS):
        assert row["low"] < row["high"], row["name"]
        assert row["low"] <= row["base"] <= row["high"], row["name"]


def test_base_values_are_read_from_the_scenario() -> None:
    base = {n: f.base(BASE) for n, f in FACTORS.items()}
    assert base["price_volatility"] == 0.47
    assert base["price_kappa"] == 0.20
    assert base["differential_usd_per_bbl"] == -8.0
    assert base["duty_rate"] == 0.30
    assert base["pledged_exports_bpd"] == 400_000
    for n in ("price_level", "opex_multiplier", "capex_multiplier", "initial_rate_multiplier",
              "reserves_multiplier", "gas_price_level"):
        assert base[n] == 1.0, n
    assert base["senior_coupon_bp"] == 0.0
    assert base["first_production_delay_years"] == 0.0


def test_volatility_range_is_recomputed_from_eia_brent() -> None:
    x = log_prices(read_monthly_prices(BRENT))
    sigmas = [fit_gbm(log_prices=x[s : s + 120]).estimates["sigma"] for s in range(0, x.size - 120 + 1, 12)]
    assert (round(min(sigmas), 2), round(max(sigmas), 2)) == VOLATILITY_RANGE


# ---- each factor changes exactly what it says ---------------------------------------------------------------


def test_price_level_scales_the_deck_and_the_ou_long_run_only() -> None:
    new, keys = diff("price_level", 1.2)
    assert keys == {"price.deck", "price.stochastic.long_run_usd_per_bbl"}
    assert new.price.deck == tuple((y, p * 1.2) for y, p in BASE.price.deck)
    assert isinstance(new.price.stochastic, MeanRevertingOU)
    assert new.price.stochastic.long_run_usd_per_bbl == pytest.approx(66.8 * 1.2)


def test_price_level_scales_the_monte_carlo_prices_exactly() -> None:
    """OU in logs: the spot (from the deck) and the long-run level both move by ln m, so every path is × m."""
    from naef.engine.montecarlo import draw_inputs, prepare

    m = 1.25
    a = draw_inputs(prepare(BASE), seed=3, first_path=0, n_paths=8).benchmark_usd_per_bbl
    b = draw_inputs(prepare(FACTORS["price_level"].apply(BASE, m)), seed=3, first_path=0,
                    n_paths=8).benchmark_usd_per_bbl
    np.testing.assert_allclose(b, a * m, rtol=1e-12)


def test_price_level_under_gbm_leaves_the_model_alone() -> None:
    gbm = variant(price__stochastic={"model": "gbm", "sigma": 0.3})
    _, keys = diff("price_level", 0.8, gbm)
    assert keys == {"price.deck"}


def test_gas_price_level_scales_the_gas_deck_only() -> None:
    new, keys = diff("gas_price_level", 1.1)
    assert keys == {"gas_price.deck"}
    assert BASE.gas_price is not None
    assert new.gas_price is not None
    assert new.gas_price.deck == tuple((y, p * 1.1) for y, p in BASE.gas_price.deck)


def test_price_volatility_sets_sigma_of_gbm_and_ou() -> None:
    new, keys = diff("price_volatility", 0.3)
    assert keys == {"price.stochastic.sigma"}
    assert isinstance(new.price.stochastic, MeanRevertingOU)
    assert new.price.stochastic.sigma == 0.3
    gbm = variant(price__stochastic={"model": "gbm", "sigma": 0.25, "mu": 0.01})
    new, keys = diff("price_volatility", 0.4, gbm)
    assert keys == {"price.stochastic.sigma"}
    assert isinstance(new.price.stochastic, GBM)
    assert new.price.stochastic.sigma == 0.4


def test_price_volatility_scales_both_schwartz_smith_sigmas_to_the_instantaneous_volatility() -> None:
    ss = variant(price__stochastic={"model": "schwartz_smith", "kappa": 1.0, "sigma_chi": 0.3, "sigma_xi": 0.2,
                                    "rho": 0.3})
    base = math.sqrt(0.3**2 + 0.2**2 + 2 * 0.3 * 0.3 * 0.2)
    assert FACTORS["price_volatility"].base(ss) == pytest.approx(base)
    new, keys = diff("price_volatility", 0.5, ss)
    assert keys == {"price.stochastic.sigma_chi", "price.stochastic.sigma_xi"}
    m = new.price.stochastic
    assert isinstance(m, SchwartzSmith)
    assert m.sigma_chi / m.sigma_xi == pytest.approx(1.5)
    assert math.sqrt(m.sigma_chi**2 + m.sigma_xi**2 + 2 * m.rho * m.sigma_chi * m.sigma_xi) == pytest.approx(0.5)
    new, keys = diff("price_kappa", 0.5, ss)
    assert keys == {"price.stochastic.kappa"}


def test_price_kappa_sets_the_ou_kappa() -> None:
    new, keys = diff("price_kappa", 0.5)
    assert keys == {"price.stochastic.kappa"}
    assert isinstance(new.price.stochastic, MeanRevertingOU)
    assert new.price.stochastic.kappa == 0.5


@pytest.mark.parametrize(("stochastic", "absent"), [
    (None, {"price_volatility", "price_kappa"}),
    ({"model": "gbm", "sigma": 0.3}, {"price_kappa"}),
    ({"model": "bootstrap", "history": {"source": "t", "first_month": "2000-01", "last_month": "2000-04",
                                        "log_returns": [0.1, -0.1, 0.05]}}, {"price_volatility", "price_kappa"}),
])
def test_model_parameters_apply_only_to_models_that_have_them(stochastic: Any, absent: set[str]) -> None:
    sc = variant(price__stochastic=stochastic)
    assert set(FACTORS) - set(available_factors(sc)) == absent
    for name in absent:
        with pytest.raises(FactorError, match=rf"^{name}: does not apply to scenario 'baseline': "):
            FACTORS[name].apply(sc, 0.3)


def test_gas_price_level_needs_a_gas_deck() -> None:
    data = BASE.model_dump()
    data["gas_price"] = None
    data["fields"] = [f for f in data["fields"] if f["product"] == "oil"]
    sc = Scenario.model_validate(data)
    assert "gas_price_level" not in available_factors(sc)
    with pytest.raises(FactorError, match=r"^gas_price_level: does not apply"):
        FACTORS["gas_price_level"].apply(sc, 1.1)


def test_differential_sets_the_level_and_shifts_a_stochastic_differential() -> None:
    new, keys = diff("differential_usd_per_bbl", -5.0)
    assert keys == {"price.differential_usd_per_bbl"}
    assert new.price.differential_usd_per_bbl == -5.0
    ou = variant(price__stochastic_differential={"model": "ou", "initial_usd_per_bbl": -7.0,
                                                 "long_run_usd_per_bbl": -9.0, "kappa": 1.0,
                                                 "sigma_usd_per_bbl": 2.0})
    new, keys = diff("differential_usd_per_bbl", -6.0, ou)  # +2 from the base -8
    assert keys == {"price.differential_usd_per_bbl", "price.stochastic_differential.initial_usd_per_bbl",
                    "price.stochastic_differential.long_run_usd_per_bbl"}
    d = new.price.stochastic_differential
    assert isinstance(d, OUDifferential)
    assert (d.initial_usd_per_bbl, d.long_run_usd_per_bbl) == (-5.0, -7.0)
    fixed = variant(price__stochastic_differential={"model": "fixed", "usd_per_bbl": -8.5})
    new, _ = diff("differential_usd_per_bbl", -9.0, fixed)
    assert isinstance(new.price.stochastic_differential, FixedDifferential)
    assert new.price.stochastic_differential.usd_per_bbl == -9.5


def test_duty_rate_switches_to_a_custom_oil_rate_and_keeps_the_gas_rate() -> None:
    new, keys = diff("duty_rate", 0.25)
    assert keys == {"fiscal.regime", "fiscal.rate_on_value", "fiscal.gas_rate_on_value"}
    assert new.fiscal.regime == "custom"
    assert duty_rates(regime="custom", rate_on_value=new.fiscal.rate_on_value,
                      gas_rate_on_value=new.fiscal.gas_rate_on_value) == (0.25, 0.116264)


@pytest.mark.parametrize(("name", "keys"), [
    ("opex_multiplier", {"fields[].opex_usd_per_bbl", "fields[].opex_usd_per_mcf"}),
    ("initial_rate_multiplier", {"fields[].initial_rate_bpd", "fields[].initial_rate_mmcfd"}),
    ("reserves_multiplier", {"fields[].reserves_mmbbl", "fields[].reserves_bcf"}),
])
def test_field_multipliers_scale_their_keys_in_every_field(name: str, keys: set[str]) -> None:
    new, changed = diff(name, 1.1)
    assert changed == keys
    for old, f in zip(BASE.fields, new.fields, strict=True):
        for key in keys:
            k = key.removeprefix("fields[].")
            if getattr(old, k) is not None:
                assert getattr(f, k) == pytest.approx(getattr(old, k) * 1.1), (f.name, k)


def test_capex_multiplier_scales_every_years_capex() -> None:
    new, keys = diff("capex_multiplier", 1.3)
    assert keys == {"fields[].capex_usd"}
    for old, f in zip(BASE.fields, new.fields, strict=True):
        assert f.capex_usd == pytest.approx(tuple(x * 1.3 for x in old.capex_usd))


def test_delay_adds_whole_years_to_first_production_only() -> None:
    new, keys = diff("first_production_delay_years", 2)
    assert keys == {"fields[].first_production_year"}
    assert [f.first_production_year for f in new.fields] == [f.first_production_year + 2 for f in BASE.fields]
    new, _ = diff("first_production_delay_years", -1.0)
    assert [f.first_production_year for f in new.fields] == [f.first_production_year - 1 for f in BASE.fields]


def test_senior_coupon_moves_the_most_senior_class_only() -> None:
    new, keys = diff("senior_coupon_bp", 50)
    assert keys == {"tranches[].coupon_rate"}
    for old, t in zip(BASE.tranches, new.tranches, strict=True):
        expected = old.coupon_rate + 0.005 if old.seniority == 1 else old.coupon_rate
        assert t.coupon_rate == pytest.approx(expected), t.name
    assert new.tranches[3].coupon_rate == BASE.tranches[3].coupon_rate == 0.09


def test_pledged_exports_sets_the_volume_and_the_source() -> None:
    new, keys = diff("pledged_exports_bpd", 300_000)
    assert keys == {"collateral.pledged_exports_bpd"}
    assert new.collateral.pledged_exports_bpd == 300_000
    none, keys = diff("pledged_exports_bpd", 0)
    assert keys == {"collateral.pledged_exports_bpd", "collateral.source"}
    assert none.collateral.source == "incremental"
    assert FACTORS["pledged_exports_bpd"].base(none) == 0.0
    assert FACTORS["pledged_exports_bpd"].default_range(none) == (0.0, 400_000.0)
    back = FACTORS["pledged_exports_bpd"].apply(none, 400_000)
    assert back == BASE


def test_applying_the_base_value_gives_the_same_scenario() -> None:
    for name, f in FACTORS.items():
        new = f.apply(BASE, f.base(BASE))
        if name == "duty_rate":  # the preset becomes a custom regime with the same rates
            assert duty_rates(regime="custom", rate_on_value=new.fiscal.rate_on_value,
                              gas_rate_on_value=new.fiscal.gas_rate_on_value) == (0.30, 0.116264)
        else:
            assert new == BASE, name
    assert apply_factors(BASE, {n: f.base(BASE) for n, f in FACTORS.items()}) == BASE


def test_factors_commute() -> None:
    values = {"price_level": 1.1, "price_volatility": 0.3, "price_kappa": 0.4, "differential_usd_per_bbl": -6.0,
              "duty_rate": 0.28, "opex_multiplier": 1.2, "capex_multiplier": 0.9, "initial_rate_multiplier": 0.8,
              "reserves_multiplier": 1.1, "first_production_delay_years": 1, "senior_coupon_bp": 25,
              "pledged_exports_bpd": 350_000, "gas_price_level": 0.9}
    assert set(values) == set(FACTORS)
    forward = apply_factors(BASE, values)
    backward = apply_factors(BASE, dict(reversed(list(values.items()))))
    assert forward == backward
    one_by_one = BASE
    for name, v in values.items():
        one_by_one = FACTORS[name].apply(one_by_one, v)
    assert one_by_one == forward


# ---- invalid values -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [
    ("price_level", 0.0), ("price_level", -1.0), ("price_level", math.nan), ("price_level", math.inf),
    ("price_volatility", 0.0), ("price_kappa", -0.1), ("differential_usd_per_bbl", 500.0),
    ("duty_rate", 1.0), ("duty_rate", -0.01), ("opex_multiplier", -0.1), ("capex_multiplier", -1.0),
    ("initial_rate_multiplier", 0.0), ("reserves_multiplier", -2.0), ("first_production_delay_years", 0.5),
    ("first_production_delay_years", 40), ("first_production_delay_years", -5), ("senior_coupon_bp", -700.0),
    ("senior_coupon_bp", 5000.0), ("pledged_exports_bpd", -1.0), ("gas_price_level", 0.0),
    ("price_level", True),
])
def test_invalid_values_raise_one_line_naming_the_factor(name: str, value: float) -> None:
    with pytest.raises(FactorError) as exc:
        FACTORS[name].apply(BASE, value)
    msg = str(exc.value)
    assert isinstance(exc.value, NaefError)
    assert msg.startswith(f"{name}: ")
    assert "\n" not in msg


def test_unknown_factor_lists_the_valid_ones() -> None:
    with pytest.raises(FactorError, match=r"^nope: unknown factor \(valid: price_level, price_volatility"):
        apply_factors(BASE, {"nope": 1.0})


def test_coupon_range_never_goes_below_a_zero_coupon() -> None:
    data = BASE.model_dump()
    for t in data["tranches"]:
        if t["seniority"] == 1:
            t["coupon_rate"] = 0.005
    sc = Scenario.model_validate(data)
    low, high = FACTORS["senior_coupon_bp"].default_range(sc)
    assert (low, high) == (-50.0, 130.0)
    assert FACTORS["senior_coupon_bp"].apply(sc, low).tranches[0].coupon_rate == pytest.approx(0.0)


# ---- outputs ------------------------------------------------------------------------------------------------


def test_senior_el_is_the_size_weighted_el_of_the_lowest_seniority_number() -> None:
    loss = np.array([[0.1, 0.0, 1.0], [0.3, 2.0, 1.0], [-0.1, 0.5, 0.0]])  # clipped to [0, 1]
    el = senior_el([30.0, 10.0, 5.0], [2, 2, 3], loss)
    el1 = (0.1 + 0.3 + 0.0) / 3
    el2 = (0.0 + 1.0 + 0.5) / 3
    assert el == pytest.approx((30 * el1 + 10 * el2) / 40)
    assert senior_el([1.0], [1], np.zeros((4, 1))) == 0.0


def test_model_outputs_match_the_monte_carlo_summary_and_repeat_for_a_seed() -> None:
    from naef.analysis.mc_summary import tranche_risk
    from naef.analysis.montecarlo import simulate_paths
    from naef.engine.metrics import P_MDF, P_MDF_PV
    from naef.engine.montecarlo import prepare

    out = model_outputs(BASE, n_paths=300, seed=5)
    assert list(out) == [o.name for o in OUTPUTS]
    setup = prepare(BASE)
    mt, mp, _, _ = simulate_paths(setup, n_paths=300, seed=5)
    senior = [r for r in tranche_risk(setup, mt) if r["seniority"] == 1]
    expected = sum(r["size_usd"] * r["expected_loss"] for r in senior) / sum(r["size_usd"] for r in senior)
    assert out["senior_el"] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert out["mdf_pv_mean_usd"] == pytest.approx(float(mp[:, P_MDF_PV].mean()), rel=1e-12)
    assert out["mdf_p50_usd"] == pytest.approx(float(np.median(mp[:, P_MDF])), rel=1e-12)
    assert model_outputs(BASE, n_paths=300, seed=5) == out
    assert model_outputs(BASE, n_paths=300, seed=6) != out
