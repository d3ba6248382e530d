"""Load test of the web API on loopback: 50 concurrent readers of proofs while a writer appends, for a bounded time.

Set-up: a demo ledger (``naef ledger demo``) in a temporary folder, optionally grown with ``--prefill`` extra
entries; ``naef.web`` served by uvicorn on a free loopback port as ``naef serve --workers N`` runs it
(``--workers``, default 2: the machine's cores; each process keeps ``--node-cache`` tree nodes in memory; write
rate limits raised so that the writer is not throttled).

Load, for ``--seconds``:

* ``--readers`` (default 50) concurrent readers (asyncio, one keep-alive HTTP/1.1 connection each), each in a loop:
  an RFC 9162 inclusion proof of a random entry in the tree of the latest size it knows (4 requests in 5) or a
  consistency proof between two random sizes (1 in 5); every proof is verified on arrival
  (:mod:`naef.ledger.merkle`) and its (size, root) and (index, leaf hash) are kept;
* one writer (its own process and connection) appending through the signed API: ``POST /api/proposals`` with a
  new disbursement proposal each time, signed by a demo stakeholder (Ed25519 request signature + proposer
  signature), as fast as the server acknowledges them. Its own process: as a thread beside the readers' event
  loop it waited for the interpreter lock after each socket operation, which added about 10 ms (p50) to 18 ms
  (p95) of the load generator's own time to the write latency it reports (measured against the server's own
  timing, issue 18).

Checks afterwards ("no errors, nothing lost"): every response 2xx and every proof verified; every acknowledged
write is in the ledger at the index the server returned, with the proposal's SHA-256; the ledger's size is the
initial size plus the acknowledged entries (nothing lost, nothing extra); every root a reader was served equals
the root the final ledger gives for that size, and every leaf hash the one stored at that index (history never
changed under the readers); ``Ledger.verify()`` passes.

Reported: verified proof reads/s and latency percentiles (p50, p95, p99) of reads and of signed writes, the load
average before and after, then a summary table with the issue 18 targets (>= 3,000 verified proof reads/s, read
p95 < 50 ms with 50 concurrent readers, signed write p95 < 100 ms) marked met or not, and the no-loss checks.

Usage::

    .venv/bin/python benchmarks/bench_web.py [--seconds 20] [--readers 50] [--prefill 10000] [--workers 2]
        [--node-cache 262144] [--backend sqlite|postgres] [--pg-url URL] [--json out.json]

``--backend postgres`` builds the demo ledger in a fresh schema of ``--pg-url`` (default ``NAEF_TEST_POSTGRES_URL``),
dropped afterwards; the server's processes share it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from naef.demo import DEMO_LOG_KEY_NAME, demo_key, illustrative_figures, payee_statement, run_demo
from naef.ledger import Ledger
from naef.ledger.approvals import DisbursementProposal, import_bods, sign_proposal
from naef.ledger.benchmarking import UnitCostClaim
from naef.ledger.merkle import verify_consistency, verify_inclusion
from naef.web.signing import sign_request

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ledger import _pg_url, _sqlite_url  # the same fresh SQLite file / PostgreSQL schema

SERVER = """
import dataclasses, json, os, sys, tempfile, time, uvicorn
from naef.web import WebConfig, create_app
from naef.web.app import CONFIG_ENV
db, port, workers, cache = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cfg = dict(ledger_url=db, write_rate_per_minute=1e9, write_burst=1_000_000, node_cache_nodes=cache)
if workers == 1:
    uvicorn.run(create_app(WebConfig(**cfg)), host="127.0.0.1", port=port, log_level="warning", access_log=False)
