"""A write accepted from a standard RFC 9421 client — ``requests`` with ``requests-http-signature`` (which signs
with ``http-message-signatures``) — not from naef's own signer: the key file is read with plain Python and
handed to the client as PEM, exactly as the recipe in docs/web.md does."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from requests_http_signature import HTTPSignatureAuth, algorithms

from naef.demo import demo_key
from tests.web.conftest import approval_body, railway_proposal, signed_proposal_body


def _pem_from_key_file(path: Path) -> tuple[str, bytes]:
    """``(name, PEM private key)`` from a C2SP key file ``PRIVATE+KEY+name+id+base64(0x01 || seed)``."""
    _, _, name, _, blob = path.read_text().strip().split("+", 4)
    seed = base64.b64decode(blob)[1:]
    pem = Ed25519PrivateKey.from_private_bytes(seed).private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return name, pem


def _auth(key_file: Path, origin: str) -> HTTPSignatureAuth:
    name, pem = _pem_from_key_file(key_file)
    return HTTPSignatureAuth(
        signature_algorithm=algorithms.ED25519,
        key=pem,
        key_id=name,
        covered_component_ids=("@method", "@target-uri"),  # content-digest is added for the body
        use_nonce=True,
        expires_in=datetime.timedelta(seconds=300),
        tag=origin,
    )


def test_a_standard_client_makes_an_accepted_write(live_server: str, tmp_path: Path) -> None:
    key_file = tmp_path / "mx-board-1.key"
    key_file.write_text(demo_key("mx-board-1").encode() + "\n")
    origin = requests.get(f"{live_server}/api/signing", timeout=30).json()["origin"]
    proposal = railway_proposal("MDF-0400")
    r = requests.post(f"{live_server}/api/proposals", json=signed_proposal_body(proposal),
                      auth=_auth(key_file, origin), timeout=30)
    assert r.status_code == 201, r.text
    assert r.json()["signer"] == "mx-board-1"
    sent = r.request.headers
    # its own label and choices (it also covers the Date header it adds): the server asks only for its minimum
    assert sent["Signature-Input"].startswith('pyhms=("@method" "@target-uri" "date" "content-digest");created=')
    assert sent["Content-Digest"].startswith("sha-256=:")
    assert requests.get(f"{live_server}/api/proposals/MDF-0400", timeout=30).json()["status"] == "awaiting approvals"

    # the same signed request sent again is a replay; a body changed after signing fails the digest
    again = requests.Session().send(r.request, timeout=30)
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "replayed"
    prepared = requests.Request("POST", f"{live_server}/api/approvals",
                                json=approval_body(proposal, "mx-board-2"), auth=_auth(key_file, origin)).prepare()
    prepared.body = json.dumps(approval_body(proposal, "controller")).encode()
    tampered = requests.Session().send(prepared, timeout=30)
    assert tampered.status_code == 401
    assert tampered.json()["error"]["code"] == "bad_signature"
    assert tampered.headers["WWW-Authenticate"].startswith("Signature ")


@pytest.mark.parametrize("tag", ["another.example/log", None])
def test_a_standard_client_signature_without_this_ledgers_tag_is_refused(live_server: str, tmp_path: Path,
                                                                        tag: str | None) -> None:
    key_file = tmp_path / "mx-board-1.key"
    key_file.write_text(demo_key("mx-board-1").encode() + "\n")
    auth = _auth(key_file, tag or "x")
    if tag is None:
        auth.tag = None  # no tag parameter at all
    r = requests.post(f"{live_server}/api/proposals", json=signed_proposal_body(railway_proposal("MDF-0401")),
                      auth=auth, timeout=30)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == ("bad_signature" if tag else "malformed")
