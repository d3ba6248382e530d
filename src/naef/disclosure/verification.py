"""Verifying a disclosure bundle offline (:func:`verify_bundle`): the checkpoint's signature, the complete log
and its tree hash, every used entry's inclusion proof, the rule audit, the re-derivation of every record and, given
an older bundle, consistency. The bundle's layout and what each step proves: :mod:`naef.disclosure.bundle`."""

from __future__ import annotations

import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from naef.disclosure.bundle_layout import (
    BUNDLE_KIND,
    CHECKPOINT_FILE,
    ENTRIES_FILE,
    FORMATS,
    INCLUSION_DIR,
    MANIFEST_FILE,
)
from naef.disclosure.common import (
    DERIVATION,
    ExportCheckpoint,
    FormatModule,
    Record,
    Rendered,
    entry_span,
)
from naef.disclosure.completeness import check_log, freshest, stamp
from naef.disclosure.consistency import check_extends
from naef.disclosure.errors import BundleError, BundleVerificationError, DisclosureError
from naef.disclosure.orgid import Publisher, publisher
from naef.ledger.audit import AuditReport, audit
from naef.ledger.entries import decode_entry
from naef.ledger.errors import LedgerError
from naef.ledger.keys import VerifierKey, read_verifier_key
from naef.ledger.log import StoredEntry
from naef.ledger.merkle import verify_inclusion
from naef.ledger.note import open_checkpoint

__all__ = ["BundleReport", "verify_bundle"]


# ------------------------------------------------------------------------------------------ verify


@dataclass(frozen=True)
class BundleReport:
    """What :func:`verify_bundle` checked."""

    folder: Path
    format: str
    checkpoint: ExportCheckpoint
    records: int
    entries: int
    cosigners: tuple[str, ...]
    """Names of the given witnesses whose cosignatures verified."""
    older_size: int | None = None
    as_of: str = ""
    """Recorded time of the last entry of the bundle's (complete) log (the log operator's word)."""
    cosigned_at: tuple[tuple[str, int], ...] = ()
    """(witness name, cosignature time in Unix seconds) of each given witness whose cosignature verified."""
    audit: AuditReport | None = None
    published: str = ""
    """The publication date (manifest ``as_of``): ledger dates after it are published as planned."""
    """The rule audit (:func:`naef.ledger.audit.audit`) of the bundle's complete log: it passed."""

    def line(self) -> str:
        """One line for the command line."""
        extra = f"; published as of {self.published}" if self.published else ""
        extra += f"; last entry recorded {self.as_of}" if self.as_of else ""
        if self.audit is not None:
            a = self.audit
            extra += (
                f"; rules audited: {a.governed} governed entries follow the rules, {a.signatures} signatures "
                f"checked, MDF received {a.received_usd} USD, disbursed {a.disbursed_usd} USD"
            )
        if self.cosigned_at:
            extra += "; cosigned by " + ", ".join(
                f"{name} at {stamp(datetime.fromtimestamp(t, UTC))}" for name, t in self.cosigned_at
            )
        if self.older_size is not None:
            extra += f"; consistent with the older bundle (size {self.older_size})"
        return (
            f"ok: {self.format} bundle {self.folder}: {self.records} records re-derived from {self.entries} "
            f"ledger entries; the complete log of checkpoint {self.checkpoint.origin} size {self.checkpoint.size} "
            f"root {self.checkpoint.root_hash.hex()}{extra}"
        )


@dataclass
class _Bundle:
    folder: Path
    format: str
    module: FormatModule
    manifest: dict[str, Any]
    note: str
    records: list[Record]
    listed: list[int]
    lines: dict[int, str]
    line_errors: list[str]
    publisher: Publisher


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{what} is missing") from None
    except OSError as exc:
        raise BundleError(f"{what}: cannot read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{what}: not JSON ({exc})") from None


