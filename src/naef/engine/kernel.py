"""The compiled core of the Monte Carlo: the fused kernel (production → collections → waterfall → per-path metrics
and per-period histograms) over many paths, compiled with Numba, and its histogram helpers.

Its steps live beside it: the waterfall on 64 paths at once in ``naef.engine.waterfall_lanes`` (the rules of
``naef.engine.waterfall_kernel``'s serial waterfall, bit for bit), the per-path metrics and the DSCR's and MDF
inflows' histogram bins read from those lanes in ``naef.engine.metric_lanes``, collections in
``naef.engine.path_kernels``; the serial waterfall's names are re-exported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from naef.engine.aligned import empty_aligned
from naef.engine.kernel_cache import ensure_fresh
from naef.engine.metric_kernels import N_ACC
from naef.engine.metric_lanes import (
    LANE_BINNED,
    bin_lanes,
    lane_metric_rows,
    metrics_from_lanes,
    path_metrics_lanes,
)
from naef.engine.metrics import N_METRICS_PATH, N_METRICS_TRANCHE
from naef.engine.path_kernels import (
    bin_of,
    collections_path,
    debt_service_span,
    originator_rows,
    tranche_and_path_metrics,
)
from naef.engine.waterfall_kernel import (
    PATH_COL,
    SPEC_LEGAL_FINAL,
    SPEC_SIZE,
    TRANCHE_COL,
    waterfall_path,
    waterfall_paths,
    waterfall_setup,
)
from naef.engine.waterfall_lanes import LANES, N_LANE_OUT, lane_scratch, to_lanes, waterfall_lanes

__all__ = [
    "N_METRICS_PATH",
    "N_METRICS_TRANCHE",
    "PATH_COL",
    "TRANCHE_COL",
    "collections_path",
    "monte_carlo_kernel",
    "originator_rows",
    "path_bins",
    "tranche_and_path_metrics",
    "waterfall_path",
    "waterfall_paths",
]


@njit(cache=True, error_model="numpy")
def _bin_row(x: np.ndarray, lo: float, inv_width: float, n_bins: int, nan_bin: int, out: np.ndarray) -> None:
    """Histogram bin of each value of ``x`` into ``out`` (``path_kernels.bin_of``: a select, so the loop over
    periods runs in SIMD lanes)."""
    top = np.float64(n_bins)
    for t in range(x.shape[0]):
        out[t] = bin_of(x[t], lo, inv_width, top, nan_bin)


#: the variables of ``naef.engine.metrics.HIST_VARIABLES`` binned path by path (:func:`path_bins`): the benchmark
#: price, collections, production in boe/d; the other two (DSCR, MDF inflows) are binned in the waterfall's lanes
#: (``metric_lanes.bin_lanes``)
PATH_BINNED = (0, 1, 4)


@njit(cache=True, error_model="numpy")
def path_bins(bench: np.ndarray, coll: np.ndarray, boe: np.ndarray, hist_lo: np.ndarray,
              hist_inv_width: np.ndarray, n_bins: int, out: np.ndarray) -> None:
    """One path's histogram bins of the benchmark price, collections and production in boe/d (the variables
    :data:`PATH_BINNED`; NaN in bin 0) into ``out`` (3, periods), each variable's periods in one contiguous run."""
    _bin_row(bench, hist_lo[0], hist_inv_width[0], n_bins, 0, out[0])
    _bin_row(coll, hist_lo[1], hist_inv_width[1], n_bins, 0, out[1])
    _bin_row(boe, hist_lo[4], hist_inv_width[4], n_bins, 0, out[2])


