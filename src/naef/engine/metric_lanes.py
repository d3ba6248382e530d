"""The Monte Carlo's per-path metrics and histogram bins read straight from the lanes of
``naef.engine.waterfall_lanes``: ``LANES`` paths at once, each lane's sums and minima over periods computed side by
side in one loop over the lanes (several paths per SIMD instruction), with no copy of a path's rows out of the
lanes first (that copy read each value from another cache line: 0.6 µs a path).

Why they are the serial metrics' bits (``naef.engine.path_kernels.metrics_from_accumulators``, whose docstring is
the specification), for finite MDF inflows, collections and funding gaps (with a NaN among them the two sums give
a NaN of another sign: which operand's NaN an addition keeps is the compiler's choice): every sum is each lane's
own, added in increasing period order, as the serial loop adds it; every minimum is the period-by-period
definition itself (``m = d if d < m else m`` from ``m = inf``, so a NaN is never taken and, of ``+0.0`` and
``-0.0``, the one met first is kept — the serial code takes its minima on four lanes of periods and recomputes a
zero period by period to give exactly this); the event of default is the first period flagged. A tranche's row
comes from its accumulators through the one ``tranche_finish``. ``tests/engine/test_metric_lanes.py`` (crafted
rows: signed zeros, NaN, spans with periods of no own debt service) and ``tests/engine/test_waterfall_lanes.py``
(whole waterfalls) hold the two bit for bit.

Layout: ``lm`` holds rows of ``LANES`` values: tranche ``j``'s minimum DSCR in row ``j``, then the path figures
(:data:`N_LANE_PATH` rows from row ``nt``). The bins of the two variables the waterfall gives (DSCR, MDF inflows)
are kept (variable, period, lane), so one period's bins of a group are one contiguous run when they are counted.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from naef.engine.aligned import empty_aligned
from naef.engine.kernel_cache import ensure_fresh
from naef.engine.metric_kernels import N_ACC, tranche_finish
from naef.engine.path_kernels import bin_of, path_row
from naef.engine.waterfall_lanes import _O_CFADS, _O_DSCR, _O_EOD, _O_GAP, _O_MDF, LANES, W, _acc_row, _u

__all__ = ["LANE_BINNED", "N_LANE_PATH", "bin_lanes", "lane_metric_rows", "metrics_from_lanes", "path_metrics_lanes"]

#: the variables of ``naef.engine.metrics.HIST_VARIABLES`` binned here, in the lanes: the DSCR and the MDF inflows
LANE_BINNED = (2, 3)

#: rows of the path figures in ``lm`` after the tranches': MDF inflows, their PV, collections, funding gap, period
#: of the event of default (-1: none), minimum DSCR
N_LANE_PATH = 6
_L_MDF, _L_MDF_PV, _L_COLL, _L_GAP, _L_EOD_AT, _L_MIN_DSCR = range(N_LANE_PATH)


@njit(cache=True, error_model="numpy")
def lane_metric_rows(n_tranches: int) -> np.ndarray:
    """The scratch ``lm`` of :func:`path_metrics_lanes` for ``n_tranches`` tranches."""
    rows: np.ndarray = empty_aligned((n_tranches + N_LANE_PATH) * LANES, np.float64)
    return rows


@njit(cache=True, error_model="numpy")
def path_metrics_lanes(out: np.ndarray, coll: np.ndarray, own_ds: np.ndarray, senior_ds: np.ndarray,
                       ds_span: np.ndarray, mdf_discount: np.ndarray, lm: np.ndarray) -> None:
    """Each lane's sums and minima over periods from ``waterfall_lanes``' outputs ``out`` and its collections
    ``coll`` (periods × ``LANES``) into ``lm``: tranche ``j``'s minimum DSCR (CFADS over the debt service of it and
    the classes senior to it, in the periods of its span ``ds_span[j]`` with debt service of its own), then MDF
    inflows, their PV (``× mdf_discount``), collections, funding gap, the first period in default (-1: none) and
    the minimum DSCR over the periods with debt service due (the DSCR is NaN in the others)."""
    nt, n = own_ds.shape
    for j in range(nt):
        r = _u(j * LANES)
        for i in range(W):
            lm[r + i] = np.inf
        for t in range(np.uint64(ds_span[j, 0]), np.uint64(ds_span[j, 1])):
            if own_ds[j, t] > 0.0:  # the period's, not the path's: a branch, not a select
                s = senior_ds[j, t]
                o = _u(_O_CFADS * n * LANES) + t * W
                for i in range(W):
                    d = out[o + i] / s
                    m = lm[r + i]
                    lm[r + i] = d if d < m else m
    base = _u(nt * LANES)
    mdf, pv, cl = base + _u(_L_MDF * LANES), base + _u(_L_MDF_PV * LANES), base + _u(_L_COLL * LANES)
    gap, eod_at, mn = base + _u(_L_GAP * LANES), base + _u(_L_EOD_AT * LANES), base + _u(_L_MIN_DSCR * LANES)
    for i in range(W):
        lm[mdf + i] = 0.0
        lm[pv + i] = 0.0
        lm[cl + i] = 0.0
        lm[gap + i] = 0.0
        lm[eod_at + i] = -1.0
        lm[mn + i] = np.inf
    for t in range(n):
        tw = _u(t * LANES)
        o_mdf = _u(_O_MDF * n * LANES) + tw
        o_gap = _u(_O_GAP * n * LANES) + tw
        o_eod = _u(_O_EOD * n * LANES) + tw
        o_dscr = _u(_O_DSCR * n * LANES) + tw
        disc = mdf_discount[t]
        ft = np.float64(t)
        for i in range(W):
            x = out[o_mdf + i]
            lm[mdf + i] += x
            lm[pv + i] += x * disc
            lm[cl + i] += coll[tw + i]
            lm[gap + i] += out[o_gap + i]
            e = lm[eod_at + i]
            lm[eod_at + i] = ft if (e < 0.0 and out[o_eod + i] > 0) else e
            d = out[o_dscr + i]
            m = lm[mn + i]
            lm[mn + i] = d if d < m else m


@njit(cache=True, error_model="numpy")
def metrics_from_lanes(lm: np.ndarray, lane_acc: np.ndarray, k: int, size: np.ndarray, legal_final: np.ndarray,
                       t_end_years: np.ndarray, t_issue_years: np.ndarray, a: np.ndarray, mt: np.ndarray,
                       mp: np.ndarray) -> None:
    """Lane ``k``'s metrics rows: each tranche's from its accumulators (``tranche_finish``) and minimum DSCR, and
    the path's (``path_row``) from ``lm`` (:func:`path_metrics_lanes`); ``a`` is an ``N_ACC`` scratch row."""
    nt = size.shape[0]
    ku = _u(k)
    for j in range(nt):
        for x in range(N_ACC):
            a[x] = lane_acc[_acc_row(j, x) + ku]
        lf = legal_final[j]
        tranche_finish(a, size[j], t_end_years[lf] - t_issue_years[j], lm[_u(j * LANES) + ku], mt[j])
    base = _u(nt * LANES) + ku
    eod_at = lm[base + _u(_L_EOD_AT * LANES)]
    path_row(lm[base + _u(_L_MDF * LANES)], lm[base + _u(_L_MDF_PV * LANES)], int(eod_at),
             lm[base + _u(_L_MIN_DSCR * LANES)], lm[base + _u(_L_COLL * LANES)], lm[base + _u(_L_GAP * LANES)], mp)


