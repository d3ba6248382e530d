"""The compiled core of the Monte Carlo: the fused kernel (production → collections → waterfall → per-path metrics
and per-period histograms) over many paths, compiled with Numba, and its histogram helpers.

Its steps live beside it: the waterfall of one path in ``naef.engine.waterfall_kernel`` (the rules, events of
default), collections and per-path metrics in ``naef.engine.path_kernels``; the names are re-exported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from naef.engine.metrics import N_METRICS_PATH, N_METRICS_TRANCHE
from naef.engine.path_kernels import collections_path, tranche_and_path_metrics
from naef.engine.waterfall_kernel import (
    N_PATH_COLUMNS,
    N_TRANCHE_COLUMNS,
    PATH_COL,
    SPEC_DEFAULT_GRACE,
    SPEC_ISSUE_PERIOD,
    SPEC_LEGAL_FINAL,
    SPEC_SIZE,
    TRANCHE_COL,
    waterfall_path,
    waterfall_paths,
)

__all__ = [
    "HIST_BATCH",
    "N_METRICS_PATH",
    "N_METRICS_TRANCHE",
    "PATH_COL",
    "TRANCHE_COL",
    "collections_path",
    "monte_carlo_kernel",
    "tranche_and_path_metrics",
    "waterfall_path",
    "waterfall_paths",
]

#: paths whose histogram bins are gathered before they are counted (``monte_carlo_kernel``)
HIST_BATCH = 64


@njit(cache=True, error_model="numpy")
def _bin(x: float, lo: float, inv_width: float, n_bins: int) -> int:
    """Histogram bin of ``x``: 0 for ``x <= lo`` (and NaN), ``k`` for ``lo + (k-1) w <= x < lo + k w`` (``x > lo``),
    ``n_bins + 1`` from the top of the range up."""
    if not x > lo:
        return 0
    y = (x - lo) * inv_width
    if y >= n_bins:  # also keeps huge values (a DSCR over a tiny debt service) from overflowing int()
        return n_bins + 1
    return int(y) + 1


@njit(parallel=True, cache=True, error_model="numpy")
def monte_carlo_kernel(
    bench: np.ndarray, diff: np.ndarray, qi_mult: np.ndarray, res_mult: np.ndarray, delay: np.ndarray,
    capex_mult: np.ndarray, default_period: np.ndarray, continuity: float, exports_after: float,
    fields: tuple[Any, ...],
    spec: tuple[Any, ...], metric_args: tuple[np.ndarray, ...], hist_lo: np.ndarray, hist_inv_width: np.ndarray,
    n_bins: int, n_lanes: int, metrics_tranche: np.ndarray, metrics_path: np.ndarray, hist: np.ndarray,
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
    issue_period = spec[SPEC_ISSUE_PERIOD]
    size = spec[SPEC_SIZE]
    legal_final = spec[SPEC_LEGAL_FINAL]
    default_grace = spec[SPEC_DEFAULT_GRACE]
    n_paths = bench.shape[0]
    n = bench.shape[1]
    nt = size.shape[0]
    nv = hist.shape[1]
    diff_per_path = diff.shape[0] > 1
    for lane in prange(n_lanes):
        lo = lane * n_paths // n_lanes
        hi = (lane + 1) * n_paths // n_lanes
        coll = np.empty(n)
        capex = np.empty(n)
        exports = np.empty(n)
        boe = np.empty(n)
        pout = np.empty((N_PATH_COLUMNS, n))
        tout = np.zeros((N_TRANCHE_COLUMNS, nt, n))
        # each path's histogram bins, kept for a batch of paths and added period by period (one period's bins of
        # a variable stay in cache while a batch's paths are counted, instead of a random write per path-period)
        bins = np.empty((n, nv, HIST_BATCH), dtype=np.int16)
        b = 0
        for p in range(lo, hi):
            hedge_net = collections_path(fields, bench[p], diff[p if diff_per_path else 0], qi_mult[:, p],
                                         res_mult[:, p], delay[:, p], capex_mult[:, p], default_period[p],
                                         continuity, exports_after, coll, capex, exports, boe)
            waterfall_path(*spec, coll, capex, exports, pout, tout, False)
            tranche_and_path_metrics(pout, tout, size, issue_period, legal_final, *metric_args, default_grace,
                                     metrics_tranche[p], metrics_path[p])
            metrics_path[p, 7] = hedge_net
            for t in range(n):
                bins[t, 0, b] = _bin(bench[p, t], hist_lo[0], hist_inv_width[0], n_bins)
                bins[t, 1, b] = _bin(coll[t], hist_lo[1], hist_inv_width[1], n_bins)
                d = pout[12, t]
                bins[t, 2, b] = _bin(d, hist_lo[2], hist_inv_width[2], n_bins) if d == d else -1
                bins[t, 3, b] = _bin(pout[24, t], hist_lo[3], hist_inv_width[3], n_bins)
                bins[t, 4, b] = _bin(boe[t], hist_lo[4], hist_inv_width[4], n_bins)
            b += 1
            if b == HIST_BATCH or p == hi - 1:
                _flush_bins(bins, b, hist[lane])
                b = 0


@njit(cache=True, error_model="numpy")
def _flush_bins(bins: np.ndarray, k: int, hist: np.ndarray) -> None:
    """Add the first ``k`` paths' bins (periods, variables, paths; -1: not counted) into ``hist`` (variables,
    periods, bins)."""
    for t in range(bins.shape[0]):
        for v in range(bins.shape[1]):
            row = hist[v, t]
            for i in range(k):
                x = bins[t, v, i]
                if x >= 0:
                    row[x] += 1
