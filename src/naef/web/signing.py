"""Signed requests for the web API's write endpoints: RFC 9421 HTTP Message Signatures (Ed25519), with replay
protection.

Who may write
    Only a stakeholder registered in the ledger's governance (``governance_registered``, see
    :mod:`naef.ledger.governance`). There are no passwords and no sessions: every write request carries its own
    signature, made on the signer's machine with the stakeholder's Ed25519 key (the same ``PRIVATE+KEY+...`` key
    that signs approvals). The server only ever holds public keys.

The format: RFC 9421 (HTTP Message Signatures) with RFC 9530 ``Content-Digest``
    A signed request carries three headers, as any RFC 9421 client writes them (``docs/web.md`` has a recipe with
    ``requests-http-signature``)::

        Content-Digest: sha-256=:<base64 SHA-256 of the exact body bytes>:
        Signature-Input: naef=("@method" "@target-uri" "content-digest");created=1795910400;
            expires=1795910700;nonce="3q2-7wX0Fh1uYk2h4Lx9Aw";keyid="na-board-2";alg="ed25519";
            tag="demo.naef.example/log"
        Signature: naef=:<base64 of the 64-byte Ed25519 signature over the signature base>:

    * exactly one signature (any label); algorithm ``ed25519`` (RFC 9421 §3.3.6: RFC 8032 Ed25519 over the
      signature base, §2.5);
    * covered components: at least ``@method``, ``@target-uri`` (scheme, authority, path and query as the client
      sent them — behind a proxy, the server's configured public URL) and ``content-digest``; more may be covered;
    * parameters: ``keyid`` (the stakeholder's name), ``created`` and ``expires`` (Unix seconds), ``nonce``
      (16 to 64 characters from ``[A-Za-z0-9_-]``, fresh for every request), ``tag`` (the ledger's origin, its
      log key name: binds the signature to one ledger) and optionally ``alg="ed25519"``; no others.

    The signature base and its verification (and the ``Content-Digest`` check against the body received) are the
    ``http-message-signatures`` library's, not code of ours; this module decides policy around it: which
    components and parameters are required, the time window, the replay guard, the key.

    Domain separation: an RFC 9421 signature base starts with a quoted component name (``"@method": POST``),
    never with ``naef disbursement proposal v1`` / ``naef disbursement approval v1`` (the contexts of proposal and
    approval signatures, :mod:`naef.ledger.approvals`) nor with a checkpoint's origin line followed by a decimal
    size, so a request signature can never be passed off as an approval or a checkpoint signature, nor the
    reverse.

Replay protection (:class:`ReplayGuard`)
    * ``created`` must be within ``max_skew_s`` (default 300 s) of the server's clock and not earlier than the
      moment the server started; ``expires`` must be after ``created``, at most ``max_skew_s`` after it, and not
      past (so the nonce memory below covers every request the server could accept);
    * a (signer, nonce) pair is accepted once: the server remembers it until the request expires;
    * the nonce is remembered only after the signature verified, so nobody can burn another signer's nonces.

    The nonce memory lives in the server process; the processes of one ``naef serve --workers N`` share it
    (:class:`naef.web.shared.SharedReplayGuard`). Behind two separate servers, a replayed request could reach
    the other within the window — the ledger's own rules would still refuse a replayed approval (and record the
    refusal), a second proposal with the same id, and a second execution, so no money moves twice.

All functions here are pure except :class:`ReplayGuard` and :class:`RateLimiter` (in-memory, thread-safe state).
"""

from __future__ import annotations

import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    MappingKeyResolver,
    algorithms,
)

from naef.errors import NaefError
from naef.ledger.keys import SignerKey, VerifierKey

__all__ = [
    "ALGORITHM",
    "HEADER_CONTENT_DIGEST",
    "HEADER_SIGNATURE",
    "HEADER_SIGNATURE_INPUT",
    "REQUIRED_COMPONENTS",
    "SCHEME",
    "SIGNATURE_LABEL",
    "RateLimiter",
    "ReplayGuard",
    "RequestSignature",
    "SigningError",
    "new_nonce",
    "parse_signature_headers",
    "sign_request",
    "verify_signature",
]

