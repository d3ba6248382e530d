"""Signed requests for the web API's write endpoints: Ed25519 over the canonical request, with replay protection.

Who may write
    Only a stakeholder registered in the ledger's governance (``governance_registered``, see
    :mod:`naef.ledger.governance`). There are no passwords and no sessions: every write request carries its own
    signature, made on the signer's machine with the stakeholder's Ed25519 key (the same ``PRIVATE+KEY+...`` key
    that signs approvals). The server only ever holds public keys.

The canonical request (``naef web request v1``)
    The UTF-8 bytes of eight lines, each ending in ``\\n``::

        naef web request v1
        <origin>            the ledger's origin (its log key name): binds the request to one ledger
        <METHOD>            upper case, e.g. POST
        <target>            the request target as sent: percent-encoded path, plus "?" and the query if any
        <body sha256>       lower-case hex SHA-256 of the exact body bytes (of b"" when there is no body)
        <timestamp>         Unix time in whole seconds, decimal
        <nonce>             16 to 64 characters from [A-Za-z0-9_-], fresh for every request
        <signer>            the stakeholder's name (equal to the name in its key)

    The signature is RFC 8032 Ed25519 over those bytes, sent base64-encoded (standard alphabet, 64 bytes once
    decoded) in four headers: ``Naef-Signer``, ``Naef-Timestamp``, ``Naef-Nonce``, ``Naef-Signature``.

    Domain separation: the first line differs from the contexts of proposal and approval signatures
    (``naef disbursement proposal v1`` / ``naef disbursement approval v1``, :mod:`naef.ledger.approvals`) and
    from any checkpoint note (whose first line is the log's origin, never ``naef web request v1``), so a request
    signature can never be passed off as an approval, and the reverse.

Replay protection (:class:`ReplayGuard`)
    * the timestamp must be within ``max_skew_s`` (default 300 s) of the server's clock, and not earlier than the
      moment the server started (so the nonce memory below covers every request it could accept);
    * a (signer, nonce) pair is accepted once: the server remembers it until the timestamp has left the window;
    * the nonce is remembered only after the signature verified, so nobody can burn another signer's nonces.

    The nonce memory lives in the server process: run one process per ledger (``naef serve`` does). Behind
    several processes, a replayed request could reach another process within the window — the ledger's own
    rules would still refuse a replayed approval (and record the refusal), a second proposal with the same id,
    and a second execution, so no money moves twice.

All functions here are pure except :class:`ReplayGuard` and :class:`RateLimiter` (in-memory, thread-safe state).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from naef.errors import NaefError
from naef.ledger.keys import SignerKey, VerifierKey

__all__ = [
    "HEADER_NONCE",
    "HEADER_SIGNATURE",
    "HEADER_SIGNER",
    "HEADER_TIMESTAMP",
    "REQUEST_CONTEXT",
    "RateLimiter",
    "ReplayGuard",
    "RequestSignature",
    "SigningError",
    "canonical_request",
    "new_nonce",
    "parse_signature_headers",
    "sign_request",
    "verify_signature",
]

REQUEST_CONTEXT = "naef web request v1"
HEADER_SIGNER = "Naef-Signer"
HEADER_TIMESTAMP = "Naef-Timestamp"
HEADER_NONCE = "Naef-Nonce"
HEADER_SIGNATURE = "Naef-Signature"

_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_NAME_MAX = 200


class SigningError(NaefError):
    """A write request whose signature headers are missing, malformed, stale, replayed or do not verify.

    ``status`` is the HTTP status the API answers with (401 unauthenticated, 429 rate-limited); ``code`` a
    machine-readable reason.
    """

    def __init__(self, message: str, *, code: str, status: int = 401, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.retry_after_s = retry_after_s


def body_sha256(body: bytes) -> str:
    """Lower-case hex SHA-256 of the request body (of ``b""`` for no body)."""
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    *, origin: str, method: str, target: str, body: bytes, timestamp: int, nonce: str, signer: str
) -> bytes:
    """The bytes a client signs (module docstring): eight ``\\n``-terminated lines, UTF-8."""
    for what, value in (("origin", origin), ("target", target), ("nonce", nonce), ("signer", signer)):
        if "\n" in value or "\r" in value:
            raise SigningError(f"{what}: must not contain a line break", code="malformed")
    lines = (REQUEST_CONTEXT, origin, method.upper(), target, body_sha256(body), str(timestamp), nonce, signer)
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def new_nonce() -> str:
    """A fresh random nonce (22 URL-safe base64 characters, 128 bits)."""
    return secrets.token_urlsafe(16)


def sign_request(
    key: SignerKey,
    *,
    origin: str,
    method: str,
    target: str,
    body: bytes = b"",
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Client side: the four headers of a request signed with ``key`` (the signer is the key's name)."""
    ts = int(time.time()) if timestamp is None else timestamp
    n = new_nonce() if nonce is None else nonce
    message = canonical_request(
        origin=origin, method=method, target=target, body=body, timestamp=ts, nonce=n, signer=key.name
    )
    return {
        HEADER_SIGNER: key.name,
        HEADER_TIMESTAMP: str(ts),
        HEADER_NONCE: n,
        HEADER_SIGNATURE: base64.b64encode(key.sign(message)).decode("ascii"),
    }


