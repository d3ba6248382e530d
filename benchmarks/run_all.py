"""One fresh run of every benchmark, one after the other, for ``docs/performance.md`` (issue 18, item 5).

Runs each script of this folder with the arguments below, in a subprocess, and writes into ``--out`` (a folder):
each benchmark's printed output (``<name>.txt``) and its JSON (``<name>.json``), and ``manifest.json``: the
machine (cores, CPU model, memory, Python, SQLite and PostgreSQL versions), the commit and whether the work tree
was clean, and for each benchmark its command, start and end (UTC), wall time, exit code and the load average
(1, 5, 15 min) just before and just after. Nothing else should run meanwhile: the figures are only as good as
the quiet of the machine, and the manifest says how quiet it was.

Usage::

    .venv/bin/python benchmarks/run_all.py --out bench-out [--only montecarlo,ledger_tessera] [--quick]

``--quick`` runs each at a small size (to check the runner itself; its figures are not the issue's);
``NAEF_TEST_POSTGRES_URL`` is passed on to the benchmarks that compare PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: name -> (script, arguments of the full run, arguments of ``--quick``); ``--json PATH`` is appended to each
RUNS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "montecarlo": ("bench_montecarlo.py", ("--sizes", "10000,100000,1000000", "--threads", "1",
                                            "--oracle-paths", "500"),
                   ("--sizes", "2000", "--threads", "1", "--oracle-paths", "50")),
    "memory": ("bench_memory.py", ("--sizes", "1000000,10000000", "--chunk-size", "50000"),
               ("--sizes", "20000,40000", "--chunk-size", "10000")),
    "distributed": ("bench_distributed.py", ("--paths", "1000000", "--chunk-size", "50000"),
                    ("--paths", "20000", "--chunk-size", "5000", "--overhead-chunks", "20")),
    "ledger_tessera": ("bench_ledger.py", ("--tessera-only", "--repeat", "3"),
                       ("--tessera-only", "--tessera-n", "5000")),
    "ledger_sizes": ("bench_ledger.py", ("--sizes", "10000,100000,1000000", "--no-tessera"),
                     ("--quick", "--no-tessera")),
    "web_sqlite": ("bench_web.py", ("--backend", "sqlite", "--seconds", "15"),
                   ("--backend", "sqlite", "--seconds", "3", "--prefill", "200")),
    "web_postgres": ("bench_web.py", ("--backend", "postgres", "--seconds", "15"),
                     ("--backend", "postgres", "--seconds", "3", "--prefill", "200")),
    "portfolio": ("bench_portfolio.py", ("--paths", "2000", "--seed", "1", "--resolve-seconds", "20"),
                  ("--paths", "200", "--seed", "1", "--resolve-seconds", "5")),
    "credit_answer": ("credit_answer.py", ("--paths", "20000", "--size-paths", "4000"),
                      ("--paths", "2000", "--size-paths", "500")),
}


@dataclass(frozen=True)
class Machine:
    """What the figures were measured on."""

    cores: int
    cpu_model: str
    memory_gib: float
    python: str
    sqlite: str
    postgres: str
    commit: str
    work_tree_clean: bool


@dataclass(frozen=True)
class Step:
    """One benchmark's run."""

    name: str
    command: list[str]
    start_utc: str
    end_utc: str
    wall_seconds: float
    exit_code: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def _utc() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _out(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=HERE).stdout.strip()
    except OSError:
        return ""


def _machine() -> Machine:
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
                break
    return Machine(
        cores=os.cpu_count() or 0, cpu_model=model, memory_gib=round(mem_kib / 2**20, 1),
        python=platform.python_version(), sqlite=sqlite3.sqlite_version,
        postgres=_out(["psql", "--version"]),
        commit=_out(["git", "rev-parse", "--short", "HEAD"]),
        work_tree_clean=_out(["git", "status", "--porcelain", "--untracked-files=no"]) == "",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the outputs and manifest.json")
    parser.add_argument("--only", default=",".join(RUNS), help="comma-separated names: " + ", ".join(RUNS))
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the runner")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in RUNS]
    if unknown:
        print(f"--only: unknown benchmark {unknown[0]!r} (known: {', '.join(RUNS)})", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    steps: list[Step] = []
    manifest = args.out / "manifest.json"
    machine = _machine()
    for name in names:
        script, full, quick = RUNS[name]
        cmd = [sys.executable, str(HERE / script), *(quick if args.quick else full),
               "--json", str(args.out / f"{name}.json")]
        before = os.getloadavg()
        start, t0 = _utc(), time.perf_counter()
        print(f"[{start}] {name}: {' '.join(cmd[1:])}  (load {before[0]:.2f})", flush=True)
        with open(args.out / f"{name}.txt", "w", encoding="utf-8") as log:
            rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
        after = os.getloadavg()
        steps.append(Step(name, cmd, start, _utc(), round(time.perf_counter() - t0, 1), rc, before, after))
        print(f"  exit {rc} after {steps[-1].wall_seconds:.0f} s (load {after[0]:.2f})", flush=True)
        manifest.write_text(json.dumps({"machine": asdict(machine), "quick": args.quick,
                                        "steps": [asdict(s) for s in steps]}, indent=2), encoding="utf-8")
    failed = [s.name for s in steps if s.exit_code != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
