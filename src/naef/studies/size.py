"""The sizing study: the largest tranche or programme whose implied rating reaches a target (``naef size``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal, cast

import pandas as pd

from naef.analysis.sizing import SizeEvaluation, SizeResult, size_search
from naef.scenario.load import scenario_identity
from naef.scenario.models import Scenario
from naef.studies.common import Files, json_text
from naef.studies.settings import RunSettings

__all__ = ["SIZE_UNITS", "SizeStudy", "size"]

#: the progress bar's first total: the most simulations of a search on both bases with the default tolerance and
#: scale limits (2 × 20, ``naef.analysis.sizing.max_evaluations``); the search lowers it as it learns its bound
SIZE_UNITS = 40


@dataclass(frozen=True)
class SizeStudy:
    """A sizing search: the largest passing size and every evaluation made (``size.json``)."""

    scenario: Scenario
    settings: RunSettings
    result: SizeResult

    @property
    def best(self) -> SizeEvaluation | None:
        return self.result.best

    @property
    def evaluations(self) -> tuple[SizeEvaluation, ...]:
        return self.result.evaluations

    @property
    def summary(self) -> dict[str, object]:
        """``size.json``: the scenario (name, content hash, ``--set`` changes), the target, the best size and its
        risk, every evaluation."""
        return {"scenario": scenario_identity(self.scenario), **self.result.to_dict()}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"evaluations": pd.DataFrame([asdict(e) for e in self.result.evaluations])}

    def files(self) -> Files:
        return {"size.json": json_text(self.summary)}


def size(scenario: Scenario, settings: RunSettings | None = None, *, target_rating: str = "Baa3",
         tranche: str | None = None, basis: str = "both",
         progress: Callable[[int], None] | None = None,
         progress_total: Callable[[int], None] | None = None) -> SizeStudy:
    """Find the largest size of ``tranche`` (or of the whole programme, pro rata) whose implied rating is at
    least ``target_rating`` on ``basis`` (``"el"``: expected loss at the WAL; ``"pd"``: default probability at
    the legal final; ``"both"``: each, the smaller size binding), every size on the same ``settings.paths`` paths
    (common random numbers). ``progress(n)`` counts simulations; ``progress_total(n)`` is told the bound on them as
    the search learns it (``naef.analysis.sizing``)."""
    chosen = settings if settings is not None else RunSettings()
    chosen_basis = cast(Literal["el", "pd", "both"], basis)  # size_search names an unknown basis
    with chosen.runner() as runner:
        result = size_search(scenario, target_rating=target_rating, tranche=tranche, basis=chosen_basis,
                             n_paths=chosen.paths, seed=chosen.seed, chunk_size=chosen.chunk_size,
                             progress=progress, runner=runner, progress_total=progress_total)
    return SizeStudy(scenario=scenario, settings=chosen, result=result)
