"""Proofs and checkpoints served with strong ETags, ``Cache-Control: immutable`` where the answer can never change,
304 on ``If-None-Match`` (issue 18); the proofs from the server's node cache equal the database's."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from fastapi.testclient import TestClient

from naef.ledger.log import Ledger
from naef.ledger.merkle import verify_consistency, verify_inclusion
from naef.web import create_app
from tests.web.conftest import web_config


def test_proof_at_a_given_size_is_immutable_with_a_strong_etag(client: TestClient) -> None:
    size = client.get("/api/ledger").json()["size"]
    r = client.get(f"/api/ledger/proofs/inclusion?index=3&size={size}")
    assert r.status_code == 200
    etag = r.headers["etag"]
    assert etag == '"' + hashlib.sha256(r.content).hexdigest()[:32] + '"'  # strong: no W/ prefix
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    p = r.json()
    assert verify_inclusion(bytes.fromhex(p["leaf_hash"]), 3, size, [bytes.fromhex(h) for h in p["inclusion_path"]],
                            bytes.fromhex(p["root_hash"]))
    again = client.get(f"/api/ledger/proofs/inclusion?index=3&size={size}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(f"/api/ledger/proofs/inclusion?index=3&size={size}", headers={"If-None-Match": '"abc"'})
    assert other.status_code == 200
    assert other.content == r.content
    listed = client.get(f"/api/ledger/proofs/inclusion?index=3&size={size}",
                        headers={"If-None-Match": f'"x", W/{etag}'})
    assert listed.status_code == 304


def test_proof_in_todays_tree_is_revalidated(client: TestClient) -> None:
    r = client.get("/api/ledger/proofs/inclusion?index=3")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-cache"
    assert client.get("/api/ledger/proofs/inclusion?index=3",
                      headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_consistency_proof_caching(client: TestClient) -> None:
    size = client.get("/api/ledger").json()["size"]
    r = client.get(f"/api/ledger/proofs/consistency?from_size=10&size={size}")
    assert r.status_code == 200
    assert "immutable" in r.headers["cache-control"]
    p = r.json()
    assert verify_consistency(10, size, [bytes.fromhex(h) for h in p["consistency_path"]], bytes.fromhex(p["root1"]),
                              bytes.fromhex(p["root2"]))
    assert client.get(f"/api/ledger/proofs/consistency?from_size=10&size={size}",
                      headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    assert client.get("/api/ledger/proofs/consistency?from_size=10").headers["cache-control"] == "no-cache"


def test_errors_are_not_cached(client: TestClient) -> None:
    size = client.get("/api/ledger").json()["size"]
    r = client.get(f"/api/ledger/proofs/inclusion?index={size}&size={size}")
    assert r.status_code == 400
    assert "etag" not in r.headers
    assert "index" in r.json()["error"]["message"]


def test_checkpoints_have_etags_but_are_never_immutable(client: TestClient) -> None:
    latest = client.get("/api/ledger/checkpoints/latest")
    assert latest.status_code == 200
    assert latest.headers["cache-control"] == "no-cache"  # a witness may cosign it later
    size = latest.json()["size"]
    by_size = client.get(f"/api/ledger/checkpoints/{size}")
    assert by_size.status_code == 200
    assert by_size.json() == latest.json()
    assert by_size.headers["etag"] == latest.headers["etag"]
    assert client.get(f"/api/ledger/checkpoints/{size}",
                      headers={"If-None-Match": by_size.headers["etag"]}).status_code == 304
    missing = client.get(f"/api/ledger/checkpoints/{size + 1}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "no_checkpoint"


def test_server_cache_proofs_equal_database_proofs(demo_db: Path) -> None:
    rng = random.Random(18)
    with TestClient(create_app(web_config(demo_db, node_cache_nodes=64))) as c, Ledger.open(str(demo_db)) as led:
        size = led.size()
        for _ in range(40):
            s = rng.randrange(2, size + 1)
            i = rng.randrange(s)
            assert c.get(f"/api/ledger/proofs/inclusion?index={i}&size={s}").json() == \
                led.inclusion_proof(i, s).to_json()
            s1 = rng.randrange(1, s)
            assert c.get(f"/api/ledger/proofs/consistency?from_size={s1}&size={s}").json() == \
                led.consistency_proof(s1, s).to_json()
