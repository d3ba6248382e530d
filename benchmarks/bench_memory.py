"""Benchmark of memory at scale: a Monte Carlo of the baseline on a local Dask cluster with per-path results
streamed into mergeable summaries (``run_monte_carlo(keep_paths=False)``), at two numbers of paths (1M and 10M by
default), each in a fresh client process.

Prints, for each size, the wall time, the client's peak resident memory (``getrusage(RUSAGE_SELF).ru_maxrss`` of
the client process: the scheduler and the workers are other processes) and the workers' peaks (the same call run
on each worker), then the ratio of the largest run's client peak to the smallest's.

Target (issue 18): 10M paths with the client's peak within 10 % of a 1M-path run.

On a small or busy machine the same demonstration runs on a reduced scenario (``--set``, the CLI's ``KEY=VALUE``
changes, e.g. ``--set scenario.years=20`` for fewer periods): what is measured is whether the client's memory grows
with paths, which does not depend on the work per path. Each line also prints the load average (1 min) before and
after the run.

Usage::

    .venv/bin/python benchmarks/bench_memory.py [--sizes 1000000,10000000] [--workers 2] [--chunk-size 50000]
        [--scenario baseline] [--set KEY=VALUE ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _one(n_paths: int, workers: int, chunk_size: int, scenario_name: str, sets: list[str]) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    from naef.analysis.montecarlo import run_monte_carlo
    from naef.commands.common import load_with_sets
    from naef.parallel import DaskRunner

    scenario = load_with_sets(scenario_name, sets)
    load_before = os.getloadavg()[0]
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=40)
    client = Client(cluster)
    try:
        runner = DaskRunner(client)
        run_monte_carlo(scenario, n_paths=2 * chunk_size, seed=99, chunk_size=chunk_size, runner=runner,
                        keep_paths=False, compare_unhedged=False)  # warm up (compilation on the workers)
        before = _peak_mb()
        t0 = time.perf_counter()
        res = run_monte_carlo(scenario, n_paths=n_paths, seed=1, chunk_size=chunk_size, runner=runner,
                              keep_paths=False, compare_unhedged=False)
        wall = time.perf_counter() - t0
        worker_peaks = client.run(_peak_mb)
    finally:
        client.close()
        cluster.close()
    return {"paths": n_paths, "workers": workers, "chunk_size": chunk_size, "seconds": wall,
            "scenario": scenario_name, "sets": sets, "periods": res.percentiles.shape[0],
            "load_average_1min_before_after": [load_before, os.getloadavg()[0]],
            "client_peak_rss_mb": _peak_mb(), "client_peak_before_run_mb": before,
            "worker_peak_rss_mb": sorted(worker_peaks.values()),
            "senior_pd": res.summary["tranches"][0]["pd"], "paths_summarised": res.summary["paths"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="change one input of the scenario (repeatable), as naef run --set")
    parser.add_argument("--json", dest="json_path", default=None)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # internal: one size, JSON out
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(_one(args.one, args.workers, args.chunk_size, args.scenario, args.sets)))
        return
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--one", str(n), "--workers", str(args.workers), "--chunk-size",
               str(args.chunk_size), "--scenario", args.scenario, *(f"--set={x}" for x in args.sets)]
        row = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        rows.append(row)
        print(f"{n:>11,} paths on {row['workers']} workers: {row['seconds']:8.1f} s, client peak RSS "
              f"{row['client_peak_rss_mb']:,.0f} MB (before the run {row['client_peak_before_run_mb']:,.0f} MB), "
              f"worker peaks {', '.join(f'{w:,.0f}' for w in row['worker_peak_rss_mb'])} MB; {row['periods']} periods, "
              f"load average {row['load_average_1min_before_after'][0]:.1f} -> "
              f"{row['load_average_1min_before_after'][1]:.1f}", flush=True)
    if len(rows) > 1:
        ratio = rows[-1]["client_peak_rss_mb"] / rows[0]["client_peak_rss_mb"]
        print(f"client peak, {rows[-1]['paths']:,} paths / {rows[0]['paths']:,} paths: x{ratio:.3f} "
              f"(target <= 1.10: {'met' if ratio <= 1.10 else 'not met'})")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump({"date": time.strftime("%Y-%m-%d"), "sizes": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
