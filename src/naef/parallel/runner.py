"""Runners: where the chunks of a Monte Carlo run (see the package docstring)."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from naef.errors import NaefError

if TYPE_CHECKING:
    from naef.engine.mc_types import MonteCarloSetup
    from naef.engine.path_stats import StreamedPaths
    from naef.scenario.models import Scenario

__all__ = ["ChunkSpec", "DaskRunner", "InProcessRunner", "ParallelError", "Runner", "dask_runner", "local_cluster"]

Array = NDArray[np.float64]


class ParallelError(NaefError):
    """Dask missing, a scheduler that cannot be reached, or a bad number of workers."""


@dataclass(frozen=True)
class ChunkSpec:
    """Paths ``first .. first + n_paths - 1``."""

    first: int
    n_paths: int


def chunk_specs(n_paths: int, chunk_size: int) -> list[ChunkSpec]:
    """The chunks of a run, in order."""
    return [ChunkSpec(first, min(chunk_size, n_paths - first)) for first in range(0, n_paths, chunk_size)]


class Runner(Protocol):
    """Computes chunks (``run``: per-path metrics in path order, summed histograms, timings), or whole
    evaluations of many scenarios (``map_scenarios``: ``func(scenario_json, *args)`` for each, in order)."""

    def run(
        self, setup: MonteCarloSetup, *, seed: int, chunks: list[ChunkSpec], engine: str,
        progress: Callable[[int], None] | None,
    ) -> tuple[Array, Array, NDArray[np.int64], dict[str, float]]: ...

    def run_streamed(
        self, setup: MonteCarloSetup, *, seed: int, chunks: list[ChunkSpec], engine: str,
        progress: Callable[[int], None] | None,
    ) -> tuple[StreamedPaths, NDArray[np.int64], dict[str, float]]: ...

    def map_scenarios(
        self, func: Callable[..., Any], scenarios: list[Scenario], *args: Any, progress: Callable[[int], None] | None
    ) -> list[Any]: ...


def scenario_json(scenario: Scenario) -> str:
    """What travels to a worker: the validated scenario as canonical-order JSON."""
    return json.dumps(scenario.model_dump(mode="json"), sort_keys=True)


class InProcessRunner:
    """Every chunk in this process, one after another; ``threads`` kernel threads (default: all cores)."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    def run(
        self, setup: MonteCarloSetup, *, seed: int, chunks: list[ChunkSpec], engine: str,
        progress: Callable[[int], None] | None,
    ) -> tuple[Array, Array, NDArray[np.int64], dict[str, float]]:
        from naef.engine.metrics import N_METRICS_PATH, N_METRICS_TRANCHE

        n_paths = sum(c.n_paths for c in chunks)
        mt = np.empty((n_paths, setup.n_tranches, N_METRICS_TRANCHE))
        mp = np.empty((n_paths, N_METRICS_PATH))

        def rows(c: ChunkSpec) -> tuple[Array, Array]:  # the kernel writes each chunk's metrics in place
            return mt[c.first : c.first + c.n_paths], mp[c.first : c.first + c.n_paths]

        hist, timings = self._chunks(setup, seed, chunks, engine, progress, None, rows)
        return mt, mp, hist, timings

    def run_streamed(
        self, setup: MonteCarloSetup, *, seed: int, chunks: list[ChunkSpec], engine: str,
        progress: Callable[[int], None] | None,
    ) -> tuple[StreamedPaths, NDArray[np.int64], dict[str, float]]:
        from naef.engine.path_stats import StreamedPaths

        stats = StreamedPaths(setup.n_tranches, setup.grid.n)

        def add(c: ChunkSpec, c_mt: Array, c_mp: Array) -> None:
            stats.add_chunk(c_mt, c_mp, c.first)

        hist, timings = self._chunks(setup, seed, chunks, engine, progress, add, None)
        return stats, hist, timings

    def _chunks(
        self, setup: MonteCarloSetup, seed: int, chunks: list[ChunkSpec], engine: str,
        progress: Callable[[int], None] | None, sink: Callable[[ChunkSpec, Array, Array], None] | None,
        rows: Callable[[ChunkSpec], tuple[Array, Array]] | None,
    ) -> tuple[NDArray[np.int64], dict[str, float]]:
        """Every chunk through the engine: its per-path metrics handed to ``sink``, or written by the kernel
        straight into the arrays ``rows`` gives (a kept run: no chunk-sized copy)."""
        import time

        from naef.engine.montecarlo import draw_random_numbers, inputs_from_draws, lane_histograms, run_chunk

        lanes_hist = lane_histograms(setup, self.threads)
        t_draw = t_rest = 0.0
        for c in chunks:
            t0 = time.perf_counter()
            draws = draw_random_numbers(setup, seed=seed, first_path=c.first, n_paths=c.n_paths)
            t1 = time.perf_counter()
            inputs = inputs_from_draws(setup, draws, c.n_paths)
            res = run_chunk(setup, inputs, engine="reference" if engine == "reference" else "vector",
                            threads=self.threads, lanes_hist=lanes_hist, out=None if rows is None else rows(c))
            if sink is not None:
                sink(c, res.metrics_tranche, res.metrics_path)
            t_draw += t1 - t0
            t_rest += time.perf_counter() - t1
            if progress is not None:
                progress(c.n_paths)
        hist = lanes_hist.sum(axis=0, dtype=np.int64)
        return hist, {"draw_seconds": t_draw, "rest_seconds": t_rest}

    def map_scenarios(
        self, func: Callable[..., Any], scenarios: list[Scenario], *args: Any, progress: Callable[[int], None] | None
    ) -> list[Any]:
        out = []
        for sc in scenarios:
            out.append(func(scenario_json(sc), *args))
            if progress is not None:
                progress(1)
        return out


