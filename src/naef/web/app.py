"""The FastAPI application: API router, portal pages, static files (Plotly from the installed package), error
handlers that answer JSON (API) or an HTML page (portal), and a small ASGI middleware for security headers and
the request-body limit."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from naef import __version__
from naef.errors import NaefError
from naef.web import api, compare_view, pages
from naef.web.config import ApiError, WebConfig
from naef.web.csrf import same_origin_only
from naef.web.fastpath import FastPathStats, ProofFastPath
from naef.web.state import WebState

__all__ = ["create_app", "plotly_js_path"]

log = logging.getLogger("naef.web")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
"""Content-Security-Policy of every response: scripts only from this server (no inline scripts, no eval); Plotly
needs inline styles for its SVG."""

_SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode("ascii")),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def plotly_js_path() -> Path:
    """``plotly.min.js`` of the installed ``plotly`` package (served at ``/static/plotly.min.js``)."""
    return Path(str(resources.files("plotly").joinpath("package_data", "plotly.min.js")))


class GuardMiddleware:
    """Adds the security headers; refuses bodies over ``max_body_bytes`` with 413 — by Content-Length, or, for a
    body sent without one (chunked), by reading it here first (bodies are small: at most the limit is buffered)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        length: int | None = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
        if length is not None and length > limit:
            await _send_error(send, 413, "too_large", f"body: larger than {limit} bytes")
            return
        downstream_receive = receive
        if length is None and scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
            chunks: list[bytes] = []
            seen = 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                seen += len(chunk)
                if seen > limit:
                    await _send_error(send, 413, "too_large", f"body: larger than {limit} bytes")
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            buffered: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

            async def replay() -> Message:
                return buffered.pop() if buffered else await receive()

            downstream_receive = replay

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, downstream_receive, send_with_headers)


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"status": status, "code": code, "message": message}}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *_SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


def _json_error(status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                extra: dict[str, Any] | None = None) -> JSONResponse:
    detail: dict[str, Any] = {"status": status, "code": code, "message": message, **(extra or {})}
    return JSONResponse({"error": detail}, status_code=status, headers=headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "request: does not match the schema"
    err = errors[0]
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
    where = err.get("loc", ("",))[0]
    prefix = f"{where} " if where in ("query", "path", "header") else ""
    return f"{prefix}{loc.removeprefix(str(where) + '.')}: {err.get('msg', 'invalid')}"


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        if not _is_api(request):
            return pages.error_page(request, exc.status, exc.message)
        return _json_error(exc.status, exc.code, exc.message, headers=exc.headers, extra=exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        message = _validation_message(exc)
        if not _is_api(request):
            return pages.error_page(request, 422, message)
        return _json_error(422, "invalid", message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail) if exc.detail else "error"
        if exc.status_code == 404:
            message = f"{request.url.path}: no such page or endpoint"
        elif exc.status_code == 405:
            message = f"{request.method} {request.url.path}: method not allowed"
        if not _is_api(request):
            return pages.error_page(request, exc.status_code, message)
        return _json_error(exc.status_code, "http_error", message, headers=getattr(exc, "headers", None))

    @app.exception_handler(NaefError)
    async def _naef(request: Request, exc: NaefError) -> Response:
        if not _is_api(request):
            return pages.error_page(request, 400, exc.message)
        return _json_error(400, "bad_request", exc.message)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:  # pragma: no cover - a bug
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _json_error(500, "internal", f"internal error ({type(exc).__name__}); see the server log")


CONFIG_ENV = "NAEF_WEB_CONFIG"
"""The environment variable through which ``naef serve --workers N`` hands its :class:`WebConfig` (JSON) to the
processes uvicorn starts (:func:`create_app_from_environment`)."""


def create_app_from_environment() -> FastAPI:
    """The app of one process of ``naef serve --workers N``: the :class:`WebConfig` in ``$NAEF_WEB_CONFIG``."""
    import json
    import os

    raw = os.environ.get(CONFIG_ENV)
    if raw is None:
        raise RuntimeError(f"{CONFIG_ENV} is not set (this factory is for `naef serve --workers N`)")
    settings = json.loads(raw)
    settings["scenario_sets"] = tuple(settings.get("scenario_sets", ()))
    return create_app(WebConfig(**settings))


def create_app(config: WebConfig | None = None) -> FastAPI:
    """The app for ``config`` (default: no ledger, the baseline scenario). Loads the scenario (a bad one raises
    its :class:`naef.errors.NaefError`), opens the ledger and starts computing the overview."""
    cfg = config or WebConfig()
    if cfg.thread_switch_interval_ms is not None:
        sys.setswitchinterval(cfg.thread_switch_interval_ms / 1000.0)
    state = WebState(cfg)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="naef",
        version=__version__,
        summary="The NAEF → PEMEX → MDF swap: scenario runs, the control system's ledger and its proofs.",
        description="JSON API of naef (docs/web.md). Write endpoints need a request signed by a stakeholder "
                    "registered in the ledger's governance (RFC 9421 HTTP Message Signatures, Ed25519). "
                    "State-changing requests from another site's pages are refused (403 `cross_site`).",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(same_origin_only)],  # every form post and API write: same origin only (csrf.py)
    )
    app.state.naef = state
    static_dir = Path(__file__).with_name("static")
    plotly_path = plotly_js_path()

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        if not plotly_path.is_file():  # pragma: no cover - a broken plotly install
            raise ApiError(503, "no_plotly", "plotly.min.js: not found in the installed plotly package")
        return FileResponse(plotly_path, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(compare_view.router)
    _install_handlers(app)
    app.state.proof_fast_path = FastPathStats()
    # proofs at a given size from memory, before routing (fastpath.py); inside the guard: same security headers
    app.add_middleware(ProofFastPath, state=state, stats=app.state.proof_fast_path)
    app.add_middleware(GuardMiddleware, max_body_bytes=cfg.max_body_bytes)
    return app
