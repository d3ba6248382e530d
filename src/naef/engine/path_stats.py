"""Per-path results of a Monte Carlo run as statistics: kept whole, or streamed into mergeable summaries.

A run's summary (``naef.analysis.mc_summary``) needs, of its per-path metrics (``naef.engine.metrics``), counts,
means, standard errors and a few quantiles. :class:`ExactPaths` computes them from every path's figures (memory
grows with paths: 28 figures, 224 bytes, per path on the baseline); :class:`StreamedPaths` accumulates them chunk
by chunk into a summary whose size does not depend on the number of paths, and merges two summaries by adding
them (so chunks can be summarised on the workers and reduced in a tree).

What the streamed summary gives
    * counts (defaults, events of default, paths with no MDF inflows) and therefore PD: exact;
    * means (EL, WAL, unpaid at the legal final, MDF inflows, ...): sums merged by addition, equal to the mean of
      every path's figure up to floating-point rounding (relative difference of order 1e-15; the order of the
      additions depends on the chunks, so the last bits may differ between chunk sizes);
    * the EL's standard error: Chan, Golub and LeVeque's pairwise update of the mean and the sum of squared
      deviations (Chan, Golub & LeVeque, "Algorithms for computing the sample variance", The American
      Statistician 37(3), 1983), equal to ``numpy.std(ddof=1) / sqrt(n)`` up to rounding;
    * the period of default's P10/P50/P90 among defaulting paths: integer counts by period, exact (numpy's
      ``inverted_cdf``);
    * quantiles of continuous figures (minimum DSCR, unpaid at the legal final, MDF inflows): a relative-error
      sketch, :class:`QuantileSketch`, with the bound stated there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from naef.engine import metrics as col

__all__ = ["SKETCH_ALPHA", "ExactPaths", "PathStats", "QuantileSketch", "StreamedPaths", "linear_quantiles"]

Array = NDArray[np.float64]

#: relative accuracy of the quantile sketch (0.1 %)
SKETCH_ALPHA = 1e-3
#: magnitudes below this count as zero in the sketch (absolute error at most this), US$ or x
SKETCH_MIN = 1e-9
#: magnitudes above this are counted in the sketch's last bucket (beyond any figure of a run)
SKETCH_MAX = 1e18
#: paths whose MDF inflows (PV) a streamed summary keeps, by path index, to pick a representative "P50 path"
HEAD_PATHS = 100_000


def linear_quantiles(values: Array, qs: tuple[int, ...]) -> dict[str, float | None]:
    """``numpy.quantile`` (linear) of the finite values at percentiles ``qs``; ``None`` when none is finite."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return {f"p{q}": None for q in qs}
    out = np.quantile(v, [q / 100.0 for q in qs])
    return {f"p{q}": float(x) for q, x in zip(qs, out, strict=True)}


