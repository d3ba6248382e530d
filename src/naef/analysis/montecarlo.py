"""A Monte Carlo run over runners: every chunk of paths (in this process or on a Dask cluster), then the summary.

The engine computes a chunk (``naef.engine.montecarlo``: set-up, random streams, the compiled kernel); this module
orchestrates a whole run — it splits the paths into chunks, hands them to a runner (``naef.parallel``), and
summarises the per-path metrics (``naef.analysis.mc_summary``). Definitions of the metrics are in the
``naef.engine.montecarlo`` docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from naef.analysis.mc_summary import MonteCarloSummary, RunInfo, UnhedgedRun, build_mc_summary, percentiles_table
from naef.engine.mc_types import MonteCarloSetup
from naef.engine.metrics import BLOCK_PATHS
from naef.engine.montecarlo import EngineName, median_path, prepare, replace_hedges
from naef.engine.path_stats import ExactPaths, PathStats, StreamedPaths
from naef.engine.run_arguments import check_run_arguments
from naef.parallel.runner import ChunkSpec, InProcessRunner, Runner, chunk_specs
from naef.scenario.models import Scenario

__all__ = [
    "KEEP_PATHS_LIMIT",
    "MonteCarloResult",
    "PathRunOptions",
    "run_monte_carlo",
    "simulate_paths",
    "stream_paths",
]

Array = NDArray[np.float64]


#: runs of at most this many paths keep every path's metrics by default (224 bytes a path on the baseline, 45 MB
#: here); larger runs stream them into summaries whose size does not grow with paths (``keep_paths``)
KEEP_PATHS_LIMIT = 200_000
#: paths per chunk when none is given (results do not depend on it; ``naef.studies.settings`` has the CLI's)
CHUNK_SIZE = 20_000


@dataclass
class MonteCarloResult:
    """A Monte Carlo run: the summary, the per-period percentiles, and the per-path metrics behind them (``None``
    for a streamed run, which keeps only ``stats``)."""

    summary: MonteCarloSummary
    percentiles: pd.DataFrame
    metrics_tranche: Array | None
    metrics_path: Array | None
    hist: NDArray[np.int64]
    timings: dict[str, float] = field(default_factory=dict)
    stats: PathStats | None = None

    def p50_path(self) -> int:
        """The run's "P50 path": the path whose MDF inflows (PV) are the median (``median_path``) when every
        path's metrics are kept; for a streamed run, the path among the first ``HEAD_PATHS`` nearest the
        sketch's median."""
        if self.metrics_path is not None:
            return median_path(self.metrics_path)
        assert isinstance(self.stats, StreamedPaths)
        return self.stats.representative_median_path()


class PathRunOptions(TypedDict, total=False):
    """How the chunks of a run are computed (results never depend on them, except ``engine``, whose two engines
    agree to rounding): paths per chunk, the engine, a progress callback (paths done), kernel threads in this
    process, or the runner (``naef.parallel``; default: in this process)."""

    chunk_size: int
    engine: EngineName
    progress: Callable[[int], None] | None
    threads: int | None
    runner: Runner | None


def _plan(n_paths: int, seed: int, options: PathRunOptions) -> tuple[Runner, list[ChunkSpec]]:
    """The one chunk driver's plan: the arguments checked, the runner chosen, the paths cut into chunks."""
    chunk_size = options.get("chunk_size", CHUNK_SIZE)
    check_run_arguments(n_paths=n_paths, seed=seed, chunk_size=chunk_size)
    runner = options.get("runner")
    chosen = runner if runner is not None else InProcessRunner(options.get("threads"))
    return chosen, chunk_specs(n_paths, chunk_size)


