"""What every route of the web app depends on: the app's :class:`WebState` and the client's address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from naef.web.state import WebState

__all__ = ["State", "client_address", "web_state"]


def web_state(request: Request) -> WebState:
    """The app's :class:`WebState`."""
    state: WebState = request.app.state.naef
    return state


def client_address(request: Request) -> str:
    """The client's address as the server sees it (what per-address limits count)."""
    return request.client.host if request.client is not None else "unknown"


async def _web_state_dependency(request: Request) -> WebState:
    """:func:`web_state` as a route dependency. ``async`` because it never blocks: FastAPI runs a plain ``def``
    dependency on a worker thread, and under load each such hop waits for a thread and then for the event loop's
    turn again (issue 18: the signed writes' latency)."""
    return web_state(request)


State = Annotated[WebState, Depends(_web_state_dependency)]
