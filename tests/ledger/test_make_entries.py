"""``make_entries`` (the batch path of ``append_batch``) gives exactly ``make_entry``'s bytes, checks and errors,
and its shortcut is RFC 8785 as the ``rfc8785`` package writes it (issue 18)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from naef.ledger import Ledger, LedgerError, generate_key
from naef.ledger.entries import (
    Entry,
    RevenueCollected,
    _ascii_rows,
    _schema_is_textual,
    _textual_fields,
    canonical_rows,
    entry_model,
    make_entries,
    make_entry,
)

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


_NAMES = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12) | st.text(
    st.characters(max_codepoint=0x7F), min_size=1, max_size=12) | st.sampled_from(["},{", "x},{y", "{", "}", ","])
_AMOUNTS = st.integers(0, 10**12) | st.decimals(0, 10**9, places=2).map(str) | st.sampled_from(
    ["0.005", "-1", "NaN", "1e16", "x"])
_PAYLOADS = st.fixed_dictionaries(
    {"period": _NAMES, "amount_usd": _AMOUNTS, "source": _NAMES},
    optional={"reference": _NAMES, "volume_bbl": st.integers(0, 2**60) | st.floats(0, 1e22) | st.none(),
              "source_id": st.sampled_from(["XI-LEI-529900T8BM49AURSDO55", "bad id"])},
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_PAYLOADS | st.builds(RevenueCollected, period=_NAMES, amount_usd=st.integers(0, 10**6),
                                      source=_NAMES), min_size=1, max_size=6))
def test_batch_rows_are_make_entry_and_rfc8785_for_any_payloads(payloads: list[Any]) -> None:
    """Whatever the payloads (any text, big and fractional numbers, bad items, models among dicts), the batch path
    gives each entry ``make_entry``'s bytes, JSON form and leaf hash — or ``make_entry``'s error for the first bad
    item — and the bytes are RFC 8785 as the ``rfc8785`` package writes them."""
    single: list[Entry] = []
    error: str | None = None
    for p in payloads:
        try:
            single.append(make_entry("revenue_collected", p, time=STAMP))
        except LedgerError as exc:
            error = exc.message
            break
    if error is not None:
        with pytest.raises(LedgerError) as batch:
            canonical_rows("revenue_collected", payloads, time=STAMP)
        assert batch.value.message == error
        return
    rows = canonical_rows("revenue_collected", payloads, time=STAMP)
    assert [(e.payload, e.canonical, e.leaf_hash) for e in single] == list(
        zip(rows.payloads, rows.canonicals, rows.leaves, strict=True))
    for c in rows.canonicals:
        assert c == rfc8785.dumps(json.loads(c))


_ASCII_TEXTS = [t for t in TEXTS if t.isascii()] + ["\n", "a\r\nb", "\x00{\"payload\":", "\x1b[0m"]


@pytest.mark.parametrize("number", [None, 0, 10**6, 2**53 - 1, -(2**53 - 1), 0.1, 1.5, 1e22])
def test_the_chunk_shortcut_is_make_entry(number: float | None) -> None:
    """A chunk of ASCII payloads (control characters, quotes and line feeds in the text included) takes the
    one-string shortcut (``_ascii_rows``) unless a JSON number is not RFC 8785 as ``json`` writes it (a float; an
    integer beyond 2**53 - 1 is refused by both); either way each entry is ``make_entry``'s, bytes and leaf hash."""
    rng = random.Random(1803)
    revenue: list[dict[str, object]] = []
    refused: list[dict[str, object]] = []
    for i in range(300):
        revenue.append({"period": rng.choice(_ASCII_TEXTS) + str(i), "amount_usd": rng.randrange(10**9),
                        "source": rng.choice(_ASCII_TEXTS), "reference": rng.choice(_ASCII_TEXTS),
                        **({"volume_bbl": abs(number)} if number is not None and i % 3 == 0 else {})})
        refused.append({"proposal_id": f"P-{i}", "stage": "approval", "reason_code": "conflict",
                        "reason": rng.choice(_ASCII_TEXTS),
                        "chain": {"n": [True, None, rng.choice(_ASCII_TEXTS)],
                                  **({"x": number} if i % 3 == 0 else {})}})
    for entry_type, payloads in (("revenue_collected", revenue), ("disbursement_refused", refused)):
        rows = canonical_rows(entry_type, payloads, time=STAMP)
        single = [make_entry(entry_type, p, time=STAMP) for p in payloads]
        assert [(e.payload, e.canonical, e.leaf_hash) for e in single] == list(
            zip(rows.payloads, rows.canonicals, rows.leaves, strict=True))
        tail = f',"time":"{STAMP}","type":"{entry_type}"}}'
        shortcut = _ascii_rows(list(rows.payloads), _textual_fields(entry_model(entry_type)), tail)
        # revenue's numbers are decimals, written as strings; the chain's are JSON numbers
        simple = entry_type == "revenue_collected" or number is None or type(number) is int
        assert (shortcut is not None) == simple
        if shortcut is not None:
            assert shortcut == (rows.canonicals, rows.leaves)


def test_a_non_ascii_chunk_takes_each_entry_alone() -> None:
    payloads = [{"period": "Q1", "amount_usd": 5, "source": "Bajío"}, {"period": "Q2", "amount_usd": 6, "source": "x"}]
    rows = canonical_rows("revenue_collected", payloads, time=STAMP)
    assert _ascii_rows(list(rows.payloads), _textual_fields(RevenueCollected), ',"time":"x","type":"y"}') is None
    assert rows.canonicals == [make_entry("revenue_collected", p, time=STAMP).canonical for p in payloads]


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
