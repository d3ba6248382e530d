"""Write endpoints: only requests signed (RFC 9421 HTTP Message Signatures, Ed25519) by a stakeholder registered in
the governance are accepted; replays, stale or altered requests are refused and append nothing; the control
system's own refusals are recorded and answered 409; writes are rate-limited."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from naef.demo import demo_key
from naef.ledger import Ledger, generate_key
from naef.web import create_app
from naef.web.signing import sign_request
from tests.web.conftest import (
    ORIGIN,
    approval_body,
    railway_proposal,
    signed_post,
    signed_proposal_body,
    web_config,
)

BASE = "http://testserver"


def _size(client: TestClient) -> int:
    size: int = client.get("/api/ledger").json()["size"]
    return size


def test_the_whole_flow_propose_approve_execute(client: TestClient, demo_db: Path) -> None:
    p = railway_proposal()
    r = signed_post(client, "/api/proposals", signed_proposal_body(p), demo_key("mx-board-1"))
    assert r.status_code == 201, r.text
    (proposed_at,) = r.json()["indexes"]  # in range: no benchmark flag
    shown = client.get("/api/proposals/MDF-0100").json()
    assert shown["status"] == "awaiting approvals"
    assert shown["index"] == proposed_at
    # execution before the quorum is refused, and the refusal is recorded
    r = signed_post(client, "/api/executions", {"proposal_id": "MDF-0100"}, demo_key("na-board-2"))
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "quorum_not_met"
    refusal_at = r.json()["error"]["refusal_index"]
    assert client.get(f"/api/ledger/entries/{refusal_at}").json()["type"] == "disbursement_refused"
    for signer in ("na-board-2", "mx-board-2", "controller"):
        r = signed_post(client, "/api/approvals", approval_body(p, signer), demo_key(signer))
        assert r.status_code == 201, r.text
    assert client.get("/api/proposals/MDF-0100").json()["status"] == "ready to execute"
    r = signed_post(client, "/api/executions", {"proposal_id": "MDF-0100"}, demo_key("na-board-2"))
    assert r.status_code == 201, r.text
    executed_at = r.json()["indexes"][0]
    entry = client.get(f"/api/ledger/entries/{executed_at}").json()
    assert entry["type"] == "disbursement_executed"
    assert entry["payload"]["amount_usd"] == "30000000.00"
    assert client.get("/api/proposals/MDF-0100").json()["status"] == "executed"
    rail = next(x for x in client.get("/api/mdf").json()["projects"] if x["project_id"] == "rail-jalisco-freight")
    assert (rail["sector"], rail["state"], rail["disbursed_usd"]) == ("railway", "MX-JAL", "30000000.00")
    with Ledger.open(str(demo_db)) as ledger:
        ledger.verify()


def test_the_control_systems_refusals_are_recorded_and_answered_409(client: TestClient) -> None:
    p = railway_proposal("MDF-0101")
    assert signed_post(client, "/api/proposals", signed_proposal_body(p), demo_key("mx-board-1")).status_code == 201
    r = signed_post(client, "/api/approvals", approval_body(p, "mx-board-1"), demo_key("mx-board-1"))
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "self_approval"
    assert "cannot approve its own proposal" in err["message"]
    recorded = client.get(f"/api/ledger/entries/{err['refusal_index']}").json()
    assert recorded["payload"]["reason_code"] == "self_approval"
    # the same proposal id twice: bad input, nothing appended
    before = _size(client)
    r = signed_post(client, "/api/proposals", signed_proposal_body(p), demo_key("mx-board-1"))
    assert r.status_code == 400
    assert "already used" in r.json()["error"]["message"]
    assert _size(client) == before


def test_the_signer_must_be_the_actor(client: TestClient) -> None:
    p = railway_proposal("MDF-0102")
    before = _size(client)
    r = signed_post(client, "/api/proposals", signed_proposal_body(p), demo_key("mx-board-2"))
    assert r.status_code == 403
    assert "'mx-board-1' must sign" in r.json()["error"]["message"]
    assert signed_post(client, "/api/proposals", signed_proposal_body(p), demo_key("mx-board-1")).status_code == 201
    r = signed_post(client, "/api/approvals", approval_body(p, "controller"), demo_key("na-board-1"))
    assert r.status_code == 403
    r = signed_post(client, "/api/executions", {"proposal_id": "MDF-0102"}, demo_key("observer-1"))
    assert r.status_code == 403
    assert "observers" in r.json()["error"]["message"]
    assert _size(client) == before + 1  # only the proposal


def test_unsigned_stale_replayed_altered_or_foreign_requests_are_refused(client: TestClient) -> None:
    p = railway_proposal("MDF-0103")
    body = json.dumps(signed_proposal_body(p)).encode()
    key = demo_key("mx-board-1")
    before = _size(client)

    r = client.post("/api/proposals", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unsigned"
    assert r.headers["WWW-Authenticate"] == 'Signature realm="naef", alg="ed25519"'

    r = signed_post(client, "/api/proposals", body, key, created=int(time.time()) - 3600)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "stale"

    r = signed_post(client, "/api/proposals", body, key, origin="another.example/log")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "bad_signature"

    headers = sign_request(key, origin=ORIGIN, method="POST", url=f"{BASE}/api/proposals", body=body)
    altered = body.replace(b"30000000.00", b"90000000.00")
    r = client.post("/api/proposals", content=altered, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "bad_signature"

    wrong_path = sign_request(key, origin=ORIGIN, method="POST", url=f"{BASE}/api/approvals", body=body)
    r = client.post("/api/proposals", content=body, headers={**wrong_path, "Content-Type": "application/json"})
    assert r.status_code == 401

    stranger = generate_key("mx-board-1")  # right name, unregistered key
    r = signed_post(client, "/api/proposals", body, stranger)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "bad_signature"
    r = signed_post(client, "/api/proposals", body, generate_key("nobody"))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unknown_signer"
    assert r.headers["WWW-Authenticate"] == 'Signature realm="naef", alg="ed25519"'

    sig_input = headers["Signature-Input"]
    for bad in ({"Signature": "naef=:!!!:"}, {"Signature-Input": sig_input.replace("created=", "created=-")},
                {"Signature-Input": sig_input.replace('nonce="', 'nonce="short", x="')},
                {"Signature-Input": sig_input.replace(' "content-digest"', "")},
                {"Signature-Input": sig_input.replace('keyid="mx-board-1"', 'keyid="two words"')}):
        r = client.post("/api/proposals", content=body, headers={**headers, **bad, "Content-Type": "application/json"})
        assert r.status_code == 401, (bad, r.text)
        assert r.json()["error"]["code"] == "malformed", (bad, r.text)
    assert _size(client) == before  # nothing appended by any of these

    good = sign_request(key, origin=ORIGIN, method="POST", url=f"{BASE}/api/proposals", body=body)
    first = client.post("/api/proposals", content=body, headers={**good, "Content-Type": "application/json"})
    assert first.status_code == 201
    replay = client.post("/api/proposals", content=body, headers={**good, "Content-Type": "application/json"})
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "replayed"
    assert _size(client) == before + 1


def test_writes_are_rate_limited(demo_db: Path) -> None:
    app = create_app(web_config(demo_db, write_rate_per_minute=1, write_burst=2))
    with TestClient(app) as c:
        codes = [signed_post(c, "/api/executions", {"proposal_id": "MDF-0001"}, demo_key("na-board-2")).status_code
                 for _ in range(3)]
        assert codes[:2] == [409, 409]  # already executed: refused by the rules, and recorded
        assert codes[2] == 429
        r = signed_post(c, "/api/executions", {"proposal_id": "MDF-0001"}, demo_key("controller"))
        assert r.status_code == 429
        assert "rate limit" in r.json()["error"]["message"]
        assert int(r.headers["Retry-After"]) >= 1


def test_bodies_over_the_limit_are_refused(demo_db: Path) -> None:
    with TestClient(create_app(web_config(demo_db, max_body_bytes=1024))) as c:
        r = c.post("/api/approvals", content=b"x" * 4096, headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "too_large"

        def chunks():  # no Content-Length: counted while reading
            for _ in range(8):
                yield b"y" * 512

        r = c.post("/api/approvals", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413


def test_signing_scheme_is_published(client: TestClient) -> None:
    s = client.get("/api/signing").json()
    assert s["scheme"].startswith("RFC 9421")
    assert s["algorithm"] == "ed25519"
    assert s["origin"] == ORIGIN
    assert s["headers"] == ["Content-Digest", "Signature-Input", "Signature"]
    assert s["covered_components"] == ["@method", "@target-uri", "content-digest"]
    assert abs(s["server_time"] - time.time()) < 5


def test_authentication_first_then_the_body_then_the_write(client: TestClient) -> None:
    """The write is done in the authenticating dependency (naef.web.auth.signed_write, one worker-thread trip):
    the answers keep their order — a bad signature is 401 whatever the body, a signed but invalid body is
    FastAPI's own 422, a body FastAPI does not read as JSON is left to it (422) — and none of them appends."""
    key = demo_key("mx-board-1")
    before = _size(client)
    invalid = json.dumps({"proposal": {"proposal_id": "MDF-0104"}}).encode()  # not a signed proposal

    r = signed_post(client, "/api/proposals", invalid, key, origin="another.example/log")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "bad_signature"

    r = signed_post(client, "/api/proposals", invalid, key)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid"
    r = signed_post(client, "/api/proposals", b"{not json", key)
    assert r.status_code == 422

    body = json.dumps(signed_proposal_body(railway_proposal("MDF-0105"))).encode()
    headers = sign_request(key, origin=ORIGIN, method="POST", url=f"{BASE}/api/proposals", body=body)
    r = client.post("/api/proposals", content=body, headers={**headers, "Content-Type": "text/plain"})
    assert r.status_code == 422, r.text
    assert _size(client) == before

    r = signed_post(client, "/api/proposals", body, key)  # the same body, as JSON: written once
    assert r.status_code == 201, r.text
    assert _size(client) == before + 1


