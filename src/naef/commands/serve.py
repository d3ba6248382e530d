"""``naef serve``: the JSON API and the public portal (FastAPI on uvicorn; ``docs/web.md``).

Needs the ``web`` extra; without it the command prints one line saying which module is missing and how to install
it, and exits 2.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer

from naef.commands.common import SetOption
from naef.errors import CliError

__all__ = ["register", "serve"]

_WEB_MODULES = ("fastapi", "uvicorn", "jinja2", "plotly", "http_message_signatures")


def missing_web_modules() -> list[str]:
    """The modules of the ``web`` extra that are not importable here."""
    return [m for m in _WEB_MODULES if importlib.util.find_spec(m) is None]


def serve(
    ledger: Annotated[
        str | None, typer.Option("--ledger", help="The control system's ledger: SQLite file path or database URL.")
    ] = None,
    scenario: Annotated[
        str, typer.Option("--scenario", help="Scenario TOML file, or a shipped scenario's name, that runs use.")
    ] = "baseline",
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    public_url: Annotated[
        str | None,
        typer.Option("--public-url", help="The URL clients reach this server at behind a proxy, e.g. "
                     "https://fund.example (checked against form posts' Origin and signed requests' @target-uri)."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Server processes over the one ledger (SQLite WAL or PostgreSQL); they "
                          "share signed requests' nonces, rate limits and runs through a private directory.")
    ] = 1,
    node_cache: Annotated[
        int, typer.Option("--node-cache", help="Ledger tree nodes each process keeps in memory for proofs (about "
                          "200 bytes each; 0: none).")
    ] = 262_144,
    sets: SetOption = None,
) -> None:
    """Serve the JSON API (OpenAPI at /api/openapi.json) and the transparency portal.

    Write endpoints accept only requests signed by a stakeholder registered in the ledger's governance. Listens on
    127.0.0.1 unless --host says otherwise; put it behind an HTTPS reverse proxy before exposing it (the
    in-browser checks need a secure context: HTTPS or localhost).
    """
    missing = missing_web_modules()
    if missing:
        raise CliError(
            f"serve: the web extra is not installed (missing {', '.join(missing)}); "
            "install it with: pip install 'naef[web]'"
        )
    if not 0 < port < 65536:
        raise CliError(f"--port: must be between 1 and 65535 (got {port})")
    if ledger is not None and "://" not in ledger and not Path(ledger).is_file():
        raise CliError(
            f"--ledger {ledger}: no such ledger file (create one with `naef ledger init` or `naef ledger demo`)"
        )
    if public_url is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise CliError(f"--public-url {public_url}: expected http(s)://host[:port] with no path")
    if not 1 <= workers <= 64:
        raise CliError(f"--workers: must be between 1 and 64 (got {workers})")
    if node_cache < 0:
        raise CliError(f"--node-cache: must be 0 or more (got {node_cache})")
    import uvicorn

    from naef.web import WebConfig, create_app

    if workers == 1:
        app = create_app(WebConfig(ledger_url=ledger, scenario=scenario, scenario_sets=tuple(sets or ()),
                                   public_url=public_url, node_cache_nodes=node_cache))
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
        return
    _serve_workers(workers, ledger=ledger, scenario=scenario, sets=tuple(sets or ()), host=host, port=port,
                   public_url=public_url, node_cache=node_cache)


def _serve_workers(workers: int, *, ledger: str | None, scenario: str, sets: tuple[str, ...], host: str, port: int,
                   public_url: str | None, node_cache: int) -> None:
    """``workers`` uvicorn processes, each with its own app over the same ledger, sharing a private directory
    (:mod:`naef.web.shared`) that lives as long as the server."""
    import dataclasses
    import json
    import os
    import tempfile
    import time

    import uvicorn

    from naef.ledger import Ledger
    from naef.scenario.load import load_with_assignments
    from naef.web import WebConfig
    from naef.web.app import CONFIG_ENV
    from naef.web.shared import SharedStore

    if ledger is not None and "://" not in ledger:
        ledger = str(Path(ledger).resolve())
    with tempfile.TemporaryDirectory(prefix="naef-serve-") as shared:
        config = WebConfig(ledger_url=ledger, scenario=scenario, scenario_sets=sets, public_url=public_url,
                           node_cache_nodes=node_cache, shared_dir=shared, started_at=time.time())
        load_with_assignments(scenario, sets)  # fail here, with one line, on a bad scenario, --set or ledger
        if ledger is not None:
            Ledger.open(ledger).close()
        SharedStore(shared)  # the shared file, in WAL mode with its tables, made once before the workers start
        os.environ[CONFIG_ENV] = json.dumps(dataclasses.asdict(config))
        uvicorn.run("naef.web.app:create_app_from_environment", factory=True, workers=workers, host=host,
                    port=port, log_level="info", proxy_headers=False)


def register(app: typer.Typer) -> None:
    """Add ``naef serve`` to the ``naef`` command."""
    app.command("serve")(serve)
