"""Settings of the web app and the one error type its handlers turn into JSON (or an HTML page)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from naef.errors import NaefError

__all__ = ["ApiError", "WebConfig"]


@dataclass(frozen=True)
class WebConfig:
    """What ``naef serve`` (or a test, or the load benchmark) sets up.

    Limits are the server's own choices, not figures from a source: they keep one small server responsive and
    can be raised by whoever runs it.
    """

    ledger_url: str | None = None
    """The control system's ledger (SQLite file path or database URL); without it the ledger pages say so."""
    scenario: str = "baseline"
    """The scenario runs use: a shipped scenario's name or a TOML file on the server (chosen by the operator)."""
    scenario_sets: tuple[str, ...] = ()
    """``KEY=VALUE`` changes to that scenario (``naef serve --set``, as every command's ``--set``)."""
    max_paths: int = 200_000
    """Most Monte Carlo paths one web run may ask for."""
    default_paths: int = 2_000
    """Paths of a run when the request does not say."""
    chunk_size: int = 20_000
    """Paths simulated at once (memory only; results do not depend on it)."""
    max_queued_runs: int = 4
    """Runs waiting or running at once; more are refused with 429."""
    keep_runs: int = 32
    """Finished runs kept in memory (the oldest are forgotten first)."""
    write_rate_per_minute: float = 30.0
    """Signed write requests a minute, per signer and per client address."""
    write_burst: int = 10
    run_rate_per_minute: float = 6.0
    """Runs a minute per client address."""
    run_burst: int = 3
    max_skew_s: int = 300
    """How far a signed request's timestamp may be from the server's clock (and how long nonces are kept)."""
    max_body_bytes: int = 256 * 1024
    """Largest request body accepted."""
    page_size: int = 50
    """Ledger entries per page."""
    node_cache_nodes: int = 262_144
    """Complete-subtree hashes of the ledger kept in memory for proofs (about 200 bytes each, so about 50 MB; 0
    keeps none): :class:`naef.ledger.proofs.NodeCache`, ``naef serve --node-cache``."""
    thread_switch_interval_ms: float | None = 0.5
    """The interpreter's thread switch interval (``sys.setswitchinterval``) set when the app is made, for the whole
    process; ``None`` leaves it (CPython's default is 5 ms). A write runs on a worker thread while the event loop
    serves proofs; each time the write's thread waits for the database (every round trip, the commit) it gives up
    the interpreter lock and must wait up to one interval to get it back from the busy loop, so a write of ten
    round trips waited up to 50 ms for nothing. Measured (issue 18, a signed proposal on PostgreSQL beside a
    busy thread, on a shared 2-core machine): 49-77 ms at 5 ms, 16-27 ms at 0.5 ms. The interval only matters
    while two threads want the lock: a lone busy loop is never interrupted. A positive finite number (checked
    when the config is made: ``sys.setswitchinterval`` refuses 0 and less)."""
    shared_dir: str | None = None
    """A directory the processes of one ``naef serve --workers N`` share (made by the parent process): the signed
    requests' nonce memory, the write and run rate limits, and the scenario runs' status and results live there
    so that any process answers for all. ``None``: one process, all in memory."""
    started_at: float | None = None
    """When the server started (Unix seconds), set by ``naef serve --workers N`` so that every process refuses the
    same requests signed before it; ``None``: when this app was made."""
    public_url: str | None = None
    """The URL browsers and clients reach this server at (``https://fund.example``) when it sits behind a proxy:
    form posts' ``Origin`` and signed requests' ``@target-uri`` are checked against it. Default: what the server
    sees (the connection's scheme and the ``Host`` header)."""

    def __post_init__(self) -> None:
        interval = self.thread_switch_interval_ms
        if interval is not None and not (isinstance(interval, int | float) and math.isfinite(interval)
                                         and interval > 0):
            raise NaefError(f"thread_switch_interval_ms: must be a positive number of milliseconds or None, "
                            f"not {interval!r}")


class ApiError(NaefError):
    """An error answered with ``status`` and ``{"error": {"status", "code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                 extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers or {}
        self.extra = extra or {}
