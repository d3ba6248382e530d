"""Proofs at a given tree size answered from memory, before FastAPI's routing (issue 18).

``GET /api/ledger/proofs/inclusion?index=I&size=N`` and ``GET /api/ledger/proofs/consistency?from_size=M&size=N``
can never change once ``N`` entries are committed (RFC 9162 §2.1.3, §2.1.4: a proof is a function of the first
``N`` leaves, which are immutable). :class:`ProofFastPath`, a small ASGI layer, answers exactly those requests on
the event loop when the ledger handle can build the proof from its node cache alone
(:meth:`naef.ledger.Ledger.inclusion_proof_from_memory`), and keeps the finished answers (bytes and strong
``ETag``) in a bounded least-recently-used map. The answer is byte for byte the route's
(:func:`naef.web.api.inclusion_proof` / :func:`~naef.web.api.consistency_proof`): the same JSON bytes, the same
``ETag`` (:func:`naef.web.api.strong_etag`) and ``Cache-Control: immutable``.

A size larger than any this process has seen committed (a write just acknowledged, by this process or another)
is not handed to the route at once: the fast path reads the committed size again — one small query, and the new
tree's ``O(log n)`` right-edge hashes when they are not in memory (:meth:`naef.ledger.Ledger.refresh`) — on a
worker thread, *one read shared by every request waiting for it* (:class:`_SharedRefresh`), then answers from
memory. Without it, every reader's first request at each new size went to the route and the database, all at once
(on PostgreSQL about 60 % of the proof requests under the load benchmark's writer).

Consistency: an answer at an explicit size ``N`` is a function of the first ``N`` committed leaves, so any
process may give it once it has read a committed size ``>= N`` (a write is acknowledged after its commit, so a
client that was told its entry is at index ``N - 1`` always finds ``N`` committed). A request that joins a refresh
already under way and still finds its size beyond the size read goes on to the route, which reads the size itself
— never a stale or invented answer.

Everything else goes on to the app unchanged — another path or method, any other query parameter or a value that
is not plain decimal digits, ``If-None-Match`` (304 handling), a size beyond the committed one, a node not in
memory, a bad argument (the route answers it with its 4xx) — so the fast path never decides an error. The cost it
removes is the framework's per-request work (routing, dependency resolution, query validation, a worker-thread
hop), which is most of a proof request's time.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from naef.ledger.errors import LedgerError
from naef.web.api import IMMUTABLE, MAX_INDEX, proof_json_bytes, strong_etag
from naef.web.state import WebState

__all__ = ["FastPathStats", "ProofFastPath"]

log = logging.getLogger("naef.web")

_INCLUSION = "/api/ledger/proofs/inclusion"
_CONSISTENCY = "/api/ledger/proofs/consistency"
_PARAMS = {_INCLUSION: ("index", "size"), _CONSISTENCY: ("from_size", "size")}
_MAX_DIGITS = len(str(MAX_INDEX))

DEFAULT_MAX_ANSWERS = 8192
"""Finished answers kept per process (a choice: an inclusion answer at a million entries is about 1.5 kB, so about
12 MB at most)."""


@dataclass
class FastPathStats:
    """Counters of one process's fast path (for tests and the load benchmark)."""

    served: int = 0
    """Requests answered here."""
    answer_hits: int = 0
    """Of those, answers found finished in the map."""
    refreshes: int = 0
    """Reads of the committed size made for requests at a size this process had not seen (each shared by every
    request waiting at the time)."""


