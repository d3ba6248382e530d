"""The range of a Monte Carlo's run arguments (paths, seed, chunk size): checked here, once, for every entry point
(``naef.studies.RunSettings``, the engine's own functions). A light module: it loads no NumPy."""

from __future__ import annotations

from naef.errors import NaefError

__all__ = ["MAX_PATHS", "MonteCarloError", "check_run_arguments"]

#: the most paths of one run
MAX_PATHS = 100_000_000


class MonteCarloError(NaefError):
    """Bad Monte Carlo arguments (number of paths, chunk size, seed, engine, threads, workers)."""


def check_run_arguments(*, n_paths: int, seed: int, chunk_size: int) -> None:
    """Raise :class:`MonteCarloError` naming the argument when one is out of range."""
    if n_paths < 1:
        raise MonteCarloError(f"--paths: must be at least 1 (got {n_paths})")
    if n_paths > MAX_PATHS:
        raise MonteCarloError(f"--paths: at most 100,000,000 in one run (got {n_paths})")
    if chunk_size < 1:
        raise MonteCarloError(f"--chunk-size: must be at least 1 (got {chunk_size})")
    if not 0 <= seed < 2**63:
        raise MonteCarloError(f"--seed: must be between 0 and 2^63 - 1 (got {seed})")
