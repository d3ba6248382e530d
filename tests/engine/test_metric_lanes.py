"""The Monte Carlo's per-path metrics taken in the waterfall's lanes (``naef.engine.metric_lanes``) are, lane by lane
and bit for bit, the serial metrics of the same rows (``path_kernels.metrics_from_accumulators``, which the
deterministic run and the stress replays use and ``tests/engine/test_path_kernels.py`` holds to the period-by-period
definitions), on crafted rows the waterfall rarely gives: signed zeros in either order, NaN and infinite DSCRs, a
tranche whose span of debt service has periods without debt service of its own inside it, tranches and paths with
no debt service at all, events of default in the first or last period, and accumulators of any value.

(MDF inflows, collections and the funding gap are finite here, as a validated scenario's are: with a NaN among them
the two give a NaN of another sign — which operand's NaN an addition keeps is the compiler's choice.)"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from naef.engine.metric_kernels import N_ACC
from naef.engine.metric_lanes import N_LANE_PATH, metrics_from_lanes, path_metrics_lanes
from naef.engine.metrics import N_METRICS_PATH, N_METRICS_TRANCHE
from naef.engine.path_kernels import debt_service_span, metrics_from_accumulators
from naef.engine.waterfall_kernel import N_PATH_COLUMNS
from naef.engine.waterfall_lanes import LANE_OUT_ROWS, LANES, N_LANE_OUT

_ANY = np.array([0.0, -0.0, 1.0, 2.5, 1e-300, -1.0, 0.5, np.inf, -np.inf, np.nan])
_FINITE = np.array([0.0, -0.0, 1.0, 2.5, 1e-300, -1.0, 3e8, 7.25])
_DEBT_SERVICE = np.array([0.0, 0.0, 0.0, -0.0, 1.0, 2.0, 0.5, -1.0])  # own debt service: mostly none
_EOD = np.array([0.0, 0.0, 0.0, 1.0, -1.0])  # the serial test is "> 0"


def _both(rows: np.ndarray, lane_acc: np.ndarray, own_ds: np.ndarray, senior_ds: np.ndarray, size: np.ndarray,
          legal_final: np.ndarray, t_end_years: np.ndarray, t_issue_years: np.ndarray,
          mdf_discount: np.ndarray) -> None:
    """``rows`` (``N_LANE_OUT``, periods, lanes) and the collections (row ``N_LANE_OUT``): every lane's metrics
    through the lanes and through the serial code, compared bit for bit."""
    nt, n = own_ds.shape
    out = np.ascontiguousarray(rows[:N_LANE_OUT]).ravel()
    coll = np.ascontiguousarray(rows[N_LANE_OUT]).ravel()
    span = debt_service_span(own_ds)
    lm = np.full((nt + N_LANE_PATH) * LANES, np.nan)
    path_metrics_lanes(out, coll, own_ds, senior_ds, span, mdf_discount, lm)
    acc = lane_acc.reshape(nt, N_ACC, LANES)
    for k in range(LANES):
        mt, mp = np.zeros((nt, N_METRICS_TRANCHE)), np.zeros(N_METRICS_PATH)
        metrics_from_lanes(lm, lane_acc, k, size, legal_final, t_end_years, t_issue_years, np.full(N_ACC, np.nan),
                           mt, mp)
        pout = np.full((N_PATH_COLUMNS, n), 7.0)
        pout[list(LANE_OUT_ROWS)] = rows[:N_LANE_OUT, :, k]
        pout[9] = rows[N_LANE_OUT, :, k]  # collections
        mt_s, mp_s = np.zeros((nt, N_METRICS_TRANCHE)), np.zeros(N_METRICS_PATH)
        with np.errstate(all="ignore"):
            metrics_from_accumulators(np.ascontiguousarray(acc[:, :, k]), pout, size, legal_final, t_end_years,
                                      t_issue_years, own_ds, senior_ds, span, mdf_discount, mt_s, mp_s,
                                      np.empty((nt, n)))
        assert mt.tobytes() == mt_s.tobytes(), (k, mt, mt_s)
        assert mp.tobytes() == mp_s.tobytes(), (k, mp, mp_s)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 13), nt=st.integers(1, 3))
def test_the_lanes_metrics_are_the_serial_ones_on_crafted_rows(seed: int, n: int, nt: int) -> None:
    rng = np.random.default_rng(seed)
    rows = np.empty((N_LANE_OUT + 1, n, LANES))
    rows[0] = rng.choice(_FINITE, (n, LANES))  # funding gap
    rows[1] = rng.choice(_ANY, (n, LANES))  # CFADS (the tranches' DSCR numerator)
    rows[2] = rng.choice(_ANY, (n, LANES))  # DSCR
    rows[3] = rng.choice(_FINITE, (n, LANES))  # MDF inflows
    rows[4] = rng.choice(_EOD, (n, LANES))  # event of default
    rows[5] = rng.choice(_FINITE, (n, LANES))  # collections
    own_ds = rng.choice(_DEBT_SERVICE, (nt, n))
    senior_ds = rng.choice(_ANY, (nt, n))
    lane_acc = rng.choice(_ANY, nt * N_ACC * LANES)
    size = rng.choice([1.0, 2.5e9, 3.0], nt)
    legal_final = rng.integers(0, n, nt)
    t_end_years = np.cumsum(rng.uniform(0.1, 1.0, n))
    t_issue_years = rng.uniform(0.0, 1.0, nt)
    mdf_discount = rng.uniform(0.0, 1.0, n)
    _both(rows, lane_acc, own_ds, senior_ds, size, legal_final, t_end_years, t_issue_years, mdf_discount)


def test_inner_periods_without_own_debt_service_and_empty_spans_are_left_out() -> None:
    """A tranche whose span holds periods without debt service of its own (a sculpted or zero-coupon tranche): its
    minimum DSCR skips them, however low the CFADS over the senior debt service there; a tranche and a path
    without any debt service keep an infinite minimum; signed zeros in both orders in lanes of their own."""
    n, nt = 9, 3
    rows = np.ones((N_LANE_OUT + 1, n, LANES))
    rows[1, 4] = 0.01  # CFADS far below the others in period 4, where tranche 0 has no debt service of its own
    rows[2] = np.nan  # no debt service due on the path: its minimum stays inf
    rows[1, 2, 1] = 0.0
    rows[1, 6, 1] = -0.0
    rows[1, 2, 2] = -0.0
    rows[1, 6, 2] = 0.0
    rows[4, 0, 3] = 1.0  # in default from the first period
    rows[4, n - 1, 4] = 1.0  # from the last
    own_ds = np.zeros((nt, n))
    own_ds[0, [1, 2, 6, 7]] = 1.0  # tranche 0: periods 3-5 inside its span have none of its own
    own_ds[1, 5] = 2.0
    senior_ds = np.full((nt, n), 2.0)
    lane_acc = np.random.default_rng(3).standard_normal(nt * N_ACC * LANES)
    _both(rows, lane_acc, own_ds, senior_ds, np.ones(nt), np.array([n - 1, 2, 0]), np.arange(1.0, n + 1),
          np.zeros(nt), np.ones(n))
    span = debt_service_span(own_ds)
    lm = np.empty((nt + N_LANE_PATH) * LANES)
    path_metrics_lanes(np.ascontiguousarray(rows[:N_LANE_OUT]).ravel(), np.ascontiguousarray(rows[N_LANE_OUT]).ravel(),
                       own_ds, senior_ds, span, np.ones(n), lm)
    by_row = lm.reshape(nt + N_LANE_PATH, LANES)
    assert by_row[0, 0] == 0.5  # 1 / 2: period 4's 0.01 / 2 is not tranche 0's own
    assert by_row[2, 0] == np.inf  # tranche 2: no debt service of its own at all
    assert not np.signbit(by_row[0, 1])  # the first zero met is kept: +0.0 ...
    assert np.signbit(by_row[0, 2])  # ... and -0.0
    assert (by_row[nt + N_LANE_PATH - 1] == np.inf).all()  # the path's minimum DSCR with none due