def _query(raw: bytes, names: tuple[str, str]) -> tuple[int, int] | None:
    """The two parameters ``names`` as ints when the query string holds exactly them, once each, as plain decimal
    digits within the route's bounds; else ``None`` (the route decides)."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    parts = text.split("&")
    if len(parts) != 2:
        return None
    found: dict[str, int] = {}
    for part in parts:
        name, sep, value = part.partition("=")
        if not sep or name not in names or name in found or not value.isdigit() or len(value) > _MAX_DIGITS:
            return None  # isdigit on ASCII text: only 0-9
        number = int(value)
        if number > MAX_INDEX:
            return None
        found[name] = number
    return found[names[0]], found[names[1]]


class _SharedRefresh:
    """At most one :meth:`naef.ledger.Ledger.refresh` at a time on a worker thread; requests that arrive while one
    is under way wait for that one instead of starting their own."""

    def __init__(self) -> None:
        self._running: asyncio.Future[int] | None = None

    async def wait(self, start: Callable[[], int], stats: FastPathStats) -> None:
        """Wait for the refresh under way, or start one (``start`` on a worker thread). Its error, if any, is
        logged and swallowed: the request then goes on to the route, which reports it."""
        running = self._running
        if running is None or running.done() or running.get_loop() is not asyncio.get_running_loop():
            stats.refreshes += 1
            running = asyncio.ensure_future(run_in_threadpool(start))
            running.add_done_callback(_retrieve)
            self._running = running
        try:
            await asyncio.shield(running)  # a waiter that goes away does not cancel the others' refresh
        except Exception:  # logged by _retrieve; the route answers this request
            return


def _retrieve(done: asyncio.Future[int]) -> None:
    if not done.cancelled() and (exc := done.exception()) is not None:
        log.warning("reading the committed size for the proof fast path failed: %s", exc)


class ProofFastPath:
    """ASGI layer in front of the app: proofs at a given size from memory (module docstring)."""

    def __init__(self, app: ASGIApp, *, state: WebState, stats: FastPathStats,
                 max_answers: int = DEFAULT_MAX_ANSWERS) -> None:
        self.app = app
        self.state = state
        self.stats = stats
        self.max_answers = max_answers
        self._answers: OrderedDict[tuple[str, int, int], tuple[bytes, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._refresh = _SharedRefresh()

    def _answer(self, path: str, a: int, size: int) -> tuple[bytes, bytes] | None:
        """(body, ETag) of the proof, from the answer map or the node cache; ``None``: let the route answer."""
        key = (path, a, size)
        with self._lock:
            done = self._answers.get(key)
            if done is not None:
                self._answers.move_to_end(key)
                self.stats.answer_hits += 1
                return done
        view = self.state.ledger
        if view is None:
            return None
        ledger = view.ledger
        try:
            if path == _INCLUSION:
                if size < 1:
                    return None
                proof = ledger.inclusion_proof_from_memory(a, size)
                body = None if proof is None else proof_json_bytes(proof)
            else:
                consistency = ledger.consistency_proof_from_memory(a, size)
                body = None if consistency is None else proof_json_bytes(consistency)
        except LedgerError:
            return None  # the route answers it with its 4xx
        if body is None:
            return None
        done = (body, strong_etag(body).encode("ascii"))
        if self.max_answers:
            with self._lock:
                self._answers[key] = done
                while len(self._answers) > self.max_answers:
                    self._answers.popitem(last=False)
        return done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and (names := _PARAMS.get(scope["path"])):
            args = _query(scope["query_string"], names)
            if args is not None and not any(name == b"if-none-match" for name, _ in scope["headers"]):
                done = self._answer(scope["path"], *args)
                view = self.state.ledger
                if done is None and view is not None and args[1] > view.ledger.known_size:
                    await self._refresh.wait(view.ledger.refresh, self.stats)  # a size not seen committed yet
                    done = self._answer(scope["path"], *args)
                if done is not None:
                    body, etag = done
                    self.stats.served += 1
                    await send({"type": "http.response.start", "status": 200, "headers": [
                        (b"content-length", str(len(body)).encode("ascii")),
                        (b"content-type", b"application/json"),
                        (b"etag", etag),
                        (b"cache-control", IMMUTABLE.encode("ascii")),
                    ]})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)
