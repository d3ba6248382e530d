"""Disclosure bundles: an export with the signed checkpoint, the ledger entries behind every record and their
RFC 9162 proofs — checkable offline, without the database.

A bundle is a folder::

    manifest.json            format, derivation version, checkpoint (origin, size, root hash, note), the records
                             (id, files, leaf indexes), the entries and the sizes of the consistency proofs
    checkpoint.txt           the signed checkpoint (C2SP signed note, with witness cosignatures)
    entries.jsonl            {"entry": canonical JSON text, "index": i, "leaf_hash": hex} per ledger entry, for
                             every entry 0..n-1 of the checkpoint's tree (the whole log)
    proofs/inclusion/I.json  RFC 9162 inclusion proof of entry I in the checkpoint's tree
    proofs/consistency/M.json  RFC 9162 consistency proof from the ledger's stored checkpoint of size M to this one
    <the export's files>     iati-activities.xml + iati-organisations.xml | oc4ids-project-package.json +
                             bods-statements.json | eiti-revenue.csv + .xlsx + eiti-summary-data.json

:func:`verify_bundle` checks, in order: the checkpoint's signature by the trusted log key (and that the manifest
agrees with it); every entry's inclusion proof against the signed root (``leaf = SHA-256(0x00 || bytes)``,
RFC 9162 §2.1.3.2); then it *re-derives* the export from the proven entries with the same pure functions that
made it and compares record by record, so that changing any published value — or an entry's bytes, or a
proof — fails and names the record (and the first differing field). Given an older bundle, it checks that this
bundle's checkpoint is an append-only extension of the older one (equal roots at equal sizes; else the RFC 9162
consistency proof from the older size), which detects a forked log.

Completeness (:mod:`naef.disclosure.completeness`): ``entries.jsonl`` holds *every* entry of the checkpoint's
tree, the verifier recomputes the tree hash of all of them and re-derives the export from every entry of the
types the format reads — so leaving out an entry (or a fact of one from a file) fails and is named. It prints the
bundle's freshness (latest entry time, witnesses' cosignature times); ``not_older_than`` refuses a stale bundle.

:func:`export_bundle` writes a bundle from a ledger: into a temporary folder beside ``out``, verified there, then
renamed into place, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from naef import __version__
from naef.disclosure.bundle_layout import (
    BUNDLE_KIND,
    CHECKPOINT_FILE,
    ENTRIES_FILE,
    FORMATS,
    INCLUSION_DIR,
    MANIFEST_FILE,
    format_module,
)
from naef.disclosure.common import (
    DERIVATION,
    ExportCheckpoint,
    Rendered,
)
from naef.disclosure.completeness import type_counts
from naef.disclosure.consistency import CONSISTENCY_DIR
from naef.disclosure.errors import DisclosureError
from naef.disclosure.model import MDF_ORG_REF
from naef.disclosure.orgid import Publisher, publisher
from naef.disclosure.verification import BundleReport, verify_bundle
from naef.ledger import store
from naef.ledger.audit import audit
from naef.ledger.errors import LedgerError
from naef.ledger.keys import VerifierKey
from naef.ledger.log import Ledger, StoredCheckpoint, StoredEntry
from naef.ledger.merkle import leaf_hash
from naef.ledger.note import open_checkpoint

__all__ = [
    "CHECKPOINT_FILE",
    "ENTRIES_FILE",
    "FORMATS",
    "MANIFEST_FILE",
    "BundleReport",
    "ExportReport",
    "export_bundle",
    "format_module",
    "verify_bundle",
]

# ------------------------------------------------------------------------------------------ export


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_bundle` wrote."""

    format: str
    folder: Path
    checkpoint: ExportCheckpoint
    records: int
    entries: int
    consistency_sizes: tuple[int, ...]

    def line(self) -> str:
        """One line for the command line."""
        return (
            f"wrote {self.format} bundle {self.folder}: {self.records} records from {self.entries} ledger entries, "
            f"checkpoint {self.checkpoint.origin} size {self.checkpoint.size} root {self.checkpoint.root_hash.hex()}"
        )