else:  # as `naef serve --workers N` runs them
    with tempfile.TemporaryDirectory() as shared:
        config = WebConfig(**cfg, shared_dir=shared, started_at=time.time())
        os.environ[CONFIG_ENV] = json.dumps(dataclasses.asdict(config))
        uvicorn.run("naef.web.app:create_app_from_environment", factory=True, workers=workers, host="127.0.0.1",
                    port=port, log_level="warning", access_log=False)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pct(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(latencies_s: list[float], seconds: float) -> dict[str, float]:
    ms = [x * 1000 for x in latencies_s]
    return {
        "requests": len(ms),
        "per_second": len(ms) / seconds,
        "p50_ms": statistics.median(ms) if ms else float("nan"),
        "p95_ms": _pct(ms, 0.95),
        "p99_ms": _pct(ms, 0.99),
        "max_ms": max(ms) if ms else float("nan"),
    }


@dataclass
class Shared:
    """What readers and the writer share (the writer raises ``size``; readers read it)."""

    size: int
    stop: bool = False
    errors: list[str] = field(default_factory=list)
    roots: dict[int, str] = field(default_factory=dict)
    leaves: dict[int, str] = field(default_factory=dict)
    read_latency: list[float] = field(default_factory=list)
    write_latency: list[float] = field(default_factory=list)
    acked: list[tuple[int, str]] = field(default_factory=list)  # (index, proposal sha256)
    lock: threading.Lock = field(default_factory=threading.Lock)
    latest: Any = None
    """The largest acknowledged size, shared with the writer's process (a ``multiprocessing.Value``)."""
    halt: Any = None
    """Set to stop the writer's process (a ``multiprocessing.Event``)."""

    def current_size(self) -> int:
        return int(self.latest.value) if self.latest is not None else self.size

    def raise_size(self, size: int) -> None:
        self.size = max(self.size, size)
        if self.latest is not None:
            with self.latest.get_lock():
                self.latest.value = max(self.latest.value, size)

    def stopped(self) -> bool:
        return self.stop or (self.halt is not None and self.halt.is_set())


def _writer_process(base: str, initial: int, latest: Any, halt: Any, ready: Any, results: Any) -> None:
    """The writer in its own process (started, with its imports done, before the readers: ``ready``); sends
    (errors, write latencies, acknowledged writes, its CPU seconds) back when stopped."""
    shared = Shared(size=initial, latest=latest, halt=halt)
    ready.set()
    cpu0 = time.process_time()
    writer(base, shared)
    results.send((shared.errors, shared.write_latency, shared.acked, time.process_time() - cpu0))
    results.close()


def _proposal(n: int) -> DisbursementProposal:
    return DisbursementProposal(
        proposal_id=f"LOAD-{n:07d}", payee="demo-load-payee", payee_name="Load test payee (fictional)",
        amount_usd="1000000.00", project_id=f"load-project-{n % 50}", purpose="load test", proposer="mx-board-1",
        unit_cost=UnitCostClaim(project_type="road_new_two_lane", unit="lane_km", quantity=1,
                                contract_cost_usd="1000000.00"),
    )


def writer(base: str, shared: Shared) -> None:
    key = demo_key("mx-board-1")
    n = 0
    with httpx.Client(base_url=base, timeout=60) as client:
        while not shared.stopped():
            signed = sign_proposal(_proposal(n), key)
            body = json.dumps(signed.model_dump(mode="json")).encode()
            headers = sign_request(key, origin=DEMO_LOG_KEY_NAME, method="POST", url=f"{base}/api/proposals",
                                   body=body)
            t0 = time.perf_counter()
            try:
                r = client.post("/api/proposals", content=body, headers={**headers, "Content-Type": "application/json"})
            except httpx.HTTPError as exc:
                shared.errors.append(f"write {n}: {type(exc).__name__}: {exc}")
                continue
            dt = time.perf_counter() - t0
            if r.status_code != 201:
                shared.errors.append(f"write {n}: HTTP {r.status_code}: {r.text[:200]}")
            else:
                indexes = r.json()["indexes"]
                with shared.lock:
                    shared.write_latency.append(dt)
                    shared.acked.append((indexes[0], signed.proposal_sha256))
                    shared.raise_size(indexes[-1] + 1)
            n += 1


async def _get(stream: tuple[asyncio.StreamReader, asyncio.StreamWriter], target: str) -> tuple[int, Any]:
    """One keep-alive HTTP/1.1 GET; (status, decoded JSON). A minimal client: the load generator must cost far less
    than the server it measures (httpx's async client saturates one core at about 200 requests/s here)."""
    r, w = stream
    w.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode("ascii"))
    status = int((await r.readline()).split()[1])
    length = 0
    while True:
        line = await r.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, json.loads(await r.readexactly(length))


async def reader(port: int, shared: Shared, rng: random.Random) -> None:
    stream = await asyncio.open_connection("127.0.0.1", port)
    while not shared.stop:
        size = shared.current_size()
        t0 = time.perf_counter()
        try:
            if rng.random() < 0.8:
                index = rng.randrange(size)
                status, p = await _get(stream, f"/api/ledger/proofs/inclusion?index={index}&size={size}")
                dt = time.perf_counter() - t0
                if status != 200:
                    shared.errors.append(f"inclusion {index}/{size}: HTTP {status}: {str(p)[:200]}")
                    continue
                ok = verify_inclusion(bytes.fromhex(p["leaf_hash"]), index, size,
                                      [bytes.fromhex(h) for h in p["inclusion_path"]], bytes.fromhex(p["root_hash"]))
                if not ok:
                    shared.errors.append(f"inclusion {index}/{size}: proof does not verify")
                shared.roots[size] = p["root_hash"]
                shared.leaves[index] = p["leaf_hash"]
            else:
                s1 = rng.randrange(1, size + 1)
                status, p = await _get(stream, f"/api/ledger/proofs/consistency?from_size={s1}&size={size}")
                dt = time.perf_counter() - t0
                if status != 200:
                    shared.errors.append(f"consistency {s1}->{size}: HTTP {status}: {str(p)[:200]}")
                    continue
                ok = verify_consistency(s1, size, [bytes.fromhex(h) for h in p["consistency_path"]],
                                        bytes.fromhex(p["root1"]), bytes.fromhex(p["root2"]))
                if not ok:
                    shared.errors.append(f"consistency {s1}->{size}: proof does not verify")
                shared.roots[s1] = p["root1"]
                shared.roots[size] = p["root2"]
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            shared.errors.append(f"read: {type(exc).__name__}: {exc}")
            stream[1].close()
            stream = await asyncio.open_connection("127.0.0.1", port)
            continue
        shared.read_latency.append(dt)
    stream[1].close()


