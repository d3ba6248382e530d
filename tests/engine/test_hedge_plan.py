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
                risk_free_rate=0.035, premium=premium)
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