def _open_ledger(url: str) -> Ledger:
    """Open the ledger without creating anything: a missing SQLite file is an error, not a new database."""
    if "://" not in url or url.startswith("sqlite:"):
        try:
            database = make_url(store.normalize_url(url)).database
        except ArgumentError:
            raise DisclosureError(f"--ledger {url!r}: not a database URL") from None
        if database and database != ":memory:" and not Path(database).is_file():
            raise DisclosureError(f"--ledger {url!r}: no such ledger file {database}")
    try:
        return Ledger.open(url)
    except LedgerError as exc:
        raise DisclosureError(f"--ledger: {exc.message}") from None
    except Exception as exc:  # a file that is not a database, a driver error: one line, not a traceback
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DisclosureError(f"--ledger {url!r}: cannot open ({first})") from None


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise DisclosureError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise DisclosureError(f"--out {out}: exists and is not empty (pass --force to replace it)")


def _choose(checkpoints: Sequence[StoredCheckpoint], size: int | None, url: str) -> StoredCheckpoint:
    if not checkpoints:
        raise DisclosureError(
            f"--ledger {url!r}: no signed checkpoint to export from (run `naef ledger checkpoint URL --key LOG.key`)"
        )
    if size is None:
        return checkpoints[-1]
    for cp in checkpoints:
        if cp.size == size:
            return cp
    stored = ", ".join(str(cp.size) for cp in checkpoints)
    raise DisclosureError(f"--size: no stored checkpoint of size {size} (stored sizes: {stored})")


def _entry_line(e: StoredEntry) -> str:
    line = {"entry": e.canonical.decode("utf-8"), "index": e.index, "leaf_hash": e.leaf_hash.hex()}
    return json.dumps(line, ensure_ascii=False, sort_keys=True)


def _same(a: Rendered, b: Rendered) -> bool:
    return dict(a.files) == dict(b.files) and a.records == b.records