def simulate_paths(
    setup: MonteCarloSetup, *, n_paths: int, seed: int, **options: Unpack[PathRunOptions],
) -> tuple[Array, Array, NDArray[np.int64], dict[str, float]]:
    """Run every chunk (in this process, or on ``options["runner"]``); returns per-path metrics, summed
    histograms and timings (the time spent drawing random numbers, and the rest)."""
    runner, chunks = _plan(n_paths, seed, options)
    return runner.run(setup, seed=seed, chunks=chunks, engine=options.get("engine", "vector"),
                      progress=options.get("progress"))


def run_monte_carlo(
    scenario: Scenario,
    *,
    n_paths: int,
    seed: int,
    chunk_size: int = CHUNK_SIZE,
    engine: EngineName = "vector",
    progress: Callable[[int], None] | None = None,
    threads: int | None = None,
    compare_unhedged: bool = True,
    runner: Runner | None = None,
    keep_paths: bool | None = None,
) -> MonteCarloResult:
    """Run ``n_paths`` paths of ``scenario`` and summarise them.

    With hedges in the scenario and ``compare_unhedged``, the same paths (common random numbers) are run again
    without them, and the summary's ``hedge`` section compares PD, EL and MDF inflows with and without.

    ``keep_paths``: keep every path's metrics (exact quantiles; memory grows with paths), or stream them into
    mergeable summaries (``naef.engine.path_stats``: counts exact, means to rounding, quantiles within the
    sketch's 0.1 % relative bound; memory flat in paths). Default: keep up to :data:`KEEP_PATHS_LIMIT` paths.
    """
    keep = n_paths <= KEEP_PATHS_LIMIT if keep_paths is None else keep_paths
    options: PathRunOptions = {"chunk_size": chunk_size, "engine": engine, "progress": progress, "threads": threads,
                               "runner": runner}
    setup = prepare(scenario)
    run_info: RunInfo = {"kind": "monte_carlo", "paths": n_paths, "seed": seed, "chunk_size": chunk_size,
                         "engine": engine, "block_paths": BLOCK_PATHS}
    bare = prepare(replace_hedges(scenario)) if compare_unhedged and scenario.hedges else None
    if not keep:
        stats, hist, timings = stream_paths(setup, n_paths=n_paths, seed=seed, **options)
        unhedged: UnhedgedRun | None = None
        if bare is not None:
            u_stats, _, _ = stream_paths(bare, n_paths=n_paths, seed=seed, **options)
            unhedged = UnhedgedRun(bare, u_stats, None)
        summary = build_mc_summary(setup, stats, run_info=run_info, unhedged=unhedged)
        summary["run"]["per_path_results"] = "streamed"
        return MonteCarloResult(summary=summary, percentiles=percentiles_table(setup, hist), metrics_tranche=None,
                                metrics_path=None, hist=hist, timings=timings, stats=stats)
    mt, mp, hist, timings = simulate_paths(setup, n_paths=n_paths, seed=seed, **options)
    unhedged = None
    if bare is not None:
        u_mt, u_mp, _, _ = simulate_paths(bare, n_paths=n_paths, seed=seed, **options)
        unhedged = UnhedgedRun(bare, u_mt, u_mp)
    summary = build_mc_summary(setup, mt, mp, run_info=run_info, unhedged=unhedged)
    return MonteCarloResult(summary=summary, percentiles=percentiles_table(setup, hist), metrics_tranche=mt,
                            metrics_path=mp, hist=hist, timings=timings, stats=ExactPaths(mt, mp))


def stream_paths(
    setup: MonteCarloSetup, *, n_paths: int, seed: int, **options: Unpack[PathRunOptions],
) -> tuple[StreamedPaths, NDArray[np.int64], dict[str, float]]:
    """Run every chunk like :func:`simulate_paths`, streaming each chunk's per-path metrics into a
    ``StreamedPaths`` summary (memory does not grow with paths); returns it, the summed histograms and timings."""
    runner, chunks = _plan(n_paths, seed, options)
    return runner.run_streamed(setup, seed=seed, chunks=chunks, engine=options.get("engine", "vector"),
                               progress=options.get("progress"))
