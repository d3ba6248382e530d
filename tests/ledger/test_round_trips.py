"""A governed write and the web's catch-up read in few PostgreSQL round trips (issue 18), and what the read-ahead
that allows it must not change: the guesses (the right edge at the size the handle last saw, the governed rows
since its kept state) are only guesses, the connection leaves every transaction as psycopg's default (no
autocommit), and the hashes a handle keeps after its own commit are the stored ones.

Round trips are counted from libpq's protocol trace of the handle's connections: each ``Sync`` (the end of an
extended-protocol batch or of a pipeline) and each simple ``Query`` is one wait for the server."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any

import pytest
from sqlalchemy import event

from naef.ledger.approvals import propose, sign_proposal
from naef.ledger.errors import LedgerError
from naef.ledger.keys import SignerKey
from naef.ledger.log import Ledger
from naef.ledger.proofs import NodeCache
from tests.ledger.conftest import fresh_postgres_schema
from tests.ledger.governed import bootstrap, key
from tests.ledger.test_governed_attacks import PAYEE, proposal


@pytest.fixture
def pg_governed(log_key: SignerKey) -> Iterator[Ledger]:
    """A governed PostgreSQL ledger (governance, the payee, funds, one proposal) with a node cache."""
    for url in fresh_postgres_schema():
        with Ledger.init(url, log_key.verifier()) as made:
            bootstrap(made, payees=(PAYEE,), funds_usd="100000000.00")
            propose(made, sign_proposal(proposal(), key("mx-1")))
        with Ledger.open(url, node_cache=NodeCache(1 << 16)) as ledger:
            yield ledger


class _Trace:
    """libpq's protocol trace of every connection the handle opens from now on."""

    def __init__(self, ledger: Ledger) -> None:
        from psycopg import pq

        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - open while the handle is, closed by close()
        flags = pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE

        def on_connect(dbapi: Any, _record: Any) -> None:
            dbapi.pgconn.trace(self.file.fileno())
            dbapi.pgconn.set_trace_flags(flags)

        event.listen(ledger.engine, "connect", on_connect)
        ledger.engine.dispose()  # the pooled connections are replaced by traced ones

    def close(self) -> None:
        self.file.close()

    def round_trips(self, since: int) -> tuple[int, int]:
        """(round trips since the trace offset ``since``, the offset now)."""
        end = os.lseek(self.file.fileno(), 0, os.SEEK_END)
        os.lseek(self.file.fileno(), since, os.SEEK_SET)
        sent = [line for line in os.read(self.file.fileno(), end - since).decode().splitlines()
                if line.startswith("F\t")]
        return sum(1 for line in sent if line.split("\t")[2].strip() in ("Sync", "Query")), end


@pytest.mark.postgres
def test_a_signed_proposal_and_the_key_lookup_take_three_round_trips(pg_governed: Ledger,
                                                                    request: pytest.FixtureRequest) -> None:
    """A governed write: BEGIN, head lock and reads in one trip, inserts and COMMIT in another (main: 6); the web
    view's catch-up read: one (main: 6, with its BEGIN and COMMIT)."""
    ledger = pg_governed
    trace = _Trace(ledger)
    request.addfinalizer(trace.close)
    propose(ledger, sign_proposal(proposal("MDF-2"), key("mx-1")))  # the handle's first write: its kept state
    _, mark = trace.round_trips(0)
    for n in range(3, 6):
        propose(ledger, sign_proposal(proposal(f"MDF-{n}"), key("mx-1")))
        trips, mark = trace.round_trips(mark)
        assert trips == 2, f"proposal MDF-{n}: {trips} round trips"
        start = ledger.size() - 1
        _, mark = trace.round_trips(mark)
        read = ledger.catch_up(start)
        trips, mark = trace.round_trips(mark)
        assert trips == 1, f"catch_up({start}): {trips} round trips"
        assert read.size == start + 1
        assert [r.index for r in read.rows] == [start]