@njit(parallel=True, cache=True, error_model="numpy")
def monte_carlo_kernel(
    bench: np.ndarray, diff: np.ndarray, qi_mult: np.ndarray, res_mult: np.ndarray, delay: np.ndarray,
    capex_mult: np.ndarray, default_period: np.ndarray, continuity: float, exports_after: float,
    fields: tuple[Any, ...], spec: tuple[Any, ...], metric_args: tuple[np.ndarray, ...], hist_lo: np.ndarray,
    hist_inv_width: np.ndarray, n_bins: int, n_lanes: int, metrics_tranche: np.ndarray, metrics_path: np.ndarray,
    hist: np.ndarray,
) -> None:
    """The whole chain on every path of a chunk. Paths are split into ``n_lanes`` contiguous lanes run in
    parallel, each with its own scratch buffers and its own histogram ``hist[lane]`` (variables: benchmark price,
    collections, DSCR, MDF inflows, production in boe/d; (5, periods, n_bins + 2) counts). Per-path results do not
    depend on the lanes, and histogram counts are integers, so results are identical for any number of lanes or
    chunks. ``diff`` holds one row per path, or one row for every path (a constant differential: no (paths,
    periods) copy); ``default_period``, ``continuity`` and ``exports_after`` are the originator's default
    (``naef.engine.originator.originator_terms``). ``fields`` is ``MonteCarloSetup.kernel_fields``
    (``collections_path``), ``spec`` the waterfall's ``spec_arrays`` (``waterfall_path``), ``metric_args``
    ``MetricArrays.as_kernel_args`` (``tranche_and_path_metrics``)."""
    size = spec[SPEC_SIZE]
    legal_final = spec[SPEC_LEGAL_FINAL]
    tranche_discount, t_end_years, t_issue_years, own_ds, senior_ds, mdf_discount = metric_args
    n_paths = bench.shape[0]
    n = bench.shape[1]
    nt = size.shape[0]
    diff_per_path = diff.shape[0] > 1
    ds_span = debt_service_span(own_ds)
    for lane in prange(n_lanes):
        lo = lane * n_paths // n_lanes
        hi = (lane + 1) * n_paths // n_lanes
        # a group's paths: each one's collections, capex, pledged receivables and production (path-major, as
        # ``collections_path`` writes them), then the first three period-major for ``waterfall_lanes``; these rows,
        # the lanes' inputs, outputs, state and bins start on a cache line (``naef.engine.aligned``: no vector load
        # split across two lines; the few arrays read value by value are left to ``np.empty``)
        coll = empty_aligned(LANES * n, np.float64).reshape((LANES, n))
        capex = empty_aligned(LANES * n, np.float64).reshape((LANES, n))
        exports = empty_aligned(LANES * n, np.float64).reshape((LANES, n))
        boe = empty_aligned(LANES * n, np.float64).reshape((LANES, n))
        lane_coll = empty_aligned(n * LANES, np.float64)
        lane_capex = empty_aligned(n * LANES, np.float64)
        lane_exports = empty_aligned(n * LANES, np.float64)
        lane_out = empty_aligned(N_LANE_OUT * n * LANES, np.float64)
        prod_mult = empty_aligned(n, np.float64)
        export_mult = empty_aligned(n, np.float64)
        rows_at = -1
        wf = waterfall_setup(*spec)  # the spec packed
        v, ts, lane_acc = lane_scratch(nt)
        lm = lane_metric_rows(nt)
        acc_row = np.empty(N_ACC)
        # a group's histogram bins, counted once the group is done, one period's row of a variable at a time (that
        # row stays in cache while the group's paths are counted, instead of a random write per path-period)
        bins = empty_aligned(LANES * len(PATH_BINNED) * n, np.int16).reshape((LANES, len(PATH_BINNED), n))
        lane_bins = empty_aligned(len(LANE_BINNED) * n * LANES, np.int16)
        for g in range(lo, hi, LANES):
            m = min(LANES, hi - g)
            for k in range(m):
                p = g + k
                if default_period[p] != rows_at:  # refilled only when the default period changes (most: none)
                    rows_at = default_period[p]
                    originator_rows(rows_at, continuity, exports_after, prod_mult, export_mult)
                metrics_path[p, 7] = collections_path(
                    fields, bench[p], diff[p if diff_per_path else 0], qi_mult[:, p], res_mult[:, p], delay[:, p],
                    capex_mult[:, p], prod_mult, export_mult, coll[k], capex[k], exports[k], boe[k])
                path_bins(bench[p], coll[k], boe[k], hist_lo, hist_inv_width, n_bins, bins[k])
            for k in range(m, LANES):  # spare lanes repeat the first path: never read, but ordinary values
                coll[k] = coll[0]
                capex[k] = capex[0]
                exports[k] = exports[0]
            to_lanes(coll, lane_coll)
            to_lanes(capex, lane_capex)
            to_lanes(exports, lane_exports)
            waterfall_lanes(wf, lane_coll, lane_capex, lane_exports, v, ts, lane_acc, lane_out, tranche_discount,
                            t_end_years, t_issue_years)
            path_metrics_lanes(lane_out, lane_coll, own_ds, senior_ds, ds_span, mdf_discount, lm)
            bin_lanes(lane_out, hist_lo, hist_inv_width, n_bins, lane_bins)
            for k in range(m):
                p = g + k
                metrics_from_lanes(lm, lane_acc, k, size, legal_final, t_end_years, t_issue_years, acc_row,
                                   metrics_tranche[p], metrics_path[p])
            _flush_bins(bins, lane_bins, m, hist[lane])


@njit(cache=True, error_model="numpy")
def _flush_bins(bins: np.ndarray, lane_bins: np.ndarray, k: int, hist: np.ndarray) -> None:
    """Add a group's first ``k`` paths' bins into ``hist`` (variables, periods, bins), one period's row of a
    variable at a time: ``bins`` (paths, 3, periods) of the variables :data:`PATH_BINNED`, ``lane_bins`` (flat,
    ``metric_lanes.bin_lanes``) of ``metric_lanes.LANE_BINNED``, the DSCR (-1: not counted) and the MDF inflows."""
    n = hist.shape[1]
    for r in range(len(PATH_BINNED)):
        v = PATH_BINNED[r]
        for t in range(n):
            row = hist[v, t]
            for i in range(k):
                row[bins[i, r, t]] += 1
    for r in range(len(LANE_BINNED)):
        for t in range(n):
            row = hist[LANE_BINNED[r], t]
            o = np.uint64((r * n + t) * LANES)
            for i in range(np.uint64(k)):
                x = lane_bins[o + i]
                if x >= 0:
                    row[x] += 1


ensure_fresh(monte_carlo_kernel)  # nothing cached from other sources than these (naef.engine.kernel_cache)
