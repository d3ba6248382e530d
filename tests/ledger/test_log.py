"""The stored log on SQLite and PostgreSQL: entries, proofs against the Merkle reference, checkpoints,
witnesses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from naef.errors import NaefError
from naef.ledger import (
    Ledger,
    LedgerError,
    SignerKey,
    VerificationError,
    canonical_json,
    entry_types,
    generate_key,
    make_entry,
    register_entry_type,
)
from naef.ledger.entries import Payload, decode_entry
from naef.ledger.keys import SIG_COSIGNATURE_V1
from naef.ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from naef.ledger.note import Checkpoint, open_checkpoint, sign_checkpoint

T0 = "2031-03-31T00:00:00Z"


def revenue(i: int) -> dict[str, Any]:
    return {"period": f"2031Q{i % 4 + 1}", "amount_usd": 1_000_000 + i, "source": "PEMEX"}


# ------------------------------------------------------------------------------------------------ entries
# (pure)


def test_canonical_bytes_of_an_entry_are_exactly_rfc8785() -> None:
    e = make_entry("revenue_collected", {"source": "PEMEX", "amount_usd": "1250000.5", "period": "2031Q1"}, time=T0)
    expected = (
        b'{"payload":{"amount_usd":"1250000.50","period":"2031Q1","source":"PEMEX"},'
        b'"time":"2031-03-31T00:00:00Z","type":"revenue_collected"}'
    )
    assert e.canonical == expected
    assert e.canonical == rfc8785.dumps({"type": e.type, "time": e.time, "payload": dict(e.payload)})
    assert e.leaf_hash == leaf_hash(expected)
    assert decode_entry(e.canonical) == e


def test_time_is_normalised_to_utc() -> None:
    a = make_entry("revenue_collected", revenue(1), time="2031-03-31T02:00:00+02:00")
    b = make_entry("revenue_collected", revenue(1), time=datetime(2031, 3, 31, tzinfo=UTC))
    assert a.time == b.time == T0
    assert a.canonical == b.canonical
    with pytest.raises(LedgerError, match="time: must carry a time zone"):
        make_entry("revenue_collected", revenue(1), time=datetime(2031, 3, 31))
    with pytest.raises(LedgerError, match="time: 'yesterday'"):
        make_entry("revenue_collected", revenue(1), time="yesterday")


@pytest.mark.parametrize(
    ("entry_type", "payload", "field"),
    [
        ("revenue_collected", {"period": "Q1", "amount_usd": -1, "source": "PEMEX"}, "payload.amount_usd"),
        (
            "revenue_collected",
            {"period": "Q1", "amount_usd": "1.005", "source": "PEMEX"},
            "payload.amount_usd",
        ),
        ("revenue_collected", {"period": "Q1", "amount_usd": "NaN", "source": "PEMEX"}, "payload.amount_usd"),
        ("revenue_collected", {"period": "Q1", "amount_usd": 1, "source": "PEMEX", "x": 1}, "payload.x"),
        ("revenue_collected", {"amount_usd": 1, "source": "PEMEX"}, "payload.period"),
        (
            "securities_issued",
            {
                "tranche": "A",
                "amount_usd": 1,
                "coupon_rate": 2,
                "issue_date": "2030-01-01",
                "maturity_date": "2040-01-01",
            },
            "payload.coupon_rate",
        ),
        (
            "project_milestone",
            {"project_id": "p", "milestone": "m", "status": "done", "on": "2030-01-01"},
            "payload.status",
        ),
        ("nope", {}, "type: unknown entry type 'nope'"),
        ("revenue_collected", [1, 2], "payload: must be a JSON object"),
    ],
)
def test_bad_payloads_name_the_field(entry_type: str, payload: Any, field: str) -> None:
    with pytest.raises(LedgerError) as err:
        make_entry(entry_type, payload)
    assert field in str(err.value)
    assert isinstance(err.value, NaefError)
    assert "\n" not in str(err.value)


def test_all_required_types_are_registered() -> None:
    required = {
        "securities_issued",
        "revenue_collected",
        "waterfall_payment",
        "disbursement_proposed",
        "disbursement_approved",
        "disbursement_refused",
        "disbursement_executed",
        "project_milestone",
        "interest_declaration",
        "beneficial_ownership_statement",
        "benchmark_flag",
        "governance_registered",
    }
    assert required <= set(entry_types())


def test_register_entry_type() -> None:
    class Probe(Payload):
        note: str

    register_entry_type("test_probe_type", Probe)
    register_entry_type("test_probe_type", Probe)  # same model again: fine
    assert make_entry("test_probe_type", {"note": "x"}, time=T0).payload == {"note": "x"}

    class Other(Payload):
        other: int

    with pytest.raises(LedgerError, match="already registered"):
        register_entry_type("test_probe_type", Other)
    register_entry_type("test_probe_type", Other, replace=True)
    assert make_entry("test_probe_type", {"other": 3}, time=T0).payload == {"other": 3}
    with pytest.raises(LedgerError, match="names are"):
        register_entry_type("Bad-Name", Other)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(value=_json)
def test_canonical_json_equals_rfc8785(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(LedgerError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


def test_canonical_json_fast_path_edges() -> None:
    for value in (
        {"b": 1, "a": [True, None, 'x\n\u0001"\\/']},
        {"é": "ü"},
        {"\U0001f600": 1, "\ufb01": 2},
        2**53 - 1,
    ):
        assert canonical_json(value) == rfc8785.dumps(value)
    with pytest.raises(LedgerError):
        canonical_json(2**60)


# ------------------------------------------------------------------------------------------------ stored log


def test_init_open_and_keys(db_url: str, log_key: SignerKey) -> None:
    with pytest.raises(LedgerError, match="no ledger here"):
        Ledger.open(db_url)
    Ledger.init(db_url, log_key).close()
    Ledger.init(db_url, log_key.verifier()).close()  # idempotent for the same key
    with pytest.raises(LedgerError, match="already initialised"):
        Ledger.init(db_url, generate_key("naef.test/other"))
    with pytest.raises(LedgerError, match="type 0x01"):
        Ledger.init(db_url, log_key.verifier(SIG_COSIGNATURE_V1))
    with Ledger.open(db_url) as led:
        assert led.log_key == log_key.verifier()
        assert led.origin == "naef.test/fund-log"
        assert led.size() == 0
        assert led.root_hash() == EMPTY_ROOT


def test_bad_urls() -> None:
    with pytest.raises(LedgerError, match=r"SQLite \*file\*"):
        Ledger.open("sqlite://")
    with pytest.raises(LedgerError, match="does not exist"):
        Ledger.open("/no/such/dir/ledger.db")
    with pytest.raises(LedgerError, match="only sqlite"):
        Ledger.open("mysql://x@y/z")


def test_append_get_and_entries(ledger: Ledger) -> None:
    i = ledger.append("revenue_collected", revenue(0), time=T0)
    assert i == 0
    got = ledger.get(0)
    assert got.type == "revenue_collected"
    assert got.time == T0
    assert got.payload["amount_usd"] == "1000000.00"
    assert got.leaf_hash == leaf_hash(got.canonical)
    r = ledger.append_batch(
        [
            ("waterfall_payment", {"period": "2031Q1", "step": "interest", "payee": "A", "amount_usd": 5})
            for _ in range(5)
        ],
        time=T0,
    )
    assert r == range(1, 6)
    assert ledger.size() == 6
    assert [e.index for e in ledger.entries(entry_type="waterfall_payment")] == [1, 2, 3, 4, 5]
    assert [e.index for e in ledger.entries(2, 4)] == [2, 3]
    with pytest.raises(LedgerError, match="index: 6 is not in the log"):
        ledger.get(6)


def test_bad_input_appends_nothing(ledger: Ledger) -> None:
    ledger.append("revenue_collected", revenue(0))
    root = ledger.root_hash()
    with pytest.raises(LedgerError, match=r"payload.amount_usd"):
        ledger.append("revenue_collected", {"period": "Q1", "amount_usd": -5, "source": "PEMEX"})
    with pytest.raises(LedgerError, match="unknown entry type"):
        ledger.append("no_such_type", {})
    batch: list[tuple[str, dict[str, Any]]] = [("revenue_collected", revenue(i)) for i in range(5)]
    batch[3] = ("revenue_collected", {"period": "Q1", "amount_usd": 1, "source": "PEMEX", "extra": True})
    with pytest.raises(LedgerError, match=r"batch item 3: .*payload.extra"):
        ledger.append_batch(batch)

    def append_then_fail() -> None:
        with ledger.transaction() as tx:
            tx.append("revenue_collected", revenue(1))
            assert tx.size == 2
            assert tx.get(1).payload["amount_usd"] == "1000001.00"  # reads see the block's own appends
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        append_then_fail()
    assert ledger.size() == 1
    assert ledger.root_hash() == root
    ledger.verify()


class _TestProposal(Payload):
    proposal_id: str


class _TestApproval(Payload):
    proposal_id: str
    approver: str


def test_transaction_check_then_append(ledger: Ledger) -> None:
    # test-only types: the governance types themselves belong to (and are refined by) other modules
    register_entry_type("test_proposal", _TestProposal)
    register_entry_type("test_approval", _TestApproval)
    ledger.append("test_proposal", {"proposal_id": "P1"})
    with ledger.transaction() as tx:
        proposals = tx.entries(entry_type="test_proposal")
        assert [p.payload["proposal_id"] for p in proposals] == ["P1"]
        i = tx.append("test_approval", {"proposal_id": "P1", "approver": "na-1"})
        j = tx.append("test_approval", {"proposal_id": "P1", "approver": "ctrl"})
        assert (i, j) == (1, 2)
        assert tx.root_hash() == root_hash([e.leaf_hash for e in tx.entries()])
    assert ledger.size() == 3
    assert [e.payload["approver"] for e in ledger.entries(entry_type="test_approval")] == ["na-1", "ctrl"]


def test_roots_and_proofs_match_the_reference(ledger: Ledger) -> None:
    leaves: list[bytes] = []
    sizes = [1, 2, 3, 5, 8, 13, 16, 17, 33]
    for size in sizes:
        n_new = size - len(leaves)
        r = ledger.append_batch([("revenue_collected", revenue(len(leaves) + k)) for k in range(n_new)], time=T0)
        leaves += [ledger.get(i).leaf_hash for i in r]
        assert ledger.root_hash() == root_hash(leaves)
    table = {(0, i): h for i, h in enumerate(leaves)}
    level = 0
    while (2 << level) <= len(leaves):
        level += 1
        for idx in range(len(leaves) >> level):
            table[(level, idx)] = root_hash(leaves[idx << level : (idx + 1) << level])

    def lookup(wanted: Any) -> dict[Any, bytes]:
        return {w: table[w] for w in wanted}

    for size in sizes:
        root = root_hash(leaves[:size])
        assert ledger.root_hash(size) == root
        for index in range(size):
            p = ledger.inclusion_proof(index, size)
            assert p.root_hash == root
            assert p.leaf_hash == leaves[index]
            assert list(p.path) == inclusion_proof(index, size, lookup)
            assert p.verify()
            assert verify_inclusion(leaves[index], index, size, p.path, root)
        for size1 in range(1, size + 1):  # none from size 0 (RFC 9162 §2.1.4.2)
            c = ledger.consistency_proof(size1, size)
            assert list(c.path) == consistency_proof(size1, size, lookup)
            assert c.root1 == root_hash(leaves[:size1])
            assert c.root2 == root
            assert c.verify()
            assert verify_consistency(size1, size, c.path, c.root1, c.root2)
    with pytest.raises(LedgerError, match="index: 33"):
        ledger.inclusion_proof(33)
    with pytest.raises(LedgerError, match="size: 34"):
        ledger.inclusion_proof(0, 34)
    with pytest.raises(LedgerError, match="from-size: 20"):
        ledger.consistency_proof(20, 10)
    with pytest.raises(LedgerError, match=r"from-size: 0 .*no proof from the empty tree"):
        ledger.consistency_proof(0, 10)


def test_proofs_take_a_constant_number_of_queries(ledger: Ledger) -> None:
    ledger.append_batch([("revenue_collected", revenue(i)) for i in range(1000)], time=T0)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(ledger.engine, "before_cursor_execute", count)
    try:
        for index in (0, 1, 500, 998, 999):
            statements.clear()
            assert ledger.inclusion_proof(index).verify()
            selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
            assert len(selects) == 2  # the head size, then one lookup of O(log n) rows
        statements.clear()
        assert ledger.consistency_proof(300).verify()
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
    finally:
        event.remove(ledger.engine, "before_cursor_execute", count)


# ------------------------------------------------------------------------------------------------ checkpoints


def test_checkpoints_sign_and_verify(ledger: Ledger, log_key: SignerKey) -> None:
    ledger.append_batch([("revenue_collected", revenue(i)) for i in range(10)], time=T0)
    note = ledger.checkpoint(log_key)
    opened = open_checkpoint(note, log_key.verifier())
    # the note signs its place among the log's checkpoints (the first; none before it)
    assert opened.checkpoint == Checkpoint("naef.test/fund-log", 10, ledger.root_hash(),
                                           ("naef-checkpoint 1 previous none",))
    assert ledger.checkpoint(log_key) == note  # same size: the stored one
    with pytest.raises(LedgerError, match="is not this log's key"):
        ledger.checkpoint(generate_key("naef.test/fund-log"))
    ledger.append("revenue_collected", revenue(10))
    note2 = ledger.checkpoint(log_key)
    assert [c.size for c in ledger.checkpoints()] == [10, 11]
    report = ledger.verify(from_checkpoint=note)
    assert report.checkpoints == 2
    assert report.published_checkpoint_size == 10
    assert report.size == 11
    assert ledger.verify(from_checkpoint=note2, trusted_key=log_key.verifier()).root_hash == ledger.root_hash()
    with pytest.raises(VerificationError, match="log key"):
        ledger.verify(trusted_key=generate_key("naef.test/fund-log").verifier())


def test_published_checkpoint_from_another_history_is_caught(ledger: Ledger, log_key: SignerKey) -> None:
    ledger.append_batch([("revenue_collected", revenue(i)) for i in range(10)], time=T0)
    # a checkpoint the same key signed over a different history (a split view)
    fork = Checkpoint(ledger.origin, 6, root_hash([leaf_hash(b"other %d" % i) for i in range(6)]))
    with pytest.raises(VerificationError, match=r"published checkpoint \(size 6\): its root differs") as err:
        ledger.verify(from_checkpoint=sign_checkpoint(fork, log_key))
    assert err.value.checkpoint_size == 6
    with pytest.raises(VerificationError, match="beyond the log size"):
        ledger.verify(from_checkpoint=sign_checkpoint(Checkpoint(ledger.origin, 11, bytes(32)), log_key))
    forged = sign_checkpoint(Checkpoint(ledger.origin, 6, ledger.root_hash(6)), generate_key(ledger.origin))
    with pytest.raises(VerificationError, match="published checkpoint: note: no signature by a known key"):
        ledger.verify(from_checkpoint=forged)


def test_witness_cosigning(ledger: Ledger, log_key: SignerKey) -> None:
    controller = generate_key("naef.test/controller")
    observer = generate_key("naef.test/observer")
    ledger.append_batch([("revenue_collected", revenue(i)) for i in range(7)], time=T0)
    ledger.checkpoint(log_key)
    with pytest.raises(LedgerError, match="not a registered witness"):
        ledger.cosign(controller)
    with pytest.raises(LedgerError, match="type 0x04"):
        ledger.add_witness(controller.verifier())
    ledger.add_witness(controller.verifier(SIG_COSIGNATURE_V1))
    ledger.add_witness(observer.verifier(SIG_COSIGNATURE_V1))
    ledger.add_witness(observer.verifier(SIG_COSIGNATURE_V1))  # twice: once
    assert len(ledger.witnesses()) == 2
    ledger.cosign(controller, timestamp=1_900_000_000)
    ledger.append_batch([("revenue_collected", revenue(i)) for i in range(9)], time=T0)
    ledger.checkpoint(log_key)
    ledger.cosign(controller, timestamp=1_900_000_100)  # checks consistency 7 -> 16 with its earlier cosignature
    note = ledger.cosign(observer, timestamp=1_900_000_200)
    opened = open_checkpoint(note, log_key.verifier(), ledger.witnesses())
    assert {(v.name, ts) for v, ts in opened.cosigners} == {
        ("naef.test/controller", 1_900_000_100),
        ("naef.test/observer", 1_900_000_200),
    }
    report = ledger.verify()
    assert report.cosignatures == 3
    assert report.checkpoints == 2
    with pytest.raises(LedgerError, match="no checkpoint of size 3"):
        ledger.cosign(observer, size=3)


def test_export_round_trip(ledger: Ledger) -> None:
    ledger.append("revenue_collected", {"period": "Q1", "amount_usd": 1, "source": "PEMEX — Cantarell ñ"})
    e = next(ledger.entries())
    line = json.dumps({"index": e.index, "entry": e.canonical.decode("utf-8"), "leaf_hash": e.leaf_hash.hex()})
    back = json.loads(line)
    assert back["entry"].encode("utf-8") == e.canonical
    assert leaf_hash(back["entry"].encode("utf-8")).hex() == back["leaf_hash"]


def test_schema_comes_from_the_shipped_migrations(ledger: Ledger) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from naef.ledger import store

    assert store.current_revision(ledger.engine) == store.head_revision()
    with ledger.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": store.VERSION_TABLE})
        diffs = compare_metadata(ctx, store.metadata)
    assert diffs == []


def test_checkpoint_of_the_empty_tree_needs_no_consistency_proof(ledger: Ledger, log_key: SignerKey) -> None:
    # RFC 9162 has no consistency proof from size 0 (merkle.verify_consistency refuses one); the call sites that
    # meet a size-0 checkpoint check its root against MTH({}) and nothing else (issue 14 item 7)
    witness = generate_key("naef.test/witness")
    ledger.add_witness(witness.verifier(SIG_COSIGNATURE_V1))
    empty_note = ledger.checkpoint(log_key)
    ledger.cosign(witness, timestamp=1_900_000_000)
    ledger.append_batch([("revenue_collected", revenue(i)) for i in range(5)], time=T0)
    ledger.checkpoint(log_key)
    ledger.cosign(witness, timestamp=1_900_000_100)  # the earlier cosigned checkpoint is the empty tree
    assert ledger.verify(from_checkpoint=empty_note).published_checkpoint_size == 0
    not_empty = sign_checkpoint(Checkpoint(ledger.origin, 0, bytes(32)), log_key)
    with pytest.raises(VerificationError, match="root differs"):
        ledger.verify(from_checkpoint=not_empty)