async def _readers(port: int, shared: Shared, n: int, seconds: float) -> float:
    tasks = [asyncio.create_task(reader(port, shared, random.Random(i))) for i in range(n)]
    t0 = time.perf_counter()
    await asyncio.sleep(seconds)
    shared.stop = True
    await asyncio.gather(*tasks)
    return time.perf_counter() - t0


def _check(db: str, shared: Shared, initial: int) -> dict[str, Any]:
    problems: list[str] = []
    with Ledger.open(db) as ledger:
        size = ledger.size()
        written = sum(1 for _ in shared.acked)
        # each proposal in range of the benchmark: one entry (no benchmark flag at USD 1 M per lane-km)
        if size != initial + written:
            problems.append(f"ledger size {size} != initial {initial} + acknowledged {written}")
        for index, sha in shared.acked:
            e = ledger.get(index)
            if e.type != "disbursement_proposed" or e.payload.get("proposal_sha256") != sha:
                problems.append(f"acknowledged write at {index} is not the proposal that was sent")
        for s, root in shared.roots.items():
            if ledger.root_hash(s).hex() != root:
                problems.append(f"root served for size {s} differs from the final ledger's")
        for i, leaf in shared.leaves.items():
            if ledger.get(i).leaf_hash.hex() != leaf:
                problems.append(f"leaf served for index {i} differs from the stored one")
        report = ledger.verify()
    return {"final_size": size, "acknowledged_writes": written, "roots_checked": len(shared.roots),
            "leaves_checked": len(shared.leaves), "verify_entries": report.entries, "problems": problems}


TARGETS = {"reads_per_s": 3000.0, "read_p95_ms": 50.0, "write_p95_ms": 100.0}
"""Issue 18's targets with 50 concurrent readers."""