class QuantileSketch:
    """A mergeable quantile sketch with relative error ``alpha`` (the DDSketch of Masson, Rim & Lee, "DDSketch: a
    fast and fully-mergeable quantile sketch with relative-error guarantees", PVLDB 12(12), 2019).

    A finite value ``x`` with ``SKETCH_MIN <= |x|`` goes to bucket ``i = ceil(log_g |x|)`` of its sign, with
    ``g = (1 + alpha) / (1 - alpha)``; bucket ``i`` covers ``(g^(i-1), g^i]`` and stands for the value
    ``2 g^i / (g + 1)``, which is within ``alpha |x|`` of every ``x`` in it. Smaller magnitudes count as zero;
    infinities and NaN are counted apart and left out of quantiles (as the exact summary leaves out non-finite
    values). Two sketches merge by adding their counts (exact, any order).

    Bound. The ``q`` quantile is numpy's linear one, ``(1 - f) x_(k) + f x_(k+1)`` with ``h = q (m - 1)``,
    ``k = floor(h)``, ``f = h - k`` over the ``m`` finite values sorted; the sketch returns the same combination
    of its values for ranks ``k`` and ``k + 1``, each within ``alpha |x_(k)|`` (or ``SKETCH_MIN`` of zero), so
    the error is at most ``alpha ((1 - f) |x_(k)| + f |x_(k+1)|) + SKETCH_MIN``: for figures that are never
    negative (every one it is used for), at most ``alpha`` times the exact quantile plus ``SKETCH_MIN``.
    """

    def __init__(self, alpha: float = SKETCH_ALPHA) -> None:
        self.alpha = alpha
        self.log_gamma = math.log((1.0 + alpha) / (1.0 - alpha))
        self.offset = math.floor(math.log(SKETCH_MIN) / self.log_gamma)  # bucket index of the smallest magnitude
        self.width = math.ceil(math.log(SKETCH_MAX) / self.log_gamma) - self.offset + 1
        # counts: negatives (most negative first), zero, positives (smallest first)
        self.counts = np.zeros(2 * self.width + 1, dtype=np.int64)
        self.non_finite = 0

    def add(self, values: Array) -> None:
        """Count ``values`` (any shape)."""
        x = np.asarray(values, dtype=np.float64).reshape(-1)
        finite = np.isfinite(x)
        self.non_finite += int(x.size - np.count_nonzero(finite))
        x = x[finite]
        mag = np.abs(x)
        small = mag < SKETCH_MIN
        idx = np.ceil(np.log(np.where(small, 1.0, mag)) / self.log_gamma).astype(np.int64) - self.offset
        idx = np.clip(idx, 0, self.width - 1)
        pos = np.where(small, self.width, np.where(x > 0, self.width + 1 + idx, self.width - 1 - idx))
        self.counts += np.bincount(pos, minlength=self.counts.size)

    def merge(self, other: QuantileSketch) -> None:
        """Add ``other``'s counts into this sketch."""
        self.counts += other.counts
        self.non_finite += other.non_finite

    def _value(self, pos: int) -> float:
        if pos == self.width:
            return 0.0
        i = pos - self.width - 1 if pos > self.width else self.width - 1 - pos
        g = math.exp(self.log_gamma)
        v = 2.0 * math.exp((i + self.offset) * self.log_gamma) / (g + 1.0)
        return v if pos > self.width else -v

    def quantiles(self, qs: tuple[int, ...]) -> dict[str, float | None]:
        """The linear quantiles at percentiles ``qs`` (see the bound above); ``None`` when nothing finite."""
        m = int(self.counts.sum())
        if m == 0:
            return {f"p{q}": None for q in qs}
        cum = np.cumsum(self.counts)
        out: dict[str, float | None] = {}
        for q in qs:
            h = (q / 100.0) * (m - 1)
            k = math.floor(h)
            f = h - k
            a = self._value(int(np.searchsorted(cum, k, side="right")))
            b = self._value(int(np.searchsorted(cum, min(k + 1, m - 1), side="right")))
            out[f"p{q}"] = a + f * (b - a)
        return out

    def __getstate__(self) -> dict[str, Any]:
        # what travels between processes: the non-empty buckets only
        nz = np.flatnonzero(self.counts)
        return {"alpha": self.alpha, "idx": nz, "n": self.counts[nz], "non_finite": self.non_finite}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["alpha"])  # type: ignore[misc]
        self.counts[state["idx"]] = state["n"]
        self.non_finite = state["non_finite"]


class PathStats(Protocol):
    """What a run's summary reads of its per-path metrics (:class:`ExactPaths` or :class:`StreamedPaths`)."""

    @property
    def n_paths(self) -> int: ...

    def default_count(self, j: int) -> int: ...

    def loss_mean_se(self, j: int) -> tuple[float, float]: ...

    def wal_mean(self, j: int) -> float: ...

    def tranche_quantiles(self, j: int, metric: int, qs: tuple[int, ...]) -> dict[str, float | None]: ...

    def tranche_mean(self, j: int, metric: int, *, given_default: bool = False) -> float: ...

    def default_period_quantiles(self, j: int, qs: tuple[float, ...]) -> list[int] | None: ...

    def path_quantiles(self, metric: int, qs: tuple[int, ...]) -> dict[str, float | None]: ...

    def path_mean(self, metric: int) -> float: ...

    def eod_count(self) -> int: ...

    def nothing_to_mdf_count(self) -> int: ...


