"""``python -m naef.web.signtool``: sign on your own machine what the portal asks you to sign, or send a signed
write request to a naef server from the command line.

    echo BASE64 | python -m naef.web.signtool sign --key me.key     # prints the base64 Ed25519 signature
    python -m naef.web.signtool post http://127.0.0.1:8000/api/approvals --key me.key --body approval.json

``sign`` signs the bytes that the base64 text encodes (the approval message, or the RFC 9421 signature base shown
by the signer's page). ``post`` reads the ledger's origin from ``/api/signing``, signs the request as RFC 9421 HTTP
Message Signatures (:mod:`naef.web.signing`: Ed25519, ``Content-Digest``, ``@method``, ``@target-uri``) and sends
it; it prints the server's JSON answer and exits 0 on success, 2 otherwise. The private key is read locally and
never sent.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from naef.errors import NaefError
from naef.ledger.keys import read_signer_key
from naef.web.signing import sign_request

__all__ = ["main"]


def _sign(key_path: Path, text: str) -> str:
    try:
        message = base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NaefError("input: not standard base64 (paste the base64 text the page shows)") from None
    return base64.b64encode(read_signer_key(key_path).sign(message)).decode("ascii")


def _call(request: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read())
        except ValueError:
            return exc.code, {"error": {"status": exc.code, "message": str(exc)}}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise NaefError(f"{request.full_url}: {exc}") from None


def _post(url: str, key_path: Path, body_path: Path) -> int:
    key = read_signer_key(key_path)
    try:
        body = body_path.read_bytes()
    except OSError as exc:
        raise NaefError(f"--body {body_path}: cannot read ({exc.strerror})") from None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NaefError(f"url {url!r}: expected http(s)://host[:port]/api/...")
    base = f"{parts.scheme}://{parts.netloc}"
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    _, scheme = _call(urllib.request.Request(base + "/api/signing"))
    origin = scheme.get("origin") if isinstance(scheme, dict) else None
    if not origin:
        raise NaefError(f"{base}: the server has no ledger (no origin in /api/signing)")
    headers = sign_request(key, origin=origin, method="POST", url=base + target, body=body)
    status, answer = _call(urllib.request.Request(base + target, data=body, method="POST",
                                                  headers={**headers, "Content-Type": "application/json"}))
    sys.stdout.write(json.dumps(answer, indent=1) + "\n")
    return 0 if 200 <= status < 300 else 2


def main(argv: list[str] | None = None) -> int:
    """Entry point; a NaefError prints ``error: ...`` and returns 2."""
    parser = argparse.ArgumentParser(prog="python -m naef.web.signtool", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sign", help="sign base64 bytes from stdin (or --message) with --key; print base64")
    s.add_argument("--key", type=Path, required=True)
    s.add_argument("--message", help="base64 text to sign (default: read stdin)")
    p = sub.add_parser("post", help="send a signed POST request with a JSON body file")
    p.add_argument("url")
    p.add_argument("--key", type=Path, required=True)
    p.add_argument("--body", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "sign":
            text = args.message if args.message is not None else sys.stdin.read()
            sys.stdout.write(_sign(args.key, text) + "\n")
            return 0
        return _post(args.url, args.key, args.body)
    except NaefError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