def _table(result: dict[str, Any]) -> str:
    reads, writes, setup = result["reads"], result["writes"], result["setup"]
    load = result["machine"]
    met = {
        "reads": reads["per_second"] >= TARGETS["reads_per_s"],
        "read_p95": reads["p95_ms"] < TARGETS["read_p95_ms"],
        "write_p95": writes["p95_ms"] < TARGETS["write_p95_ms"],
    }
    checks = result["checks"]
    lines = [
        f"Web load, {setup['backend']}, {setup['workers']} worker(s), {setup['readers']} readers + 1 signed writer, "
        f"{setup['seconds']} s, ledger of {setup['initial_size']:,} entries; load average (1 min) "
        f"{load['load_average_before'][0]:.2f} → {load['load_average_after'][0]:.2f} on {load['cpus']} CPUs; the "
        f"load generator itself (readers verifying proofs, the signing writer) used "
        f"{setup['load_generator_cpu_cores']:.2f} cores",
        "| measure | value | target | met |",
        "| --- | ---: | ---: | --- |",
        f"| verified proof reads/s | {reads['per_second']:,.0f} | ≥ {TARGETS['reads_per_s']:,.0f} | "
        f"{'yes' if met['reads'] else 'no'} |",
        f"| read p50 / p95 / p99 (ms) | {reads['p50_ms']:.1f} / {reads['p95_ms']:.1f} / {reads['p99_ms']:.1f} | "
        f"p95 < {TARGETS['read_p95_ms']:.0f} | {'yes' if met['read_p95'] else 'no'} |",
        f"| signed writes/s | {writes['per_second']:,.1f} | — | — |",
        f"| write p50 / p95 / p99 (ms) | {writes['p50_ms']:.1f} / {writes['p95_ms']:.1f} / {writes['p99_ms']:.1f} | "
        f"p95 < {TARGETS['write_p95_ms']:.0f} | {'yes' if met['write_p95'] else 'no'} |",
        f"| errors (non-2xx or unverified proofs) | {result['error_count']} | 0 | "
        f"{'yes' if not result['error_count'] else 'no'} |",
        f"| no-loss checks: {checks['acknowledged_writes']} acknowledged writes at their indexes, final size "
        f"{checks['final_size']:,} = initial + acknowledged, {checks['roots_checked']:,} roots and "
        f"{checks['leaves_checked']:,} leaves served = final ledger's, verify of {checks['verify_entries']:,} entries "
        f"| {len(checks['problems'])} problems | 0 | {'yes' if not checks['problems'] else 'no'} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--prefill", type=int, default=10_000, help="extra entries appended before the load")
    parser.add_argument("--workers", type=int, default=2, help="server processes (naef serve --workers)")
    parser.add_argument("--node-cache", type=int, default=262_144, help="nodes each process keeps (0: none)")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("NAEF_TEST_POSTGRES_URL"),
                        help="PostgreSQL server for --backend postgres (a fresh schema is made and dropped)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.backend == "postgres" and not args.pg_url:
        raise SystemExit("--pg-url: needed with --backend postgres (or set NAEF_TEST_POSTGRES_URL)")

    with tempfile.TemporaryDirectory(prefix="naef-bench-web-") as d, \
            (_pg_url(args.pg_url) if args.backend == "postgres" else _sqlite_url()) as db:
        run_demo(db, figures=illustrative_figures(), keys_dir=Path(d))
        with Ledger.open(db) as ledger:
            payee = payee_statement("demo-load-payee", "Load test payee (fictional)", on=date(2027, 1, 1))
            import_bods(ledger, [payee], signer=demo_key("controller"))
            for start in range(0, args.prefill, 5_000):
                ledger.append_batch(
                    [("revenue_collected", {"period": f"P{i}", "amount_usd": 1000 + i, "source": "PEMEX"})
                     for i in range(start, min(args.prefill, start + 5_000))]
                )
            initial = ledger.size()
        port = _free_port()
        load_before = os.getloadavg()
        server = subprocess.Popen([sys.executable, "-c", SERVER, db, str(port), str(args.workers),
                                   str(args.node_cache)])
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300  # a busy machine: each process loads the scenario and the ledger
            while True:
                try:
                    if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("server did not start")
                time.sleep(0.2)
            # each process computes its start-up overview (a deterministic run and the stress replay) on its engine
            # thread: measure after every process has finished it (fresh connections reach either process)
            ready = 0
            while ready < 4 * args.workers:
                ok = httpx.get(base + "/api/results/latest", timeout=60).status_code == 200
                ready = ready + 1 if ok else 0
                if time.monotonic() > deadline:
                    raise SystemExit("the server's overview was not ready")
                time.sleep(0.1 if ok else 1.0)
            spawn = multiprocessing.get_context("spawn")
            latest, halt, ready = spawn.Value("q", initial), spawn.Event(), spawn.Event()
            shared = Shared(size=initial, latest=latest, halt=halt)
            receive, send = spawn.Pipe(duplex=False)
            w = spawn.Process(target=_writer_process, args=(base, initial, latest, halt, ready, send))
            w.start()
            if not ready.wait(timeout=300):
                raise SystemExit("the writer's process did not start")
            cpu0 = time.process_time()
            elapsed = asyncio.run(_readers(port, shared, args.readers, args.seconds))
            halt.set()
            errors, write_latency, acked, writer_cpu = receive.recv()
            w.join()
            shared.errors.extend(errors)
            shared.write_latency.extend(write_latency)
            shared.acked.extend(acked)
            client_cpu = time.process_time() - cpu0 + writer_cpu  # the readers' process and the writer's
        finally:
            server.terminate()
            server.wait(timeout=30)
        load_after = os.getloadavg()
        checks = _check(db, shared, initial)

    store = ("PostgreSQL (synchronous_commit=on)" if args.backend == "postgres"
             else "SQLite (WAL, synchronous=FULL)")
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_before": load_before, "load_average_after": load_after},
        "setup": {"seconds": round(elapsed, 2), "readers": args.readers, "initial_size": initial,
                  "load_generator_cpu_cores": round(client_cpu / elapsed, 2),
                  "backend": store, "workers": args.workers,
                  "server": f"uvicorn, {args.workers} process(es) (naef serve --workers {args.workers}), node cache "
                            f"{args.node_cache:,} nodes each, {store} ledger"},
        "reads": _summary(shared.read_latency, elapsed),
        "writes": _summary(shared.write_latency, elapsed),
        "errors": shared.errors[:20],
        "error_count": len(shared.errors),
        "checks": checks,
    }
    print(json.dumps(result, indent=2))
    print()
    print(_table(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if shared.errors or checks["problems"]:
        raise SystemExit(2)


if __name__ == "__main__":
    main()
