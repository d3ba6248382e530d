"""The request-signing scheme (naef web request v1): exact bytes, signatures, freshness, single use, rate limits."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from naef.demo import demo_key
from naef.ledger import generate_key
from naef.web.signing import (
    RateLimiter,
    ReplayGuard,
    SigningError,
    canonical_request,
    parse_signature_headers,
    sign_request,
    verify_signature,
)


def test_canonical_request_bytes() -> None:
    body = b'{"proposal_id":"MDF-0001"}'
    got = canonical_request(origin="demo.naef.example/log", method="post", target="/api/executions", body=body,
                            timestamp=1_700_000_000, nonce="AAAAAAAAAAAAAAAAAAAAAA", signer="na-board-2")
    want = (
        "naef web request v1\n"
        "demo.naef.example/log\n"
        "POST\n"
        "/api/executions\n"
        f"{hashlib.sha256(body).hexdigest()}\n"
        "1700000000\n"
        "AAAAAAAAAAAAAAAAAAAAAA\n"
        "na-board-2\n"
    ).encode()
    assert got == want
    assert canonical_request(origin="o", method="GET", target="/x", body=b"", timestamp=1, nonce="n" * 16,
                             signer="s").split(b"\n")[4] == hashlib.sha256(b"").hexdigest().encode()
    with pytest.raises(SigningError, match="line break"):
        canonical_request(origin="o\nx", method="POST", target="/", body=b"", timestamp=1, nonce="n" * 16, signer="s")


def test_signature_is_plain_ed25519_over_the_canonical_request() -> None:
    key = demo_key("na-board-2")
    body = b"{}"
    headers = sign_request(key, origin="o", method="POST", target="/api/executions", body=body, timestamp=123,
                           nonce="B" * 22)
    assert headers["Naef-Signer"] == "na-board-2"
    assert headers["Naef-Timestamp"] == "123"
    message = canonical_request(origin="o", method="POST", target="/api/executions", body=body, timestamp=123,
                                nonce="B" * 22, signer="na-board-2")
    # checked with the cryptography package directly, not with naef's own verifier
    Ed25519PublicKey.from_public_bytes(key.public_key).verify(base64.b64decode(headers["Naef-Signature"]), message)
    sig = parse_signature_headers(headers)
    assert verify_signature(sig, key.verifier(), origin="o", method="POST", target="/api/executions", body=body)
    for change in ({"origin": "p"}, {"method": "PUT"}, {"target": "/api/approvals"}, {"body": b"{ }"}):
        args = {"origin": "o", "method": "POST", "target": "/api/executions", "body": body, **change}
        assert not verify_signature(sig, key.verifier(), **args)  # type: ignore[arg-type]
    assert not verify_signature(sig, generate_key("na-board-2").verifier(), origin="o", method="POST",
                                target="/api/executions", body=body)


@pytest.mark.parametrize(
    ("headers", "needle"),
    [
        ({}, "Naef-Signer: header missing"),
        ({"Naef-Signer": "a", "Naef-Timestamp": "1", "Naef-Nonce": "x" * 16}, "Naef-Signature: header missing"),
        ({"Naef-Signer": "a+b", "Naef-Timestamp": "1", "Naef-Nonce": "x" * 16, "Naef-Signature": "AA=="}, "name"),
        ({"Naef-Signer": "a", "Naef-Timestamp": "-1", "Naef-Nonce": "x" * 16, "Naef-Signature": "AA=="}, "Unix"),
        ({"Naef-Signer": "a", "Naef-Timestamp": "1", "Naef-Nonce": "x" * 15, "Naef-Signature": "AA=="}, "16 to 64"),
        ({"Naef-Signer": "a", "Naef-Timestamp": "1", "Naef-Nonce": "x" * 16, "Naef-Signature": "A"}, "base64"),
        ({"Naef-Signer": "a", "Naef-Timestamp": "1", "Naef-Nonce": "x" * 16, "Naef-Signature": "AA=="}, "64 bytes"),
    ],
)
def test_malformed_headers_name_the_header(headers: dict[str, str], needle: str) -> None:
    with pytest.raises(SigningError, match=needle) as info:
        parse_signature_headers(headers)
    assert info.value.status == 401


def test_replay_guard_freshness_and_single_use() -> None:
    guard = ReplayGuard(max_skew_s=300, started_at=1_000)
    guard.check_fresh(1_100, now=1_200)
    with pytest.raises(SigningError, match="more than 300 s"):
        guard.check_fresh(1_000, now=1_400)
    with pytest.raises(SigningError, match="more than 300 s"):
        guard.check_fresh(2_000, now=1_200)
    with pytest.raises(SigningError, match="before the server started"):
        guard.check_fresh(990, now=1_000)
    guard.remember("a", "n" * 16, 1_100, now=1_100)
    guard.remember("b", "n" * 16, 1_100, now=1_100)  # nonces are per signer
    with pytest.raises(SigningError, match="already used") as info:
        guard.remember("a", "n" * 16, 1_100, now=1_150)
    assert info.value.code == "replayed"
    guard.remember("a", "m" * 16, 1_500, now=1_500)  # expired pairs are forgotten (their window is over)
    assert ("a", "n" * 16) not in guard._seen


def test_replay_guard_is_bounded() -> None:
    guard = ReplayGuard(max_skew_s=300, max_entries=2, started_at=0)
    guard.remember("a", "1" * 16, 100, now=100)
    guard.remember("a", "2" * 16, 100, now=100)
    with pytest.raises(SigningError) as info:
        guard.remember("a", "3" * 16, 100, now=100)
    assert info.value.status == 429


def test_rate_limiter_token_bucket() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=2)
    limiter.take("k", what="x", now=0.0)
    limiter.take("k", what="x", now=0.0)
    with pytest.raises(SigningError, match="rate limit") as info:
        limiter.take("k", what="x", now=0.5)
    assert info.value.status == 429
    assert info.value.retry_after_s == 1
    limiter.take("other", what="x", now=0.5)  # buckets are per key
    limiter.take("k", what="x", now=1.01)  # one token a second comes back
    with pytest.raises(ValueError, match="rate_per_minute"):
        RateLimiter(rate_per_minute=0, burst=1)


def test_a_request_that_reaches_remember_after_its_window_is_stale_not_a_fresh_nonce() -> None:
    """Found in review: the nonce of a request is forgotten when its window ends; a replay that passed the
    freshness check at the window's edge and reaches ``remember`` just after must be refused, not accepted."""
    guard = ReplayGuard(max_skew_s=300, started_at=0)
    guard.remember("a", "n" * 16, 1_000, now=1_000)
    guard.check_fresh(1_000, now=1_300.0)  # still inside the window when the headers arrive
    with pytest.raises(SigningError, match="more than 300 s") as info:
        guard.remember("a", "n" * 16, 1_000, now=1_300.2)
    assert info.value.code == "stale"
