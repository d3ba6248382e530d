"""Authentication of the API's signed writes (propose, approve, execute): the ``signed_writer`` dependency over
:mod:`naef.web.signing` (RFC 9421 HTTP Message Signatures with Ed25519; docs/web.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from naef.web.config import ApiError
from naef.web.csrf import normalise_origin
from naef.web.deps import client_address, web_state
from naef.web.signing import ALGORITHM, SigningError, parse_signature_headers, verify_signature

__all__ = ["Signer", "Writer", "signed_writer", "target_uri"]


class Signer(BaseModel):
    name: str
    role: str


def target_uri(request: Request, public_url: str | None) -> str:
    """The request's ``@target-uri`` as this server knows itself (RFC 9421 §2.2.2): the configured public URL's
    scheme and authority (behind a proxy), else the connection's scheme and the ``Host`` header; then the path
    and query exactly as received."""
    own = normalise_origin(public_url) if public_url else None
    base = f"{own[0]}://{own[1]}" if own else f"{request.url.scheme}://{request.headers.get('host', '')}"
    raw_path = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    uri = base + raw_path.decode("latin-1")
    query = request.scope.get("query_string", b"")
    return uri + ("?" + query.decode("latin-1") if query else "")


async def signed_writer(request: Request) -> Signer:
    """Authenticate a write request (``naef.web.signing``): address rate limit, RFC 9421 headers, time window,
    registered key, Ed25519 signature over the signature base and the body's Content-Digest (verified by
    ``http-message-signatures``), single-use nonce, per-signer rate limit."""
    state = web_state(request)
    view = state.require_ledger()
    try:
        state.write_limiter.take(f"ip:{client_address(request)}", what="signed writes from this address")
        sig = parse_signature_headers(dict(request.headers))
        state.replay.check_fresh(sig.created, sig.expires)
        try:
            key, role = await run_in_threadpool(view.signer_key, sig.signer)
        except ApiError as exc:  # an unknown signer is unauthenticated like the rest: same header
            raise SigningError(exc.message, code=exc.code, status=exc.status) from None
        body = await request.body()
        verify_signature(sig, key, origin=view.origin, method=request.method,
                         url=target_uri(request, state.config.public_url),
                         header_lines=list(request.headers.items()), body=body)
        state.replay.remember(sig.signer, sig.nonce, sig.created, sig.expires)
        state.write_limiter.take(f"signer:{sig.signer}", what=f"signed writes by {sig.signer}")
    except SigningError as exc:
        headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s is not None else {}
        if exc.status == 401:
            headers["WWW-Authenticate"] = f'Signature realm="naef", alg="{ALGORITHM}"'
        raise ApiError(exc.status, exc.code, exc.message, headers=headers) from None
    return Signer(name=sig.signer, role=role)


Writer = Annotated[Signer, Depends(signed_writer)]