@dataclass(frozen=True)
class RequestSignature:
    """The parsed signature headers of one request."""

    signer: str
    timestamp: int
    nonce: str
    signature: bytes


def parse_signature_headers(headers: Mapping[str, str]) -> RequestSignature:
    """Read and check the form of the four headers; raise :class:`SigningError` naming the bad header."""
    lowered = {k.lower(): v for k, v in headers.items()}
    values: dict[str, str] = {}
    for name in (HEADER_SIGNER, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE):
        value = lowered.get(name.lower())
        if value is None or value == "":
            raise SigningError(
                f"{name}: header missing (write requests must be signed; see docs/web.md)", code="unsigned"
            )
        values[name] = value
    signer = values[HEADER_SIGNER]
    if len(signer) > _NAME_MAX or not signer.isprintable() or any(c.isspace() or c == "+" for c in signer):
        raise SigningError(f"{HEADER_SIGNER}: not a stakeholder name", code="malformed")
    if not _TIMESTAMP.match(values[HEADER_TIMESTAMP]):
        raise SigningError(f"{HEADER_TIMESTAMP}: must be Unix seconds (decimal digits)", code="malformed")
    nonce = values[HEADER_NONCE]
    if not _NONCE.match(nonce):
        raise SigningError(f"{HEADER_NONCE}: must be 16 to 64 characters from A-Z a-z 0-9 _ -", code="malformed")
    try:
        raw = base64.b64decode(values[HEADER_SIGNATURE].encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise SigningError(f"{HEADER_SIGNATURE}: not standard base64", code="malformed") from None
    if len(raw) != 64:
        raise SigningError(f"{HEADER_SIGNATURE}: an Ed25519 signature has 64 bytes, got {len(raw)}", code="malformed")
    return RequestSignature(signer, int(values[HEADER_TIMESTAMP]), nonce, raw)


def verify_signature(
    sig: RequestSignature, key: VerifierKey, *, origin: str, method: str, target: str, body: bytes
) -> bool:
    """Does ``sig`` verify with ``key`` over the canonical request built from what the server received?"""
    message = canonical_request(
        origin=origin, method=method, target=target, body=body, timestamp=sig.timestamp, nonce=sig.nonce,
        signer=sig.signer,
    )
    return key.verify_raw(message, sig.signature)


class ReplayGuard:
    """Freshness window and single use of (signer, nonce) pairs (module docstring).

    ``check_fresh`` runs before the signature check (cheap); ``remember`` after it verified, and refuses a pair
    seen before. Memory is bounded: pairs expire with their window, and at most ``max_entries`` are kept (when
    full, new requests are refused with 429 rather than forgetting pairs that are still in their window).
    """

    def __init__(self, *, max_skew_s: int = 300, max_entries: int = 200_000, started_at: float | None = None) -> None:
        self.max_skew_s = max_skew_s
        self.max_entries = max_entries
        self.started_at = int(time.time() if started_at is None else started_at)
        self._seen: OrderedDict[tuple[str, str], int] = OrderedDict()  # (signer, nonce) -> expiry (s)
        self._lock = threading.Lock()

    def check_fresh(self, timestamp: int, *, now: float | None = None) -> None:
        """Refuse a timestamp outside ``[now - skew, now + skew]`` or before the server started."""
        t = time.time() if now is None else now
        if abs(timestamp - t) > self.max_skew_s:
            raise SigningError(
                f"{HEADER_TIMESTAMP}: {timestamp} is more than {self.max_skew_s} s from the server's clock "
                f"({int(t)}); sign again with the current time",
                code="stale",
            )
        if timestamp < self.started_at:
            raise SigningError(
                f"{HEADER_TIMESTAMP}: {timestamp} is before the server started ({self.started_at}); sign again",
                code="stale",
            )

    def remember(self, signer: str, nonce: str, timestamp: int, *, now: float | None = None) -> None:
        """Record a verified (signer, nonce); refuse it if it was seen before (a replay)."""
        t = time.time() if now is None else now
        with self._lock:
            while self._seen:
                key, expiry = next(iter(self._seen.items()))
                if expiry >= t:
                    break
                del self._seen[key]
            if timestamp + self.max_skew_s < t:
                # checked again here, under the lock and with this clock reading: a request that passed
                # check_fresh but arrives here after its window could otherwise replay a nonce already forgotten
                raise SigningError(
                    f"{HEADER_TIMESTAMP}: {timestamp} is more than {self.max_skew_s} s from the server's clock "
                    f"({int(t)}); sign again with the current time",
                    code="stale",
                )
            pair = (signer, nonce)
            if pair in self._seen:
                raise SigningError(
                    f"{HEADER_NONCE}: this nonce was already used by {signer} (replayed request)", code="replayed"
                )
            if len(self._seen) >= self.max_entries:
                raise SigningError("too many signed requests in the window; retry later", code="busy", status=429,
                                   retry_after_s=self.max_skew_s)
            self._seen[pair] = timestamp + self.max_skew_s
            # entries are appended in arrival order; expiries are close to monotone (timestamps within the skew)
            self._seen.move_to_end(pair)


class RateLimiter:
    """Token buckets by key: ``rate_per_minute`` tokens a minute, at most ``burst`` saved up.

    ``take(key)`` spends one token or raises :class:`SigningError` with status 429 and the seconds to wait. Buckets
    that are full again are forgotten, so memory stays bounded by the keys active in the last
    ``burst / rate`` minutes (and at most ``max_keys``).
    """

    def __init__(self, *, rate_per_minute: float, burst: int, max_keys: int = 100_000) -> None:
        if rate_per_minute <= 0 or burst < 1:
            raise ValueError("rate_per_minute must be > 0 and burst >= 1")
        self.rate_per_s = rate_per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str, *, what: str, now: float | None = None) -> None:
        """Spend one token of ``key``'s bucket (``what`` names the limit in the error message)."""
        t = time.monotonic() if now is None else now
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, t))
            tokens = min(self.burst, tokens + (t - at) * self.rate_per_s)
            if tokens < 1.0:
                self._buckets[key] = (tokens, t)
                wait = math.ceil((1.0 - tokens) / self.rate_per_s)
                raise SigningError(
                    f"{what}: rate limit of {self.rate_per_s * 60:g} requests a minute exceeded; retry in {wait} s",
                    code="rate_limited",
                    status=429,
                    retry_after_s=wait,
                )
            self._buckets[key] = (tokens - 1.0, t)
            full_after = self.burst / self.rate_per_s
            while self._buckets:
                k, (_, seen) = next(iter(self._buckets.items()))
                if t - seen < full_after and len(self._buckets) <= self.max_keys:
                    break
                del self._buckets[k]
