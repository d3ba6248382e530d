"""Tampering with the stored log through raw SQL is caught by verify, which names the first bad index.

Each test builds a log of 37 entries with checkpoints at 20 and 37, changes the database behind the ledger's
back (one byte of an entry, a leaf hash, a node hash, a checkpoint signature, ...) and checks that
``Ledger.verify`` and ``naef ledger verify`` fail and name what was changed. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from sqlalchemy import Connection
from typer.testing import CliRunner

from naef.commands.keys import keys_app
from naef.commands.ledger import ledger_app
from naef.ledger import Ledger, SignerKey, VerificationError
from naef.ledger.merkle import leaf_hash, node_hash

SIZE = 37
T0 = "2031-03-31T00:00:00Z"


@pytest.fixture
def built(ledger: Ledger, log_key: SignerKey) -> Iterator[Ledger]:
    ledger.append_batch(
        [("revenue_collected", {"period": f"P{i}", "amount_usd": i, "source": "PEMEX"}) for i in range(20)],
        time=T0,
    )
    ledger.checkpoint(log_key)
    ledger.append_batch(
        [("revenue_collected", {"period": f"P{i}", "amount_usd": i, "source": "PEMEX"}) for i in range(20, SIZE)],
        time=T0,
    )
    ledger.checkpoint(log_key)
    ledger.verify()
    return ledger


def _sql(ledger: Ledger, statement: str, *params: Any) -> list[Any]:
    """Run raw SQL with the driver's own placeholders (``?`` or ``%s`` written as ``?`` here)."""
    with ledger.engine.connect() as raw:
        conn: Connection = raw.execution_options(ledger_write=True)
        with conn.begin():
            if conn.dialect.paramstyle != "qmark":
                statement = statement.replace("?", "%s")
            result = conn.exec_driver_sql(statement, tuple(params))
            return list(result.all()) if result.returns_rows else []


def _flip(blob: bytes, rng: random.Random) -> tuple[bytes, int]:
    b = bytearray(blob)
    pos = rng.randrange(len(b))
    b[pos] ^= 1 << rng.randrange(8)
    return bytes(b), pos


def _cli_verify(ledger: Ledger) -> tuple[int, str]:
    app = typer.Typer()
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(keys_app, name="keys")
    res = CliRunner().invoke(app, ["ledger", "verify", ledger.url])
    return res.exit_code, res.output


@pytest.mark.parametrize("seed", range(4))
def test_any_byte_of_an_entry(built: Ledger, seed: int) -> None:
    rng = random.Random(seed)
    k = rng.randrange(SIZE)
    (canonical,) = _sql(built, "SELECT canonical FROM ledger_entries WHERE idx = ?", k)[0]
    changed, _ = _flip(bytes(canonical), rng)
    _sql(built, "UPDATE ledger_entries SET canonical = ? WHERE idx = ?", changed, k)
    with pytest.raises(VerificationError, match=rf"^entry {k}: stored leaf hash does not match") as err:
        built.verify()
    assert err.value.index == k
    code, out = _cli_verify(built)
    assert code == 2
    assert f"entry {k}:" in out


@pytest.mark.parametrize("seed", range(3))
def test_any_byte_of_a_leaf_hash(built: Ledger, seed: int) -> None:
    rng = random.Random(100 + seed)
    k = rng.randrange(SIZE)
    (h,) = _sql(built, "SELECT leaf_hash FROM ledger_entries WHERE idx = ?", k)[0]
    _sql(built, "UPDATE ledger_entries SET leaf_hash = ? WHERE idx = ?", _flip(bytes(h), rng)[0], k)
    with pytest.raises(VerificationError, match=rf"^entry {k}:") as err:
        built.verify()
    assert err.value.index == k


def test_first_of_several_bad_entries_is_named(built: Ledger) -> None:
    for k in (30, 11, 25):
        (canonical,) = _sql(built, "SELECT canonical FROM ledger_entries WHERE idx = ?", k)[0]
        _sql(built, "UPDATE ledger_entries SET canonical = ? WHERE idx = ?", bytes(canonical) + b" ", k)
    with pytest.raises(VerificationError, match=r"^entry 11:") as err:
        built.verify()
    assert err.value.index == 11


@pytest.mark.parametrize(("level", "idx"), [(1, 0), (1, 9), (2, 3), (3, 1), (4, 0), (5, 0)])
def test_any_node_hash(built: Ledger, level: int, idx: int) -> None:
    rng = random.Random(level * 100 + idx)
    (h,) = _sql(built, "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?", level, idx)[0]
    _sql(
        built,
        "UPDATE ledger_nodes SET hash = ? WHERE level = ? AND idx = ?",
        _flip(bytes(h), rng)[0],
        level,
        idx,
    )
    first = idx << level
    with pytest.raises(VerificationError, match=rf"^node \(level {level}, index {idx}\) over entries {first}\.\.") as e:
        built.verify()
    assert e.value.index == first


