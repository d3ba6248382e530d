"""Scenario runs as background jobs: one worker thread, a bounded queue, progress by paths done.

A run is the Monte Carlo of a scenario (:func:`naef.analysis.montecarlo.run_monte_carlo`) plus its deterministic
run (:func:`naef.engine.simulate.simulate`, for the Sankey's amounts) and the stress replay of the shipped
historical episodes (:func:`naef.studies.stress.stress`). Every engine call of the app goes through the
one worker thread, so compiled kernels are never entered by two threads at once, and a long run cannot starve
the web server's own threads. The result of a run is plain JSON (:func:`naef.web.results.run_document`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from naef.errors import NaefError
from naef.web.api_models import RunStatus
from naef.web.config import ApiError

if TYPE_CHECKING:
    from naef.web.results import RunDocument
    from naef.web.shared import SharedStore

__all__ = ["Job", "JobManager", "JobState"]

JobState = Literal["queued", "running", "done", "failed"]
log = logging.getLogger("naef.web")


@dataclass
class Job:
    """One run: its inputs, state, progress and (when done) its JSON result."""

    id: str
    kind: str
    scenario: str
    paths: int
    seed: int
    total_units: int
    created_at: float = field(default_factory=time.time)
    state: JobState = "queued"
    done_units: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    result: RunDocument | None = None

    def status(self) -> RunStatus:
        """The status (what ``GET /api/runs/{id}`` returns)."""
        fraction = 1.0 if self.state == "done" else min(1.0, self.done_units / max(self.total_units, 1))
        return RunStatus(
            id=self.id,
            kind=self.kind,
            scenario=self.scenario,
            paths=self.paths,
            seed=self.seed,
            state=self.state,
            progress=round(fraction, 4),
            paths_done=min(self.done_units, self.total_units),
            paths_total=self.total_units,
            created_at=_iso(self.created_at),
            started_at=_iso(self.started_at),
            finished_at=_iso(self.finished_at),
            error=self.error,
            result_url=f"/api/runs/{self.id}/result" if self.state == "done" else None,
        )


def _iso(t: float | None) -> str | None:
    return None if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


Work = Callable[[Callable[[int], None]], "RunDocument"]


class JobManager:
    """Runs jobs one at a time on a private worker thread; keeps the last ``keep`` finished ones.

    With ``shared`` (the processes of ``naef serve --workers N``) every job's state, progress (at most once a
    second) and result are also recorded there, so that any process answers for a run another one computes; each
    process still runs its own jobs, at most ``max_queued`` at once."""

    _PUBLISH_EVERY_S = 1.0

    def __init__(self, *, max_queued: int, keep: int, shared: SharedStore | None = None) -> None:
        self.max_queued = max_queued
        self.keep = keep
        self.shared = shared
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="naef-run")
        self._closed = False
        self._latest_done: Job | None = None

    def _live_executor(self) -> ThreadPoolExecutor:
        """The worker thread's executor; a new one if the app was shut down and is serving again (an app object
        can outlive one lifespan, e.g. under a test client)."""
        with self._lock:
            if self._closed:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="naef-run")
                self._closed = False
            return self._executor

    def submit(self, *, kind: str, scenario: str, paths: int, seed: int, total_units: int, work: Work) -> Job:
        """Queue ``work(progress)``; raise ApiError 429 when ``max_queued`` jobs are already waiting or running."""
        with self._lock:
            active = sum(1 for j in self._jobs.values() if j.state in ("queued", "running"))
            if active >= self.max_queued:
                raise ApiError(429, "busy", f"runs: {active} runs are already queued or running; retry later",
                               headers={"Retry-After": "10"})
            job = Job(id=uuid.uuid4().hex[:16], kind=kind, scenario=scenario, paths=paths, seed=seed,
                      total_units=total_units)
            self._jobs[job.id] = job
            self._trim()
        self._publish(job)
        self._live_executor().submit(self._run, job, work)
        return job

    def _publish(self, job: Job) -> None:
        if self.shared is not None:
            self.shared.save_run(job.id, asdict(job), job.finished_at, self.keep)

    def call(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` on the worker thread (for engine work that is not a job, e.g. the start-up overview)."""
        return self._live_executor().submit(fn)

    def _run(self, job: Job, work: Work) -> None:
        job.state = "running"
        job.started_at = time.time()
        self._publish(job)
        published = [time.monotonic()]

        def progress(units: int) -> None:
            job.done_units += units
            if self.shared is not None and time.monotonic() - published[0] >= self._PUBLISH_EVERY_S:
                published[0] = time.monotonic()
                self._publish(job)

        try:
            job.result = work(progress)
            job.state = "done"
            with self._lock:
                self._latest_done = job
        except NaefError as exc:
            job.error = exc.message
            job.state = "failed"
        except Exception as exc:  # a bug in the engine must not kill the worker thread
            log.exception("run %s failed", job.id)
            job.error = f"internal error while running ({type(exc).__name__}); see the server log"
            job.state = "failed"
        finally:
            job.finished_at = time.time()
            try:
                self._publish(job)
            except Exception:  # the shared file is gone (server stopping): the run is still answered here
                log.exception("run %s: could not record it for the other processes", job.id)

    def _trim(self) -> None:
        finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
        for j in finished[: max(0, len(finished) - self.keep)]:
            del self._jobs[j.id]

    def get(self, job_id: str) -> Job:
        """The job ``job_id`` or ApiError 404."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None and self.shared is not None:
            doc = self.shared.load_run(job_id)
            job = None if doc is None else Job(**doc)
        if job is None:
            raise ApiError(404, "not_found", f"run {job_id!r}: no such run (finished runs are kept for a while only)")
        return job

    def jobs(self) -> list[Job]:
        """All jobs kept, newest first."""
        if self.shared is not None:
            return [Job(**doc) for doc in self.shared.runs()]
        with self._lock:
            return list(reversed(self._jobs.values()))

    def latest_done(self) -> Job | None:
        """The run that finished last, if any."""
        if self.shared is not None:
            doc = self.shared.latest_finished_run()
            return None if doc is None else Job(**doc)
        with self._lock:
            return self._latest_done

    def shutdown(self) -> None:
        """Stop taking work; the running job is abandoned (its thread ends with the process)."""
        with self._lock:
            self._closed = True
            self._executor.shutdown(wait=False, cancel_futures=True)