# ------------------------------------------------------------------------------------------------ worker side

_SETUPS: dict[str, MonteCarloSetup] = {}
_SETUPS_LOCK = threading.Lock()


def _worker_setup(scenario_json: str) -> MonteCarloSetup:
    """The prepared setup of a scenario, built once per worker process and scenario."""
    key = hashlib.sha256(scenario_json.encode("utf-8")).hexdigest()
    with _SETUPS_LOCK:
        setup = _SETUPS.get(key)
        if setup is None:
            from naef.engine.montecarlo import prepare
            from naef.scenario.models import Scenario

            setup = prepare(Scenario.model_validate_json(scenario_json))
            if len(_SETUPS) > 16:
                _SETUPS.clear()
            _SETUPS[key] = setup
    return setup


def chunk_task(scenario_json: str, seed: int, first: int, n_paths: int, engine: str) -> dict[str, Any]:
    """One chunk on a worker (one kernel thread): per-path metrics and the chunk's histogram counts."""
    import time

    from naef.engine.montecarlo import draw_random_numbers, inputs_from_draws, run_chunk

    setup = _worker_setup(scenario_json)
    t0 = time.perf_counter()
    draws = draw_random_numbers(setup, seed=seed, first_path=first, n_paths=n_paths)
    t1 = time.perf_counter()
    res = run_chunk(setup, inputs_from_draws(setup, draws, n_paths),
                    engine="reference" if engine == "reference" else "vector", threads=1)
    return {"first": first, "mt": res.metrics_tranche, "mp": res.metrics_path, "hist": sparse(res.hist),
            "draw_seconds": t1 - t0, "rest_seconds": time.perf_counter() - t1}


def chunk_histogram(result: dict[str, Any]) -> SparseHist:
    """The histogram counts of a :func:`chunk_task` result."""
    hist: SparseHist = result["hist"]
    return hist


def chunk_task_streamed(scenario_json: str, seed: int, first: int, n_paths: int, engine: str) -> dict[str, Any]:
    """One chunk on a worker, its per-path metrics summarised there (``naef.engine.path_stats``): what comes back
    does not grow with the chunk's paths."""
    from naef.engine.path_stats import StreamedPaths

    r = chunk_task(scenario_json, seed, first, n_paths, engine)
    stats = StreamedPaths(r["mt"].shape[1], r["hist"][0][1])
    stats.add_chunk(r["mt"], r["mp"], first)
    return {"stats": stats, "hist": r["hist"], "n_paths": n_paths, "draw_seconds": r["draw_seconds"],
            "rest_seconds": r["rest_seconds"]}