@dataclass
class ExactPaths:
    """Statistics from every path's metrics (``mt`` (paths, tranches, N_METRICS_TRANCHE), ``mp`` (paths,
    N_METRICS_PATH)): exact order statistics."""

    mt: Array
    mp: Array

    @property
    def n_paths(self) -> int:
        return int(self.mt.shape[0])

    def default_count(self, j: int) -> int:
        return int(np.count_nonzero(self.mt[:, j, col.T_DEFAULT] > 0.5))

    def loss_mean_se(self, j: int) -> tuple[float, float]:
        x = np.clip(self.mt[:, j, col.T_LOSS], 0.0, 1.0)
        se = float(np.std(x, ddof=1)) / math.sqrt(x.size) if x.size > 1 else 0.0
        return float(np.mean(x)), se

    def wal_mean(self, j: int) -> float:
        wal = self.mt[:, j, col.T_WAL]
        return float(np.nanmean(wal)) if np.isfinite(wal).any() else math.nan

    def tranche_quantiles(self, j: int, metric: int, qs: tuple[int, ...]) -> dict[str, float | None]:
        return linear_quantiles(self.mt[:, j, metric], qs)

    def tranche_mean(self, j: int, metric: int, *, given_default: bool = False) -> float:
        x = self.mt[:, j, metric]
        if given_default:
            hit = self.mt[:, j, col.T_DEFAULT] > 0.5
            return float(x[hit].mean()) if hit.any() else 0.0
        return float(x.mean())

    def default_period_quantiles(self, j: int, qs: tuple[float, ...]) -> list[int] | None:
        at = self.mt[self.mt[:, j, col.T_DEFAULT] > 0.5, j, col.T_DEFAULT_AT]
        if at.size == 0:
            return None
        return [int(k) for k in np.quantile(at, list(qs), method="inverted_cdf")]

    def path_quantiles(self, metric: int, qs: tuple[int, ...]) -> dict[str, float | None]:
        return linear_quantiles(self.mp[:, metric], qs)

    def path_mean(self, metric: int) -> float:
        return float(self.mp[:, metric].mean())

    def eod_count(self) -> int:
        return int(np.count_nonzero(self.mp[:, col.P_EOD] > 0.5))

    def nothing_to_mdf_count(self) -> int:
        return int(np.count_nonzero(self.mp[:, col.P_MDF] <= 0.0))


_SKETCHED_TRANCHE = (col.T_MIN_DSCR, col.T_UNPAID_LF)
_SKETCHED_PATH = (col.P_MDF, col.P_MDF_PV)
_SUMMED_PATH = (col.P_MDF, col.P_MDF_PV, col.P_GAP, col.P_HEDGE)
_SUMMED_TRANCHE = (col.T_UNPAID_LF, col.T_AFTER_LF)


