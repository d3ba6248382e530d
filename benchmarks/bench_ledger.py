"""Benchmark of the control system's log: appends per second and proof latency, on SQLite and PostgreSQL.

For each backend and each target size (10k, 100k, 1M entries) the log is filled with typed entries in batches
(one transaction per batch, each entry validated, canonicalised and hashed), then measured:

* batched appends/s — entries per second while filling (validation + RFC 8785 + hashing + storage + commit);
* single durable append — latency of ``Ledger.append`` (one committed, fsynced transaction), median and p95;
* inclusion and consistency proofs — latency of ``Ledger.inclusion_proof`` / ``consistency_proof`` for random
  arguments (served from stored subtree hashes), median and p95, each proof verified.

Published anchors (issue 6): Trillian on MySQL about 400-500 entries/s; Tessera on a POSIX disk about 10,000
writes/s. Targets: >= 20,000 batched appends/s on SQLite; a proof in < 2 ms at 1M entries.

Usage::

    .venv/bin/python benchmarks/bench_ledger.py [--quick] [--sizes 10000,100000,1000000]
        [--backends sqlite,postgres] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--json out.json]

PostgreSQL is benchmarked when ``--pg-url`` or ``NAEF_TEST_POSTGRES_URL`` names a reachable server (a fresh schema
is created and dropped). ``--quick`` runs 10k entries with fewer samples.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k entries, fewer samples")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-url", default=os.environ.get("NAEF_TEST_POSTGRES_URL"))
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    proof_samples = 200 if args.quick else 1000
    single_samples = 50 if args.quick else 200
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "backends": {},
    }
    for backend in args.backends.split(","):
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
