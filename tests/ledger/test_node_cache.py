"""Proofs from the in-memory node cache equal proofs from the database (issue 18), on SQLite and PostgreSQL.

The cache holds complete-subtree hashes read from committed state; a proof at a size the handle has seen
committed may come from memory alone. Checked: the same proofs and roots with and without a cache (cold, warm,
and with a bound far smaller than the tree), that they verify, that a warm cache answers without opening a
database connection, and that a size not yet seen still goes to the database (and is refused when beyond the log).
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text

from naef.ledger import Ledger, LedgerError, generate_key
from naef.ledger import store as ledger_store
from naef.ledger.merkle import root_hash
from naef.ledger.proofs import NodeCache


def _fill(url: str, n: int) -> list[bytes]:
    key = generate_key("cache.naef.example/log")
    with Ledger.init(url, key.verifier()) as led:
        for start in range(0, n, 97):  # uneven batches: many right edges
            led.append_batch([("revenue_collected", {"period": f"P{i}", "amount_usd": i, "source": "PEMEX"})
                              for i in range(start, min(n, start + 97))])
        return [e.leaf_hash for e in led.entries()]


@pytest.mark.parametrize("bound", [0, 7, 100_000])
def test_cached_proofs_equal_database_proofs(db_url: str, bound: int) -> None:
    n = 613
    leaves = _fill(db_url, n)
    rng = random.Random(bound)
    with Ledger.open(db_url) as plain, Ledger.open(db_url, node_cache=NodeCache(bound)) as cached:
        assert cached.size() == n  # the handle has now seen size n committed
        for _ in range(3):  # cold, then warm
            for _ in range(60):
                size = rng.randrange(1, n + 1)
                index = rng.randrange(size)
                a, b = plain.inclusion_proof(index, size), cached.inclusion_proof(index, size)
                assert a == b
                assert b.verify()
                assert b.root_hash == root_hash(leaves[:size])  # against a recomputation from the leaves
                s1 = rng.randrange(1, size + 1)
                c, d = plain.consistency_proof(s1, size), cached.consistency_proof(s1, size)
                assert c == d
                assert d.verify()
                assert cached.root_hash(s1) == plain.root_hash(s1) == root_hash(leaves[:s1])
        assert cached.inclusion_proof(5) == plain.inclusion_proof(5)  # default size: today's tree
        assert cached.node_cache is not None
        assert len(cached.node_cache) <= bound
        if bound >= 2 * n:
            assert cached.node_cache.hits > 0


def test_warm_cache_answers_without_the_database(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    n = 200
    _fill(sqlite_url, n)
    with Ledger.open(sqlite_url, node_cache=NodeCache()) as led:
        expected = {(i, s): led.inclusion_proof(i, s) for s in (1, 77, 128, 200) for i in range(0, s, 7)}
        consistency = led.consistency_proof(33, 200)

        def no_database(*_: object) -> None:
            raise AssertionError("the database was read although every node is in memory")

        monkeypatch.setattr(ledger_store, "connect", no_database)
        for (i, s), proof in expected.items():
            assert led.inclusion_proof(i, s) == proof
        assert led.consistency_proof(33, 200) == consistency
        with pytest.raises(AssertionError, match="database was read"):
            led.inclusion_proof(3)  # no size: today's tree, read from the database
        with pytest.raises(AssertionError, match="database was read"):
            led.inclusion_proof(3, 201)  # a size not seen committed: asks the database


def test_cache_sees_new_entries_and_refuses_sizes_beyond_the_log(sqlite_url: str) -> None:
    _fill(sqlite_url, 50)
    with Ledger.open(sqlite_url, node_cache=NodeCache()) as led, Ledger.open(sqlite_url) as writer:
        assert led.inclusion_proof(10, 50).verify()
        with pytest.raises(LedgerError, match="size: 51 is not between 1 and the log size 50"):
            led.inclusion_proof(10, 51)
        writer.append_batch([("revenue_collected", {"period": f"Q{i}", "amount_usd": i, "source": "PEMEX"})
                             for i in range(30)])
        p = led.inclusion_proof(60, 80)  # another handle wrote them: read, then kept
        assert p == writer.inclusion_proof(60, 80)
        assert p.verify()
        assert led.consistency_proof(50, 80) == writer.consistency_proof(50, 80)


def test_node_cache_bound() -> None:
    cache = NodeCache(3)
    cache.put_many({(0, i): bytes([i]) * 32 for i in range(5)})
    assert len(cache) == 3
    found, missing = cache.get_many([(0, 0), (0, 4), (1, 0)])
    assert list(found) == [(0, 4)]
    assert missing == [(0, 0), (1, 0)]
    with pytest.raises(ValueError, match="max_nodes"):
        NodeCache(-1)


@pytest.mark.parametrize("bound", [7, 100, 100_000])
def test_a_warmed_cache_gives_the_database_proofs_from_memory(db_url: str, bound: int) -> None:
    n = 613
    _fill(db_url, n)
    rng = random.Random(bound)
    with Ledger.open(db_url) as plain, Ledger.open(db_url, node_cache=NodeCache(bound)) as cached:
        kept = cached.warm_node_cache()
        assert cached.known_size == n
        assert cached.node_cache is not None
        stored = sum(n >> level for level in range(n.bit_length()))  # complete subtrees of every level
        assert kept == len(cached.node_cache) == min(bound, stored)  # every stored node when they fit
        from_memory = 0
        for _ in range(100):
            size = rng.randrange(1, n + 1)
            index = rng.randrange(size)
            proof = cached.inclusion_proof_from_memory(index, size)
            if proof is not None:
                from_memory += 1
                assert proof == plain.inclusion_proof(index, size)
        assert from_memory == (100 if bound >= stored else 0)  # a bound below the nodes keeps no leaf
        # Consistency proofs between sizes that are multiples of 64 need only subtrees of level 6 and up: all 36
        # pairs in memory once levels 6-9 are (bound 100: 1 + 2 + 4 + 9 nodes and more); with bound 7 only
        # levels 7-9, so the 6 pairs of multiples of 128.
        sizes = range(64, n + 1, 64)
        consistent = 0
        for s2 in sizes:
            for s1 in range(64, s2, 64):
                consistency = cached.consistency_proof_from_memory(s1, s2)
                if consistency is not None:
                    consistent += 1
                    assert consistency == plain.consistency_proof(s1, s2)
                    assert consistency.verify()
        assert consistent == (6 if bound == 7 else 36)
        if bound == 7:  # the upper levels kept: the root of the largest complete subtree is in memory
            assert (9, 0) in cached.node_cache.get_many([(9, 0)])[0]


def test_warming_reads_only_the_committed_tree(db_url: str) -> None:
    """Review of wt-web, item 3: a leaf row and a node row stored beyond the head (planted by a writer with access
    to the database, or left over) are in no committed tree; warming does not cache them, so once they are gone
    and the real entries are appended, the proofs from memory are the database's."""
    n = 100
    _fill(db_url, n)
    with Ledger.open(db_url) as plain:
        engine = plain.engine
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO ledger_entries (idx, entry_type, canonical, leaf_hash) "
                              "VALUES (:i, 'revenue_collected', :c, :h)"), {"i": n, "c": b"{}", "h": b"\xee" * 32})
            conn.execute(text("INSERT INTO ledger_nodes (level, idx, hash) VALUES (1, :i, :h)"),
                         {"i": (n + 2) // 2, "h": b"\xdd" * 32})  # the pair [102, 104)
        with Ledger.open(db_url, node_cache=NodeCache()) as cached:  # the server starting now
            stored = sum(n >> level for level in range(n.bit_length()))
            assert cached.warm_node_cache() == stored
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM ledger_entries WHERE idx >= :i"), {"i": n})
                conn.execute(text("DELETE FROM ledger_nodes WHERE level = 1 AND idx = :i"), {"i": (n + 2) // 2})
            plain.append_batch([("revenue_collected", {"period": f"new-{i}", "amount_usd": 1, "source": "x"})
                                for i in range(8)])
            size = cached.refresh()
            assert size == n + 8
            for index in range(n, size):
                proof = cached.inclusion_proof_from_memory(index, size)
                assert proof is not None
                assert proof == plain.inclusion_proof(index, size)
                assert proof.verify()
            assert cached.root_hash(size) == plain.root_hash(size)


def test_refresh_reads_the_new_size_and_its_right_edge(db_url: str) -> None:
    n = 300
    _fill(db_url, n)
    with Ledger.open(db_url) as plain, Ledger.open(db_url, node_cache=NodeCache()) as cached:
        cached.warm_node_cache()
        assert cached.inclusion_proof_from_memory(5, n + 1) is None  # not seen committed
        plain.append("revenue_collected", {"period": "P-new", "amount_usd": 1, "source": "PEMEX"})
        assert cached.known_size == n
        assert cached.refresh() == n + 1 == cached.known_size
        for index in range(0, n, 7):  # every earlier entry's proof at the new size, from memory
            assert cached.inclusion_proof_from_memory(index, n + 1) == plain.inclusion_proof(index, n + 1)
        assert cached.consistency_proof_from_memory(17, n + 1) == plain.consistency_proof(17, n + 1)
        plain.append_batch([("revenue_collected", {"period": f"P-{i}", "amount_usd": i, "source": "PEMEX"})
                            for i in range(37)])
        size = cached.refresh()
        for index in range(n - 3, size):  # the new entries too: every node they added was read
            assert cached.inclusion_proof_from_memory(index, size) == plain.inclusion_proof(index, size)
        for s1 in range(n, size):
            assert cached.consistency_proof_from_memory(s1, size) == plain.consistency_proof(s1, size)
