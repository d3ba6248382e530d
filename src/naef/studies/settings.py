"""How a study runs: one value, validated once, shared by the Python API, the CLI and the web (a light module:
the CLI imports it at start-up).

The figures a study computes never depend on ``chunk_size``, ``threads``, ``workers`` or ``scheduler`` (random
numbers belong to paths: ``naef.engine.montecarlo``); they depend on ``seed`` and ``paths``, and ``engine`` picks
the compiled kernel or its pure-Python oracle.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from naef.engine.run_arguments import MonteCarloError, check_run_arguments

if TYPE_CHECKING:
    from naef.parallel.runner import Runner

__all__ = ["DEFAULT_CHUNK_SIZE", "DEFAULT_PATHS", "DEFAULT_SEED", "EngineName", "RunSettings"]

EngineName = Literal["vector", "reference"]
#: paths of a Monte Carlo when none are given (``naef size``'s evaluations, the Python API)
DEFAULT_PATHS = 4000
#: the seed when none is given (every command's ``--seed`` default)
DEFAULT_SEED = 1
#: paths simulated at once (results do not depend on it)
DEFAULT_CHUNK_SIZE = 20_000


@dataclass(frozen=True)
class RunSettings:
    """The run arguments of a study: ``seed``, ``paths``, ``chunk_size``, ``threads`` (of the compiled kernel;
    ``None``: all cores), ``workers`` (a local Dask cluster of that many processes) or ``scheduler`` (an existing
    Dask cluster's address), ``engine`` (``"vector"`` or ``"reference"``) and ``keep_paths`` (keep every path's
    metrics, or stream them into mergeable summaries; ``None``: keep up to
    ``naef.analysis.montecarlo.KEEP_PATHS_LIMIT`` paths).

    Constructing one validates it (raising :class:`naef.engine.montecarlo.MonteCarloError`, a ``NaefError``,
    whose message names the CLI option): this is the only place run arguments are checked.
    """

    seed: int = DEFAULT_SEED
    paths: int = DEFAULT_PATHS
    chunk_size: int = DEFAULT_CHUNK_SIZE
    threads: int | None = None
    workers: int | None = None
    scheduler: str | None = None
    engine: EngineName = "vector"
    keep_paths: bool | None = None

    def __post_init__(self) -> None:
        for name in ("seed", "paths", "chunk_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise MonteCarloError(f"--{name.replace('_', '-')}: must be a whole number (got {value!r})")
        check_run_arguments(n_paths=self.paths, seed=self.seed, chunk_size=self.chunk_size)
        if self.threads is not None and (isinstance(self.threads, bool) or not isinstance(self.threads, int)
                                         or self.threads < 1):
            raise MonteCarloError(f"--threads: must be at least 1 (got {self.threads!r})")
        if self.workers is not None and (isinstance(self.workers, bool) or not isinstance(self.workers, int)
                                         or self.workers < 1):
            raise MonteCarloError(f"--workers: must be at least 1 (got {self.workers!r})")
        if self.workers is not None and self.scheduler is not None:
            raise MonteCarloError("--workers: give --workers (a local cluster) or --scheduler (an existing one), "
                                  "not both")
        if self.keep_paths is not None and not isinstance(self.keep_paths, bool):
            raise MonteCarloError(f"--per-path: must be keep or stream (got {self.keep_paths!r})")
        if self.engine not in ("vector", "reference"):
            raise MonteCarloError(f"--engine: unknown engine {self.engine!r} (choose 'vector' or 'reference')")

    @property
    def distributed(self) -> bool:
        """Whether the study runs on a Dask cluster (``workers`` or ``scheduler`` given)."""
        return self.workers is not None or self.scheduler is not None

    def with_changes(self, **changes: Any) -> RunSettings:
        """A copy with some arguments changed (validated again)."""
        return replace(self, **changes)

    @contextmanager
    def runner(self) -> Iterator[Runner]:
        """Where the chunks run: in this process (``threads`` kernel threads), or on the Dask cluster."""
        from naef.parallel import dask_runner
        from naef.parallel.runner import InProcessRunner

        if not self.distributed:
            yield InProcessRunner(self.threads)
            return
        with dask_runner(workers=self.workers, scheduler=self.scheduler) as runner:
            yield runner
