"""The scenario's hedges on the grid: premiums against QuantLib's Black formula, notional, and what a put adds to
collections on simulated prices."""

from __future__ import annotations

import math

import numpy as np
import pytest
import QuantLib as ql  # type: ignore[import-untyped]

from naef.engine.prices import deck_prices
from naef.engine.simulate import deterministic_inputs, grid_of, hedge_plan_of, operations
from naef.scenario.load import load_scenario
from naef.scenario.models import Scenario

BASE = load_scenario("baseline")


def hedged(**hedge: object) -> Scenario:
    data = BASE.model_dump()
    data["hedges"] = [{"first_year": 2030, "last_year": 2033, "share_of_expected_production": 0.5, **hedge}]
    return Scenario.model_validate(data)


@pytest.mark.parametrize("premium", ["proceeds", "collections"])
def test_collar_premium_is_quantlibs_black_price_on_the_deck(premium: str) -> None:
    sc = hedged(kind="collar", put_strike_usd_per_bbl=55.0, call_strike_usd_per_bbl=85.0, volatility=0.32,
                risk_free_rate=0.035, premium=premium, volatility_from="flat")
    grid = grid_of(sc)
    plan = hedge_plan_of(sc, grid)
    expected_oil = operations(sc, grid, deterministic_inputs(sc, grid)).oil_bbl[0]
    forward = deck_prices(deck=sc.price.deck, decimal_years=grid.mid_decimal_year)
    total = 0.0
    for t in range(grid.n):
        if not 2030 <= grid.starts[t].year <= 2033:
            assert plan.notional_bbl[t] == 0.0
            continue
        tt = 0.5 * (grid.t_start_years[t] + grid.t_end_years[t])
        df = math.exp(-0.035 * tt)
        sd = 0.32 * math.sqrt(tt)
        put = ql.blackFormula(ql.Option.Put, 55.0, float(forward[t]), sd, df)
        call = ql.blackFormula(ql.Option.Call, 85.0, float(forward[t]), sd, df)
        qty = 0.5 * expected_oil[t]
        assert plan.notional_bbl[t] == pytest.approx(qty, rel=1e-12)
        total += qty * (put - call)
        if premium == "collections":
            assert plan.premium_from_collections_usd[t] == pytest.approx(qty * (put - call) / df, rel=1e-9)
    assert plan.premium_value_usd == pytest.approx(total, rel=1e-9)
    assert plan.premium_from_proceeds_usd == (pytest.approx(total, rel=1e-9) if premium == "proceeds" else 0.0)


def test_a_put_adds_its_payoff_to_collections_and_a_collar_gives_up_the_upside() -> None:
    sc = hedged(kind="put", put_strike_usd_per_bbl=60.0, premium="proceeds")
    grid = grid_of(sc)
    plan = hedge_plan_of(sc, grid)
    base = deterministic_inputs(sc, grid)
    for price in (30.0, 90.0):
        inputs = base.__class__(**{**base.__dict__, "benchmark_usd_per_bbl": np.full((1, grid.n), price)})
        with_hedge = operations(sc, grid, inputs, plan)
        without = operations(sc, grid, inputs)
        gain = with_hedge.collections_usd - without.collections_usd
        np.testing.assert_allclose(gain[0], plan.notional_bbl * max(60.0 - price, 0.0), rtol=1e-9, atol=1e-3)
    collar = hedged(kind="collar", put_strike_usd_per_bbl=50.0, call_strike_usd_per_bbl=70.0, premium="proceeds")
    cplan = hedge_plan_of(collar, grid)
    inputs = base.__class__(**{**base.__dict__, "benchmark_usd_per_bbl": np.full((1, grid.n), 100.0)})
    lost = operations(collar, grid, inputs).collections_usd - operations(collar, grid, inputs, cplan).collections_usd
    np.testing.assert_allclose(lost[0], cplan.notional_bbl * 30.0, rtol=1e-9, atol=1e-3)


