"""``make_entries`` (the batch path of ``append_batch``) gives exactly ``make_entry``'s bytes, checks and errors,
and its shortcut is RFC 8785 as the ``rfc8785`` package writes it (issue 18)."""

from __future__ import annotations

import json
import random

import pytest
import rfc8785

from naef.ledger import Ledger, LedgerError, generate_key
from naef.ledger.entries import _schema_is_textual, make_entries, make_entry

STAMP = "2031-03-31T00:00:00Z"
TEXTS = ["PEMEX", "Bajío", "tab\there", 'quote " and \\ back', "\x00\x1f\x7f", "€ 1", "😀 ok", "line\nbreak", "/slash/"]


def _payloads(rng: random.Random, n: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(n):
        p: dict[str, object] = {"period": rng.choice(TEXTS) + str(i), "amount_usd": rng.randrange(10**9) / 100,
                                "source": rng.choice(TEXTS)}
        if rng.random() < 0.5:
            p["reference"] = rng.choice(TEXTS)
        if rng.random() < 0.3:
            p["volume_bbl"] = rng.choice([0, 1.5, 10**6])
        out.append(p)
    return out


def test_same_bytes_as_make_entry_and_as_rfc8785() -> None:
    payloads = _payloads(random.Random(18), 400)
    batch = make_entries("revenue_collected", payloads, time=STAMP)
    single = [make_entry("revenue_collected", p, time=STAMP) for p in payloads]
    assert batch == single
    for e in batch:
        assert e.canonical == rfc8785.dumps(json.loads(e.canonical))


def test_types_with_any_json_take_the_general_path() -> None:
    payloads = [{"proposal_id": "P-1", "stage": "approval", "reason_code": "conflict", "reason": "owner",
                 "chain": {"share": 0.25, "big": 2**40, "z": "é"}},
                {"proposal_id": "P-2", "stage": "execution", "reason_code": "quorum", "reason": "q",
                 "chain": {"n": [1, 2.5, None, True]}}]
    batch = make_entries("disbursement_refused", payloads, time=STAMP)
    assert batch == [make_entry("disbursement_refused", p, time=STAMP) for p in payloads]
    for e in batch:
        assert e.canonical == rfc8785.dumps(json.loads(e.canonical))


def test_the_same_errors() -> None:
    good = {"period": "P", "amount_usd": 1, "source": "S"}
    bad = {"period": "P", "amount_usd": -1, "source": "S"}
    with pytest.raises(LedgerError) as single:
        make_entry("revenue_collected", bad, time=STAMP)
    with pytest.raises(LedgerError) as batch:
        make_entries("revenue_collected", [good, bad], time=STAMP)
    assert batch.value.message == single.value.message
    with pytest.raises(LedgerError, match="time"):
        make_entries("revenue_collected", [good], time="yesterday")


def test_append_batch_names_the_bad_item(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/l.db"
    with Ledger.init(url, generate_key("t.example/log").verifier()) as led:
        items = [("revenue_collected", {"period": f"P{i}", "amount_usd": i, "source": "S"}) for i in range(5)]
        items.insert(3, ("revenue_collected", {"period": "P", "amount_usd": "x", "source": "S"}))
        with pytest.raises(LedgerError, match=r"^batch item 3: entry revenue_collected: payload\.amount_usd"):
            led.append_batch(items)
        assert led.size() == 0
        mixed = [("revenue_collected", {"period": "A", "amount_usd": 1, "source": "S"}),
                 make_entry("revenue_collected", {"period": "B", "amount_usd": 2, "source": "S"}),
                 ("waterfall_payment", {"period": "C", "step": "fees", "payee": "x", "amount_usd": 3}),
                 ("revenue_collected", {"period": "D", "amount_usd": 4, "source": "S"})]
        r = led.append_batch(mixed, time=STAMP)
        assert [e.payload.get("period") for e in led.entries(r.start, r.stop)] == ["A", "B", "C", "D"]
        assert led.verify().entries == 4


@pytest.mark.parametrize(
    ("schema", "textual"),
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}}, True),
        ({"type": "object", "properties": {"a": {"type": "integer"}}}, False),
        ({"type": "object", "properties": {"a": {"anyOf": [{"type": "number"}, {"type": "null"}]}}}, False),
        ({"type": "object", "properties": {"a": {}}}, False),  # any value
        ({"type": "object", "properties": {"a": {"type": "array", "items": {}}}}, False),
        ({"type": "object", "properties": {"a": {"enum": ["x", 1]}}}, False),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/B"}},
          "$defs": {"B": {"type": "object", "properties": {"n": {"type": "number"}}}}}, False),
        ({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}},
          "additionalProperties": False}, True),
        ({"type": "object", "additionalProperties": True}, False),
    ],
)
def test_textual_schemas(schema: dict[str, object], textual: bool) -> None:
    assert _schema_is_textual(schema) is textual
