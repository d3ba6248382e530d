"""Tests of naef.engine.hedging: Black-76 against QuantLib, put-call parity, collars and payoffs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import QuantLib as ql  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from naef.engine.hedging import (
    HedgingError,
    black76_call,
    black76_put,
    call_payoff,
    collar_payoff,
    collar_payoff_usd,
    collar_price,
    put_payoff,
    put_payoff_usd,
)
from naef.errors import NaefError


def ql_black(option: int, *, f: float, k: float, vol: float, t: float, df: float) -> float:
    """QuantLib's Black formula (std dev = vol sqrt(T)) — the outside reference."""
    return float(ql.blackFormula(option, k, f, vol * math.sqrt(t), df))


def ql_black_calculator(option: int, *, f: float, k: float, vol: float, t: float, df: float) -> float:
    payoff = ql.PlainVanillaPayoff(option, k)
    return float(ql.BlackCalculator(payoff, f, vol * math.sqrt(t), df).value())


GRID = list(
    itertools.product(
        [20.0, 55.0, 80.0, 140.0],  # forward USD/bbl
        [30.0, 60.0, 75.0, 120.0],  # strike USD/bbl
        [0.05, 0.3, 0.6],  # vol
        [0.1, 1.0, 4.5],  # years
        [1.0, 0.93, 0.6],  # discount factor
    )
)


def test_grid_against_quantlib_black_formula() -> None:
    f, k, v, t, d = (np.array(c) for c in zip(*GRID, strict=True))
    calls = black76_call(forward=f, strike=k, vol=v, time_years=t, discount_factor=d)
    puts = black76_put(forward=f, strike=k, vol=v, time_years=t, discount_factor=d)
    assert calls.shape == (len(GRID),)
    for i, (fi, ki, vi, ti, di) in enumerate(GRID):
        assert calls[i] == pytest.approx(
            ql_black(ql.Option.Call, f=fi, k=ki, vol=vi, t=ti, df=di), rel=1e-10, abs=1e-10
        )
        assert puts[i] == pytest.approx(
            ql_black(ql.Option.Put, f=fi, k=ki, vol=vi, t=ti, df=di), rel=1e-10, abs=1e-10
        )


def test_spot_check_against_quantlib_black_calculator() -> None:
    for option, fn in ((ql.Option.Call, black76_call), (ql.Option.Put, black76_put)):
        got = float(fn(forward=75.0, strike=70.0, vol=0.35, time_years=2.0, discount_factor=0.9))
        assert got == pytest.approx(
            ql_black_calculator(option, f=75.0, k=70.0, vol=0.35, t=2.0, df=0.9), rel=1e-10
        )


positive_price = st.floats(1.0, 500.0)


@settings(max_examples=300, deadline=None)
@given(
    f=positive_price,
    k=positive_price,
    vol=st.floats(0.01, 1.5),
    t=st.floats(0.01, 10.0),
    df=st.floats(0.2, 1.0),
)
def test_hypothesis_against_quantlib(f: float, k: float, vol: float, t: float, df: float) -> None:
    c = float(black76_call(forward=f, strike=k, vol=vol, time_years=t, discount_factor=df))
    p = float(black76_put(forward=f, strike=k, vol=vol, time_years=t, discount_factor=df))
    assert c == pytest.approx(ql_black(ql.Option.Call, f=f, k=k, vol=vol, t=t, df=df), rel=1e-9, abs=1e-9)
    assert p == pytest.approx(ql_black(ql.Option.Put, f=f, k=k, vol=vol, t=t, df=df), rel=1e-9, abs=1e-9)
    # put-call parity and no-arbitrage bounds
    assert c - p == pytest.approx(df * (f - k), rel=1e-9, abs=1e-8)
    assert df * max(f - k, 0.0) - 1e-9 <= c <= df * f + 1e-9
    assert df * max(k - f, 0.0) - 1e-9 <= p <= df * k + 1e-9


