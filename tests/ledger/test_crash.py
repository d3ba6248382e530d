"""A writer killed with SIGKILL at random moments loses no acknowledged entry and leaves no partial one.

A subprocess appends in a loop — single entries and batches of ten — and prints each acknowledgement after the
append returned; it says READY after its first append (the first one in a process is slow: imports, the first
statements), so that the kill lands among appends on a loaded machine too. The test kills it at a random moment,
20 times per backend, and then checks: every acknowledged entry is present with its payload, every batch is all
there or not at all, and verify passes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter

import pytest

from naef.ledger import Ledger, SignerKey

ROUNDS = 20
BATCH = 10

WRITER = textwrap.dedent(
    """
    import sys
    from naef.ledger import Ledger
    url, run = sys.argv[1], sys.argv[2]
    led = Ledger.open(url)
    seq = 0
    while True:
        if seq % 3 == 2:
            tag = f"{run}:b{seq}"
            items = [("revenue_collected", {"period": tag, "amount_usd": k, "source": "crash-test",
                                            "reference": f"{tag}:{k}"}) for k in range(BATCH_SIZE)]
            r = led.append_batch(items)
            print(f"B {r.start} {r.stop} {tag}", flush=True)
        else:
            tag = f"{run}:s{seq}"
            i = led.append("revenue_collected", {"period": tag, "amount_usd": seq, "source": "crash-test",
                                                  "reference": tag})
            print(f"A {i} {tag}", flush=True)
        seq += 1
        if seq == 1:
            print("READY", flush=True)  # after a first append: kills land in steady state, not in warm-up
    """
).replace("BATCH_SIZE", str(BATCH))


def _run_and_kill(url: str, run: int, rng: random.Random, writer: str = WRITER) -> list[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", writer, url, str(run)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())
            if line.startswith("READY"):
                ready.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    assert ready.wait(60), proc.stderr.read() if proc.stderr else ""
    time.sleep(rng.uniform(0.01, 0.4))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    t.join(30)
    assert proc.returncode == -signal.SIGKILL
    return [x for x in lines if x and not x.startswith("READY")]


@pytest.mark.slow
def test_sigkill_never_loses_or_tears_entries(ledger: Ledger, log_key: SignerKey) -> None:
    rng = random.Random(20310331)
    acked_single: dict[int, str] = {}
    acked_batches: dict[str, range] = {}
    for run in range(ROUNDS):
        for line in _run_and_kill(ledger.url, run, rng):
            kind, *rest = line.split(" ")
            if kind == "A":
                acked_single[int(rest[0])] = rest[1]
            else:
                acked_batches[rest[2]] = range(int(rest[0]), int(rest[1]))
        # one size, then the entries below it: on PostgreSQL the killed writer's last COMMIT, sent before the kill,
        # may still land on the server after the kill (never acknowledged, so never counted as lost), between
        # two separate reads
        size = ledger.size()
        stored = {e.index: e.payload["reference"] for e in ledger.entries(0, size)}
        # every acknowledged entry is there, unchanged
        for i, tag in acked_single.items():
            assert stored[i] == tag
        for tag, r in acked_batches.items():
            assert [stored[i] for i in r] == [f"{tag}:{k}" for k in range(BATCH)]
        # no torn batch: each batch that made it has all its entries, contiguous
        per_batch = Counter(ref.rsplit(":", 1)[0] for ref in stored.values() if ":b" in ref)
        assert set(per_batch.values()) <= {BATCH}
        assert len(stored) == size  # no gap below the committed size
        ledger.verify()
        if run % 5 == 4:
            ledger.checkpoint(log_key)
    assert len(acked_single) + len(acked_batches) >= ROUNDS  # the writer made progress in most rounds
    ledger.verify()
