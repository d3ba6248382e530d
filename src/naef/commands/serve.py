"""``naef serve``: the JSON API and the public portal (FastAPI on uvicorn; ``docs/web.md``).

Needs the ``web`` extra; without it the command prints one line saying which module is missing and how to install
it, and exits 2.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer

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
    import uvicorn

    from naef.web import WebConfig, create_app

    app = create_app(WebConfig(ledger_url=ledger, scenario=scenario, public_url=public_url))
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


def register(app: typer.Typer) -> None:
    """Add ``naef serve`` to the ``naef`` command."""
    app.command("serve")(serve)