@pytest.mark.postgres
def test_wrong_guesses_are_read_again(pg_governed: Ledger) -> None:
    """Another handle writes (governed and not) between this handle's writes: its guessed right edge and its
    read-ahead of governed rows are stale, and the write still decides on the whole log and builds the stored
    tree."""
    ledger = pg_governed
    with Ledger.open(ledger.url) as other:  # another process of `naef serve --workers N`
        propose(other, sign_proposal(proposal("MDF-2"), key("mx-1")))
        other.append_batch([("revenue_collected", {"period": f"P{i}", "amount_usd": i, "source": "PEMEX"})
                            for i in range(5)])
    with pytest.raises(LedgerError, match="MDF-2"):  # its proposal is seen: a duplicate id is refused
        propose(ledger, sign_proposal(proposal("MDF-2"), key("mx-1")))
    (index,) = propose(ledger, sign_proposal(proposal("MDF-3"), key("mx-1")))
    assert index == ledger.size() - 1
    ledger.verify()


@pytest.mark.postgres
def test_the_pool_never_hands_out_a_connection_in_autocommit(pg_governed: Ledger) -> None:
    """The write's BEGIN goes with its first statements on a connection switched to psycopg's autocommit; after
    the transaction — committed, refused by the rules, or failed in the database — it is switched back."""
    ledger = pg_governed

    def autocommit() -> bool:
        with ledger.engine.connect() as conn:
            return bool(conn.connection.dbapi_connection.autocommit)  # type: ignore[union-attr]

    propose(ledger, sign_proposal(proposal("MDF-2"), key("mx-1")))
    assert not autocommit()
    with pytest.raises(LedgerError):  # refused by the rules, rolled back
        propose(ledger, sign_proposal(proposal("MDF-2"), key("mx-1")))
    assert not autocommit()
    size = ledger.size()
    with ledger.engine.begin() as conn:  # a row planted where the next entry goes: the insert fails
        conn.exec_driver_sql(
            "INSERT INTO ledger_entries (idx, entry_type, canonical, leaf_hash) VALUES (%s, 'x', '\\x00', '\\x00')",
            (size,))
    with pytest.raises(LedgerError, match=r"duplicate|unique"):
        propose(ledger, sign_proposal(proposal("MDF-3"), key("mx-1")))
    assert not autocommit()
    assert ledger.size() == size


@pytest.mark.postgres
def test_the_hashes_kept_after_a_write_are_the_stored_ones(pg_governed: Ledger) -> None:
    """After its own commit the handle knows the new size and answers, from memory alone (its cache was never
    filled otherwise), the proofs a reader of the new entry asks for — its inclusion, the consistency of the tree
    before it — and they are the proofs a handle without a cache reads from the database."""
    ledger = pg_governed
    for n in range(2, 7):
        (index,) = propose(ledger, sign_proposal(proposal(f"MDF-{n}"), key("mx-1")))
        size = index + 1
        assert ledger.known_size == size
        with Ledger.open(ledger.url) as fresh:
            inclusion = ledger.inclusion_proof_from_memory(index, size)
            assert inclusion is not None
            assert inclusion == fresh.inclusion_proof(index, size)
            consistency = ledger.consistency_proof_from_memory(size - 1, size)
            assert consistency is not None
            assert consistency == fresh.consistency_proof(size - 1, size)


def test_a_write_whose_hashes_are_not_kept_leaves_the_known_size(sqlite_url: str, log_key: SignerKey) -> None:
    """A write that does not keep the new tree's hashes (SQLite; on PostgreSQL a large batch) leaves
    :attr:`Ledger.known_size` where reads put it: the proof fast path then reads the new size and its hashes once for
    every request waiting (``Ledger.refresh``) instead of sending each proof at the new size to the database."""
    with Ledger.init(sqlite_url, log_key.verifier()):
        pass
    with Ledger.open(sqlite_url, node_cache=NodeCache(1 << 16)) as ledger:
        ledger.append("revenue_collected", {"period": "P0", "amount_usd": 1, "source": "PEMEX"})
        assert ledger.known_size == 0
        assert ledger.inclusion_proof_from_memory(0, 1) is None
        assert ledger.refresh() == 1
        assert ledger.inclusion_proof_from_memory(0, 1) == ledger.inclusion_proof(0, 1)


