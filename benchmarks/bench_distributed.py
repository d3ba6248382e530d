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

Two kinds of run are timed, each in process and on 1 and 2 workers, each with its own 2 workers / 1 worker ratio:

* **kept per path** (``simulate_paths``, ``naef run --per-path keep``): every path's metrics travel to the client
  (36 floats, 288 bytes per path on the baseline: 288 MB at 1M paths); compared bit for bit with the in-process
  1-thread run;
* **streamed** (``stream_paths``, what ``naef run`` does above 200,000 paths by default, ``--per-path stream``):
  each chunk summarised on its worker, the summaries merged on the workers in a tree; compared with the in-process
  streamed run: the exact parts (path count, defaults, periods of default, WAL counts, events of default, paths
  with nothing to MDF, every sketch's bucket counts, the first paths' MDF inflows, the histograms) must be equal,
  and the sums (means) are reported as their largest relative difference (the tree adds them in another order).

For each run the client's CPU time and the workers' CPU time (``getrusage`` in each worker process) are printed
beside the wall time: on a 2-core machine the client's CPU competes with 2 workers.

Target (issue "Scale out"): 2 workers at least 1.7x one worker on 1M paths — the kept-per-path ratio, the measure
since 2026-11 (``speedup_2_over_1`` in the JSON); the streamed ratio (``speedup_2_over_1_streamed``) is what a user
of ``naef run --workers 2`` on 1M paths gets.

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


def _worker_cpu_seconds() -> float:
    """This process's user + system CPU time (run in each worker by ``Client.run``)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def streamed_differences(ref: Any, out: Any) -> tuple[bool, float]:
    """Whether the exact parts of two streamed summaries (and their histograms) are equal, and the largest relative
    difference of their floating-point sums."""
    import numpy as np

    (a, a_hist, _), (b, b_hist, _) = ref, out
    sketches = [(x, y) for xs, ys in zip(a.tranche_sketches, b.tranche_sketches, strict=True)
                for x, y in zip(xs, ys, strict=True)] + list(zip(a.path_sketches, b.path_sketches, strict=True))
    exact = (a.n == b.n and a.eod == b.eod and a.nothing_to_mdf == b.nothing_to_mdf
             and all(np.array_equal(x, y) for x, y in ((a.defaults, b.defaults), (a.default_periods, b.default_periods),
                                                        (a.wal_count, b.wal_count), (a_hist, b_hist)))
             and np.array_equal(a.head_mdf_pv, b.head_mdf_pv, equal_nan=True)
             and all(np.array_equal(x.counts, y.counts) and x.non_finite == y.non_finite for x, y in sketches))
    rel = 0.0
    for x, y in ((a.loss_mean, b.loss_mean), (a.loss_m2, b.loss_m2), (a.wal_sum, b.wal_sum),
                 (a.tranche_sums, b.tranche_sums), (a.unpaid_given_default_sum, b.unpaid_given_default_sum),
                 (a.path_sums, b.path_sums)):
        scale = np.maximum(np.abs(x), np.abs(y))
        diff = np.abs(x - y)
        rel = max(rel, float(np.max(np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0), initial=0.0)))
    return exact, rel


def main() -> None:
    import numpy as np
    from distributed import Client

    from naef.analysis.montecarlo import simulate_paths, stream_paths
    from naef.engine.montecarlo import prepare
    from naef.parallel import DaskRunner, InProcessRunner, local_cluster
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

    def timed(runner: Any, label: str, *, streamed: bool = False, client: Any = None) -> tuple[Any, float]:
        run = stream_paths if streamed else simulate_paths
        run(setup, n_paths=2 * k, seed=99, chunk_size=k, runner=runner)  # warm-up
        w0 = sum(client.run(_worker_cpu_seconds).values()) if client is not None else 0.0
        c0, t0 = time.process_time(), time.perf_counter()
        out = run(setup, n_paths=n, seed=1, chunk_size=k, runner=runner)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        row = rows[label] = {"seconds": wall, "path_periods_per_second": n * setup.grid.n / wall,
                             "client_cpu_seconds": cpu}
        rate = n * setup.grid.n / wall / 1e6
        line = f"{label:>32}: {wall:7.2f} s, {rate:6.2f} M path-periods/s, client CPU {cpu:6.2f} s"
        if client is not None:
            row["workers_cpu_seconds"] = sum(client.run(_worker_cpu_seconds).values()) - w0
            line += f", workers CPU {row['workers_cpu_seconds']:6.2f} s"
        print(line, flush=True)
        return out, wall

    ref, t_in1 = timed(InProcessRunner(threads=1), "in process, 1 thread")
    _, t_in2 = timed(InProcessRunner(), "in process, 2 threads")
    ref_streamed, _ = timed(InProcessRunner(), "in process, 2 threads, streamed", streamed=True)
    results: dict[int, float] = {}
    results_streamed: dict[int, float] = {}
    overhead = None
    for workers in (1, 2):
        cluster = local_cluster(workers)
        client = Client(cluster)
        try:
            label = f"Dask, {workers} worker(s)"
            out, results[workers] = timed(DaskRunner(client), label, client=client)
            same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(ref[:3], out[:3], strict=True))
            rows[label]["bit_identical_to_in_process"] = same
            del out
            label = f"Dask, {workers} worker(s), streamed"
            out_s, results_streamed[workers] = timed(DaskRunner(client), label, streamed=True, client=client)
            exact, rel = streamed_differences(ref_streamed, out_s)
            rows[label]["exact_parts_equal_in_process"] = exact
            rows[label]["sums_max_relative_difference"] = rel
            print(f"{'':>32}  kept bit-identical: {same}; streamed exact parts equal: {exact}, "
                  f"sums within {rel:.1e} (relative)", flush=True)
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
    speedup_streamed = results_streamed[1] / results_streamed[2]
    print(f"2 workers / 1 worker, kept per path: x{speedup:.2f} (the target's measure, >= 1.7); "
          f"streamed (naef run's default at {n:,} paths): x{speedup_streamed:.2f}")
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
                       "speedup_2_over_1_streamed": speedup_streamed,
                       "overhead_per_chunk_seconds": overhead, "in_process_1_thread_seconds": t_in1,
                       "in_process_2_threads_seconds": t_in2, "projection_seconds": projection,
                       "projection_machines": args.machines, "projection_cores_per_machine": args.cores_per_machine},
                      fh, indent=2)


if __name__ == "__main__":
    main()
