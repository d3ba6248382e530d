"""Arps production (naef.engine.production) against petbox-dca, a decline-curve library we did not write.

Convention. naef's ``decline.di`` is the *nominal* initial decline per year, ``D = -d ln q / dt`` at ``t = 0``
(Arps 1945). petbox-dca's ``Hyperbolic(qi, Di, bi)`` takes ``Di`` as an *effective* decline per year (see
``petbox/dca/primary.py``, ``MH``/``Hyperbolic`` docstrings and ``nominal_from_secant``):

* ``bi > 0``: the secant effective decline ``Di = 1 - q(1 yr) / qi = 1 - (1 + b D)^(-1/b)``;
* ``bi = 0``: the tangent effective decline ``Di = 1 - exp(-D)``.

petbox stores ``D / 365.25`` per day (its ``DAYS_PER_YEAR``), as naef does. The conversion below is written out
from those formulas (not borrowed from petbox), and one test checks it against petbox's own definition of ``Di``.

Tolerance: relative 1e-8 on rates and cumulatives. Both sides are closed forms in double precision; the observed
differences are below 1e-12. The only loss is naef's hyperbolic cumulative ``1 - (1 + b D t)^(1 - 1/b)``, which
cancels for very short times (relative error about ``1e-16 / (D t)``), so random times start at 0.01 day.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import petbox.dca as dca
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from naef.engine.production import DAYS_PER_YEAR, arps_cumulative, arps_rate, field_volumes
from naef.engine.timegrid import make_grid
from naef.scenario import load_scenario

RTOL = 1e-8

TIMES_DAYS = np.array(
    [0.0, 0.01, 0.5, 1.0, 30.4375, 91.3125, 365.25, 1000.0, 3652.5, 10957.5, 36525.0], dtype=np.float64
)

# (label, nominal di per year, b): exponential, hyperbolic with several b (including b > 1) and harmonic
CASES = [
    ("exponential-low", 0.05, 0.0),
    ("exponential", 0.30, 0.0),
    ("exponential-steep", 1.50, 0.0),
    ("hyperbolic-0.1", 0.20, 0.1),
    ("hyperbolic-0.3", 0.12, 0.3),
    ("hyperbolic-0.5", 0.15, 0.5),
    ("hyperbolic-0.7", 0.30, 0.7),
    ("hyperbolic-0.9", 0.60, 0.9),
    ("hyperbolic-1.2", 0.40, 1.2),
    ("hyperbolic-1.5", 0.80, 1.5),
    ("hyperbolic-2.0", 2.50, 2.0),
    ("harmonic", 0.40, 1.0),
    ("harmonic-steep", 3.00, 1.0),
]


def effective_from_nominal(di_nominal: float, b: float) -> float:
    """petbox's ``Di`` for naef's nominal ``di``: tangent effective for b = 0, secant effective for b > 0."""
    if b == 0.0:
        return -math.expm1(-di_nominal)
    return -math.expm1(-math.log1p(b * di_nominal) / b)


def petbox_model(*, qi: float, di_nominal: float, b: float) -> dca.Hyperbolic:
    """The petbox model with the same decline as naef's ``(qi, di_nominal, b)``."""
    return dca.Hyperbolic(qi=qi, Di=effective_from_nominal(di_nominal, b), bi=b)


def test_days_per_year_is_petbox_convention() -> None:
    assert DAYS_PER_YEAR == dca.DAYS_PER_YEAR == 365.25


@pytest.mark.parametrize(("di", "b"), [(0.3, 0.0), (0.15, 0.5), (0.4, 1.0), (0.8, 1.5)])
def test_conversion_matches_petbox_definition_of_di(di: float, b: float) -> None:
    """petbox defines ``Di = 1 - q(1 year) / qi`` (secant, or tangent for b = 0): our conversion reproduces it,
    and naef's rate after one year is ``qi (1 - Di)``."""
    model = petbox_model(qi=1000.0, di_nominal=di, b=b)
    di_eff = effective_from_nominal(di, b)
    q_one_year = float(model.rate(np.array([DAYS_PER_YEAR]))[0])
    assert q_one_year == pytest.approx(1000.0 * (1.0 - di_eff), rel=1e-12)
    naef_q = float(arps_rate(qi=1000.0, di_per_year=di, b=b, t_days=np.array([DAYS_PER_YEAR]))[0])
    assert naef_q == pytest.approx(1000.0 * (1.0 - di_eff), rel=1e-12)


@pytest.mark.parametrize(("label", "di", "b"), CASES, ids=[c[0] for c in CASES])
def test_rate_matches_petbox(label: str, di: float, b: float) -> None:
    qi = 150_000.0
    expected = petbox_model(qi=qi, di_nominal=di, b=b).rate(TIMES_DAYS)
    got = arps_rate(qi=qi, di_per_year=di, b=b, t_days=TIMES_DAYS)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0.0)
    assert got[0] == qi


