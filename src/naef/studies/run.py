"""The deterministic study: the scenario's decks through the whole chain, one path (``naef run``)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from naef.analysis.flows import SwapFlows
from naef.engine.results import DeterministicSummary
from naef.engine.simulate import SimulationResult, simulate
from naef.scenario.models import Scenario
from naef.studies.common import Files, csv_text, json_text, swap_flows_of
from naef.studies.settings import RunSettings

__all__ = ["RunResult", "run"]


@dataclass(frozen=True)
class RunResult:
    """A deterministic run: the per-period cash flows (``cashflows.csv``) and the summary (``summary.json``)."""

    scenario: Scenario
    settings: RunSettings
    simulation: SimulationResult

    @property
    def summary(self) -> DeterministicSummary:
        """``summary.json`` (keys documented in the README, "summary.json (deterministic)"): the simulation's
        :class:`naef.engine.results.DeterministicSummary`."""
        return self.simulation.summary

    @property
    def cashflows(self) -> pd.DataFrame:
        """One row per period (``cashflows.csv``)."""
        return self.simulation.table

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"cashflows": self.cashflows}

    def files(self) -> Files:
        return {"cashflows.csv": csv_text(self.cashflows), "summary.json": json_text(self.summary)}

    def flows(self) -> SwapFlows:
        """The swap's flows over the horizon (``naef.analysis.flows``)."""
        return swap_flows_of(self.cashflows)


def run(scenario: Scenario, settings: RunSettings | None = None) -> RunResult:
    """Run ``scenario``'s deterministic case (its price decks) with ``settings.engine``."""
    chosen = settings if settings is not None else RunSettings()
    return RunResult(scenario=scenario, settings=chosen, simulation=simulate(scenario, engine=chosen.engine))