@dataclass
class StreamedPaths:
    """Statistics of a run's per-path metrics accumulated chunk by chunk (:meth:`add_chunk`) and merged by
    :meth:`merge`; its size depends on tranches and periods, never on paths (see the module docstring)."""

    n_tranches: int
    n_periods: int
    n: int = 0
    defaults: NDArray[np.int64] = field(init=False)
    loss_mean: Array = field(init=False)
    loss_m2: Array = field(init=False)
    wal_sum: Array = field(init=False)
    wal_count: NDArray[np.int64] = field(init=False)
    tranche_sums: Array = field(init=False)  # (tranches, len(_SUMMED_TRANCHE))
    unpaid_given_default_sum: Array = field(init=False)
    default_periods: NDArray[np.int64] = field(init=False)  # (tranches, periods)
    path_sums: Array = field(init=False)
    eod: int = 0
    nothing_to_mdf: int = 0
    tranche_sketches: list[list[QuantileSketch]] = field(init=False)
    path_sketches: list[QuantileSketch] = field(init=False)
    head_mdf_pv: Array = field(init=False)  # MDF inflows (PV) of paths 0 .. HEAD_PATHS - 1 (NaN until seen)

    def __post_init__(self) -> None:
        nt = self.n_tranches
        self.defaults = np.zeros(nt, dtype=np.int64)
        self.loss_mean = np.zeros(nt)
        self.loss_m2 = np.zeros(nt)
        self.wal_sum = np.zeros(nt)
        self.wal_count = np.zeros(nt, dtype=np.int64)
        self.tranche_sums = np.zeros((nt, len(_SUMMED_TRANCHE)))
        self.unpaid_given_default_sum = np.zeros(nt)
        self.default_periods = np.zeros((nt, self.n_periods), dtype=np.int64)
        self.path_sums = np.zeros(len(_SUMMED_PATH))
        self.tranche_sketches = [[QuantileSketch() for _ in _SKETCHED_TRANCHE] for _ in range(nt)]
        self.path_sketches = [QuantileSketch() for _ in _SKETCHED_PATH]
        self.head_mdf_pv = np.empty(0)

    def add_chunk(self, mt: Array, mp: Array, first: int) -> None:
        """Add the metrics of paths ``first .. first + len(mp) - 1``."""
        other = StreamedPaths(self.n_tranches, self.n_periods)
        m = int(mp.shape[0])
        other.n = m
        for j in range(self.n_tranches):
            hit = mt[:, j, col.T_DEFAULT] > 0.5
            other.defaults[j] = int(np.count_nonzero(hit))
            loss = np.clip(mt[:, j, col.T_LOSS], 0.0, 1.0)
            other.loss_mean[j] = float(np.mean(loss)) if m else 0.0
            other.loss_m2[j] = float(np.sum((loss - other.loss_mean[j]) ** 2))
            wal = mt[:, j, col.T_WAL]
            ok = np.isfinite(wal)
            other.wal_sum[j] = float(wal[ok].sum())
            other.wal_count[j] = int(np.count_nonzero(ok))
            for i, metric in enumerate(_SUMMED_TRANCHE):
                other.tranche_sums[j, i] = float(mt[:, j, metric].sum())
            other.unpaid_given_default_sum[j] = float(mt[hit, j, col.T_UNPAID_LF].sum())
            at = mt[hit, j, col.T_DEFAULT_AT].astype(np.int64)
            other.default_periods[j] = np.bincount(at, minlength=self.n_periods)[: self.n_periods]
            for i, metric in enumerate(_SKETCHED_TRANCHE):
                other.tranche_sketches[j][i].add(mt[:, j, metric])
        for i, metric in enumerate(_SUMMED_PATH):
            other.path_sums[i] = float(mp[:, metric].sum())
        other.eod = int(np.count_nonzero(mp[:, col.P_EOD] > 0.5))
        other.nothing_to_mdf = int(np.count_nonzero(mp[:, col.P_MDF] <= 0.0))
        for i, metric in enumerate(_SKETCHED_PATH):
            other.path_sketches[i].add(mp[:, metric])
        if first < HEAD_PATHS:
            k = min(m, HEAD_PATHS - first)
            other.head_mdf_pv = np.full(first + k, np.nan)
            other.head_mdf_pv[first:] = mp[:k, col.P_MDF_PV]
        self.merge(other)

    def merge(self, other: StreamedPaths) -> None:
        """Add ``other`` (the statistics of other paths) into this summary."""
        n_a, n_b = self.n, other.n
        n = n_a + n_b
        if n_b == 0:
            return
        delta = other.loss_mean - self.loss_mean
        # Chan, Golub & LeVeque (1983): the combined mean and sum of squared deviations of two groups
        self.loss_m2 = self.loss_m2 + other.loss_m2 + delta**2 * (n_a * n_b / n)
        self.loss_mean = self.loss_mean + delta * (n_b / n)
        self.n = n
        self.defaults += other.defaults
        self.wal_sum += other.wal_sum
        self.wal_count += other.wal_count
        self.tranche_sums += other.tranche_sums
        self.unpaid_given_default_sum += other.unpaid_given_default_sum
        self.default_periods += other.default_periods
        self.path_sums += other.path_sums
        self.eod += other.eod
        self.nothing_to_mdf += other.nothing_to_mdf
        for mine, theirs in zip(self.tranche_sketches, other.tranche_sketches, strict=True):
            for a, b in zip(mine, theirs, strict=True):
                a.merge(b)
        for a, b in zip(self.path_sketches, other.path_sketches, strict=True):
            a.merge(b)
        if other.head_mdf_pv.size:
            size = max(self.head_mdf_pv.size, other.head_mdf_pv.size)
            head = np.full(size, np.nan)
            head[: self.head_mdf_pv.size] = self.head_mdf_pv
            seen = ~np.isnan(other.head_mdf_pv)
            head[: other.head_mdf_pv.size][seen] = other.head_mdf_pv[seen]
            self.head_mdf_pv = head

    # ------------------------------------------------------------------------------------------ PathStats

    @property
    def n_paths(self) -> int:
        return self.n

    def default_count(self, j: int) -> int:
        return int(self.defaults[j])

    def loss_mean_se(self, j: int) -> tuple[float, float]:
        if self.n < 2:
            return float(self.loss_mean[j]), 0.0
        return float(self.loss_mean[j]), math.sqrt(float(self.loss_m2[j]) / (self.n - 1)) / math.sqrt(self.n)

    def wal_mean(self, j: int) -> float:
        return float(self.wal_sum[j] / self.wal_count[j]) if self.wal_count[j] else math.nan

    def tranche_quantiles(self, j: int, metric: int, qs: tuple[int, ...]) -> dict[str, float | None]:
        return self.tranche_sketches[j][_SKETCHED_TRANCHE.index(metric)].quantiles(qs)

    def tranche_mean(self, j: int, metric: int, *, given_default: bool = False) -> float:
        if given_default:
            if metric != col.T_UNPAID_LF:
                raise ValueError("tranche_mean: a streamed summary keeps the mean given default of the unpaid only")
            return float(self.unpaid_given_default_sum[j] / self.defaults[j]) if self.defaults[j] else 0.0
        return float(self.tranche_sums[j, _SUMMED_TRANCHE.index(metric)] / self.n)

    def default_period_quantiles(self, j: int, qs: tuple[float, ...]) -> list[int] | None:
        counts = self.default_periods[j]
        m = int(counts.sum())
        if m == 0:
            return None
        cum = np.cumsum(counts)
        # numpy's inverted_cdf: the smallest value whose cumulative count reaches q m
        return [int(np.searchsorted(cum, max(math.ceil(q * m), 1), side="left")) for q in qs]

    def path_quantiles(self, metric: int, qs: tuple[int, ...]) -> dict[str, float | None]:
        return self.path_sketches[_SKETCHED_PATH.index(metric)].quantiles(qs)

    def path_mean(self, metric: int) -> float:
        return float(self.path_sums[_SUMMED_PATH.index(metric)] / self.n)

    def eod_count(self) -> int:
        return self.eod

    def nothing_to_mdf_count(self) -> int:
        return self.nothing_to_mdf

    def representative_median_path(self) -> int:
        """Among the first :data:`HEAD_PATHS` paths, the one whose MDF inflows (PV) are nearest the run's median
        (the sketch's; ties: the lower index)."""
        med = self.path_quantiles(col.P_MDF_PV, (50,))["p50"]
        head = self.head_mdf_pv
        if med is None or head.size == 0:
            return 0
        dist = np.abs(np.where(np.isnan(head), np.inf, head) - med)
        return int(np.argmin(dist))