@pytest.mark.parametrize(("label", "di", "b"), CASES, ids=[c[0] for c in CASES])
def test_cumulative_matches_petbox(label: str, di: float, b: float) -> None:
    qi = 150_000.0
    expected = petbox_model(qi=qi, di_nominal=di, b=b).cum(TIMES_DAYS)
    got = arps_cumulative(qi=qi, di_per_year=di, b=b, t_days=TIMES_DAYS)
    assert got[0] == 0.0
    np.testing.assert_allclose(got[1:], expected[1:], rtol=RTOL, atol=0.0)


@settings(max_examples=300, deadline=None)
@given(
    qi=st.floats(1.0, 1.0e6),
    di=st.floats(0.01, 3.0),
    b=st.one_of(st.just(0.0), st.just(1.0), st.floats(0.05, 2.0)),
    times=st.lists(st.floats(0.01, 36525.0), min_size=1, max_size=20),
)
def test_rate_and_cumulative_match_petbox_random(qi: float, di: float, b: float, times: list[float]) -> None:
    t = np.array(times, dtype=np.float64)
    model = petbox_model(qi=qi, di_nominal=di, b=b)
    np.testing.assert_allclose(
        arps_rate(qi=qi, di_per_year=di, b=b, t_days=t), model.rate(t), rtol=RTOL, atol=0
    )
    np.testing.assert_allclose(
        arps_cumulative(qi=qi, di_per_year=di, b=b, t_days=t), model.cum(t), rtol=RTOL, atol=0
    )


def test_rate_broadcasts_over_paths() -> None:
    """Arrays shaped (paths, periods): one initial rate per path, the same times."""
    qi = np.array([[1000.0], [2500.0]])
    got = arps_rate(qi=qi, di_per_year=0.2, b=0.5, t_days=TIMES_DAYS[None, :])
    for row, q in enumerate((1000.0, 2500.0)):
        np.testing.assert_allclose(
            got[row], petbox_model(qi=q, di_nominal=0.2, b=0.5).rate(TIMES_DAYS), rtol=RTOL, atol=0
        )


# ---- field_volumes: period volumes on the calendar grid, reserves cap ---------------------------------------


def _grid_days() -> tuple[np.ndarray, np.ndarray]:
    grid = make_grid(start=dt.date(2027, 1, 1), years=30, periods_per_year=4)
    ends = np.cumsum(grid.days)
    return grid.days, ends


@pytest.mark.parametrize(("di", "b"), [(0.3, 0.0), (0.15, 0.5), (0.25, 1.0), (0.5, 1.5)])
@pytest.mark.parametrize("first", [0, 7])
def test_period_volume_is_integral_of_rate_over_calendar_days(di: float, b: float, first: int) -> None:
    """Without the cap, each period's volume is ∫ q dt over its calendar days (petbox's ``interval_vol`` and an
    independent quadrature of petbox's rate), i.e. average rate × calendar days."""
    days, ends = _grid_days()
    qi = 120_000.0
    vol = field_volumes(
        qi_per_day=qi,
        di_per_year=di,
        b=b,
        reserves=1e15,
        days=days,
        first_period=np.array([first]),
        qi_multiplier=np.ones(1),
        reserves_multiplier=np.ones(1),
    )[0]
    assert vol.shape == days.shape
    assert np.all(vol[:first] == 0.0)
    offset = ends[first] - days[first]
    t_end = ends[first:] - offset
    model = petbox_model(qi=qi, di_nominal=di, b=b)
    expected = model.interval_vol(t_end, t0=0.0)
    np.testing.assert_allclose(vol[first:], expected, rtol=RTOL, atol=0)
    for k in (first, first + 1, first + 13, len(days) - 1):
        a, z = ends[k] - days[k] - offset, ends[k] - offset
        integral, _ = quad(lambda s: float(model.rate(np.array([s]))[0]), a, z, epsabs=0.0, epsrel=1e-12)
        average_rate = vol[k] / days[k]
        assert average_rate * days[k] == pytest.approx(integral, rel=1e-9)
        # the average rate lies between the rates at the period's ends (the rate declines)
        assert model.rate(np.array([z]))[0] <= average_rate <= model.rate(np.array([a]))[0]


