"""What one running app holds: its settings, the ledger, the run queue, the signing guards and the scenario runs.

Engine work (deterministic run, stress replay, Monte Carlo) happens only on the job manager's worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from naef.errors import NaefError
from naef.scenario.models import Scenario
from naef.studies.settings import RunSettings
from naef.web.config import ApiError, WebConfig
from naef.web.jobs import Job, JobManager
from naef.web.ledger_view import LedgerView
from naef.web.signing import RateLimiter, ReplayGuard

if TYPE_CHECKING:
    from naef.analysis.stress import StressDocument
    from naef.web.results import RunDocument

__all__ = ["WebState"]

log = logging.getLogger("naef.web")


def _scenario_label(source: str) -> str:
    return Path(source).stem if source.endswith(".toml") else source


class WebState:
    """The app's state (``app.state.naef``)."""

    def __init__(self, config: WebConfig) -> None:
        from naef.scenario.load import load_with_assignments, shipped_scenarios

        self.config = config
        self.started_at = time.time()
        self.ledger: LedgerView | None = (
            LedgerView(config.ledger_url, node_cache_nodes=config.node_cache_nodes) if config.ledger_url else None
        )
        self.replay: ReplayGuard
        self.write_limiter: RateLimiter
        self.run_limiter: RateLimiter
        if config.shared_dir is None:  # one process: all in memory
            self.jobs = JobManager(max_queued=config.max_queued_runs, keep=config.keep_runs)
            self.replay = ReplayGuard(max_skew_s=config.max_skew_s, started_at=self.started_at)
            self.write_limiter = RateLimiter(rate_per_minute=config.write_rate_per_minute, burst=config.write_burst)
            self.run_limiter = RateLimiter(rate_per_minute=config.run_rate_per_minute, burst=config.run_burst)
        else:  # one of the processes of `naef serve --workers N`: shared through the parent's directory
            from naef.web.shared import SharedRateLimiter, SharedReplayGuard, SharedStore

            shared = SharedStore(config.shared_dir)
            if config.started_at is not None:
                self.started_at = config.started_at
            self.jobs = JobManager(max_queued=config.max_queued_runs, keep=config.keep_runs, shared=shared)
            self.replay = SharedReplayGuard(shared, max_skew_s=config.max_skew_s, started_at=self.started_at)
            self.write_limiter = SharedRateLimiter(shared, "write", rate_per_minute=config.write_rate_per_minute,
                                                   burst=config.write_burst)
            self.run_limiter = SharedRateLimiter(shared, "run", rate_per_minute=config.run_rate_per_minute,
                                                 burst=config.run_burst)
        self._scenarios: dict[str, Scenario] = {}
        self._lock = threading.Lock()
        # the server's scenario (with its --set changes) is loaded now, so a bad --scenario or --set fails at
        # start-up with its one-line message
        self.scenario_label = _scenario_label(config.scenario)
        self._scenarios[self.scenario_label] = load_with_assignments(config.scenario, config.scenario_sets)
        self.shipped = [n for n in shipped_scenarios() if n != self.scenario_label]
        self.overview: Future[RunDocument] = self.jobs.call(lambda: self._document(self.scenario_label, None))
        if self.ledger is not None:  # fold the log once now, so the first write or proposals page does not wait
            threading.Thread(target=self._warm, args=(self.ledger,), name="naef-ledger-fold", daemon=True).start()

    @staticmethod
    def _warm(view: LedgerView) -> None:
        try:
            view.unreadable()
        except Exception:  # the same error will surface, with its message, on the request that needs the state
            log.exception("folding the ledger at start-up failed")
        try:
            view.ledger.warm_node_cache()  # proofs from memory from the first requests on (issue 18)
        except Exception:  # proofs then read what they need, as without the cache
            log.exception("filling the node cache at start-up failed")

    # ------------------------------------------------------------------------------------------ scenarios

    def scenario_names(self) -> list[str]:
        """Scenarios a run may name: the server's, then the shipped ones."""
        return [self.scenario_label, *self.shipped]

    def scenario(self, name: str) -> Scenario:
        """A runnable scenario by name (ApiError 400 for any other name: no uploads, no paths)."""
        from naef.scenario.load import load_scenario

        if name not in self.scenario_names():
            offered = ", ".join(self.scenario_names())
            raise ApiError(400, "bad_request", f"scenario: {name!r} is not one of this server's scenarios ({offered})")
        with self._lock:
            if name not in self._scenarios:
                self._scenarios[name] = load_scenario(name)
            return self._scenarios[name]

    # ------------------------------------------------------------------------------------------ runs

    def _document(self, name: str, mc: tuple[RunSettings, Callable[[int], None]] | None) -> RunDocument:
        """Deterministic run + stress (+ Monte Carlo when ``mc`` = (settings, progress)) of scenario ``name``."""
        from naef.studies.monte_carlo import monte_carlo
        from naef.studies.run import run
        from naef.studies.stress import stress
        from naef.web.results import run_document

        sc = self.scenario(name)
        det = run(sc)
        try:
            stress_summary: StressDocument | None = stress(sc).summary
        except NaefError as exc:  # a scenario whose grid the episodes do not fit: show the rest
            log.warning("stress replay skipped: %s", exc)
            stress_summary = None
        mc_summary = percentiles = None
        if mc is not None:
            settings, progress = mc
            study = monte_carlo(sc, settings, progress=progress)
            mc_summary, percentiles = study.summary, study.percentiles
        return run_document(deterministic_summary=det.summary, deterministic_cashflows=det.cashflows,
                            stress=stress_summary, monte_carlo_summary=mc_summary, percentiles=percentiles)

    def start_run(self, *, scenario: str | None, paths: int | None, seed: int) -> Job:
        """Queue a Monte Carlo run (ApiError 400 for out-of-range inputs, 429 when the queue is full)."""
        from naef.studies.monte_carlo import monte_carlo_units

        name = scenario or self.scenario_label
        sc = self.scenario(name)
        n = self.config.default_paths if paths is None else paths
        if not 1 <= n <= self.config.max_paths:
            raise ApiError(400, "bad_request", f"paths: must be between 1 and {self.config.max_paths} (got {n})")
        try:
            settings = RunSettings(paths=n, seed=seed, chunk_size=self.config.chunk_size)
        except NaefError as exc:  # the message names the CLI's option (--seed): the API's field has no dashes
            raise ApiError(400, "bad_request", str(exc).removeprefix("--")) from None
        return self.jobs.submit(kind="monte_carlo", scenario=name, paths=n, seed=seed,
                                total_units=monte_carlo_units(sc, settings),
                                work=lambda progress: self._document(name, (settings, progress)))

    def latest_document(self, *, wait_s: float = 0.0) -> tuple[str, RunDocument | None]:
        """The latest finished run's document, else the start-up overview; (source, document or None if the
        overview is still being computed or failed)."""
        job = self.jobs.latest_done()
        if job is not None and job.result is not None:
            return f"run {job.id}", job.result
        try:
            return "overview", self.overview.result(timeout=wait_s) if wait_s > 0 or self.overview.done() else None
        except TimeoutError:
            return "overview", None
        except Exception as exc:
            log.exception("overview of %s failed", self.scenario_label)
            raise ApiError(503, "overview_failed",
                           f"scenario {self.scenario_label}: its overview could not be computed ({exc})") from None

    def require_ledger(self) -> LedgerView:
        """The ledger, or ApiError 503 when the server runs without one."""
        if self.ledger is None:
            raise ApiError(503, "no_ledger", "ledger: this server runs without a ledger (start it with --ledger URL)")
        return self.ledger

    def close(self) -> None:
        """Stop the worker and close the ledger."""
        self.jobs.shutdown()
        if self.ledger is not None:
            self.ledger.close()
