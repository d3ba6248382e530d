"""Benchmark of the Monte Carlo on Dask: throughput in process and on a local cluster of 1 and 2 worker processes,
the scheduling overhead per chunk, and a projection for a cluster of many machines.

For each configuration the same run (same seed, same chunk size) is timed after a warm-up run (which compiles the
kernel and builds the scenario's setup on every worker), and its results are compared bit for bit with the
in-process run. The overhead per chunk is measured with chunks of 1 path on the cluster: (wall time x workers -
compute time of the chunks) / chunks. The projection for ``M`` machines of ``c`` cores is
``T(M) = N / (M c) x t_path + (N / K) x o / (M c)`` plus the fixed cost of the client gathering results, from the
measured per-path time ``t_path`` of one worker, per-chunk overhead ``o`` and chunk size ``K``: with ``W = M c``
workers and ``C = ceil(N / K)`` chunks, the chunks run in ``ceil(C / W)`` waves, so
``T = ceil(C / W) K t_path + C o / W`` (a run with fewer chunks than workers leaves workers idle: choose
``K <= N / W``).

Target (issue "Scale out"): 2 workers at least 1.7x one worker on 1M paths.

Usage::

    .venv/bin/python benchmarks/bench_distributed.py [--paths 1000000] [--chunk-size 50000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any


def main() -> None:
    import numpy as np
    from distributed import Client, LocalCluster

    from naef.analysis.montecarlo import simulate_paths
    from naef.engine.montecarlo import prepare
    from naef.parallel import DaskRunner, InProcessRunner
    from naef.scenario.load import load_scenario

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--paths", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--overhead-chunks", type=int, default=400)
    parser.add_argument("--machines", type=int, default=32)
    parser.add_argument("--cores-per-machine", type=int, default=2)
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args()
    setup = prepare(load_scenario(args.scenario))
    n, k = args.paths, args.chunk_size
    rows: dict[str, Any] = {}

    def timed(runner: Any, label: str) -> tuple[Any, float]:
        simulate_paths(setup, n_paths=2 * k, seed=99, chunk_size=k, runner=runner)  # warm-up
        t0 = time.perf_counter()
        out = simulate_paths(setup, n_paths=n, seed=1, chunk_size=k, runner=runner)
        wall = time.perf_counter() - t0
        rows[label] = {"seconds": wall, "path_periods_per_second": n * setup.grid.n / wall}
        print(f"{label:>22}: {wall:7.2f} s, {n * setup.grid.n / wall / 1e6:6.2f} M path-periods/s", flush=True)
        return out, wall

    ref, t_in1 = timed(InProcessRunner(threads=1), "in process, 1 thread")
    _, t_in2 = timed(InProcessRunner(), "in process, 2 threads")
    results = {}
    overhead = None
    for workers in (1, 2):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=40)
        client = Client(cluster)
        try:
            out, wall = timed(DaskRunner(client), f"Dask, {workers} worker(s)")
            same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(ref[:3], out[:3], strict=True))
            rows[f"Dask, {workers} worker(s)"]["bit_identical_to_in_process"] = same
            results[workers] = wall
            if workers == 2:
                m = args.overhead_chunks
                simulate_paths(setup, n_paths=m, seed=5, chunk_size=1, runner=DaskRunner(client))
                t0 = time.perf_counter()
                _, _, _, timings = simulate_paths(setup, n_paths=m, seed=6, chunk_size=1, runner=DaskRunner(client))
                wall_small = time.perf_counter() - t0
                compute = timings["draw_seconds"] + timings["rest_seconds"]
                overhead = (wall_small * workers - compute) / m
                print(f"overhead per chunk (1-path chunks, {m} of them): {overhead * 1e3:.2f} ms", flush=True)
        finally:
            client.close()
            cluster.close()
    speedup = results[1] / results[2]
    print(f"2 workers / 1 worker: x{speedup:.2f} (target >= 1.7)")
    t_path = results[1] / n
    cores = args.machines * args.cores_per_machine
    assert overhead is not None
    projections = []
    for big_n, big_k in ((n, max(1, min(k, n // cores))), (100_000_000, 50_000)):
        chunks = -(-big_n // big_k)
        waves = -(-chunks // cores)
        t = waves * big_k * t_path + chunks * overhead / cores
        projections.append({"paths": big_n, "chunk_size": big_k, "seconds": t})
        print(f"projection for {args.machines} machines x {args.cores_per_machine} cores: {big_n:,} paths in chunks "
              f"of {big_k:,}: {t:.2f} s ({waves} wave(s) of {big_k:,}-path chunks at {t_path * 1e6:.1f} us/path, "
              f"scheduling {chunks * overhead / cores:.3f} s)")
    projection = projections
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump({"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                   "platform": platform.platform()}, "date": time.strftime("%Y-%m-%d"),
                       "paths": n, "chunk_size": k, "runs": rows, "speedup_2_over_1": speedup,
                       "overhead_per_chunk_seconds": overhead, "in_process_1_thread_seconds": t_in1,
                       "in_process_2_threads_seconds": t_in2, "projection_seconds": projection,
                       "projection_machines": args.machines, "projection_cores_per_machine": args.cores_per_machine},
                      fh, indent=2)


if __name__ == "__main__":
    main()
