"""Authentication of the API's signed writes (propose, approve, execute): the ``signed_writer`` dependency over
:mod:`naef.web.signing` (RFC 9421 HTTP Message Signatures with Ed25519; docs/web.md)."""

from __future__ import annotations

import email.message
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from naef.web.config import ApiError
from naef.web.csrf import normalise_origin
from naef.web.deps import client_address, web_state
from naef.web.signing import ALGORITHM, SigningError, parse_signature_headers, verify_signature
from naef.web.state import WebState

__all__ = ["SignedWrite", "Signer", "Writer", "signed_write", "signed_writer", "target_uri"]

_Body = TypeVar("_Body", bound=BaseModel)
_Result = TypeVar("_Result")


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
    ``http-message-signatures``), single-use nonce, per-signer rate limit — in that order, every step as before.

    The body is read on the event loop; the rest runs in one call on a worker thread (:func:`_authenticate`): the
    rate limits and the nonce memory are transactions on the shared file of ``naef serve --workers N``, the key
    comes from the ledger's folded state, so none of it blocks the loop that serves the proofs, and the request
    waits for a thread (and then for the loop) once, not at each step."""
    body = await request.body()
    return await run_in_threadpool(_authenticate, request, body)


def _authenticate(request: Request, body: bytes) -> Signer:
    """The steps of :func:`signed_writer` after the body was read (on a worker thread)."""
    state = web_state(request)
    view = state.require_ledger()
    try:
        state.write_limiter.take(f"ip:{client_address(request)}", what="signed writes from this address")
        sig = parse_signature_headers(dict(request.headers))
        state.replay.check_fresh(sig.created, sig.expires)
        try:
            key, role = view.signer_key(sig.signer)
        except ApiError as exc:  # an unknown signer is unauthenticated like the rest: same header
            raise SigningError(exc.message, code=exc.code, status=exc.status) from None
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


@dataclass(frozen=True)
class SignedWrite(Generic[_Result]):
    """What :func:`signed_write` hands its route: the authenticated signer and, normally, the write's result."""

    signer: Signer
    result: _Result | None
    """``None`` when the body was left to FastAPI's own validation (the route then does the write itself)."""


def _body_as_fastapi_reads_it(request: Request, body: bytes, model: type[_Body]) -> _Body | None:
    """The request body, only when FastAPI will surely read the route's body parameter as the same value — so that
    the dependency never writes what FastAPI's own validation (which runs after it) then refuses. That is when the
    Content-Type is present and ``application/json`` or ``application/*+json``: every FastAPI this project allows
    (``>= 0.115``) then decodes the bytes with ``json.loads`` (``Request.json``) and validates the value with the
    model in python mode, as here. ``None`` for anything else — an absent Content-Type (decoded as JSON or not
    depending on the version and on ``strict_content_type``), another media type, bad JSON, a value the model
    refuses: FastAPI then decides alone, answering its 422 or, when it accepts the body, letting the route do the
    write after its validation (:func:`signed_write`)."""
    content_type = request.headers.get("content-type")
    if not content_type:
        return None
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return None
    try:
        return model.model_validate(json.loads(body))
    except (ValueError, ValidationError):  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


def signed_write(
    model: type[_Body], action: Callable[[WebState, _Body, Signer], _Result]
) -> Callable[[Request], Awaitable[SignedWrite[_Result]]]:
    """A route dependency that authenticates a signed write and then does it, in one call on a worker thread.

    The order of the checks and their answers are those of a route with ``who: Writer`` and a ``body: model``
    parameter: authentication first (:func:`signed_writer`: 401, 429), then the body (FastAPI's 422), then
    ``action(state, body, signer)`` (its own 4xx, or the result). Doing the action here rather than in the route
    saves the request a second trip to a worker thread and back to the event loop, which under a load of proof
    reads costs a full turn of the loop each way (issue 18). The route still declares ``body: model`` (the OpenAPI
    schema, and FastAPI's validation when the body is not one :func:`_body_as_fastapi_reads_it` reads the same
    way: then ``result`` is ``None`` and the route does the write)."""

    async def dependency(request: Request) -> SignedWrite[_Result]:
        body = await request.body()
        return await run_in_threadpool(_authenticate_and_write, request, body, model, action)

    return dependency


def _authenticate_and_write(request: Request, body: bytes, model: type[_Body],
                            action: Callable[[WebState, _Body, Signer], _Result]) -> SignedWrite[_Result]:
    signer = _authenticate(request, body)
    parsed = _body_as_fastapi_reads_it(request, body, model)
    if parsed is None:
        return SignedWrite(signer, None)
    return SignedWrite(signer, action(web_state(request), parsed, signer))