SCHEME = "RFC 9421 HTTP Message Signatures, ed25519, Content-Digest (RFC 9530)"
ALGORITHM = "ed25519"
SIGNATURE_LABEL = "naef"
"""The label naef's own clients use (any single label is accepted)."""
REQUIRED_COMPONENTS = ("@method", "@target-uri", "content-digest")
HEADER_SIGNATURE_INPUT = "Signature-Input"
HEADER_SIGNATURE = "Signature"
HEADER_CONTENT_DIGEST = "Content-Digest"

_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_PARAMS = frozenset({"created", "expires", "nonce", "keyid", "tag", "alg"})
_NAME_MAX = 200
_MAX_COMPONENTS = 16


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


def new_nonce() -> str:
    """A fresh random nonce (22 URL-safe base64 characters, 128 bits)."""
    return secrets.token_urlsafe(16)


@dataclass
class _Message:
    """The request view ``http-message-signatures`` reads: method, absolute URL, header field lines."""

    method: str
    url: str
    headers: Any


class _FieldLines:
    """Read-only header field lines in wire order (repeated names kept), for verification."""

    def __init__(self, lines: Iterable[tuple[str, str]]) -> None:
        self._lines = list(lines)

    def items(self) -> list[tuple[str, str]]:
        return list(self._lines)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self._lines))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(n.lower() == name.lower() for n, _ in self._lines)


def sign_request(
    key: SignerKey,
    *,
    origin: str,
    method: str,
    url: str,
    body: bytes = b"",
    created: int | None = None,
    expires_in_s: int = 300,
    nonce: str | None = None,
) -> dict[str, str]:
    """Client side: the ``Content-Digest``, ``Signature-Input`` and ``Signature`` headers of a request to the
    absolute ``url``, signed with ``key`` (``keyid`` = the key's name, ``tag`` = the ledger's ``origin``)."""
    t = int(time.time()) if created is None else created
    headers: dict[str, str] = {}
    private = Ed25519PrivateKey.from_private_bytes(key.seed)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key.name: private}),
    )
    try:
        signer.sign(
            _Message(method.upper(), url, headers),
            key_id=key.name,
            created=datetime.fromtimestamp(t, UTC),
            expires=datetime.fromtimestamp(t + expires_in_s, UTC),
            nonce=new_nonce() if nonce is None else nonce,
            label=SIGNATURE_LABEL,
            tag=origin,
            covered_component_ids=("@method", "@target-uri"),
            body=body,
        )
    except HTTPMessageSignaturesException as exc:
        raise SigningError(f"request: cannot be signed ({exc})", code="malformed") from None
    return headers


@dataclass(frozen=True)
class RequestSignature:
    """The parsed ``Signature-Input`` / ``Signature`` of one request (not yet verified)."""

    label: str
    signer: str
    created: int
    expires: int
    nonce: str
    tag: str
    components: tuple[str, ...]
    signature: bytes = field(repr=False)

    @property
    def timestamp(self) -> int:
        """``created`` (the moment the window is counted from)."""
        return self.created


def _bad(message: str) -> SigningError:
    return SigningError(message, code="malformed")


def _one_member(value: str, header: str) -> tuple[str, Any]:
    try:
        parsed = http_sf.parse(value.encode("latin-1"), tltype="dictionary")
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise _bad(f"{header}: not an RFC 8941 dictionary ({exc})") from None
    if not isinstance(parsed, dict) or len(parsed) != 1:
        n = len(parsed) if isinstance(parsed, dict) else 0
        raise _bad(f"{header}: exactly one signature expected, got {n}")
    ((label, member),) = parsed.items()
    return str(label), member