@pytest.mark.parametrize(("hedge", "needle"), [
    ({"kind": "put", "put_strike_usd_per_bbl": 50.0, "call_strike_usd_per_bbl": 70.0}, "call_strike_usd_per_bbl"),
    ({"kind": "collar", "put_strike_usd_per_bbl": 70.0, "call_strike_usd_per_bbl": 50.0}, "call_strike_usd_per_bbl"),
    ({"kind": "put", "put_strike_usd_per_bbl": 50.0, "volatility": -0.1}, "volatility"),
])
def test_bad_hedges_are_refused(hedge: dict[str, object], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        hedged(**hedge)


MODELS = {
    "gbm": {"model": "gbm", "mu": 0.01, "sigma": 0.35},
    "ou": {"model": "ou", "kappa": 0.2, "long_run_usd_per_bbl": 66.8, "sigma": 0.47},
    "schwartz_smith": {"model": "schwartz_smith", "kappa": 0.6, "sigma_chi": 0.35, "sigma_xi": 0.15, "rho": 0.3,
                       "chi0": 0.05},
}


def _model_var(name: str, t: float) -> float:
    """Var[ln S_T] by hand (issue 13 item 6): GBM s^2 T; OU s^2 (1 - e^(-2kT)) / (2k); Schwartz-Smith (2000)
    eq. 3: (1 - e^(-2kT)) sc^2 / (2k) + sx^2 T + 2 (1 - e^(-kT)) rho sc sx / k."""
    m = MODELS[name]
    if name == "gbm":
        return float(m["sigma"]) ** 2 * t
    k = float(m["kappa"])
    if name == "ou":
        return float(m["sigma"]) ** 2 * (1 - math.exp(-2 * k * t)) / (2 * k)
    sc, sx, rho = float(m["sigma_chi"]), float(m["sigma_xi"]), float(m["rho"])
    return (1 - math.exp(-2 * k * t)) * sc**2 / (2 * k) + sx**2 * t + 2 * (1 - math.exp(-k * t)) * rho * sc * sx / k


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_premium_is_quantlibs_black_price_with_the_models_variance(name: str) -> None:
    data = hedged(kind="collar", put_strike_usd_per_bbl=55.0, call_strike_usd_per_bbl=85.0, volatility=0.30,
                  risk_free_rate=0.04, premium="collections").model_dump()
    data["price"]["stochastic"] = MODELS[name]
    sc = Scenario.model_validate(data)
    grid = grid_of(sc)
    plan = hedge_plan_of(sc, grid)
    forward = deck_prices(deck=sc.price.deck, decimal_years=grid.mid_decimal_year)
    total = flat = 0.0
    for t in range(grid.n):
        if plan.notional_bbl[t] == 0.0:
            continue
        tt = 0.5 * (grid.t_start_years[t] + grid.t_end_years[t])
        df = math.exp(-0.04 * tt)
        sd = math.sqrt(_model_var(name, tt))
        unit = (ql.blackFormula(ql.Option.Put, 55.0, float(forward[t]), sd, df)
                - ql.blackFormula(ql.Option.Call, 85.0, float(forward[t]), sd, df))
        assert plan.premium_from_collections_usd[t] == pytest.approx(plan.notional_bbl[t] * unit / df, rel=1e-9)
        total += plan.notional_bbl[t] * unit
        sd0 = 0.30 * math.sqrt(tt)
        flat += plan.notional_bbl[t] * (ql.blackFormula(ql.Option.Put, 55.0, float(forward[t]), sd0, df)
                                        - ql.blackFormula(ql.Option.Call, 85.0, float(forward[t]), sd0, df))
    (row,) = plan.rows
    assert plan.premium_value_usd == pytest.approx(total, rel=1e-9)
    assert row["premium_value_flat_usd"] == pytest.approx(flat, rel=1e-9)
    assert row["volatility_basis"] == "price model"
    assert row["premium_borne_by"].startswith("collections")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_volatility_matches_the_variance_of_simulated_log_prices(name: str) -> None:
    from naef.engine.hedge_plan import model_volatility

    data = BASE.model_dump()
    data["price"]["stochastic"] = MODELS[name]
    sc = Scenario.model_validate(data)
    model = sc.price.stochastic
    assert model is not None
    t = np.array([0.5, 3.0, 5.0, 8.0])
    paths = model.simulate(spot_usd_per_bbl=70.0, times_years=t, n_paths=40_000, rng=np.random.default_rng(3))
    var_mc = np.log(paths).var(axis=0, ddof=1)
    var_model = model_volatility(sc, t) ** 2 * t
    # the sample variance of n normal draws has a standard error of var sqrt(2 / (n - 1))
    assert np.all(np.abs(var_mc - var_model) <= 4 * var_model * math.sqrt(2 / 39_999)), (var_mc, var_model)
    np.testing.assert_allclose(var_model, [_model_var(name, x) for x in t], rtol=1e-12)