def _manifest(
    fmt: str,
    rendered: Rendered,
    cp: ExportCheckpoint,
    entries: Sequence[int],
    sizes: Sequence[int],
    log: Sequence[StoredEntry],
    pub: Publisher,
) -> str:
    manifest = {
        "bundle": BUNDLE_KIND,
        "derivation": DERIVATION,
        "naef_version": __version__,
        "format": fmt,
        "publisher": pub.ref,
        "as_of": pub.as_of,
        "files": sorted(rendered.files),
        "checkpoint": cp.to_json(),
        "records": [r.to_json() for r in rendered.records],
        "entries": list(entries),
        "log": {"size": len(log), "counts": type_counts(log)},
        "consistency_from": list(sizes),
    }
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def export_bundle(
    url: str,
    fmt: str,
    out: Path | str,
    *,
    force: bool = False,
    size: int | None = None,
    org_id: str = MDF_ORG_REF,
    as_of: date | None = None,
    now: datetime | None = None,
) -> ExportReport:
    """Export ``fmt`` (``iati``, ``oc4ids`` or ``eiti``) from the ledger at ``url`` into the bundle folder ``out``.

    The export is made at the ledger's latest stored checkpoint (or the one of ``size``): only entries the signed
    checkpoint covers are published. ``out`` must not exist, be empty, or ``force`` must be given; the bundle is
    staged in a temporary folder beside it, verified with the ledger's key, then renamed into place. ``org_id`` is
    the publisher's organisation identifier (an approved registration-agency prefix, :mod:`naef.disclosure.orgid`).
    ``as_of`` is the publication date (default: today in UTC, from ``now``, the clock): a ledger date after it is
    published as planned, never as an actual (the demo's simulated timeline lies in the future); a publication
    date after today is refused.
    """
    module = format_module(fmt)
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    if as_of is None:
        as_of = today
    elif as_of > today:
        raise DisclosureError(
            f"--as-of {as_of.isoformat()}: after today ({today.isoformat()}); a publication cannot be dated in the "
            "future"
        )
    pub = replace(publisher(org_id), as_of=as_of.isoformat())
    out = Path(out)
    _check_out(out, force)
    with _open_ledger(url) as ledger:
        stored = ledger.checkpoints()
        chosen = _choose(stored, size, url)
        try:
            open_checkpoint(chosen.note, ledger.log_key)
        except LedgerError as exc:
            raise DisclosureError(f"--ledger: checkpoint of size {chosen.size}: {exc.message}") from None
        checkpoint = ExportCheckpoint(ledger.origin, chosen.size, chosen.root_hash, chosen.note)
        log = list(ledger.entries(end=chosen.size))
        entries = [e for e in log if e.type in module.INPUT_TYPES]
        for e in log:
            if leaf_hash(e.canonical) != e.leaf_hash:
                raise DisclosureError(
                    f"--ledger: entry {e.index}: stored leaf hash does not match its bytes (run `naef ledger verify`)"
                )
        rules = audit(log)
        if not rules.ok:
            first = rules.faults[0]
            raise DisclosureError(
                f"--ledger: the log up to checkpoint size {chosen.size} breaks the control system's rules: "
                f"{first.message} (run `naef ledger audit`; a bundle of it would fail verify-bundle)"
            )
        rendered = module.render(entries, checkpoint, publisher=pub)
        used = sorted({i for r in rendered.records for i in r.leaves})
        by_index = {e.index: e for e in log}
        if not _same(module.render([by_index[i] for i in used], checkpoint, publisher=pub), rendered):
            raise DisclosureError(f"{fmt}: internal error: the export depends on entries its records do not name")
        proofs: dict[int, dict[str, Any]] = {}
        for i in used:
            proof = ledger.inclusion_proof(i, chosen.size)
            if proof.root_hash != chosen.root_hash or proof.leaf_hash != by_index[i].leaf_hash:
                raise DisclosureError(
                    f"--ledger: the stored tree at size {chosen.size} does not match its signed checkpoint "
                    "(run `naef ledger verify`)"
                )
            proofs[i] = proof.to_json()
        sizes = sorted({cp.size for cp in stored if 0 < cp.size < chosen.size})
        consistency = {m: ledger.consistency_proof(m, chosen.size).to_json() for m in sizes}
        log_key = ledger.log_key
    files: dict[str, bytes] = dict(rendered.files)
    files[MANIFEST_FILE] = _manifest(fmt, rendered, checkpoint, used, sizes, log, pub).encode("utf-8")
    files[CHECKPOINT_FILE] = checkpoint.note.encode("utf-8")
    files[ENTRIES_FILE] = "".join(_entry_line(e) + "\n" for e in log).encode("utf-8")
    for i, iproof in proofs.items():
        files[f"{INCLUSION_DIR}/{i}.json"] = (json.dumps(iproof, indent=2) + "\n").encode("ascii")
    for m, cproof in consistency.items():
        files[f"{CONSISTENCY_DIR}/{m}.json"] = (json.dumps(cproof, indent=2) + "\n").encode("ascii")
    _write(out, files, log_key, now)
    return ExportReport(fmt, out, checkpoint, len(rendered.records), len(used), tuple(sizes))


def _write(out: Path, files: Mapping[str, bytes], log_key: VerifierKey, now: datetime | None) -> None:
    """Write ``files`` into a temporary folder beside ``out``, verify it as a bundle, then rename it to ``out``."""
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".naef-tmp", dir=parent))
    except OSError as exc:
        raise DisclosureError(f"--out {out}: cannot create a folder in {parent} ({exc.strerror})") from None
    try:
        for name, data in files.items():
            target = stage / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        try:
            verify_bundle(stage, log_key, now=now)
        except DisclosureError as exc:
            raise DisclosureError(f"internal error: the bundle made does not verify ({exc.message})") from None
        stage.chmod(0o755)
        _install(stage, out)
    except OSError as exc:
        raise DisclosureError(f"--out {out}: cannot write the bundle ({exc.strerror})") from None
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _install(stage: Path, out: Path) -> None:
    """Rename ``stage`` to ``out``; an existing ``out`` is moved aside first and removed only afterwards."""
    if not out.exists():
        stage.rename(out)
        return
    if not any(out.iterdir()):
        out.rmdir()
        stage.rename(out)
        return
    aside = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    out.rename(aside)
    try:
        stage.rename(out)
    except OSError:
        aside.rename(out)
        raise
    shutil.rmtree(aside, ignore_errors=True)


