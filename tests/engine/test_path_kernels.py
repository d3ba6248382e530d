"""The compiled collections (``collections_path``, through ``monte_carlo_collections``) against the plain-Python
oracle's (``collections_reference``), bit for bit: both follow one order of arithmetic, so any change to the
kernel's operations or their order (a sum over fields taken in another order, a clipped loss netted, a field shut
in on the wrong side of its margin) shows here, on random scenarios and on prices pushed below zero."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from naef.engine.montecarlo import draw_inputs, monte_carlo_collections, prepare
from naef.engine.montecarlo_reference import collections_reference
from naef.engine.run_arguments import MonteCarloError
from naef.engine.simulate import PathInputs
from naef.scenario.load import load_scenario
from naef.scenario.models import Scenario
from tests.engine.strategies import scenarios


def _shifted(inputs: PathInputs, shift_usd_per_bbl: float) -> PathInputs:
    return dataclasses.replace(inputs, benchmark_usd_per_bbl=inputs.benchmark_usd_per_bbl + shift_usd_per_bbl)


def _assert_same_bits(scenario: Scenario, seed: int, n_paths: int, shift_usd_per_bbl: float) -> None:
    setup = prepare(scenario)
    inputs = _shifted(draw_inputs(setup, seed=seed, first_path=0, n_paths=n_paths), shift_usd_per_bbl)
    fast = monte_carlo_collections(setup, inputs)
    coll, capex, exports, hedge, _ = collections_reference(setup, inputs)
    for name, a, b in (("collections", fast.collections_usd, coll), ("capex", fast.capex_usd, capex),
                       ("exports", fast.pledged_exports_usd, exports),
                       ("hedge", fast.hedge_net_usd, np.asarray(hedge))):
        assert a.tobytes() == b.tobytes(), name


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenario=scenarios(), seed=st.integers(0, 2**32), shift=st.sampled_from([0.0, -30.0, -80.0]))
def test_collections_are_the_oracles_bit_for_bit_on_random_scenarios(scenario: Scenario, seed: int,
                                                                     shift: float) -> None:
    try:
        prepare(scenario)
    except MonteCarloError:
        assume(False)
        raise
    _assert_same_bits(scenario, seed, 16, shift)


def test_collections_are_the_oracles_bit_for_bit_with_negative_prices_and_shut_in_fields() -> None:
    baseline = load_scenario("baseline")
    data = baseline.model_dump()
    data["hedges"] = [{"kind": "collar", "share_of_expected_production": 0.6, "put_strike_usd_per_bbl": 50.0,
                       "call_strike_usd_per_bbl": 75.0, "first_year": 2029, "last_year": 2036,
                       "premium": "collections"}]
    data["fields"][0]["shut_in"] = False  # runs at a loss when the price is below its cash cost
    hedged = Scenario.model_validate(data)
    setup = prepare(hedged)
    prices = draw_inputs(setup, seed=3, first_path=0, n_paths=64).benchmark_usd_per_bbl - 45.0
    assert (prices < 0.0).any()  # negative prices: every oil field with shut-in is shut in, the put pays
    assert (prices > 75.0).any()  # the collar's call is paid away
    for scenario in (baseline, hedged):
        _assert_same_bits(scenario, 3, 64, -45.0)
