"""The web: a JSON API and a public transparency portal (FastAPI + uvicorn + Jinja2; Plotly served by the app).

``naef serve`` (:mod:`naef.commands.serve`) runs :func:`create_app` on uvicorn. The API is described at
``/api/openapi.json``; write endpoints (propose, approve, execute) accept only requests signed with Ed25519 by a
stakeholder registered in the ledger's governance (:mod:`naef.web.signing`). See ``docs/web.md``.

Needs the ``web`` extra (``pip install 'naef[web]'``): fastapi, uvicorn, jinja2, plotly.
"""

from __future__ import annotations

from naef.web.app import create_app
from naef.web.config import ApiError, WebConfig

__all__ = ["ApiError", "WebConfig", "create_app"]