def _revenue(source: str) -> dict[str, Any]:
    return {"period": "P1", "amount_usd": 1, "source": source}


@pytest.mark.postgres
def test_hashes_are_not_kept_after_the_head_went_back(pg_governed: Ledger) -> None:
    """The head moved back under the handle (a truncation by someone with the database, a fail-over to a replica
    behind) and the handle then writes: the hashes of its write are not mixed into a cache that still holds the
    old tree's beyond the new head (review F1: proofs from memory that matched neither tree). Every proof the
    handle still answers from memory at the old size is the old tree's."""
    ledger = pg_governed
    for i in range(4):
        ledger.append("revenue_collected", _revenue(f"old{i}"))
    old_size = ledger.size()
    ledger.refresh()
    old = {i: ledger.inclusion_proof(i, old_size) for i in range(old_size)}
    cut = old_size - 3
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM ledger_nodes WHERE ((idx + 1) << level) > %s", (cut,))
        conn.exec_driver_sql("DELETE FROM ledger_entries WHERE idx >= %s", (cut,))
        conn.exec_driver_sql("UPDATE ledger_head SET size = %s", (cut,))
    ledger.append("revenue_collected", _revenue("new0"))
    ledger.append("revenue_collected", _revenue("new1"))
    assert ledger.known_size == old_size
    for i in range(old_size):
        assert ledger.inclusion_proof_from_memory(i, old_size) in (None, old[i]), i


@pytest.mark.postgres
def test_a_transaction_that_flushed_early_keeps_no_partial_hashes(pg_governed: Ledger) -> None:
    """A transaction that read (flushing its first rows) before appending more: its last pipeline holds only part
    of the new tree's hashes, so the handle does not take the new size as known (review F2); one refresh then
    answers every proof at the new size from memory, equal to the stored ones."""
    ledger = pg_governed
    ledger.refresh()
    before = ledger.known_size
    with ledger.transaction() as tx:
        tx.append("revenue_collected", _revenue("f1"))
        tx.rows(("revenue_collected",), start=0)  # a read within the transaction: the rows so far go in
        tx.append("revenue_collected", _revenue("f2"))
        size = tx.size
    assert ledger.known_size == before
    assert ledger.refresh() == size
    with Ledger.open(ledger.url) as fresh:
        for i in (size - 2, size - 1):
            assert ledger.inclusion_proof_from_memory(i, size) == fresh.inclusion_proof(i, size)


@pytest.mark.postgres
def test_a_governed_row_planted_beyond_the_head_is_not_read_ahead(pg_governed: Ledger) -> None:
    """The write's read-ahead of governed rows has no upper bound in SQL; rows at or beyond the head are in no
    committed tree and must not enter the rules' state (review F4): a proposal row moved beyond the head by raw
    SQL does not make a legitimate proposal with its id a duplicate."""
    ledger = pg_governed
    propose(ledger, sign_proposal(proposal("MDF-2"), key("mx-1")))  # the handle's kept state from here on
    with Ledger.open(ledger.url) as other:
        (planted,) = propose(other, sign_proposal(proposal("MDF-9"), key("mx-1")))
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE ledger_entries SET idx = %s WHERE idx = %s", (planted + 3, planted))
        conn.exec_driver_sql("DELETE FROM ledger_nodes WHERE ((idx + 1) << level) > %s", (planted,))
        conn.exec_driver_sql("UPDATE ledger_head SET size = %s", (planted,))
    (index,) = propose(ledger, sign_proposal(proposal("MDF-9"), key("mx-1")))
    assert index == planted