@pytest.mark.parametrize(("content_type", "raw"), [
    (None, None),  # FastAPI (strict_content_type) does not read a body without a Content-Type as JSON
    ("text/plain", None),
    ("application/x-www-form-urlencoded", None),
    ("application/json", b'{"proposal": '),  # not JSON
    ("application/json", b'{"proposal": {}}'),  # JSON the model refuses
], ids=["no-content-type", "text", "form", "bad-json", "bad-body"])
def test_a_body_fastapi_refuses_is_never_written(client: TestClient, content_type: str | None,
                                                 raw: bytes | None) -> None:
    """Review of wt-web, item 2: a correctly signed write whose body FastAPI's validation refuses answers 4xx and
    appends nothing (the dependency that authenticates and writes must not read it otherwise); the same request
    with its JSON Content-Type is then written as any other."""
    p = railway_proposal("MDF-0777")
    body = raw if raw is not None else json.dumps(signed_proposal_body(p)).encode("utf-8")
    before = _size(client)
    url = BASE + "/api/proposals"
    headers = sign_request(demo_key("mx-board-1"), origin=ORIGIN, method="POST", url=url, body=body)
    if content_type is not None:
        headers["Content-Type"] = content_type
    r = client.post("/api/proposals", content=body, headers=headers)
    assert 400 <= r.status_code < 500, r.text
    assert _size(client) == before
    r = signed_post(client, "/api/proposals", signed_proposal_body(p), demo_key("mx-board-1"))
    assert r.status_code == 201, r.text  # not "already proposed": nothing was written
    assert _size(client) == before + 1
