"""Cross-site request refusal for every state-changing request (portal forms and API writes).

A browser attaches what it knows about a request's origin to it: ``Sec-Fetch-Site`` (Fetch Metadata, sent by
every current browser) and ``Origin`` (sent with every ``POST`` since 2020). Either is enough to tell a form post
or ``fetch`` made by this server's own pages from one made by another site (OWASP CSRF Prevention Cheat Sheet,
"Fetch Metadata headers" and "Verifying origin with standard headers"). The portal has no cookies or sessions,
so a cross-site post could not act *as* anyone; it could still spend the visitor's address's run quota or queue
runs from a third-party page, so it is refused all the same.

Rule, for ``POST``/``PUT``/``PATCH``/``DELETE`` (:func:`cross_site_reason`):

1. ``Sec-Fetch-Site`` present: only ``same-origin`` and ``none`` (typed or bookmarked by the user) pass;
   ``same-site`` and ``cross-site`` are refused.
2. ``Origin`` present: it must be this server's origin — the configured public URL's scheme, host and port
   (``WebConfig.public_url``), else the ``Host`` header the request came with (any scheme: behind a TLS proxy the
   server sees ``http`` while the browser says ``https``). ``Origin: null`` (sandboxed frames, some redirects) is
   refused.
3. No ``Origin`` but a ``Referer``: the referring page's origin must be this server's, by the same test (a
   browser that leaves ``Origin`` out still names the page the form was posted from; OWASP, "Identifying the
   source origin (via Origin/Referer header)"). A ``Referer`` that is no http(s) URL is refused.
4. None of the three: not a browser (``curl``, ``httpx``, the signing tool) — nothing to protect against; passes.

A refusal is ``403`` with code ``cross_site``: JSON under ``/api``, an HTML error page elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from fastapi import Request

from naef.web.config import ApiError

__all__ = ["UNSAFE_METHODS", "cross_site_reason", "normalise_origin", "same_origin_only"]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(url: str) -> tuple[str, str] | None:
    """``(scheme, host[:port])`` of a URL or serialised origin, lower case, default port dropped; ``None`` if it
    is not an http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return scheme, host


def cross_site_reason(
    *, method: str, headers: Mapping[str, str], public_url: str | None
) -> str | None:
    """Why this request is refused as cross-site (one line), or ``None`` if it may proceed (module docstring).

    ``headers`` must have lower-case names.
    """
    if method.upper() not in UNSAFE_METHODS:
        return None
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.strip().lower() not in ("same-origin", "none"):
        return f"Sec-Fetch-Site: {fetch_site[:40]!r} — only same-origin requests may change anything here"
    origin = headers.get("origin")
    if origin is not None:
        return _foreign_origin("Origin", origin, headers, public_url)
    referer = headers.get("referer")
    if referer is not None:
        return _foreign_origin("Referer", referer, headers, public_url)
    return None


def _foreign_origin(field: str, value: str, headers: Mapping[str, str], public_url: str | None) -> str | None:
    """Why the origin of ``value`` (header ``field``: ``Origin`` or ``Referer``) is not this server's, or
    ``None`` when it is: the configured public URL's scheme, host and port, else the ``Host`` header's host."""
    given = normalise_origin(value) if value.strip().lower() != "null" else None
    if given is None:
        return f"{field}: {value[:80]!r} is not this server's origin"
    if public_url is not None:
        own = normalise_origin(public_url)
        if own is None or given != own:
            return f"{field}: {value[:80]!r} is not this server's origin {public_url}"
        return None
    host = headers.get("host", "")
    own_host = normalise_origin(f"{given[0]}://{host}") if host else None
    if own_host is None or own_host[1] != given[1]:
        return f"{field}: {value[:80]!r} is not this server's origin (Host: {host[:80]!r})"
    return None


async def same_origin_only(request: Request) -> None:
    """App-wide dependency: refuse a cross-site state-changing request with 403 ``cross_site``."""
    state = request.app.state.naef
    reason = cross_site_reason(
        method=request.method,
        headers={k.lower(): v for k, v in request.headers.items()},
        public_url=state.config.public_url,
    )
    if reason is not None:
        raise ApiError(403, "cross_site", f"cross-site request refused: {reason}")