def test_zero_vol_or_zero_time_is_discounted_intrinsic() -> None:
    f = np.array([50.0, 70.0, 90.0])
    for vol, t in ((0.0, 1.0), (0.3, 0.0)):
        np.testing.assert_allclose(
            black76_put(forward=f, strike=70.0, vol=vol, time_years=t, discount_factor=0.95),
            0.95 * np.array([20.0, 0.0, 0.0]),
        )
        np.testing.assert_allclose(
            black76_call(forward=f, strike=70.0, vol=vol, time_years=t, discount_factor=0.95),
            0.95 * np.array([0.0, 0.0, 20.0]),
        )


def test_prices_broadcast_over_paths_and_periods() -> None:
    forwards = np.linspace(40, 100, 12).reshape(3, 4)
    times = np.array([0.25, 0.5, 0.75, 1.0])
    dfs = np.exp(-0.04 * times)
    out = black76_put(forward=forwards, strike=65.0, vol=0.4, time_years=times, discount_factor=dfs)
    assert out.shape == (3, 4)
    assert out[1, 2] == pytest.approx(
        ql_black(ql.Option.Put, f=forwards[1, 2], k=65.0, vol=0.4, t=0.75, df=dfs[2])
    )


def test_put_increases_with_vol_and_strike() -> None:
    vols = np.linspace(0.05, 1.0, 20)
    p = black76_put(forward=70.0, strike=60.0, vol=vols, time_years=1.0, discount_factor=1.0)
    assert np.all(np.diff(p) > 0)
    strikes = np.linspace(30, 110, 20)
    p = black76_put(forward=70.0, strike=strikes, vol=0.3, time_years=1.0, discount_factor=1.0)
    assert np.all(np.diff(p) > 0)


def test_collar_price_is_put_minus_call_and_zero_cost_collar_exists() -> None:
    kw = {"forward": 70.0, "time_years": 1.0, "discount_factor": 0.96}
    net = collar_price(put_strike=60.0, call_strike=85.0, put_vol=0.35, call_vol=0.3, **kw)
    put = ql_black(ql.Option.Put, f=70.0, k=60.0, vol=0.35, t=1.0, df=0.96)
    call = ql_black(ql.Option.Call, f=70.0, k=85.0, vol=0.3, t=1.0, df=0.96)
    assert float(net) == pytest.approx(put - call, rel=1e-10)
    # put-call symmetry of the Black model, call(F c) = c put(F / c), so a flat-vol collar struck at
    # (F / c, F c) costs (1 - c) put(F / c): the call sold is worth more than the put bought
    c = 1.2
    sym = collar_price(put_strike=70.0 / c, call_strike=70.0 * c, put_vol=0.3, call_vol=0.3, **kw)
    put_low = ql_black(ql.Option.Put, f=70.0, k=70.0 / c, vol=0.3, t=1.0, df=0.96)
    assert float(sym) == pytest.approx((1.0 - c) * put_low, rel=1e-9)
    with pytest.raises(HedgingError, match="put_strike"):
        collar_price(put_strike=90.0, call_strike=80.0, put_vol=0.3, call_vol=0.3, **kw)


