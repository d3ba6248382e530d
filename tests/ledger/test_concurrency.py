"""8 processes appending 500 entries each give exactly 4,000 entries in one linear history (SQLite,
PostgreSQL).

Every append is its own durable transaction; the processes really run at the same time and contend for the one
writer lock (``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on the head row on PostgreSQL).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from naef.ledger import Ledger, SignerKey

WORKERS = 8
PER_WORKER = 500

WORKER = textwrap.dedent(
    """
    import json, sys, time
    from naef.ledger import Ledger
    url, w, n, start_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    led = Ledger.open(url)
    while time.time() < start_at:  # start together, after every interpreter has imported naef
        time.sleep(0.005)
    out = []
    for s in range(n):
        payload = {"period": f"w{w}", "amount_usd": s, "source": f"worker-{w}", "reference": f"{w}:{s}"}
        out.append(led.append("revenue_collected", payload))
    led.close()
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_eight_processes_one_linear_history(ledger: Ledger, log_key: SignerKey) -> None:
    start_at = time.time() + 4.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, ledger.url, str(w), str(PER_WORKER), str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WORKERS)
    ]
    results: list[list[int]] = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    total = WORKERS * PER_WORKER
    # exactly 4,000 entries, every index acknowledged to exactly one writer
    assert ledger.size() == total
    assert sorted(i for r in results for i in r) == list(range(total))
    # each writer's own appends are in its order (one linear history), and interleaved with the others'
    for r in results:
        assert r == sorted(r)
    assert any(max(a) > min(b) and max(b) > min(a) for a in results for b in results if a is not b)
    # the entry at each acknowledged index is the one that writer appended
    stored = {e.index: e.payload["reference"] for e in ledger.entries()}
    for w, r in enumerate(results):
        assert [stored[i] for i in r] == [f"{w}:{s}" for s in range(PER_WORKER)]
    # the tree is sound and every inclusion proof verifies against the final root
    note = ledger.checkpoint(log_key)
    report = ledger.verify(from_checkpoint=note)
    assert report.size == total
    assert report.nodes == total - bin(total).count("1")
    root = ledger.root_hash()
    for i in range(total):
        p = ledger.inclusion_proof(i)
        assert p.root_hash == root
        assert p.verify()
    for size1 in range(1, total + 1, 97):
        assert ledger.consistency_proof(size1).verify()