def _read_text(folder: Path, name: str, where: str) -> str:
    """The UTF-8 text of the bundle's file ``name``; :class:`BundleError` naming it when missing or unreadable."""
    try:
        return (folder / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BundleError(f"{where}: {name} is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"{where}: {name}: cannot read ({exc})") from None


def _int_list(value: Any, what: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        raise BundleError(f"{what}: expected a list of integers")
    return list(value)


def _load(folder: Path) -> _Bundle:
    """Read a bundle's manifest, checkpoint and entries; :class:`BundleError` when it cannot be checked at all."""
    where = f"bundle {folder}"
    if not folder.is_dir():
        raise BundleError(f"{where}: not a folder")
    manifest = _read_json(folder / MANIFEST_FILE, f"{where}: {MANIFEST_FILE}")
    if not isinstance(manifest, dict) or manifest.get("bundle") != BUNDLE_KIND:
        raise BundleError(f"{where}: {MANIFEST_FILE} is not the manifest of a naef disclosure bundle")
    if manifest.get("derivation") != DERIVATION:
        raise BundleError(
            f"{where}: made with derivation {manifest.get('derivation')!r}; this naef re-derives {DERIVATION!r}"
        )
    fmt = str(manifest.get("format"))
    if fmt not in FORMATS:
        raise BundleError(f"{where}: {MANIFEST_FILE}: unknown format {fmt!r}")
    try:
        pub = publisher(str(manifest.get("publisher")), what=f"{where}: {MANIFEST_FILE}: publisher")
    except DisclosureError as exc:
        raise BundleError(exc.message) from None
    as_of = manifest.get("as_of")
    try:
        date.fromisoformat(as_of if isinstance(as_of, str) and len(as_of) == 10 else "")
    except ValueError:
        raise BundleError(f"{where}: {MANIFEST_FILE}: as_of: expected the publication date YYYY-MM-DD") from None
    pub = replace(pub, as_of=as_of)
    raw_records = manifest.get("records")
    if not isinstance(raw_records, list):
        raise BundleError(f"{where}: {MANIFEST_FILE}: records: expected a list")
    records = []
    for n, r in enumerate(raw_records):
        if not isinstance(r, dict) or not isinstance(r.get("id"), str) or not isinstance(r.get("files"), list):
            raise BundleError(f"{where}: {MANIFEST_FILE}: records[{n}]: expected id, files and leaves")
        records.append(
            Record(r["id"], tuple(str(f) for f in r["files"]), tuple(_int_list(r.get("leaves"), f"records[{n}]")))
        )
    listed = _int_list(manifest.get("entries"), f"{where}: {MANIFEST_FILE}: entries")
    if not isinstance(manifest.get("checkpoint"), dict):
        raise BundleError(f"{where}: {MANIFEST_FILE}: checkpoint: expected an object")
    note = _read_text(folder, CHECKPOINT_FILE, where)
    lines: dict[int, str] = {}
    line_errors: list[str] = []
    text = _read_text(folder, ENTRIES_FILE, where)
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            index, entry = obj["index"], obj["entry"]
            if not isinstance(index, int) or not isinstance(entry, str):
                raise TypeError
        except (json.JSONDecodeError, KeyError, TypeError):
            line_errors.append(f"{ENTRIES_FILE} line {n}: not an entry line {{\"entry\": text, \"index\": n}}")
            continue
        if index in lines:
            line_errors.append(f"{ENTRIES_FILE} line {n}: ledger entry {index} appears twice")
            continue
        lines[index] = entry
    users: dict[int, list[str]] = {}
    for r in records:
        for i in r.leaves:
            users.setdefault(i, []).append(r.id)
    missing = [i for i in listed if not (folder / INCLUSION_DIR / f"{i}.json").is_file()]
    if missing:
        first = missing[0]
        used_by = ", ".join(users.get(first, [])) or "no record"
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise BundleError(
            f"{where}: {INCLUSION_DIR}/{first}.json is missing{more}: the inclusion proof of ledger entry {first}, "
            f"used by {used_by}"
        )
    return _Bundle(folder, fmt, FORMATS[fmt], manifest, note, records, listed, lines, line_errors, pub)


def _hex(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("not a hex string")
    return binascii.unhexlify(value)


def _users(records: Sequence[Record], index: int) -> str:
    names = [r.id for r in records if index in r.leaves]
    return ", ".join(names) if names else "no record"


def _check_entries(b: _Bundle, cp: ExportCheckpoint) -> tuple[list[StoredEntry], list[str]]:
    """Entries whose inclusion proof verifies against the signed root, and failures naming the others."""
    proven: list[StoredEntry] = []
    failures = list(b.line_errors)
    for i in b.listed:
        used_by = _users(b.records, i)
        text = b.lines.get(i)
        if text is None:
            failures.append(
                f"ledger entry {i}: listed in {MANIFEST_FILE} but not in {ENTRIES_FILE} (used by {used_by})"
            )
            continue
        canonical = text.encode("utf-8")
        try:
            entry = decode_entry(canonical)
        except LedgerError as exc:
            failures.append(f"ledger entry {i}: {exc.message} (used by {used_by})")
            continue
        proof_path = b.folder / INCLUSION_DIR / f"{i}.json"
        try:
            proof = json.loads(proof_path.read_text(encoding="utf-8"))
            path = [_hex(h) for h in proof["inclusion_path"]]
            claimed_leaf = _hex(proof.get("leaf_hash", ""))
        except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
            failures.append(f"ledger entry {i}: {INCLUSION_DIR}/{i}.json is not an inclusion proof ({exc})")
            continue
        if not verify_inclusion(entry.leaf_hash, i, cp.size, path, cp.root_hash):
            why = (
                "its bytes in entries.jsonl were changed"
                if claimed_leaf != entry.leaf_hash
                else "its inclusion proof does not lead to the signed root"
            )
            failures.append(
                f"ledger entry {i}: not in the signed checkpoint of size {cp.size} ({why}); used by {used_by}"
            )
            continue
        proven.append(StoredEntry(i, entry.type, entry.time, entry.payload, entry.canonical, entry.leaf_hash))
    return proven, failures


def _check_records(b: _Bundle, expected: Rendered) -> list[str]:
    failures: list[str] = []
    listed = {r.id: r for r in b.records}
    for r in expected.records:
        got = listed.get(r.id)
        if got is None:
            failures.append(f"{r.label()}: derived from the ledger entries but not listed in {MANIFEST_FILE}")
        elif got.leaves != r.leaves:
            failures.append(
                f"{r.label()}: {MANIFEST_FILE} names {entry_span(got.leaves) if got.leaves else 'no entry'}, "
                f"the record derives from {entry_span(r.leaves) if r.leaves else 'no entry'}"
            )
        elif got.files != r.files:
            failures.append(f"{r.label()}: {MANIFEST_FILE} lists files {list(got.files)}, not {list(r.files)}")
    wanted = {r.id for r in expected.records}
    failures += [f"{r.id}: listed in {MANIFEST_FILE} but not derived from the ledger entries" for r in b.records
                 if r.id not in wanted]
    want_entries = sorted({i for r in expected.records for i in r.leaves})
    if sorted(b.listed) != want_entries:
        failures.append(f"{MANIFEST_FILE}: entries {b.listed} are not the records' entries {want_entries}")
    return failures


def _signed(
    b: _Bundle, vkey: VerifierKey, witnesses: Sequence[VerifierKey]
) -> tuple[ExportCheckpoint, tuple[tuple[str, int], ...], list[str]]:
    """The signed checkpoint of a bundle (raises when the signature fails), the witnesses whose cosignatures
    verified, and failures where the manifest disagrees with the checkpoint."""
    try:
        opened = open_checkpoint(b.note, vkey, witnesses)
    except LedgerError as exc:
        raise BundleVerificationError(
            f"bundle {b.folder}: {CHECKPOINT_FILE}: {exc.message}", failures=[f"{CHECKPOINT_FILE}: {exc.message}"]
        ) from None
    c = opened.checkpoint
    cp = ExportCheckpoint(c.origin, c.size, c.root_hash, b.note)
    failures = []
    if b.manifest["checkpoint"] != cp.to_json():
        failures.append(f"{MANIFEST_FILE}: checkpoint differs from the signed {CHECKPOINT_FILE}")
    cosigned = tuple((w.name, t) for w, t in opened.cosigners)
    missing = [w.name for w in witnesses if w.name not in {n for n, _ in cosigned}]
    if missing:
        failures.append(f"{CHECKPOINT_FILE}: no cosignature by the witness(es) {', '.join(missing)}")
    return cp, cosigned, failures


def verify_bundle(
    folder: Path | str,
    key: VerifierKey | str | Path,
    older: Path | str | None = None,
    *,
    witnesses: Sequence[VerifierKey] = (),
    not_older_than: datetime | None = None,
    now: datetime | None = None,
) -> BundleReport:
    """Check a bundle offline against the trusted log key; with ``older``, also that its checkpoint extends the
    older bundle's; with ``witnesses`` (``cosignature/v1`` verifier keys), that each of them cosigned it; with
    ``not_older_than``, that the bundle's freshest time (latest entry, witnesses' cosignatures) is not before it.

    The bundle must hold the whole log up to its checkpoint (:mod:`naef.disclosure.completeness`); the export is
    re-derived from every entry of the types its format reads.

    Raises :class:`BundleError` when the bundle cannot be checked (no manifest, no checkpoint, a missing inclusion
    proof) and :class:`BundleVerificationError` when a check fails: its ``failures`` name every failing record,
    entry or checkpoint, its message is one line with all of them.
    """
    folder = Path(folder)
    vkey = key if isinstance(key, VerifierKey) else read_verifier_key(key)
    b = _load(folder)
    cp, cosigned, failures = _signed(b, vkey, witnesses)
    proven, entry_failures = _check_entries(b, cp)
    failures += entry_failures
    log_info = b.manifest.get("log")
    log = check_log(
        b.lines,
        size=cp.size,
        root=cp.root_hash,
        counts=log_info.get("counts") if isinstance(log_info, dict) else None,
        file_name=ENTRIES_FILE,
    )
    failures += log.failures
    today = (now or datetime.now(UTC)).astimezone(UTC).date().isoformat()
    if b.publisher.as_of is not None and b.publisher.as_of > today:
        failures.append(
            f"{MANIFEST_FILE}: as_of {b.publisher.as_of} is after today ({today}): a bundle cannot be published in "
            "the future"
        )
    # the rules, re-checked from the log alone: every published disbursement was proposed, approved by a quorum
    # of registered keys without a conflict of interest as known then, justified if flagged, and paid from money
    # the MDF had received (naef ledger audit on the bundle's log)
    rules = audit(log.entries)
    failures += [f"rules: {f.message}" for f in rules.faults]
    unproven = set(b.listed) - {e.index for e in proven}
    inputs = [e for e in log.entries if e.type in b.module.INPUT_TYPES and e.index not in unproven]
    fresh = freshest(log.entries, [t for _, t in cosigned])
    if not_older_than is not None and (fresh is None or fresh < not_older_than):
        basis = "the latest witness cosignature" if cosigned else "the log's last entry (no --witness given)"
        failures.append(
            f"stale: the bundle's freshest time is {stamp(fresh) if fresh else 'unknown'} ({basis}), older than "
            f"--not-older-than {stamp(not_older_than)}"
        )
    expected: Rendered | None = None
    try:
        expected = b.module.render(inputs, cp, publisher=b.publisher)
    except DisclosureError as exc:
        failures.append(f"cannot re-derive the {b.format} export from the proven entries ({exc.message})")
    if expected is not None:
        failures += _check_records(b, expected)
        failures += b.module.compare(folder, expected)
    older_size = None
    if older is not None:
        old = _load(Path(older))
        older_size, older_failures = check_extends(folder, cp, Path(older), old.note, vkey)
        failures += older_failures
    if failures:
        bad_entries = {int(f.split()[2].rstrip(":")) for f in entry_failures if f.startswith("ledger entry ")}
        bad_entries |= {f.index for f in rules.faults if f.index is not None}
        records = [
            r.id
            for r in (expected.records if expected else b.records)
            if bad_entries & set(r.leaves)
            or any(f == r.id or f.startswith((f"{r.id}:", f"{r.id} (")) for f in failures)
        ]
        raise BundleVerificationError(
            f"bundle {folder}: verification failed: " + "; ".join(failures), failures=failures, records=records
        )
    assert expected is not None
    return BundleReport(
        folder,
        b.format,
        cp,
        len(expected.records),
        len(proven),
        tuple(n for n, _ in cosigned),
        older_size,
        log.entries[-1].time if log.entries else "",
        cosigned,
        rules,
        b.publisher.as_of or "",
    )