@pytest.mark.parametrize(
    ("di", "b", "reserves"),
    [
        (0.10, 0.0, 2.0e8),  # exponential, cap binds mid-horizon
        (0.15, 0.5, 3.0e8),  # hyperbolic
        (0.20, 1.0, 2.5e8),  # harmonic: EUR unbounded, so the cap must bind
        (0.30, 1.5, 4.0e8),  # b > 1
        (0.40, 0.5, 5.0e9),  # reserves larger than 30 years of production: cap never binds
    ],
)
def test_reserves_cap(di: float, b: float, reserves: float) -> None:
    """Cumulative never above reserves; the volumes sum to min(EUR over the horizon, reserves) (petbox's
    cumulative at the end of the horizon); the period where the cap binds gets exactly what is left."""
    days, ends = _grid_days()
    qi, first = 150_000.0, 4
    mult_q = np.array([1.0, 1.3])
    mult_r = np.array([1.0, 0.6])
    vol = field_volumes(
        qi_per_day=qi,
        di_per_year=di,
        b=b,
        reserves=reserves,
        days=days,
        first_period=np.array([first, first]),
        qi_multiplier=mult_q,
        reserves_multiplier=mult_r,
    )
    offset = ends[first] - days[first]
    for p in range(2):
        cap = reserves * mult_r[p]
        model = petbox_model(qi=qi * mult_q[p], di_nominal=di, b=b)
        cum = np.cumsum(vol[p])
        assert np.all(vol[p] >= 0.0)
        assert np.all(cum <= cap * (1 + 1e-12))
        eur_horizon = float(model.cum(np.array([ends[-1] - offset]))[0])
        assert cum[-1] == pytest.approx(min(eur_horizon, cap), rel=1e-9)
        uncapped = model.cum(np.maximum(ends - offset, 0.0))
        binding = np.nonzero(uncapped > cap)[0]
        if binding.size == 0:
            np.testing.assert_allclose(cum[first:], uncapped[first:], rtol=1e-9)
            continue
        k = int(binding[0])
        assert k > first
        np.testing.assert_allclose(cum[:k], uncapped[:k], rtol=1e-9, atol=1e-6)
        assert vol[p, k] == pytest.approx(cap - uncapped[k - 1], rel=1e-9)
        assert np.all(vol[p, k + 1 :] == 0.0)


def test_never_producing_field_has_no_volume() -> None:
    days, _ = _grid_days()
    vol = field_volumes(
        qi_per_day=1e5,
        di_per_year=0.2,
        b=0.5,
        reserves=1e9,
        days=days,
        first_period=np.array([len(days)]),
        qi_multiplier=np.ones(1),
        reserves_multiplier=np.ones(1),
    )
    assert np.all(vol == 0.0)


_ONE_FIELD = """
[scenario]
name = "one-field"
start = 2027-01-01
years = 12
periods_per_year = {ppy}

[price]
deck = [[2027, 70.0]]

[[fields]]
name = "F"
capex_usd = [1.0e9]
first_production_year = 2029
initial_rate_bpd = 100000
decline = {{ model = "hyperbolic", di = 0.35, b = 1.2 }}
reserves_mmbbl = {reserves}
opex_usd_per_bbl = 10.0

[[tranches]]
name = "A"
size_usd = 1.0e9
coupon_rate = 0.06
amortization = "straight"
issue_year = 2027
maturity_years = 8
grace_years = 2
"""


@pytest.mark.parametrize("ppy", [1, 4, 12])
@pytest.mark.parametrize("reserves", [5000.0, 150.0])
def test_simulated_table_production_is_petbox_volume_over_calendar_days(ppy: int, reserves: float) -> None:
    """End to end: the table's ``production_bpd`` × ``period_days`` is petbox's volume between the period's
    calendar dates (days counted from 1 January of the first production year), capped at the reserves."""
    from naef import simulate

    result = simulate(load_scenario(_ONE_FIELD.format(ppy=ppy, reserves=reserves)))
    table = result.table
    starts = [dt.date.fromisoformat(s) for s in table["period_start"]]
    months = 12 // ppy
    last = starts[-1]
    total = last.year * 12 + last.month - 1 + months
    bounds = [*starts, dt.date(total // 12, total % 12 + 1, 1)]
    calendar_days = np.array([(b - a).days for a, b in itertools.pairwise(bounds)])
    np.testing.assert_array_equal(table["period_days"].to_numpy(), calendar_days)
    first_oil = dt.date(2029, 1, 1)
    t_end = np.array([max((b - first_oil).days, 0) for b in bounds[1:]], dtype=np.float64)
    model = petbox_model(qi=100_000.0, di_nominal=0.35, b=1.2)
    expected_cum = np.minimum(model.cum(t_end), reserves * 1e6)
    expected = np.diff(expected_cum, prepend=0.0)
    volumes = table["production_bpd"].to_numpy() * calendar_days
    np.testing.assert_allclose(volumes, expected, rtol=1e-9, atol=1e-6)
    assert volumes.sum() <= reserves * 1e6 * (1 + 1e-12)
    assert result.summary["production"]["cumulative_oil_mmbbl"] == pytest.approx(
        expected_cum[-1] / 1e6, rel=1e-9
    )
