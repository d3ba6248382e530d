"""Running Monte Carlo chunks in process or on a Dask cluster, with results that do not depend on where they ran.

``naef.analysis.montecarlo.simulate_paths`` splits the paths into chunks; a *runner* computes them and hands back
each chunk's per-path metrics and histogram counts. Every path's random numbers come from its 256-path block's own
stream (``SeedSequence(seed, spawn_key=(block, component))``), never from the
chunk or the worker, and histogram counts are integers merged by addition — so the summary is bit-identical in
process, on one worker or on many, for the same seed (and for any chunk size).

* :class:`InProcessRunner` — the chunks one after another in this process (the compiled kernel uses the cores).
* :class:`DaskRunner` — each chunk a task on a ``distributed`` cluster (one kernel thread per task); the workers
  receive the validated scenario (its JSON, a few kB; a bootstrap history travels inside it), rebuild and cache
  the path-independent setup once per scenario, and return per-path metrics (or, streamed, each chunk's summary,
  ``naef.engine.path_stats``); histograms and summaries are merged on the workers in a reduction tree so only the
  total travels back. A lost worker's tasks are recomputed by Dask. :func:`local_cluster` (``--workers N``) starts
  its workers with glibc's allocator thresholds at their plain-process values, not Dask's (page faults per chunk).

Dask is optional (``pip install 'naef[dask]'``); :func:`dask_runner` says so in one line when it is missing.
"""

from naef.parallel.runner import (
    ChunkSpec,
    DaskRunner,
    InProcessRunner,
    ParallelError,
    Runner,
    dask_runner,
    local_cluster,
)

__all__ = ["ChunkSpec", "DaskRunner", "InProcessRunner", "ParallelError", "Runner", "dask_runner", "local_cluster"]