@njit(cache=True, error_model="numpy")
def bin_lanes(out: np.ndarray, hist_lo: np.ndarray, hist_inv_width: np.ndarray, n_bins: int,
              bins: np.ndarray) -> None:
    """The histogram bins of every lane's DSCR (NaN: not counted, -1) and MDF inflows (NaN: bin 0), the variables
    :data:`LANE_BINNED`, into ``bins`` (flat: (variable × periods + period) × ``LANES`` + lane, the variable 0 or
    1 in the order of :data:`LANE_BINNED`), by ``path_kernels.bin_of`` (the formula of every variable's bins);
    ``hist_lo``/``hist_inv_width`` are indexed by ``naef.engine.metrics.HIST_VARIABLES``."""
    n = bins.shape[0] // (len(LANE_BINNED) * LANES)
    top = np.float64(n_bins)
    for r, (row, var, nan_bin) in enumerate(((_O_DSCR, LANE_BINNED[0], -1), (_O_MDF, LANE_BINNED[1], 0))):
        lo = hist_lo[var]
        inv_width = hist_inv_width[var]
        for t in range(n):
            o = _u((row * n + t) * LANES)
            b = _u((r * n + t) * LANES)
            for i in range(W):
                bins[b + i] = bin_of(out[o + i], lo, inv_width, top, nan_bin)

ensure_fresh(path_metrics_lanes)  # nothing cached from other sources than these (naef.engine.kernel_cache)