def merge_streamed(*parts: dict[str, Any]) -> dict[str, Any]:
    """Merge the results of :func:`chunk_task_streamed` (or of earlier merges): statistics merged, histograms
    added, times added."""
    stats = parts[0]["stats"]
    for p in parts[1:]:
        stats.merge(p["stats"])
    return {"stats": stats, "hist": sum_histograms(*parts), "n_paths": sum(p["n_paths"] for p in parts),
            "draw_seconds": sum(p["draw_seconds"] for p in parts),
            "rest_seconds": sum(p["rest_seconds"] for p in parts)}


SparseHist = tuple[tuple[int, ...], NDArray[np.int64], NDArray[np.int64]]


def sparse(hist: NDArray[np.int64]) -> SparseHist:
    """A histogram as (shape, flat indices of its non-empty bins, their counts): what travels between processes
    (a chunk fills a few hundred of the 2,000 bins of each period and variable)."""
    flat = hist.reshape(-1)
    idx = np.flatnonzero(flat)
    return tuple(hist.shape), idx.astype(np.int64), flat[idx].astype(np.int64)


def dense(h: SparseHist) -> NDArray[np.int64]:
    """The histogram back from :func:`sparse`."""
    shape, idx, counts = h
    out = np.zeros(int(np.prod(shape)), dtype=np.int64)
    out[idx] = counts
    return out.reshape(shape)


def sum_histograms(*parts: dict[str, Any] | SparseHist) -> SparseHist:
    """Sum the histograms of chunk results (or of partial sums): integer addition, so any order gives the same."""
    total: NDArray[np.int64] | None = None
    for p in parts:
        h = dense(p["hist"] if isinstance(p, dict) else p)
        total = h if total is None else total + h
    assert total is not None
    return sparse(total)


