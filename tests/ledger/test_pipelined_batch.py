"""Large ``append_batch`` calls are prepared in chunks while a helper thread inserts the previous chunk (issue 18):
the stored log is the one small batches give, and a bad item anywhere leaves nothing — on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import textwrap
from typing import Any

import pytest

from naef.ledger import Ledger, LedgerError, SignerKey
from naef.ledger.entries import make_entry
from naef.ledger.merkle import root_hash
from naef.ledger.transaction import _HANDOVER_ROWS
from naef.ledger.transaction import PIPELINE_CHUNK as _PIPELINE_CHUNK
from tests.ledger.test_crash import _run_and_kill

STAMP = "2031-03-31T00:00:00Z"
N = 2 * _HANDOVER_ROWS + 321  # two hand-overs to the insert thread, then a partial rest; chunks in each


def _payload(i: int) -> dict[str, Any]:
    return {"period": f"P{i}", "amount_usd": 1000 + i, "source": "PEMEX", "reference": f"r-{i}"}


def test_large_batch_stores_what_small_batches_store(ledger: Ledger, log_key: SignerKey) -> None:
    ledger.append("revenue_collected", _payload(-1), time=STAMP)  # a tree that does not start empty
    r = ledger.append_batch([("revenue_collected", _payload(i)) for i in range(N)], time=STAMP)
    assert r == range(1, N + 1)
    stored = list(ledger.entries())
    expected = [make_entry("revenue_collected", _payload(i), time=STAMP) for i in range(-1, N)]
    assert [e.canonical for e in stored] == [e.canonical for e in expected]
    assert [e.leaf_hash for e in stored] == [e.leaf_hash for e in expected]
    assert ledger.root_hash() == root_hash([e.leaf_hash for e in expected])  # RFC 9162 MTH from the leaves
    for size in (1, 2, _PIPELINE_CHUNK, _PIPELINE_CHUNK + 1, N):
        assert ledger.root_hash(size) == root_hash([e.leaf_hash for e in expected[:size]])
        assert ledger.inclusion_proof(size - 1, size).verify()
    ledger.checkpoint(log_key)
    assert ledger.verify().entries == N + 1


@pytest.mark.parametrize("bad", [0, _PIPELINE_CHUNK - 1, _PIPELINE_CHUNK, N - 1])
def test_a_bad_item_in_any_chunk_appends_nothing(ledger: Ledger, bad: int) -> None:
    ledger.append("revenue_collected", _payload(-1), time=STAMP)
    items: list[Any] = [("revenue_collected", _payload(i)) for i in range(N)]
    items[bad] = ("revenue_collected", {**_payload(bad), "amount_usd": "1.001"})
    with pytest.raises(LedgerError, match=rf"^batch item {bad}: entry revenue_collected: payload.amount_usd: "):
        ledger.append_batch(items, time=STAMP)
    assert ledger.size() == 1
    assert ledger.verify().entries == 1
    assert ledger.append_batch([("revenue_collected", _payload(i)) for i in range(3)]) == range(1, 4)  # lock released


def test_prepared_entries_between_large_runs(ledger: Ledger) -> None:
    first = [("revenue_collected", _payload(i)) for i in range(_PIPELINE_CHUNK + 5)]
    middle = make_entry("revenue_collected", _payload(-7), time=STAMP)
    last = [("revenue_collected", _payload(i)) for i in range(_PIPELINE_CHUNK + 5, 2 * _PIPELINE_CHUNK + 9)]
    r = ledger.append_batch([*first, middle, *last], time=STAMP)
    assert len(r) == len(first) + 1 + len(last)
    assert ledger.get(len(first)).canonical == middle.canonical
    assert ledger.verify().entries == len(r)


LARGE_WRITER = textwrap.dedent(
    """
    import sys
    from naef.ledger import Ledger
    url, run = sys.argv[1], sys.argv[2]
    led = Ledger.open(url)
    seq = 0
    while True:
        tag = f"{run}:L{seq}"
        r = led.append_batch([("revenue_collected", {"period": tag, "amount_usd": k, "source": "crash-test",
                                                     "reference": f"{tag}:{k}"}) for k in range(SIZE)])
        print(f"B {r.start} {r.stop} {tag}", flush=True)
        seq += 1
        if seq == 1:
            print("READY", flush=True)
    """
).replace("SIZE", str(N))


@pytest.mark.slow
def test_sigkill_during_large_batches_leaves_whole_batches(ledger: Ledger) -> None:
    """A writer of large (pipelined) batches killed at random moments: every acknowledged batch is there whole,
    every stored batch is whole (nothing torn while the helper thread was inserting), verify passes."""
    rng = random.Random(18)
    acked: dict[str, range] = {}
    for run in range(5):
        for line in _run_and_kill(ledger.url, run, rng, LARGE_WRITER):
            _, start, stop, tag = line.split(" ")
            acked[tag] = range(int(start), int(stop))
        size = ledger.size()
        stored = [e.payload["reference"] for e in ledger.entries(0, size)]
        assert len(stored) == size
        assert size % N == 0  # whole batches only
        for tag, r in acked.items():
            assert [stored[i] for i in r] == [f"{tag}:{k}" for k in range(N)]
        for first in range(0, size, N):
            tag = stored[first].rsplit(":", 1)[0]
            assert stored[first:first + N] == [f"{tag}:{k}" for k in range(N)]
        ledger.verify()


def _plant_entry_row(db_url: str, index: int) -> None:
    """Write an entry row at ``index`` into the log's table behind the ledger's back (an adversary with database
    access)."""
    from sqlalchemy import create_engine, text

    planted = make_entry("revenue_collected", _payload(-2), time=STAMP)
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO ledger_entries (idx, entry_type, canonical, leaf_hash) "
                              "VALUES (:i, :t, :c, :h)"),
                         {"i": index, "t": planted.type, "c": planted.canonical, "h": planted.leaf_hash})
    finally:
        engine.dispose()


@pytest.mark.parametrize("large", [True, False])
def test_a_row_planted_in_the_way_fails_the_append_in_one_short_line(ledger: Ledger, db_url: str, large: bool) -> None:
    """A planted row makes the next append fail whole — a large batch (pipelined chunks; COPY on PostgreSQL) or one
    entry (on PostgreSQL its rows and the head's new size in one pipeline) — with one line naming the database and
    the driver's reason, not the multi-row statement and its thousands of parameters."""
    ledger.append("revenue_collected", _payload(-1), time=STAMP)
    _plant_entry_row(db_url, _PIPELINE_CHUNK + 7 if large else 1)
    items = [("revenue_collected", _payload(i)) for i in range(N if large else 1)]
    with pytest.raises(LedgerError) as caught:
        ledger.append_batch(items, time=STAMP) if large else ledger.append(*items[0], time=STAMP)
    message = str(caught.value)
    assert message.startswith("database "), message
    assert "\n" not in message, message
    assert len(message) < 400, message
    assert "duplicate" in message.lower() or "unique" in message.lower(), message
    assert "SQL" not in message
    assert ledger.size() == 1
