"""The stress study: historical oil-price episodes and user decks replayed through the chain (``naef stress``,
the portal's stress section).

The numbers come from :mod:`naef.analysis.stress` (how an episode is laid on the grid, the two modes, every
per-path figure); this module picks the paths, reads the deck files and runs them (on a Dask cluster as one task).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from naef.analysis.stress import Mode, StressDocument, StressPath, StressResult, deck_path, episode_path, run_stress
from naef.analysis.stress_inputs import EpisodeLibrary, StressError, load_episodes, read_deck_csv, select_episodes
from naef.engine.montecarlo import prepare
from naef.parallel.runner import Runner
from naef.scenario.models import Scenario
from naef.studies.common import Files, csv_text, json_text
from naef.studies.settings import RunSettings

__all__ = ["StressStudy", "run_stress_of_json", "stress", "stress_scenario"]


@dataclass(frozen=True)
class StressStudy:
    """A stress run: ``stress.json`` (row 0 the base case) and the per-period table ``stress_paths.csv``."""

    scenario: Scenario
    result: StressResult

    @property
    def summary(self) -> StressDocument:
        """``stress.json``: ``result.summary`` (:class:`naef.analysis.stress.StressDocument`)."""
        return self.result.summary

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"stress_paths": self.result.paths_table}

    def files(self) -> Files:
        return {"stress.json": json_text(self.summary), "stress_paths.csv": csv_text(self.result.paths_table)}


def _episode_source(library: EpisodeLibrary, quarters: Sequence[str]) -> str:
    meta = library.meta
    span = f"{quarters[0]}–{quarters[-1]}" if quarters else ""
    return f"{meta.get('source', 'naef/data/stress_episodes.toml')} ({meta.get('source_url', '')}), {span}"


def _deck_names(decks: Sequence[Path]) -> list[str]:
    seen: set[str] = set()
    for p in decks:
        if str(p) in seen:
            raise StressError(f"--deck {p}: given twice")
        seen.add(str(p))
    names = [p.name for p in decks]
    return [n if names.count(n) == 1 else str(p) for n, p in zip(names, decks, strict=True)]


def stress_scenario(
    scenario: Scenario, *, episodes: Sequence[str] = (), decks: Sequence[Path] = (), mode: Mode = "scaled",
    at_year: int | None = None, runner: Runner | None = None,
) -> StressResult:
    """Run the chosen episodes (all shipped ones when neither ``episodes`` nor ``decks`` is given) and the deck
    files on ``scenario``; on ``runner`` (a Dask cluster) the run is one task there (a handful of paths: the
    paths are built here, deck files read here, and only prices travel)."""
    library = load_episodes()
    chosen = select_episodes(episodes, library) if (episodes or decks) else library.episodes
    names = _deck_names(decks)
    setup = prepare(scenario)
    user = [read_deck_csv(p, grid=setup.grid, name=n) for p, n in zip(decks, names, strict=True)]
    paths: list[StressPath] = [
        episode_path(setup, e, mode=mode, source=_episode_source(library, e.quarters), at_year=at_year)
        for e in chosen
    ]
    paths += [deck_path(setup, d) for d in user]
    if runner is not None:
        result: StressResult = runner.map_scenarios(run_stress_of_json, [scenario], paths, progress=None)[0]
        return result
    return run_stress(setup, paths)


def run_stress_of_json(scenario_json: str, paths: Sequence[StressPath]) -> StressResult:
    """``run_stress`` on a worker: the scenario as JSON, the paths as prices."""
    return run_stress(prepare(Scenario.model_validate_json(scenario_json)), paths)


def stress(scenario: Scenario, settings: RunSettings | None = None, *, episodes: Sequence[str] = (),
           decks: Sequence[str | Path] = (), mode: Mode = "scaled", at_year: int | None = None) -> StressStudy:
    """Replay ``episodes`` (default: every shipped one unless ``decks`` are given) and the Date,Price CSV
    ``decks`` through ``scenario``; ``mode`` ``"scaled"`` (to the spot) or ``"levels"``; episodes start on
    1 January of ``at_year`` (default: the scenario's first quarter). With ``settings.workers`` or
    ``settings.scheduler`` the replay is one task on the Dask cluster."""
    if mode not in ("scaled", "levels"):
        raise StressError(f"stress: unknown mode {mode!r} (choose 'scaled' or 'levels')")
    chosen = settings if settings is not None else RunSettings()
    deck_paths = tuple(Path(d) for d in decks)
    if chosen.distributed:
        with chosen.runner() as runner:
            result = stress_scenario(scenario, episodes=tuple(episodes), decks=deck_paths, mode=mode,
                                     at_year=at_year, runner=runner)
    else:
        result = stress_scenario(scenario, episodes=tuple(episodes), decks=deck_paths, mode=mode, at_year=at_year)
    return StressStudy(scenario=scenario, result=result)
