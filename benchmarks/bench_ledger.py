"""Benchmark of the control system's log: appends per second and proof latency, on SQLite and PostgreSQL.

For each backend and each target size (10k, 100k, 1M entries) the log is filled with typed entries in batches
(one transaction per batch, each entry validated, canonicalised and hashed), then measured:

* batched appends/s — entries per second while filling (validation + RFC 8785 + hashing + storage + commit);
* single durable append — latency of ``Ledger.append`` (one committed, fsynced transaction), median and p95;
* inclusion and consistency proofs — latency of ``Ledger.inclusion_proof`` / ``consistency_proof`` for random
  arguments (served from stored subtree hashes), median and p95, each proof verified.

Side by side with Tessera (issue 18): when ``../shared/tools/tesserabench`` exists beside the repository (a
Tessera v1.0.4 benchmark on its POSIX storage driver, built for this machine; ``/work/shared/tools/README.md``),
``--tessera`` (the default when it is present) runs it and naef on the same machine in the same run, one after the
other at each batch size (default 256, Tessera's default, and 10,000), each appending ``--tessera-n`` (default
100,000) entries of about 300 bytes and stopping when a signed checkpoint covers them all:

* naef: ``Ledger.append_batch`` of ``batch`` typed ``revenue_collected`` entries per transaction (each entry
  validated, canonicalised (RFC 8785) and hashed; its leaf and the subtrees it closes stored), every transaction
  committed with ``synchronous=FULL`` (SQLite WAL: the commit is on disk when it returns) or PostgreSQL's default
  ``synchronous_commit=on``; then ``Ledger.checkpoint`` signs the tree;
* Tessera: ``tesserabench -n N -size 300 -batch B`` — entries added at once, sequenced in batches of at most ``B``
  (or 250 ms), files written with ``O_SYNC`` and directories synced, until a published checkpoint covers them.

The naef items are built before the clock starts, as tesserabench builds its entries. It prints both figures, the
CPU each side spent per entry, and naef ÷ Tessera; ``--repeat K`` runs each side K times, interleaved, and keeps the
fastest. Without the binary the comparison is skipped and the run says so.
Published anchors (issue 6): Trillian on MySQL about 400-500 entries/s. Tessera's own
``storage/posix/PERFORMANCE.md`` (v1.0.x) reports about 2,900 writes/s through its HTTP personality on other
hardware; that includes HTTP, so it is not comparable with in-process figures. Targets: >= 20,000 batched
appends/s on SQLite; a proof in < 2 ms at 1M entries; naef ÷ Tessera >= 1.0 at both batch sizes on SQLite.

Usage::

    .venv/bin/python benchmarks/bench_ledger.py [--quick] [--sizes 10000,100000,1000000]
        [--backends sqlite,postgres] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--json out.json]
        [--tessera | --no-tessera] [--tessera-only] [--tessera-n 100000] [--tessera-batches 256,10000] [--repeat 1]

PostgreSQL is benchmarked when ``--pg-url`` or ``NAEF_TEST_POSTGRES_URL`` names a reachable server (a fresh schema
is created and dropped). ``--quick`` runs 10k entries with fewer samples.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from naef.ledger import Ledger, generate_key

BATCH = 10_000
TESSERABENCH = Path(__file__).resolve().parents[1].parent / "shared" / "tools" / "tesserabench"
"""Where the Tessera peer is looked for: ``../shared/tools/tesserabench`` beside the repository (benchmarks only;
nothing in ``src/`` or ``tests/`` reads ``../shared``)."""
ENTRY_BYTES = 300


def _payload(i: int) -> dict[str, Any]:
    return {
        "period": f"{2031 + i // 4}Q{i % 4 + 1}",
        "amount_usd": 1_250_000 + i,
        "source": "PEMEX export sales",
        "reference": f"coll-{i}",
    }


@contextmanager
def _sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="naef-bench-") as d:
        yield f"sqlite:///{Path(d) / 'ledger.db'}"


@contextmanager
def _pg_url(base: str) -> Iterator[str]:
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    schema = f"naef_bench_{uuid.uuid4().hex[:10]}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def _latencies_ms(fn: Callable[[], object], n: int) -> dict[str, float]:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1e3)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 3),
        "n": n,
    }


def run_backend(url: str, sizes: list[int], *, proof_samples: int, single_samples: int) -> list[dict[str, Any]]:
    key = generate_key("bench.naef.example/log")
    rows: list[dict[str, Any]] = []
    rng = random.Random(1)
    with Ledger.init(url, key.verifier()) as led:
        filled = 0
        fill_seconds = 0.0
        for target in sizes:
            t0 = time.perf_counter()
            while filled < target:
                n = min(BATCH, target - filled)
                led.append_batch([("revenue_collected", _payload(filled + k)) for k in range(n)])
                filled += n
            fill_seconds_step = time.perf_counter() - t0
            fill_seconds += fill_seconds_step
            stepped = target - (rows[-1]["size"] if rows else 0)
            single = _latencies_ms(lambda: led.append("revenue_collected", _payload(0)), single_samples)
            filled += single_samples
            size = led.size()

            def inclusion(size: int = size) -> None:
                assert led.inclusion_proof(rng.randrange(size)).verify()

            def consistency(size: int = size) -> None:
                assert led.consistency_proof(rng.randrange(1, size)).verify()

            inc = _latencies_ms(inclusion, proof_samples)
            con = _latencies_ms(consistency, proof_samples)
            rows.append(
                {
                    "size": size,
                    "batched_appends_per_s": round(stepped / fill_seconds_step) if fill_seconds_step else None,
                    "batch": BATCH,
                    "single_append": single,
                    "single_appends_per_s": round(1e3 / single["median_ms"]),
                    "inclusion_proof": inc,
                    "consistency_proof": con,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def _sized_payload(i: int, pad: int) -> dict[str, Any]:
    return {"period": f"{2031 + i // 4}Q{i % 4 + 1}", "amount_usd": 1_250_000 + i, "source": "P" * pad,
            "reference": f"coll-{i:08d}"}


def _pad_for(entry_bytes: int) -> int:
    """The length of ``source`` that makes entry 0's canonical bytes ``entry_bytes`` long (the others differ by a
    few bytes at most: the period and amount have a few more digits)."""
    from naef.ledger.entries import make_entry

    base = len(make_entry("revenue_collected", _sized_payload(0, 1)).canonical)
    return max(1, entry_bytes - base + 1)


def naef_fill(url: str, n: int, batch: int) -> dict[str, Any]:
    """Append ``n`` entries of about ``ENTRY_BYTES`` bytes in transactions of ``batch`` and sign a checkpoint
    covering them; entries/s over the whole (validation, hashing, storage, every commit, the checkpoint). The
    ``(type, payload)`` items are built before the clock starts, as tesserabench prepares its entries; each is
    still validated, canonicalised and hashed inside the clock. Also the CPU seconds this process spent
    (``time.process_time``; a PostgreSQL server's own CPU is not counted)."""
    key = generate_key("bench.naef.example/log")
    pad = _pad_for(ENTRY_BYTES)
    batches = [[("revenue_collected", _sized_payload(i, pad)) for i in range(start, min(n, start + batch))]
               for start in range(0, n, batch)]
    with Ledger.init(url, key.verifier()) as led:
        c0 = time.process_time()
        t0 = time.perf_counter()
        for items in batches:
            led.append_batch(items)
        led.checkpoint(key)
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
        size = led.size()
        mean_bytes = statistics.fmean(len(e.canonical) for e in led.entries(0, min(size, 1000)))
    if size != n:
        raise SystemExit(f"naef: ledger size {size} after appending {n}")
    return {"entries_per_s": round(n / seconds), "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "cpu_us_per_entry": round(cpu / n * 1e6, 1), "mean_entry_bytes": round(mean_bytes)}


def tessera_fill(binary: Path, n: int, batch: int) -> dict[str, Any]:
    """Run ``tesserabench -n n -size ENTRY_BYTES -batch batch`` in a fresh directory; its RESULT line, and the CPU
    seconds the child used (``getrusage(RUSAGE_CHILDREN)``, user + system; it includes preparing its entries)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as d:
        proc = subprocess.run(
            [str(binary), "-dir", str(Path(d) / "t"), "-n", str(n), "-size", str(ENTRY_BYTES), "-batch", str(batch)],
            capture_output=True, text=True, timeout=3600, check=False,
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = re.search(r"RESULT entries_per_s=(\d+)", proc.stdout)
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"tesserabench failed (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"entries_per_s": int(found.group(1)), "cpu_seconds": round(cpu, 2),
            "cpu_us_per_entry": round(cpu / n * 1e6, 1), "detail": proc.stdout.strip().splitlines()[0]}


def _num(x: int | None) -> str:
    return "—" if x is None else f"{x:,}"


DURABILITY = {
    "naef sqlite": "each transaction committed with synchronous=FULL (WAL fsynced) before the next begins",
    "naef postgres": "each transaction committed with synchronous_commit=on (WAL flushed) before the next begins",
    "tessera posix": "tiles and entry bundles written with O_SYNC, directories synced, checkpoint published",
}


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of repeated runs (on a shared machine the slower ones measured the other load), with every
    run's entries/s kept beside it."""
    best = dict(max(runs, key=lambda r: r["entries_per_s"]))
    best["runs_entries_per_s"] = [r["entries_per_s"] for r in runs]
    return best


def compare_with_tessera(binary: Path | None, *, n: int, batches: list[int], pg_url: str | None,
                         backends: list[str], repeat: int = 1) -> dict[str, Any] | None:
    """naef beside Tessera at each batch size, in this run (each side ``repeat`` times, interleaved, the fastest
    kept); prints a table and returns the figures."""
    if binary is None or not binary.is_file():
        print(f"# Tessera comparison skipped: {TESSERABENCH} is not present (see /work/shared/tools/README.md)",
              flush=True)
        return None
    rows: list[dict[str, Any]] = []
    sides = [k for k in ("sqlite", "postgres") if k in backends and (k == "sqlite" or pg_url)]
    for batch in batches:
        row: dict[str, Any] = {"batch": batch, "entries": n, "entry_bytes": ENTRY_BYTES,
                               "load_average_before": os.getloadavg()}
        runs: dict[str, list[dict[str, Any]]] = {"tessera": [], **{f"naef_{k}": [] for k in sides}}
        for _ in range(repeat):
            runs["tessera"].append(tessera_fill(binary, n, batch))
            if "sqlite" in sides:
                with _sqlite_url() as url:
                    runs["naef_sqlite"].append(naef_fill(url, n, batch))
            if "postgres" in sides and pg_url:
                with _pg_url(pg_url) as url:
                    runs["naef_postgres"].append(naef_fill(url, n, batch))
        for k, v in runs.items():
            row[k] = _best(v)
        row["load_average_after"] = os.getloadavg()
        for k in ("naef_sqlite", "naef_postgres"):
            if k in row:
                row[k]["ratio_to_tessera"] = round(row[k]["entries_per_s"] / row["tessera"]["entries_per_s"], 2)
                row[k]["median_ratio_to_tessera"] = round(statistics.median(row[k]["runs_entries_per_s"])
                                                          / statistics.median(row["tessera"]["runs_entries_per_s"]), 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    print(f"Side by side, {n:,} entries of ~{ENTRY_BYTES} bytes, until a signed checkpoint covers them "
          f"(best of {repeat}, ratio of the bests and, in brackets, of the medians; CPU: µs of CPU per entry, "
          "the client side only for PostgreSQL):")
    print("| batch | Tessera v1.0.4 POSIX entries/s (CPU) | naef SQLite entries/s (CPU) | "
          "naef ÷ Tessera (of medians) | "
          "naef PostgreSQL entries/s (CPU) | naef ÷ Tessera (of medians) | load average (1 min) before → after |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | --- |")

    def cell(side: dict[str, Any]) -> str:
        return f"{_num(side.get('entries_per_s'))} ({side.get('cpu_us_per_entry', '—')} µs)" if side else "—"

    for r in rows:
        sq = r.get("naef_sqlite", {})
        pg = r.get("naef_postgres", {})
        print(f"| {r['batch']:,} | {cell(r['tessera'])} | {cell(sq)} | {sq.get('ratio_to_tessera', '—')} "
              f"({sq.get('median_ratio_to_tessera', '—')}) | {cell(pg)} | {pg.get('ratio_to_tessera', '—')} "
              f"({pg.get('median_ratio_to_tessera', '—')}) | {r['load_average_before'][0]:.2f} → "
              f"{r['load_average_after'][0]:.2f} |")
    print("Durability promised when each figure is counted:")
    for name, promise in DURABILITY.items():
        print(f"* {name}: {promise}")
    return {"rows": rows, "durability": DURABILITY, "repeat": repeat}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k entries, fewer samples")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-url", default=os.environ.get("NAEF_TEST_POSTGRES_URL"))
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--tessera", action=argparse.BooleanOptionalAction, default=None,
                        help="run the side-by-side comparison with tesserabench (default: when it is present)")
    parser.add_argument("--tessera-only", action="store_true", help="only the side-by-side comparison")
    parser.add_argument("--tessera-n", type=int, default=100_000, help="entries per side-by-side run")
    parser.add_argument("--tessera-batches", default="256,10000", help="batch sizes of the side-by-side runs")
    parser.add_argument("--repeat", type=int, default=1,
                        help="side-by-side runs of each side per batch size, interleaved; the fastest is kept")
    args = parser.parse_args(argv)
    binary = TESSERABENCH if TESSERABENCH.is_file() else None
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    proof_samples = 200 if args.quick else 1000
    single_samples = 50 if args.quick else 200
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "backends": {},
        "load_average_start": os.getloadavg(),
    }
    if args.tessera is not False:
        if args.tessera and binary is None:
            raise SystemExit(f"--tessera: {TESSERABENCH} is not present")
        results["tessera_comparison"] = compare_with_tessera(
            binary, n=args.tessera_n, batches=[int(b) for b in args.tessera_batches.split(",")],
            pg_url=args.pg_url, backends=args.backends.split(","), repeat=args.repeat,
        )
    for backend in ([] if args.tessera_only else args.backends.split(",")):
        if backend == "sqlite":
            with _sqlite_url() as url:
                print(f"# sqlite ({url})", flush=True)
                results["backends"]["sqlite"] = run_backend(
                    url, sizes, proof_samples=proof_samples, single_samples=single_samples
                )
        elif backend == "postgres":
            if not args.pg_url:
                print("# postgres skipped: no --pg-url and NAEF_TEST_POSTGRES_URL unset", flush=True)
                continue
            with _pg_url(args.pg_url) as url:
                print(f"# postgres ({args.pg_url})", flush=True)
                results["backends"]["postgres"] = run_backend(
                    url, sizes, proof_samples=proof_samples, single_samples=single_samples
                )
    if not results["backends"]:
        if args.json is not None:
            args.json.write_text(json.dumps(results, indent=2))
        return
    print()
    print(
        "| backend | entries | batched appends/s | single append median / p95 (ms) | inclusion proof median / "
        "p95 (ms) | consistency proof median / p95 (ms) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for backend, rows in results["backends"].items():
        for r in rows:
            print(
                f"| {backend} | {r['size']:,} | {r['batched_appends_per_s']:,} | "
                f"{r['single_append']['median_ms']} / {r['single_append']['p95_ms']} | "
                f"{r['inclusion_proof']['median_ms']} / {r['inclusion_proof']['p95_ms']} | "
                f"{r['consistency_proof']['median_ms']} / {r['consistency_proof']['p95_ms']} |"
            )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