@pytest.mark.parametrize("size", [20, 37])
def test_checkpoint_signature_byte(built: Ledger, size: int) -> None:
    (note,) = _sql(built, "SELECT note FROM ledger_checkpoints WHERE size = ?", size)[0]
    sig_line = note.rstrip("\n").split("\n")[-1]
    b64 = sig_line.split(" ")[2]
    pos = 10
    tampered_b64 = b64[:pos] + ("A" if b64[pos] != "A" else "B") + b64[pos + 1 :]
    _sql(built, "UPDATE ledger_checkpoints SET note = ? WHERE size = ?", note.replace(b64, tampered_b64), size)
    with pytest.raises(VerificationError, match=rf"^checkpoint at size {size}: ") as err:
        built.verify()
    assert err.value.checkpoint_size == size
    code, out = _cli_verify(built)
    assert code == 2
    assert f"checkpoint at size {size}" in out


def test_checkpoint_root_column(built: Ledger) -> None:
    _sql(built, "UPDATE ledger_checkpoints SET root_hash = ? WHERE size = ?", bytes(32), 20)
    with pytest.raises(VerificationError, match=r"^checkpoint at size 20: stored size/root columns differ"):
        built.verify()


def test_rewritten_entry_with_recomputed_hashes_is_caught_by_the_checkpoint(built: Ledger) -> None:
    """An attacker who rewrites entry 5 and every hash above it (all but the signed checkpoints) is caught."""
    k = 5
    new = (
        b'{"payload":{"amount_usd":"999999.00","period":"P5","source":"PEMEX"},'
        b'"time":"2031-03-31T00:00:00Z","type":"revenue_collected"}'
    )
    h = leaf_hash(new)
    _sql(built, "UPDATE ledger_entries SET canonical = ?, leaf_hash = ? WHERE idx = ?", new, h, k)
    level, idx = 0, k
    while True:
        sib = idx ^ 1
        if (sib + 1) << level > SIZE:
            break
        if level == 0:
            (sh,) = _sql(built, "SELECT leaf_hash FROM ledger_entries WHERE idx = ?", sib)[0]
        else:
            (sh,) = _sql(built, "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?", level, sib)[0]
        h = node_hash(bytes(sh), h) if idx & 1 else node_hash(h, bytes(sh))
        level, idx = level + 1, idx >> 1
        _sql(built, "UPDATE ledger_nodes SET hash = ? WHERE level = ? AND idx = ?", h, level, idx)
    with pytest.raises(VerificationError, match=r"^checkpoint at size 20: signed root differs") as err:
        built.verify()
    assert err.value.checkpoint_size == 20


def test_deleted_entry(built: Ledger) -> None:
    _sql(built, "DELETE FROM ledger_entries WHERE idx = ?", 14)
    with pytest.raises(VerificationError, match=r"^entry 14: missing") as err:
        built.verify()
    assert err.value.index == 14


def test_entry_type_column(built: Ledger) -> None:
    _sql(built, "UPDATE ledger_entries SET entry_type = ? WHERE idx = ?", "waterfall_payment", 8)
    with pytest.raises(VerificationError, match=r"^entry 8: type column"):
        built.verify()


def test_truncated_log_with_lowered_head(built: Ledger) -> None:
    _sql(built, "UPDATE ledger_head SET size = ? WHERE id = 1", 30)
    with pytest.raises(VerificationError, match=r"^checkpoint at size 37: beyond the log size 30"):
        built.verify()


def test_extra_rows_beyond_the_head(ledger: Ledger) -> None:
    ledger.append_batch([("revenue_collected", {"period": "P", "amount_usd": 1, "source": "X"})] * 4, time=T0)
    _sql(
        ledger,
        "INSERT INTO ledger_entries (idx, entry_type, canonical, leaf_hash) VALUES (?, ?, ?, ?)",
        4,
        "revenue_collected",
        b"{}",
        leaf_hash(b"{}"),
    )
    with pytest.raises(VerificationError, match=r"^entry 4: stored beyond the head"):
        ledger.verify()
    _sql(ledger, "DELETE FROM ledger_entries WHERE idx = ?", 4)
    _sql(ledger, "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)", 1, 7, bytes(32))
    with pytest.raises(VerificationError, match=r"^nodes: 4 node rows stored where the log of size 4 has 3"):
        ledger.verify()


def test_every_single_byte_of_a_small_log(ledger: Ledger, log_key: SignerKey) -> None:
    """Exhaustive: every byte position of every entry of a 5-entry log, one at a time."""
    ledger.append_batch(
        [("revenue_collected", {"period": "Q", "amount_usd": i, "source": "X"}) for i in range(5)], time=T0
    )
    ledger.checkpoint(log_key)
    for k in range(5):
        (orig,) = _sql(ledger, "SELECT canonical FROM ledger_entries WHERE idx = ?", k)[0]
        orig = bytes(orig)
        for pos in range(0, len(orig), 3):
            b = bytearray(orig)
            b[pos] ^= 0x20
            _sql(ledger, "UPDATE ledger_entries SET canonical = ? WHERE idx = ?", bytes(b), k)
            with pytest.raises(VerificationError) as err:
                ledger.verify()
            assert err.value.index == k
        _sql(ledger, "UPDATE ledger_entries SET canonical = ? WHERE idx = ?", orig, k)
    ledger.verify()
