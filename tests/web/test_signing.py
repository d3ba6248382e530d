"""The request-signing scheme (RFC 9421 HTTP Message Signatures, Ed25519, RFC 9530 Content-Digest): the RFC's
own Ed25519 example, the signature base built by hand from the RFC, signatures checked with ``cryptography``
directly, header policy, freshness, single use, rate limits."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from naef.demo import demo_key
from naef.ledger import generate_key
from naef.web.signing import (
    RateLimiter,
    ReplayGuard,
    SigningError,
    _FieldLines,
    _Message,
    _Verifier,
    parse_signature_headers,
    sign_request,
    verify_signature,
)

# RFC 9421 Appendix B.1.4 (test-key-ed25519, JWK "d" and "x") and B.2.6 (a request and its Ed25519 signature)
RFC_D = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU="
RFC_X = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs="
RFC_HEADERS = [
    ("Host", "example.com"),
    ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
    ("Content-Type", "application/json"),
    ("Content-Digest",
     "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"),
    ("Content-Length", "18"),
    ("Signature-Input", 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");'
                        'created=1618884473;keyid="test-key-ed25519"'),
    ("Signature", "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"),
]
ORIGIN = "demo.naef.example/log"
URL = "https://fund.example/api/executions"


def test_the_verifier_naef_uses_reproduces_rfc_9421_b26() -> None:
    from http_message_signatures import MappingKeyResolver, algorithms

    public = Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(RFC_D)).public_key()
    assert public.public_bytes_raw() == base64.urlsafe_b64decode(RFC_X)
    verifier = _Verifier(signature_algorithm=algorithms.ED25519,
                         key_resolver=MappingKeyResolver(public_keys={"test-key-ed25519": public}, private_keys={}))
    message = _Message("POST", "https://example.com/foo?param=Value&Pet=dog", _FieldLines(RFC_HEADERS))
    (result,) = verifier.verify(message, max_age=None)  # B.2.6 covers content-length, not the digest
    assert result.label == "sig-b26"
    tampered = _Message("PUT", "https://example.com/foo?param=Value&Pet=dog", _FieldLines(RFC_HEADERS))
    from http_message_signatures import InvalidSignature

    with pytest.raises(InvalidSignature):
        verifier.verify(tampered, max_age=None)


def test_signature_base_built_by_hand_from_the_rfc_verifies_with_cryptography() -> None:
    key = demo_key("na-board-2")
    body = b'{"proposal_id":"MDF-0001"}'
    t = int(time.time())  # the library refuses an expired signature whatever the policy around it
    h = sign_request(key, origin=ORIGIN, method="post", url=URL, body=body, created=t, expires_in_s=300,
                     nonce="B" * 22)
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert h["Content-Digest"] == f"sha-256=:{digest}:"  # RFC 9530 §2
    params = (f'("@method" "@target-uri" "content-digest");created={t};keyid="na-board-2";alg="ed25519";'
              f'expires={t + 300};nonce="{"B" * 22}";tag="{ORIGIN}"')
    assert h["Signature-Input"] == f"naef={params}"
    base = (f'"@method": POST\n"@target-uri": {URL}\n"content-digest": sha-256=:{digest}:\n'
            f'"@signature-params": {params}')  # RFC 9421 §2.5
    raw = base64.b64decode(h["Signature"].removeprefix("naef=:").removesuffix(":"))
    Ed25519PublicKey.from_public_bytes(key.public_key).verify(raw, base.encode())  # not naef's verifier
    sig = parse_signature_headers(h)
    assert (sig.signer, sig.created, sig.expires, sig.nonce, sig.tag) == ("na-board-2", t, t + 300, "B" * 22,
                                                                         ORIGIN)
    lines = list(h.items())
    verify_signature(sig, key.verifier(), origin=ORIGIN, method="POST", url=URL, header_lines=lines, body=body)
    for change in ({"origin": "other.example/log"}, {"method": "PUT"}, {"url": "https://fund.example/api/approvals"},
                   {"url": "http://fund.example/api/executions"}, {"body": b"{ }"}):
        args = {"origin": ORIGIN, "method": "POST", "url": URL, "body": body, **change}
        with pytest.raises(SigningError) as info:
            verify_signature(sig, key.verifier(), header_lines=lines, **args)  # type: ignore[arg-type]
        assert info.value.code == "bad_signature"
    with pytest.raises(SigningError, match="does not verify"):
        verify_signature(sig, generate_key("na-board-2").verifier(), origin=ORIGIN, method="POST", url=URL,
                         header_lines=lines, body=body)


def _input(inner: str = '("@method" "@target-uri" "content-digest")', **params: object) -> dict[str, str]:
    p = {"created": 1, "expires": 2, "keyid": '"a"', "nonce": '"' + "x" * 16 + '"', "tag": '"o"', **params}
    tail = "".join(f";{k}={v}" for k, v in p.items() if v is not None)
    return {"Signature-Input": f"s={inner}{tail}",
            "Signature": "s=:" + base64.b64encode(bytes(64)).decode() + ":"}


@pytest.mark.parametrize(
    ("headers", "needle"),
    [
        ({}, "Signature-Input: header missing"),
        ({"Signature-Input": _input()["Signature-Input"]}, "Signature: header missing"),
        ({**_input(), "Signature-Input": "s=(((("}, "not an RFC 8941 dictionary"),
        ({**_input(), "Signature-Input": _input()["Signature-Input"] + ", t=()"}, "exactly one signature"),
        ({**_input(), "Signature": "t=:" + base64.b64encode(bytes(64)).decode() + ":"}, "label"),
        ({**_input(), "Signature": "s=:AAAA:"}, "64 bytes"),
        (_input('("@method" "@target-uri")'), "missing content-digest"),
        (_input('("@method" "content-digest")'), "missing @target-uri"),
        (_input('("@method" "@target-uri" "content-digest";key="sha-256")'), "without parameters"),
        (_input(keyid=None), "keyid is required"),
        (_input(created=None), "created is required"),
        (_input(expires=None), "expires is required"),
        (_input(nonce=None), "nonce is required"),
        (_input(tag=None), "tag is required"),
        (_input(created='"1"'), "created is required and must be an integer"),
        (_input(keyid='"a+b"'), "keyid is not a stakeholder name"),
        (_input(nonce='"short"'), "16 to 64"),
        (_input(alg='"rsa-pss-sha512"'), "alg must be"),
        (_input(color='"blue"'), "unexpected parameter 'color'"),
    ],
)
def test_malformed_headers_name_the_header(headers: dict[str, str], needle: str) -> None:
    with pytest.raises(SigningError, match=needle) as info:
        parse_signature_headers(headers)
    assert info.value.status == 401
    assert info.value.code == ("unsigned" if "missing" in needle and "header" in needle else "malformed")
    assert "\n" not in info.value.message


def test_nothing_outside_the_json_body_changes_what_is_signed() -> None:
    key = demo_key("na-board-2")
    body = json.dumps({"proposal_id": "MDF-0001"}).encode()
    h = sign_request(key, origin=ORIGIN, method="POST", url=URL, body=body)
    sig = parse_signature_headers(h)
    # a header the signature does not cover may change (a proxy adds one); a covered one may not
    verify_signature(sig, key.verifier(), origin=ORIGIN, method="POST", url=URL,
                     header_lines=[*h.items(), ("X-Forwarded-For", "10.0.0.1")], body=body)
    other_digest = "sha-256=:" + base64.b64encode(hashlib.sha256(b"{}").digest()).decode() + ":"
    with pytest.raises(SigningError, match="does not verify"):
        verify_signature(sig, key.verifier(), origin=ORIGIN, method="POST", url=URL,
                         header_lines=[*((k, v) for k, v in h.items() if k != "Content-Digest"),
                                       ("Content-Digest", other_digest)], body=b"{}")


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
    with pytest.raises(SigningError, match="window ended") as info:
        guard.remember("a", "n" * 16, 1_000, now=1_300.2)
    assert info.value.code == "stale"


def test_expires_bounds_the_window_and_the_nonce_memory() -> None:
    guard = ReplayGuard(max_skew_s=300, started_at=0)
    guard.check_fresh(1_000, 1_300, now=1_100)
    for expires, needle in ((1_000, "must be after created"), (1_301, "at most 300 s later"),
                            (1_050, "expired at 1050")):
        with pytest.raises(SigningError, match=needle) as info:
            guard.check_fresh(1_000, expires, now=1_100)
        assert info.value.code == "stale"
    guard.remember("a", "n" * 16, 1_000, 1_060, now=1_010)
    guard.remember("b", "m" * 16, 1_100, now=1_100)  # at 1_100 the first pair (expired at 1_060) is forgotten
    assert ("a", "n" * 16) not in guard._seen
    with pytest.raises(SigningError, match="window ended"):
        guard.remember("a", "n" * 16, 1_000, 1_060, now=1_061)
