"""Benchmark of the Monte Carlo on a scenario (the baseline by default).

Prints, for each number of paths (10k, 100k, 1M by default):

* throughput of the full chain (random numbers → prices and field multipliers → collections → waterfall →
  per-path metrics and per-period histograms) in path-periods per second, in total and per core used;
* the **floor**: the time the same run spends drawing its random numbers alone (measured inside the same run,
  chunk by chunk), and the full chain's time as a multiple of it;
* peak resident memory of the process that ran it (each size runs in a fresh subprocess, so peaks don't mix);

then the speed-up of the compiled engine over ``--engine reference`` (the pure-Python oracle) on the same 1,000
paths, and a reproducibility check: the per-path results and histograms of one run with two chunk sizes are
compared bit for bit.

Targets (issue "Risk"): >= 15 million path-periods per second per core; the full chain within 2x the floor;
>= 200x the oracle; memory flat in the number of paths (1M paths x 120 quarters under 1.5 GB); bit-identical
results for any chunk size.

Usage::

    .venv/bin/python benchmarks/bench_montecarlo.py [--scenario baseline] [--sizes 10000,100000,1000000]
        [--chunk-size 20000] [--threads N] [--oracle-paths 1000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from typing import Any


def _one_size(scenario: str, n_paths: int, chunk_size: int, threads: int | None) -> dict[str, Any]:
    import numba

    from naef.analysis.montecarlo import simulate_paths
    from naef.engine.montecarlo import draw_random_numbers, prepare
    from naef.parallel.runner import chunk_specs
    from naef.scenario.load import load_scenario

    setup = prepare(load_scenario(scenario))
    simulate_paths(setup, n_paths=min(n_paths, 2000), seed=99, chunk_size=chunk_size, threads=threads)  # warm up
    t0 = time.perf_counter()
    c0 = time.process_time()
    _, _, _, timings = simulate_paths(setup, n_paths=n_paths, seed=1, chunk_size=chunk_size, threads=threads)
    cpu = time.process_time() - c0
    wall = time.perf_counter() - t0
    # the floor again in CPU time (this process's, all threads): on a shared machine wall time counts the waits
    # for a core, CPU time does not
    c0 = time.process_time()
    for c in chunk_specs(n_paths, chunk_size):
        draw_random_numbers(setup, seed=1, first_path=c.first, n_paths=c.n_paths)
    floor_cpu = time.process_time() - c0
    cores = threads or numba.get_num_threads()
    pp = n_paths * setup.grid.n
    return {
        "cpu_seconds": cpu,
        "floor_cpu_seconds": floor_cpu,
        "multiple_of_floor_cpu": cpu / floor_cpu,
        "path_periods_per_cpu_second": pp / cpu,
        "paths": n_paths,
        "periods": setup.grid.n,
        "chunk_size": chunk_size,
        "threads": cores,
        "seconds": wall,
        "path_periods_per_second": pp / wall,
        "path_periods_per_second_per_core": pp / wall / cores,
        "floor_seconds": timings["draw_seconds"],
        "multiple_of_floor": wall / timings["draw_seconds"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def _oracle(scenario: str, n_paths: int) -> dict[str, Any]:
    from naef.engine.montecarlo import draw_inputs, prepare, run_chunk
    from naef.engine.montecarlo_reference import run_chunk_reference
    from naef.scenario.load import load_scenario

    setup = prepare(load_scenario(scenario))
    inputs = draw_inputs(setup, seed=1, first_path=0, n_paths=n_paths)
    run_chunk(setup, inputs, threads=1)
    t0 = time.perf_counter()
    run_chunk(setup, inputs, threads=1)
    fast = time.perf_counter() - t0
    # CPU time too (best of 5 for the compiled run): on a shared machine wall time counts the waits for a core
    fast_cpu = []
    for _ in range(5):
        c0 = time.process_time()
        run_chunk(setup, inputs, threads=1)
        fast_cpu.append(time.process_time() - c0)
    t0 = time.perf_counter()
    c0 = time.process_time()
    run_chunk_reference(setup, inputs)
    slow_cpu = time.process_time() - c0
    slow = time.perf_counter() - t0
    return {"paths": n_paths, "compiled_seconds_1_thread": fast, "reference_seconds": slow, "speedup": slow / fast,
            "compiled_cpu_seconds": min(fast_cpu), "reference_cpu_seconds": slow_cpu,
            "speedup_cpu": slow_cpu / min(fast_cpu)}


def _reproducible(scenario: str) -> dict[str, Any]:
    import numpy as np

    from naef.analysis.montecarlo import simulate_paths
    from naef.engine.montecarlo import prepare
    from naef.scenario.load import load_scenario

    setup = prepare(load_scenario(scenario))
    a = simulate_paths(setup, n_paths=20_000, seed=5, chunk_size=20_000)
    b = simulate_paths(setup, n_paths=20_000, seed=5, chunk_size=1_777, threads=1)
    same = all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a[:3], b[:3], strict=True))
    return {"paths": 20_000, "chunk_sizes": [20_000, 1_777], "bit_identical": bool(same)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--chunk-size", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--oracle-paths", type=int, default=1000)
    parser.add_argument("--json", dest="json_path", default=None)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # internal: one size, JSON out
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(_one_size(args.scenario, args.one, args.chunk_size, args.threads)))
        return
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--one", str(n), "--scenario", args.scenario, "--chunk-size",
               str(args.chunk_size)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        row = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        rows.append(row)
        print(f"{n:>9,} paths x {row['periods']} periods: {row['seconds']:7.2f} s, "
              f"{row['path_periods_per_second'] / 1e6:6.2f} M path-periods/s ({row['threads']} threads, "
              f"{row['path_periods_per_second_per_core'] / 1e6:.2f} M per core), floor {row['floor_seconds']:.2f} s "
              f"(x{row['multiple_of_floor']:.2f}), peak RSS {row['peak_rss_mb']:,.0f} MB; CPU time "
              f"{row['cpu_seconds']:.2f} s ({row['path_periods_per_cpu_second'] / 1e6:.2f} M path-periods per "
              f"CPU-second), floor {row['floor_cpu_seconds']:.2f} s CPU (x{row['multiple_of_floor_cpu']:.2f})",
              flush=True)
    oracle = _oracle(args.scenario, args.oracle_paths)
    print(f"oracle on {oracle['paths']:,} paths: compiled {oracle['compiled_seconds_1_thread']:.3f} s (1 thread), "
          f"reference {oracle['reference_seconds']:.1f} s: x{oracle['speedup']:,.0f}; in CPU time "
          f"{oracle['compiled_cpu_seconds']:.4f} s against {oracle['reference_cpu_seconds']:.2f} s: "
          f"x{oracle['speedup_cpu']:,.0f}")
    repro = _reproducible(args.scenario)
    print(f"chunk sizes {repro['chunk_sizes']} on {repro['paths']:,} paths: bit-identical = {repro['bit_identical']}")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump({"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                   "platform": platform.platform()},
                       "date": time.strftime("%Y-%m-%d"), "sizes": rows, "oracle": oracle,
                       "reproducibility": repro}, fh, indent=2)


if __name__ == "__main__":
    main()