class DaskRunner:
    """Each chunk a task on a ``distributed.Client``'s cluster (see the package docstring)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def run(
        self, setup: MonteCarloSetup, *, seed: int, chunks: list[ChunkSpec], engine: str,
        progress: Callable[[int], None] | None,
    ) -> tuple[Array, Array, NDArray[np.int64], dict[str, float]]:
        from distributed import as_completed

        from naef.engine.metrics import N_METRICS_PATH, N_METRICS_TRANCHE

        payload = scenario_json(setup.scenario)
        run_id = uuid.uuid4().hex[:12]
        futures = [
            self.client.submit(chunk_task, payload, seed, c.first, c.n_paths, engine,
                               key=f"naef-chunk-{run_id}-{c.first}", retries=3, pure=False)
            for c in chunks
        ]
        # histograms are added up on the workers (a tree of sums, 8 at a time): only the total comes back. Each
        # chunk's histogram is first taken out of its result where that result is, so the sums move histograms
        # between workers, not the chunks' per-path metrics too (22 MB per 50,000-path chunk on the baseline).
        level: list[Any] = [self.client.submit(chunk_histogram, fut, key=f"naef-chunkhist-{run_id}-{c.first}",
                                               retries=3, pure=False)
                            for fut, c in zip(futures, chunks, strict=True)]
        depth = 0
        while len(level) > 1:
            level = [self.client.submit(sum_histograms, *level[i : i + 8], key=f"naef-hist-{run_id}-{depth}-{i}",
                                        retries=3, pure=False)
                     for i in range(0, len(level), 8)]
            depth += 1
        hist_future = level[0]
        n_paths = sum(c.n_paths for c in chunks)
        mt = np.empty((n_paths, setup.n_tranches, N_METRICS_TRANCHE))
        mp = np.empty((n_paths, N_METRICS_PATH))
        t_draw = t_rest = 0.0
        for fut in as_completed(futures):
            r = fut.result()
            m = r["mp"].shape[0]
            mt[r["first"] : r["first"] + m] = r["mt"]
            mp[r["first"] : r["first"] + m] = r["mp"]
            t_draw += r["draw_seconds"]
            t_rest += r["rest_seconds"]
            if progress is not None:
                progress(m)
        total = hist_future.result()
        hist = dense(sum_histograms(total))
        return mt, mp, hist, {"draw_seconds": t_draw, "rest_seconds": t_rest}

    def run_streamed(
        self, setup: MonteCarloSetup, *, seed: int, chunks: list[ChunkSpec], engine: str,
        progress: Callable[[int], None] | None,
    ) -> tuple[StreamedPaths, NDArray[np.int64], dict[str, float]]:
        """Each chunk summarised on its worker, the summaries merged on the workers in a tree (8 at a time): the
        client receives one summary and one histogram, whatever the number of paths, and drops each future as it
        finishes."""
        from distributed import as_completed

        payload = scenario_json(setup.scenario)
        run_id = uuid.uuid4().hex[:12]
        level: list[Any] = [
            self.client.submit(chunk_task_streamed, payload, seed, c.first, c.n_paths, engine,
                               key=f"naef-stream-{run_id}-{c.first}", retries=3, pure=False)
            for c in chunks
        ]
        depth = 0
        while len(level) > 1:
            nxt = []
            for i in range(0, len(level), 8):
                group = level[i : i + 8]
                nxt.append(self.client.submit(merge_streamed, *group, key=f"naef-merge-{run_id}-{depth}-{i}",
                                              retries=3, pure=False))
                if depth == 0 and progress is not None:
                    for fut in as_completed(group):
                        progress(chunks[level.index(fut)].n_paths)
            level = nxt
            depth += 1
        if depth == 0 and progress is not None:
            progress(chunks[0].n_paths)
        total = level[0].result()
        del level
        return total["stats"], dense(total["hist"]), {"draw_seconds": total["draw_seconds"],
                                                      "rest_seconds": total["rest_seconds"]}

    def map_scenarios(
        self, func: Callable[..., Any], scenarios: list[Scenario], *args: Any, progress: Callable[[int], None] | None
    ) -> list[Any]:
        from distributed import as_completed

        run_id = uuid.uuid4().hex[:12]
        futures = [self.client.submit(func, scenario_json(sc), *args, key=f"naef-eval-{run_id}-{i}", retries=3,
                                      pure=False) for i, sc in enumerate(scenarios)]
        for _ in as_completed(futures):
            if progress is not None:
                progress(1)
        return [f.result() for f in futures]


@contextmanager
def dask_runner(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Runner]:
    """A runner for ``--workers N`` (a local cluster of N worker processes, one thread each) or ``--scheduler
    ADDRESS`` (an existing cluster); the in-process runner when neither is given."""
    if workers is None and scheduler is None:
        yield InProcessRunner()
        return
    if workers is not None and scheduler is not None:
        raise ParallelError("--workers: give --workers (a local cluster) or --scheduler (an existing one), not both")
    if workers is not None and workers < 1:
        raise ParallelError(f"--workers: must be at least 1 (got {workers})")
    try:
        from distributed import Client
    except ImportError:
        raise ParallelError(
            "--workers/--scheduler need Dask, which is not installed: pip install 'naef[dask]'"
        ) from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ParallelError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        try:
            yield DaskRunner(client)
        finally:
            client.close()
        return
    assert workers is not None
    cluster = local_cluster(workers)
    client = Client(cluster)
    try:
        yield DaskRunner(client)
    finally:
        client.close()
        cluster.close()


#: glibc's allocator settings for a local cluster's worker processes: the values its dynamic thresholds reach in
#: a plain process once large blocks have been freed (M_MMAP_THRESHOLD rises to DEFAULT_MMAP_THRESHOLD_MAX, 32 MiB
#: on 64-bit, and M_TRIM_THRESHOLD to twice that). Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` by default
#: (``distributed.nanny.pre-spawn-environ``), and setting any threshold switches the dynamic ones off: every array
#: of 128 kB or more is then mmap-ed and unmapped, so each chunk's arrays (draws, inputs, 14 MB of metrics at
#: 50,000 paths) come back as fresh zeroed pages — about 57,000 page faults and 0.1 s of system time per
#: 50,000-path chunk on the baseline, against about 1,000 with these values (and 4,000–8,000 in process).
WORKER_MALLOC_ENV: dict[str, str] = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(64 << 20)}


def local_cluster(workers: int) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` processes, one thread each, their allocator set by
    :data:`WORKER_MALLOC_ENV` (what ``--workers N`` starts, and what the distribution benchmark measures).

    The nanny copies its pre-spawn environment into this process's ``os.environ`` too (glibc reads it at start-up
    only, so this process's allocator is unchanged)."""
    import dask
    from distributed import LocalCluster

    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", default={}), **WORKER_MALLOC_ENV}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                            silence_logs=40)