def parse_signature_headers(headers: Mapping[str, str]) -> RequestSignature:
    """Read and check the form of ``Signature-Input`` and ``Signature`` (module docstring); raise
    :class:`SigningError` (``unsigned`` or ``malformed``) naming the header and the rule."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in (HEADER_SIGNATURE_INPUT, HEADER_SIGNATURE):
        if not lowered.get(name.lower()):
            raise SigningError(
                f"{name}: header missing (write requests must carry an RFC 9421 signature; see docs/web.md)",
                code="unsigned",
            )
    label, (inner, params) = _one_member(lowered["signature-input"], HEADER_SIGNATURE_INPUT)
    sig_label, (sig_value, _) = _one_member(lowered["signature"], HEADER_SIGNATURE)
    if sig_label != label:
        raise _bad(f"{HEADER_SIGNATURE}: label {sig_label!r} is not the Signature-Input's {label!r}")
    if not isinstance(sig_value, bytes) or len(sig_value) != 64:
        raise _bad(f"{HEADER_SIGNATURE}: an Ed25519 signature is a byte sequence of 64 bytes")
    if not isinstance(inner, list) or len(inner) > _MAX_COMPONENTS:
        raise _bad(f"{HEADER_SIGNATURE_INPUT}: covered components must be an inner list (at most {_MAX_COMPONENTS})")
    components: list[str] = []
    for value, cparams in inner:
        if not isinstance(value, str) or cparams:
            raise _bad(f"{HEADER_SIGNATURE_INPUT}: covered components must be plain strings without parameters")
        components.append(value)
    missing = [c for c in REQUIRED_COMPONENTS if c not in components]
    if missing:
        raise _bad(f"{HEADER_SIGNATURE_INPUT}: must cover {', '.join(REQUIRED_COMPONENTS)} (missing "
                   f"{', '.join(missing)})")
    unknown = sorted(set(params) - _PARAMS)
    if unknown:
        raise _bad(f"{HEADER_SIGNATURE_INPUT}: unexpected parameter {unknown[0]!r}")
    for name, kind in (("keyid", str), ("created", int), ("expires", int), ("nonce", str), ("tag", str)):
        v = params.get(name)
        if v is None or type(v) is not kind:
            what = "an integer" if kind is int else "a string"
            raise _bad(f"{HEADER_SIGNATURE_INPUT}: parameter {name} is required and must be {what}")
    if params.get("alg", ALGORITHM) != ALGORITHM:
        raise _bad(f"{HEADER_SIGNATURE_INPUT}: alg must be {ALGORITHM!r}")
    signer = params["keyid"]
    if not 0 < len(signer) <= _NAME_MAX or not signer.isprintable() or any(c.isspace() or c == "+" for c in signer):
        raise _bad(f"{HEADER_SIGNATURE_INPUT}: keyid is not a stakeholder name")
    if not _NONCE.match(params["nonce"]):
        raise _bad(f"{HEADER_SIGNATURE_INPUT}: nonce must be 16 to 64 characters from A-Z a-z 0-9 _ -")
    if not 0 <= params["created"] < 2**40 or not 0 <= params["expires"] < 2**40:
        raise _bad(f"{HEADER_SIGNATURE_INPUT}: created and expires must be Unix seconds")
    return RequestSignature(label, signer, params["created"], params["expires"], params["nonce"], params["tag"],
                            tuple(components), sig_value)


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(self, key_id: str, public_key: Ed25519PublicKey) -> None:
        self._key_id = key_id
        self._public_key = public_key

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self._public_key if key_id == self._key_id else None

    def resolve_private_key(self, key_id: str) -> Any:  # pragma: no cover - verification only
        raise KeyError(key_id)


class _Verifier(HTTPMessageVerifier):
    """The library's verifier; the time window is ours (:class:`ReplayGuard`, checked before), so its own
    created/expires tolerance is set wide enough never to disagree."""

    max_clock_skew = timedelta(days=1)


def verify_signature(
    sig: RequestSignature,
    key: VerifierKey,
    *,
    origin: str,
    method: str,
    url: str,
    header_lines: Sequence[tuple[str, str]],
    body: bytes,
) -> None:
    """Verify ``sig`` with ``key`` over the request the server received (``url`` absolute: the target URI as the
    server knows itself), its ``Content-Digest`` against ``body``; raise :class:`SigningError`
    (``bad_signature``) saying why not."""
    if sig.tag != origin:
        raise SigningError(
            f"{HEADER_SIGNATURE_INPUT}: tag {sig.tag[:80]!r} is not this ledger's origin {origin!r} "
            "(a signature for another ledger)",
            code="bad_signature",
        )
    verifier = _Verifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=_OneKey(sig.signer, Ed25519PublicKey.from_public_bytes(key.public_key)),
    )
    try:
        verifier.verify(
            _Message(method.upper(), url, _FieldLines(header_lines)),
            max_age=None,
            expect_tag=origin,
            require_components=REQUIRED_COMPONENTS,
            body=body,
        )
    except (HTTPMessageSignaturesException, ValueError, TypeError, UnicodeError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise SigningError(
            f"{HEADER_SIGNATURE}: does not verify with {sig.signer}'s registered key over {method.upper()} "
            f"{url} ({reason})",
            code="bad_signature",
        ) from None


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

    def check_fresh(self, created: int, expires: int | None = None, *, now: float | None = None) -> None:
        """Refuse a ``created`` outside ``[now - skew, now + skew]`` or before the server started, and an
        ``expires`` not after ``created``, more than ``skew`` after it, or past."""
        t = time.time() if now is None else now
        if abs(created - t) > self.max_skew_s:
            raise SigningError(
                f"{HEADER_SIGNATURE_INPUT}: created {created} is more than {self.max_skew_s} s from the server's "
                f"clock ({int(t)}); sign again with the current time",
                code="stale",
            )
        if created < self.started_at:
            raise SigningError(
                f"{HEADER_SIGNATURE_INPUT}: created {created} is before the server started ({self.started_at}); "
                "sign again",
                code="stale",
            )
        if expires is not None:
            if not created < expires <= created + self.max_skew_s:
                raise SigningError(
                    f"{HEADER_SIGNATURE_INPUT}: expires {expires} must be after created {created} and at most "
                    f"{self.max_skew_s} s later",
                    code="stale",
                )
            if expires < t:
                raise SigningError(
                    f"{HEADER_SIGNATURE_INPUT}: expired at {expires} (server clock {int(t)}); sign again",
                    code="stale",
                )

    def remember(self, signer: str, nonce: str, created: int, expires: int | None = None, *,
                 now: float | None = None) -> None:
        """Record a verified (signer, nonce) until the request expires; refuse it if it was seen before (a
        replay)."""
        t = time.time() if now is None else now
        until = created + self.max_skew_s if expires is None else min(expires, created + self.max_skew_s)
        with self._lock:
            while self._seen:
                key, expiry = next(iter(self._seen.items()))
                if expiry >= t:
                    break
                del self._seen[key]
            if until < t:
                # checked again here, under the lock and with this clock reading: a request that passed
                # check_fresh but arrives here after its window could otherwise replay a nonce already forgotten
                raise SigningError(
                    f"{HEADER_SIGNATURE_INPUT}: the request's window ended at {until} (server clock {int(t)}); "
                    "sign again with the current time",
                    code="stale",
                )
            pair = (signer, nonce)
            if pair in self._seen:
                raise SigningError(
                    f"{HEADER_SIGNATURE_INPUT}: nonce already used by {signer} (replayed request)", code="replayed"
                )
            if len(self._seen) >= self.max_entries:
                raise SigningError("too many signed requests in the window; retry later", code="busy", status=429,
                                   retry_after_s=self.max_skew_s)
            self._seen[pair] = until
            # entries are appended in arrival order; expiries are close to monotone (within the skew)
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
