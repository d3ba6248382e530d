"""Disclosure downloads: the ledger itself (always), and IATI / OC4IDS / EITI exports through
:mod:`naef.disclosure` when it is installed.

* ``ledger.jsonl`` — every entry up to the latest signed checkpoint, one JSON object a line, exactly as
  ``naef ledger export --jsonl`` writes them (``{"index", "entry", "leaf_hash"}``), then nothing else: the
  checkpoint is a separate download;
* ``checkpoint.txt`` — the latest signed checkpoint note (C2SP signed note, with witness cosignatures);
* ``iati``, ``oc4ids``, ``eiti`` — a ZIP of the disclosure bundle that :mod:`naef.disclosure` writes
  (``naef.disclosure.bundle.export_bundle``, issue 7) at the latest signed checkpoint: the export's files,
  ``manifest.json``, ``checkpoint.txt``, ``entries.jsonl`` and the RFC 9162 inclusion and consistency proofs.
  Unzipped, it is exactly what ``naef disclose FORMAT --ledger URL --out DIR`` writes, so
  ``naef verify-bundle DIR --key LOG.pub`` checks it offline, without the database. The import is guarded: without
  the package, those downloads answer 501 and say so.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import tempfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from naef.errors import NaefError
from naef.ledger.errors import VerificationError
from naef.ledger.log import StoredCheckpoint
from naef.web.config import ApiError
from naef.web.ledger_view import LedgerView

__all__ = ["FORMATS", "available", "export"]

#: name -> (media type, file name, what it is)
FORMATS: dict[str, tuple[str, str, str]] = {
    "ledger.jsonl": ("application/x-ndjson", "ledger.jsonl",
                     "every entry up to the latest signed checkpoint (as `naef ledger export --jsonl`)"),
    "checkpoint.txt": ("text/plain; charset=utf-8", "checkpoint.txt", "the latest signed checkpoint (C2SP note)"),
    "iati": ("application/zip", "naef-iati-bundle.zip",
             "IATI 2.03 activities of the MDF's projects: a naef.disclosure bundle (naef verify-bundle checks it)"),
    "oc4ids": ("application/zip", "naef-oc4ids-bundle.zip",
               "OC4IDS 0.9.4 project package: a naef.disclosure bundle (naef verify-bundle checks it)"),
    "eiti": ("application/zip", "naef-eiti-bundle.zip",
             "EITI-style revenue tables: a naef.disclosure bundle (naef verify-bundle checks it)"),
}
_STANDARDS = ("iati", "oc4ids", "eiti")
log = logging.getLogger("naef.web")
_CACHE_SIZE = 12
_cache: OrderedDict[tuple[str, str, int, bytes], bytes] = OrderedDict()  # the latest bundles made, oldest first
_cache_lock = threading.Lock()


def _bundle_module() -> ModuleType | None:
    """``naef.disclosure.bundle`` if it imports and offers ``export_bundle`` (else None)."""
    try:
        module = importlib.import_module("naef.disclosure.bundle")
    except Exception:  # not installed (or broken): the downloads say they are unavailable
        return None
    return module if callable(getattr(module, "export_bundle", None)) else None


def available() -> dict[str, bool]:
    """Which downloads this server can make."""
    bundles = _bundle_module() is not None
    return {name: (name not in _STANDARDS or bundles) for name in FORMATS}


def _latest(view: LedgerView) -> StoredCheckpoint:
    cp = view.ledger.latest_checkpoint()
    if cp is None:
        raise ApiError(404, "no_checkpoint", "ledger: no signed checkpoint yet; nothing can be published as signed")
    return cp


def _jsonl(view: LedgerView, size: int) -> Iterator[bytes]:
    """The lines of ``ledger.jsonl``. A row that cannot be read (changed in the database after the server last
    folded it) ends the stream with one line ``{"error": "entry N: ..."}``: the status line has been sent, so the
    download says where it stopped rather than breaking the connection."""
    try:
        for e in view.ledger.entries(0, size):
            line = {"index": e.index, "entry": e.canonical.decode("utf-8"), "leaf_hash": e.leaf_hash.hex()}
            yield (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    except VerificationError as exc:
        log.warning("ledger.jsonl stopped: %s", exc.message)
        yield (json.dumps({"error": exc.message}, ensure_ascii=False) + "\n").encode("utf-8")


def _standard(view: LedgerView, name: str, module: ModuleType, cp: StoredCheckpoint) -> bytes:
    """The bundle of format ``name`` at checkpoint ``cp``, written by naef.disclosure into a temporary folder and
    zipped (paths inside the ZIP are the bundle's own)."""
    with tempfile.TemporaryDirectory(prefix="naef-disclosure-") as tmp:
        out = Path(tmp) / "bundle"
        module.export_bundle(view.url, name, out, size=cp.size)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for path in sorted(p for p in out.rglob("*") if p.is_file()):
                z.write(path, path.relative_to(out).as_posix())
        return buf.getvalue()


def export(view: LedgerView, name: str) -> tuple[bytes | Iterator[bytes], str, str]:
    """(content, media type, file name) of download ``name``; ApiError 404/501 when it cannot be made."""
    if name not in FORMATS:
        raise ApiError(404, "not_found", f"disclosure: no format {name!r} (formats: {', '.join(FORMATS)})")
    media, filename, _ = FORMATS[name]
    cp = _latest(view)
    if name == "checkpoint.txt":
        return cp.note.encode("utf-8"), media, filename
    if name == "ledger.jsonl":
        view.unreadable()  # folds every entry not yet read: a bad row answers 400 before anything is sent
        return _jsonl(view, cp.size), media, filename
    module = _bundle_module()
    if module is None:
        raise ApiError(501, "not_available",
                       f"disclosure {name}: naef.disclosure (bundles) is not installed on this server")
    key = (view.url, name, cp.size, cp.root_hash)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is None:
        try:
            cached = _standard(view, name, module, cp)
        except NaefError as exc:
            raise ApiError(409, "cannot_export", f"disclosure {name}: {exc.message}") from None
        except Exception as exc:  # a fault inside the sibling package: say where, keep serving
            log.exception("disclosure %s failed", name)
            raise ApiError(503, "export_failed",
                           f"disclosure {name}: naef.disclosure failed ({type(exc).__name__}); "
                           "see the server log") from None
        with _cache_lock:
            _cache[key] = cached
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return cached, media, filename
