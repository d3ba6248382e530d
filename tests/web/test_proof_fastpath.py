"""Proofs at a given size answered from memory before routing (naef.web.fastpath, issue 18): byte for byte the
route's answer, the database's proof, and nothing else taken over — errors, 304s and odd queries stay the route's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naef.ledger.log import Ledger
from naef.web import create_app
from naef.web.fastpath import FastPathStats, _query
from tests.web.conftest import web_config


@pytest.fixture(scope="module")
def served(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Ledger]]:
    db = tmp_path_factory.mktemp("fastpath") / "ledger.db"
    db.write_bytes(demo_template.read_bytes())
    with TestClient(create_app(web_config(db))) as c, Ledger.open(str(db)) as led:
        assert c.get("/api/ledger").status_code == 200  # the handle has seen the committed size
        yield c, led


def _stats(c: TestClient) -> FastPathStats:
    stats = c.app.state.proof_fast_path  # type: ignore[attr-defined]
    assert isinstance(stats, FastPathStats)
    return stats


def _same_answer(c: TestClient, path: str) -> bytes:
    """The fast path's answer equals the route's (reached with one more, ignored, query parameter; it reads the
    nodes from the database once, so the fast path then finds them in memory)."""
    stats = _stats(c)
    before = stats.served
    routed = c.get(path + "&via=route")
    assert stats.served == before, "an unknown parameter must go to the route"
    fast = c.get(path)
    assert stats.served == before + 1, "not answered by the fast path"
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    for header in ("etag", "cache-control", "content-type", "content-security-policy", "x-content-type-options"):
        assert fast.headers[header] == routed.headers[header], header
    assert fast.headers["cache-control"] == "public, max-age=31536000, immutable"
    return fast.content


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fast_answers_are_the_routes_and_the_databases(served: tuple[TestClient, Ledger], data: st.DataObject) -> None:
    c, led = served
    size = led.size()
    s = data.draw(st.integers(1, size), label="size")
    i = data.draw(st.integers(0, s - 1), label="index")
    _same_answer(c, f"/api/ledger/proofs/inclusion?index={i}&size={s}")
    assert c.get(f"/api/ledger/proofs/inclusion?index={i}&size={s}").json() == led.inclusion_proof(i, s).to_json()
    s1 = data.draw(st.integers(1, s), label="from_size")
    _same_answer(c, f"/api/ledger/proofs/consistency?from_size={s1}&size={s}")
    assert c.get(f"/api/ledger/proofs/consistency?from_size={s1}&size={s}").json() == \
        led.consistency_proof(s1, s).to_json()


def test_parameter_order_does_not_matter(served: tuple[TestClient, Ledger]) -> None:
    c, led = served
    size = led.size()
    a = _same_answer(c, f"/api/ledger/proofs/inclusion?index=2&size={size}")
    assert _same_answer(c, f"/api/ledger/proofs/inclusion?size={size}&index=2") == a


@pytest.mark.parametrize(("query", "status"), [
    ("index={size}&size={size}", 400),  # index outside the tree: the route's error
    ("index=0&size=0", 422),  # size must be >= 1 for an inclusion proof
    ("index=-1&size={size}", 422),
    ("index=%2B1&size={size}", 200),  # '+1' is not plain digits: the route parses it
    ("index=1&size={size}&size={size}", 200),  # a repeated parameter: the route decides
    ("index=1", 200),  # today's tree: no-cache, not immutable
    ("index=1&size={big}", 400),  # a size not committed
    ("index=1&size=99999999999999999999999", 422),  # beyond the route's bound
])
def test_everything_else_goes_to_the_route(served: tuple[TestClient, Ledger], query: str, status: int) -> None:
    c, led = served
    size = led.size()
    stats = _stats(c)
    before = stats.served
    r = c.get("/api/ledger/proofs/inclusion?" + query.format(size=size, big=size + 1000))
    assert r.status_code == status, r.text
    assert stats.served == before
    if status >= 400:
        assert "etag" not in r.headers
        assert r.json()["error"]["status"] == status


def test_if_none_match_gets_the_routes_304(served: tuple[TestClient, Ledger]) -> None:
    c, led = served
    path = f"/api/ledger/proofs/consistency?from_size=3&size={led.size()}"
    etag = c.get(path).headers["etag"]
    stats = _stats(c)
    before = stats.served
    r = c.get(path, headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert stats.served == before


def test_head_and_post_are_not_taken_over(served: tuple[TestClient, Ledger]) -> None:
    c, led = served
    stats = _stats(c)
    before = stats.served
    assert c.post(f"/api/ledger/proofs/inclusion?index=1&size={led.size()}").status_code == 405
    assert stats.served == before


def test_a_size_written_elsewhere_is_answered_after_one_shared_read(demo_db: Path) -> None:
    """Another process appends (here another handle): the first request at the new size waits for one read of the
    committed size and its new nodes, then it and the next ones are answered from memory — the database's proofs;
    a size beyond the committed one still goes to the route, which refuses it."""
    with TestClient(create_app(web_config(demo_db))) as c, Ledger.open(str(demo_db)) as led:
        stats = _stats(c)
        assert c.get("/api/ledger").status_code == 200
        led.append_batch([("revenue_collected", {"period": f"P{i}", "amount_usd": i, "source": "PEMEX"})
                          for i in range(5)])
        size = led.size()
        refreshes, served = stats.refreshes, stats.served
        for index in (0, size // 2, size - 1):  # an old entry, and the newest
            r = c.get(f"/api/ledger/proofs/inclusion?index={index}&size={size}")
            assert r.status_code == 200
            assert r.json() == led.inclusion_proof(index, size).to_json()
        r = c.get(f"/api/ledger/proofs/consistency?from_size={size - 2}&size={size}")
        assert r.json() == led.consistency_proof(size - 2, size).to_json()
        assert stats.served == served + 4
        assert stats.refreshes == refreshes + 1
        r = c.get(f"/api/ledger/proofs/inclusion?index=1&size={size + 1}")
        assert r.status_code == 400
        assert stats.refreshes == refreshes + 2
        assert stats.served == served + 4


def test_without_a_node_cache_the_route_answers(demo_db: Path) -> None:
    with TestClient(create_app(web_config(demo_db, node_cache_nodes=0))) as c, Ledger.open(str(demo_db)) as led:
        size = led.size()
        r = c.get(f"/api/ledger/proofs/inclusion?index=1&size={size}")
        assert r.status_code == 200
        assert r.json() == led.inclusion_proof(1, size).to_json()
        assert _stats(c).served == 0


@pytest.mark.parametrize(("raw", "expected"), [
    (b"index=1&size=2", (1, 2)),
    (b"size=2&index=1", (1, 2)),
    (b"index=1&size=2&x=3", None),
    (b"index=1", None),
    (b"index=1&index=2", None),
    (b"index=&size=2", None),
    (b"index=\xd9\xa1&size=2", None),  # an Arabic-Indic digit one: not ASCII
    (b"index=1e3&size=2", None),
    (b"index=1&size=" + b"9" * 40, None),
])
def test_query_parsing_is_strict(raw: bytes, expected: tuple[int, int] | None) -> None:
    assert _query(raw, ("index", "size")) == expected
