"""The compiled collections (``collections_path``, through ``monte_carlo_collections``) against the plain-Python
oracle's (``collections_reference``), bit for bit: both follow one order of arithmetic, so any change to the
kernel's operations or their order (a sum over fields taken in another order, a clipped loss netted, a field shut
in on the wrong side of its margin — which shows in its production, since a field left open at a loss adds
nothing to the collections either) shows here, on random scenarios and on prices pushed below zero. And the
per-path metrics' minimum DSCRs (``metrics_from_accumulators``, taken on four lanes) against their definition
period by period, bit for bit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from naef.engine.metric_kernels import N_ACC
from naef.engine.metrics import N_METRICS_PATH, N_METRICS_TRANCHE
from naef.engine.montecarlo import draw_inputs, monte_carlo_collections, prepare
from naef.engine.montecarlo_reference import collections_reference
from naef.engine.path_kernels import debt_service_span, metrics_from_accumulators
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
    coll, capex, exports, hedge, boe = collections_reference(setup, inputs)
    for name, a, b in (("collections", fast.collections_usd, coll), ("capex", fast.capex_usd, capex),
                       ("exports", fast.pledged_exports_usd, exports),
                       ("hedge", fast.hedge_net_usd, np.asarray(hedge)),
                       ("production", fast.production_boe_per_day, boe)):
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


_VALUES = [0.0, -0.0, 1.0, 2.5, 1e-300, -1.0, np.inf, -np.inf, np.nan]
_ZERO_HEAVY = [0.0, -0.0, 1.0, np.nan, np.inf]


def _serial_minima(pout: np.ndarray, own_ds: np.ndarray, senior_ds: np.ndarray) -> list[float]:
    """The minima period by period, as defined: each tranche's CFADS over senior debt service where it has debt
    service of its own, then the path's DSCR skipping NaN (the first of equal minima kept)."""
    out = []
    for j in range(own_ds.shape[0]):
        m = np.inf
        for t in range(pout.shape[1]):
            if own_ds[j, t] > 0.0:
                d = pout[10, t] / senior_ds[j, t]
                if d < m:
                    m = d
        out.append(m)
    m = np.inf
    for d in pout[12]:
        if d == d and d < m:
            m = d
    out.append(m)
    return out


def _assert_minima_are_serial(pout: np.ndarray, own_ds: np.ndarray, senior_ds: np.ndarray) -> None:
    nt, n = own_ds.shape
    mt, mp = np.zeros((nt, N_METRICS_TRANCHE)), np.zeros(N_METRICS_PATH)
    with np.errstate(all="ignore"):
        expected = np.array(_serial_minima(pout, own_ds, senior_ds))
    metrics_from_accumulators(np.zeros((nt, N_ACC)), pout, np.ones(nt), np.zeros(nt, dtype=np.int64), np.zeros(n),
                              np.zeros(nt), own_ds, senior_ds, debt_service_span(own_ds), np.ones(n), mt, mp,
                              np.empty((nt, n)))
    assert np.append(mt[:, 4], mp[4]).tobytes() == expected.tobytes()


@settings(max_examples=300, deadline=None)
@given(data=st.data(), n=st.integers(1, 13), nt=st.integers(1, 3), zeros=st.booleans())
def test_the_minimum_dscrs_are_the_period_by_period_ones_bit_for_bit(data: st.DataObject, n: int, nt: int,
                                                                    zeros: bool) -> None:
    """``metrics_from_accumulators``'s minima, taken on four lanes, equal the serial loop's in every bit on rows
    of signed zeros, NaN, infinities and negative values (which of +0.0 and -0.0 comes first matters); half the
    examples draw from a set weighted towards zeros, where the order of +0.0 and -0.0 decides most minima."""
    values = st.sampled_from(_ZERO_HEAVY if zeros else _VALUES)
    pout = np.zeros((29, n))
    pout[10] = data.draw(st.lists(values, min_size=n, max_size=n))
    pout[12] = data.draw(st.lists(values, min_size=n, max_size=n))
    own_ds = np.array(data.draw(st.lists(st.lists(values, min_size=n, max_size=n), min_size=nt, max_size=nt)))
    senior_ds = np.array(data.draw(st.lists(st.lists(values, min_size=n, max_size=n), min_size=nt, max_size=nt)))
    _assert_minima_are_serial(pout, own_ds, senior_ds)


@pytest.mark.parametrize("first_zero", [0.0, -0.0])
@pytest.mark.parametrize("n", [3, 5, 8, 9])
def test_the_first_of_two_signed_zero_minima_is_kept(first_zero: float, n: int) -> None:
    """The order of +0.0 and -0.0 fixed, not left to random draws: the path's DSCR row and a tranche's quotients
    (a zero CFADS over a negative senior debt service gives -0.0) hold both zeros, in lanes of their own, and the
    minimum must be the first of them in period order, as the serial loop keeps it."""
    pout = np.ones((29, n))
    pout[12, 1] = first_zero
    pout[12, n - 1] = -first_zero
    pout[10, 1] = 0.0
    pout[10, n - 1] = 0.0
    own_ds = np.ones((1, n))
    senior_ds = np.ones((1, n))
    senior_ds[0, 1] = np.copysign(1.0, first_zero)  # 0.0 / -1.0 is -0.0
    senior_ds[0, n - 1] = -senior_ds[0, 1]
    _assert_minima_are_serial(pout, own_ds, senior_ds)
