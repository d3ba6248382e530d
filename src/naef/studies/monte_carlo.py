"""The Monte Carlo study: many paths of prices, production and costs (``naef run --paths N``, the portal's runs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from naef.analysis.flows import SwapFlows
from naef.analysis.mc_summary import MonteCarloSummary
from naef.analysis.montecarlo import MonteCarloResult, run_monte_carlo
from naef.engine.montecarlo import path_table, prepare
from naef.engine.simulate import SimulationResult, simulate
from naef.scenario.models import Scenario
from naef.studies.common import Files, csv_text, json_text, swap_flows_of
from naef.studies.settings import RunSettings

__all__ = ["MonteCarloStudy", "monte_carlo", "monte_carlo_units"]


@dataclass
class MonteCarloStudy:
    """A Monte Carlo run of a scenario, with its deterministic case beside it (the report shows both)."""

    scenario: Scenario
    settings: RunSettings
    result: MonteCarloResult
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def summary(self) -> MonteCarloSummary:
        """``summary.json`` (keys documented in the README, "summary.json (Monte Carlo)")."""
        return self.result.summary

    @property
    def percentiles(self) -> pd.DataFrame:
        """P5–P95 by period (``percentiles.csv``)."""
        return self.result.percentiles

    @cached_property
    def deterministic(self) -> SimulationResult:
        """The scenario's deterministic case (its decks)."""
        return simulate(self.scenario)

    @cached_property
    def p50_cashflows(self) -> pd.DataFrame:
        """The per-period cash flows of the run's median path by MDF inflows in present value (for a streamed run,
        the path among the first 100,000 nearest the median: ``MonteCarloResult.p50_path``)."""
        return path_table(prepare(self.scenario), seed=self.settings.seed, path=self.result.p50_path())

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"percentiles": self.percentiles, "cashflows": self.deterministic.table,
                "p50_cashflows": self.p50_cashflows}

    def files(self) -> Files:
        return {"summary.json": json_text(self.summary), "percentiles.csv": csv_text(self.percentiles)}

    def flows(self) -> SwapFlows:
        """The swap's flows over the horizon of the deterministic case (``naef.analysis.flows``)."""
        return swap_flows_of(self.deterministic.table)


def monte_carlo_units(scenario: Scenario, settings: RunSettings) -> int:
    """Paths a Monte Carlo study runs (twice the paths with hedges: the same paths run again without them), the
    total of its ``progress`` callbacks."""
    return settings.paths * (2 if scenario.hedges else 1)


def monte_carlo(scenario: Scenario, settings: RunSettings | None = None, *,
                progress: Callable[[int], None] | None = None, compare_unhedged: bool = True) -> MonteCarloStudy:
    """Run ``settings.paths`` paths of ``scenario`` (seeded with ``settings.seed``) and summarise them.

    ``progress(n)`` is called as paths finish (:func:`monte_carlo_units` in all). With hedges and
    ``compare_unhedged`` the same paths also run without them (the summary's ``hedge`` section).
    """
    chosen = settings if settings is not None else RunSettings()
    with chosen.runner() as runner:
        result = run_monte_carlo(scenario, n_paths=chosen.paths, seed=chosen.seed, chunk_size=chosen.chunk_size,
                                 engine=chosen.engine, progress=progress, threads=chosen.threads,
                                 compare_unhedged=compare_unhedged, runner=runner,
                                 keep_paths=chosen.keep_paths)
    return MonteCarloStudy(scenario=scenario, settings=chosen, result=result, timings=result.timings)
