"""The types of a Monte Carlo run's set-up and chunks: what ``naef.engine.montecarlo.prepare`` builds once per
scenario, and what a chunk of paths returns (the compiled kernel's and the pure-Python oracle's alike)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from naef.engine.hedge_plan import HedgePlan
from naef.engine.simulate import Operations
from naef.engine.timegrid import TimeGrid
from naef.engine.waterfall import WaterfallSpec
from naef.scenario.models import Scenario

__all__ = ["ChunkResult", "FieldUncertainty", "MonteCarloSetup", "PathCollections"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class FieldUncertainty:
    """Resolved per-field parameters, arrays with one entry per field (``delay_cdf`` (fields, years + 1))."""

    qi_sigma: Array
    reserves_sigma: Array
    capex_median: Array
    capex_sigma: Array
    delay_cdf: Array

    @property
    def max_delay_years(self) -> int:
        return int(self.delay_cdf.shape[1] - 1)


@dataclass(frozen=True)
class MonteCarloSetup:
    """Everything that does not vary by path, built once per scenario (``prepare``)."""

    scenario: Scenario
    grid: TimeGrid
    spec: WaterfallSpec
    hedge: HedgePlan
    deterministic: Operations
    uncertainty: FieldUncertainty
    price_times_years: Array
    spot_usd_per_bbl: float
    kernel_fields: tuple[Any, ...]
    kernel_spec: tuple[Any, ...]
    kernel_metrics: tuple[Any, ...]
    hist_lo: Array
    hist_width: Array

    @property
    def n_tranches(self) -> int:
        return len(self.spec.tranches)


@dataclass(frozen=True)
class ChunkResult:
    """Per-path metrics of a chunk and its per-period histograms."""

    metrics_tranche: Array  # (paths, tranches, N_METRICS_TRANCHE)
    metrics_path: Array  # (paths, N_METRICS_PATH)
    hist: NDArray[np.int64]  # (5, periods, N_BINS + 2): the variables of metrics.HIST_VARIABLES


@dataclass(frozen=True)
class PathCollections:
    """Each path's collections, capex and pledged export receivables (paths, periods), its hedge payoff net of
    premiums paid from collections (paths,) and its production in barrels of oil equivalent per day (paths,
    periods; fields shut in below their cash cost produce nothing)."""

    collections_usd: Array
    capex_usd: Array
    pledged_exports_usd: Array
    hedge_net_usd: Array
    production_boe_per_day: Array