def test_payoffs_per_barrel() -> None:
    s = np.array([40.0, 60.0, 70.0, 95.0])
    np.testing.assert_array_equal(put_payoff(price=s, strike=60.0), [20.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(call_payoff(price=s, strike=80.0), [0.0, 0.0, 0.0, 15.0])
    np.testing.assert_array_equal(
        collar_payoff(price=s, put_strike=60.0, call_strike=80.0), [20.0, 0.0, 0.0, -15.0]
    )


@given(st.floats(0.0, 300.0), st.floats(1.0, 150.0), st.floats(0.0, 150.0))
def test_collar_floors_and_caps_the_hedged_price(s: float, kp: float, width: float) -> None:
    kc = kp + width
    realised = s + float(collar_payoff(price=s, put_strike=kp, call_strike=kc))
    assert realised == pytest.approx(min(max(s, kp), kc), abs=1e-9)


def test_expected_payoff_under_lognormal_forward_matches_undiscounted_black_price() -> None:
    # E[max(K - S_T, 0)] with ln S_T ~ N(ln F - sigma^2 T / 2, sigma^2 T) is the Black-76 put with D = 1.
    rng = np.random.default_rng(20240601)
    f, k, vol, t = 70.0, 65.0, 0.35, 1.5
    z = rng.standard_normal(400_000)
    s = f * np.exp(-0.5 * vol**2 * t + vol * math.sqrt(t) * z)
    pay = put_payoff(price=s, strike=k)
    se = pay.std(ddof=1) / math.sqrt(pay.size)
    price = float(black76_put(forward=f, strike=k, vol=vol, time_years=t, discount_factor=1.0))
    assert abs(pay.mean() - price) < 4 * se


def test_usd_payoffs_on_paths_and_periods() -> None:
    prices = np.array([[50.0, 70.0, 90.0], [65.0, 55.0, 100.0]])
    q = np.array([1_000.0, 2_000.0, 3_000.0])
    put = put_payoff_usd(prices_usd_per_bbl=prices, strike_usd_per_bbl=60.0, notional_bbl_per_period=q)
    np.testing.assert_array_equal(put, [[10_000.0, 0.0, 0.0], [0.0, 10_000.0, 0.0]])
    collar = collar_payoff_usd(
        prices_usd_per_bbl=prices,
        put_strike_usd_per_bbl=60.0,
        call_strike_usd_per_bbl=80.0,
        notional_bbl_per_period=q,
    )
    np.testing.assert_array_equal(collar, [[10_000.0, 0.0, -30_000.0], [0.0, 10_000.0, -60_000.0]])
    scalar = put_payoff_usd(prices_usd_per_bbl=prices, strike_usd_per_bbl=60.0, notional_bbl_per_period=500.0)
    np.testing.assert_array_equal(scalar, 500.0 * np.maximum(60.0 - prices, 0.0))
    per_period_strike = put_payoff_usd(
        prices_usd_per_bbl=prices,
        strike_usd_per_bbl=np.array([60.0, 60.0, 95.0]),
        notional_bbl_per_period=1.0,
    )
    np.testing.assert_array_equal(per_period_strike[:, 2], [5.0, 0.0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"forward": -1.0, "strike": 60.0, "vol": 0.3, "time_years": 1.0, "discount_factor": 1.0}, "forward"),
        ({"forward": 70.0, "strike": 0.0, "vol": 0.3, "time_years": 1.0, "discount_factor": 1.0}, "strike"),
        ({"forward": 70.0, "strike": 60.0, "vol": -0.1, "time_years": 1.0, "discount_factor": 1.0}, "vol"),
        (
            {"forward": 70.0, "strike": 60.0, "vol": 0.3, "time_years": -1.0, "discount_factor": 1.0},
            "time_years",
        ),
        (
            {"forward": 70.0, "strike": 60.0, "vol": 0.3, "time_years": 1.0, "discount_factor": 0.0},
            "discount",
        ),
        (
            {"forward": float("nan"), "strike": 60.0, "vol": 0.3, "time_years": 1.0, "discount_factor": 1.0},
            "forward",
        ),
    ],
)
def test_bad_price_inputs_name_the_argument(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(HedgingError, match=match) as info:
        black76_put(**kwargs)
    assert isinstance(info.value, NaefError)


def test_bad_payoff_inputs() -> None:
    with pytest.raises(HedgingError, match="shape"):
        put_payoff_usd(prices_usd_per_bbl=np.ones(3), strike_usd_per_bbl=60.0, notional_bbl_per_period=1.0)
    with pytest.raises(HedgingError, match="notional_bbl_per_period"):
        put_payoff_usd(
            prices_usd_per_bbl=np.ones((2, 3)), strike_usd_per_bbl=60.0, notional_bbl_per_period=np.ones(4)
        )
    with pytest.raises(HedgingError, match="notional_bbl_per_period"):
        put_payoff_usd(
            prices_usd_per_bbl=np.ones((2, 3)), strike_usd_per_bbl=60.0, notional_bbl_per_period=-5.0
        )
    with pytest.raises(HedgingError, match="price"):
        put_payoff(price=-1.0, strike=60.0)
