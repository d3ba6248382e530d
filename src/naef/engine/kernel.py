"""The compiled core of the Monte Carlo: the fused kernel (production → collections → waterfall → per-path metrics
and per-period histograms) over many paths, compiled with Numba, and its histogram helpers.

Its steps live beside it: the waterfall on 64 paths at once in ``naef.engine.waterfall_lanes`` (the rules of
``naef.engine.waterfall_kernel``'s serial waterfall, bit for bit), collections and per-path metrics in
``naef.engine.path_kernels``; the serial waterfall's names are re-exported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from naef.engine.kernel_cache import ensure_fresh
from naef.engine.metric_kernels import N_ACC
from naef.engine.metrics import N_METRICS_PATH, N_METRICS_TRANCHE
from naef.engine.path_kernels import (
    collections_path,
    debt_service_span,
    metrics_from_accumulators,
    originator_rows,
    tranche_and_path_metrics,
)
from naef.engine.waterfall_kernel import (
    N_PATH_COLUMNS,
    PATH_COL,
    SPEC_LEGAL_FINAL,
    SPEC_SIZE,
    TRANCHE_COL,
    waterfall_path,
    waterfall_paths,
    waterfall_setup,
)
from naef.engine.waterfall_lanes import LANES, N_LANE_OUT, from_lanes, lane_scratch, to_lanes, waterfall_lanes

__all__ = [
    "HIST_BATCH",
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

#: paths whose histogram bins are gathered before they are counted (``monte_carlo_kernel``)
HIST_BATCH = 64


@njit(cache=True, error_model="numpy")
def _bin_row(x: np.ndarray, lo: float, inv_width: float, n_bins: int, nan_bin: int, out: np.ndarray) -> None:
    """Histogram bin of each value of ``x`` into ``out``: 0 for ``x <= lo``, ``k`` for ``lo + (k-1) w <= x < lo +
    k w`` (``x > lo``), ``n_bins + 1`` from the top of the range up, ``nan_bin`` for NaN (0: counted at the
    bottom; -1: not counted). Each value's bin is a select between the cases, never a branch, so the loop over
    periods runs in SIMD lanes: ``y = (x - lo) / w`` is clamped to ``[0, n_bins]`` (NaN to ``n_bins``) before it is
    truncated, so the truncation is to int32, which AVX2 has for four doubles at once (``vcvttpd2dq``; a
    truncation to int64, ``int(y)``, has no AVX2 instruction and kept the loop scalar: 0.65 against 0.37 µs a
    path for the five variables' 600 values in cache; ``tests/engine/test_montecarlo.py`` pins the bins to the
    formula). ``y >= n_bins`` gives ``n_bins + 1`` either way, and a clamped value is never selected when
    ``x <= lo`` or NaN."""
    top = np.float64(n_bins)
    for t in range(x.shape[0]):
        v = x[t]
        y = (v - lo) * inv_width
        y = y if y < top else top
        y = y if y > 0.0 else 0.0
        k = np.int32(y) + np.int32(1)
        out[t] = k if v > lo else (0 if v == v else nan_bin)


@njit(cache=True, error_model="numpy")
def path_bins(bench: np.ndarray, coll: np.ndarray, dscr: np.ndarray, to_mdf: np.ndarray, boe: np.ndarray,
              hist_lo: np.ndarray, hist_inv_width: np.ndarray, n_bins: int, out: np.ndarray) -> None:
    """One path's histogram bins by variable and period into ``out`` (variables, periods): the benchmark price,
    collections, DSCR (NaN, no debt service due: not counted), MDF inflows and production in boe/d, in the order
    of ``naef.engine.metrics.HIST_VARIABLES``; each variable's periods in one contiguous run."""
    _bin_row(bench, hist_lo[0], hist_inv_width[0], n_bins, 0, out[0])
    _bin_row(coll, hist_lo[1], hist_inv_width[1], n_bins, 0, out[1])
    _bin_row(dscr, hist_lo[2], hist_inv_width[2], n_bins, -1, out[2])
    _bin_row(to_mdf, hist_lo[3], hist_inv_width[3], n_bins, 0, out[3])
    _bin_row(boe, hist_lo[4], hist_inv_width[4], n_bins, 0, out[4])


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
    nv = hist.shape[1]
    diff_per_path = diff.shape[0] > 1
    ds_span = debt_service_span(own_ds)
    for lane in prange(n_lanes):
        lo = lane * n_paths // n_lanes
        hi = (lane + 1) * n_paths // n_lanes
        # a group's paths: each one's collections, capex, pledged receivables and production (path-major, as
        # ``collections_path`` writes them), then the first three period-major for ``waterfall_lanes``
        coll = np.empty((LANES, n))
        capex = np.empty((LANES, n))
        exports = np.empty((LANES, n))
        boe = np.empty((LANES, n))
        lane_coll = np.empty(n * LANES)
        lane_capex = np.empty(n * LANES)
        lane_exports = np.empty(n * LANES)
        lane_out = np.empty(N_LANE_OUT * n * LANES)
        prod_mult = np.empty(n)
        export_mult = np.empty(n)
        rows_at = -1
        pout = np.empty((N_PATH_COLUMNS, n))
        wf = waterfall_setup(*spec)  # the spec packed
        v, ts, lane_acc = lane_scratch(nt)
        acc = np.empty((nt, N_ACC))
        dscr_scratch = np.empty((nt, n))  # metrics_from_accumulators' scratch rows
        # each path's histogram bins, kept for a batch of paths and added period by period (one period's bins of
        # a variable stay in cache while a batch's paths are counted, instead of a random write per path-period)
        bins = np.empty((HIST_BATCH, nv, n), dtype=np.int16)
        b = 0
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
            for k in range(m, LANES):  # spare lanes repeat the first path: never read, but ordinary values
                coll[k] = coll[0]
                capex[k] = capex[0]
                exports[k] = exports[0]
            to_lanes(coll, lane_coll)
            to_lanes(capex, lane_capex)
            to_lanes(exports, lane_exports)
            waterfall_lanes(wf, lane_coll, lane_capex, lane_exports, v, ts, lane_acc, lane_out, tranche_discount,
                            t_end_years, t_issue_years)
            for k in range(m):
                p = g + k
                from_lanes(lane_out, lane_acc, k, coll[k], pout, acc)
                metrics_from_accumulators(acc, pout, size, legal_final, t_end_years, t_issue_years, own_ds,
                                          senior_ds, ds_span, mdf_discount, metrics_tranche[p], metrics_path[p],
                                          dscr_scratch)
                path_bins(bench[p], coll[k], pout[12], pout[24], boe[k], hist_lo, hist_inv_width, n_bins, bins[b])
                b += 1
                if b == HIST_BATCH or p == hi - 1:
                    _flush_bins(bins, b, hist[lane])
                    b = 0


@njit(cache=True, error_model="numpy")
def _flush_bins(bins: np.ndarray, k: int, hist: np.ndarray) -> None:
    """Add the first ``k`` paths' bins (paths, variables, periods; -1: not counted) into ``hist`` (variables,
    periods, bins), one period's row of a variable at a time."""
    for v in range(bins.shape[1]):
        for t in range(bins.shape[2]):
            row = hist[v, t]
            for i in range(k):
                x = bins[i, v, t]
                if x >= 0:
                    row[x] += 1


ensure_fresh(monte_carlo_kernel)  # nothing cached from other sources than these (naef.engine.kernel_cache)
