"""Completeness of a bundle: it carries the *whole* log up to its checkpoint, so nothing can be left out.

An inclusion proof shows that an entry is in the log, never that another entry is not. A bundle therefore ships
every entry ``0 .. n-1`` of the checkpoint's tree of size ``n`` (``entries.jsonl``), and the verifier:

1. requires exactly the indexes ``0 .. n-1`` (a missing index is named: ``ledger entry 49 is missing``);
2. recomputes the RFC 9162 Merkle tree hash ``MTH(D[n])`` of all the leaves (``leaf = SHA-256(0x00 || entry
   bytes)``, §2.1.1) and requires the signed root — so no entry was changed, added or left out;
3. compares the per-type counts the manifest states with the log's (a publisher's claim "this log has 1
   benchmark flag" is checked, and a difference names the type);
4. re-derives the export from *every* entry of the types the format reads, so a record that leaves out a fact of
   the log (a benchmark flag, a beneficial owner, a disbursement) differs from its re-derivation and is named.

Why the whole log rather than signed per-type counts or per-type Merkle roots: at today's sizes the log is small
(the demo's 162 entries are about 13 KB gzipped), the check needs nothing but SHA-256 and the RFC's tree hash
(no new signed structure, nothing the log operator must additionally sign), and a watchdog can re-run it by hand.
Per-type signed commitments would only pay for logs of millions of entries.

Freshness: the checkpoint itself carries no time. Each witness's ``cosignature/v1`` carries the time the witness
cosigned (signed by the witness); the log's last entry carries the time the operator recorded (signed through the
root, but only the operator's word). :func:`freshest` takes the witnesses' latest time when witnesses were
checked, else the last entry's; ``--not-older-than`` refuses a bundle whose freshest time is before the given
instant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from naef.disclosure.errors import DisclosureError
from naef.ledger.entries import decode_entry
from naef.ledger.errors import LedgerError
from naef.ledger.log import StoredEntry
from naef.ledger.merkle import root_hash

__all__ = [
    "LogCheck",
    "check_log",
    "freshest",
    "parse_instant",
    "stamp",
    "type_counts",
]


@dataclass(frozen=True)
class LogCheck:
    """The complete log of a bundle as far as it could be read, and what failed."""

    entries: tuple[StoredEntry, ...]
    """Every entry line that decodes, in index order."""
    complete: bool
    """True when the indexes are exactly 0..n-1 and their tree hash is the signed root."""
    failures: tuple[str, ...]


def type_counts(entries: Iterable[StoredEntry]) -> dict[str, int]:
    """Number of entries of each type, keys sorted."""
    counts = Counter(e.type for e in entries)
    return {t: counts[t] for t in sorted(counts)}


def check_log(
    lines: Mapping[int, str], *, size: int, root: bytes, counts: object, file_name: str
) -> LogCheck:
    """Check that ``lines`` (index → canonical entry text) are the whole log of the signed tree (``size``,
    ``root``) and that ``counts`` (the manifest's per-type counts) are the log's."""
    failures: list[str] = []
    missing = [i for i in range(size) if i not in lines]
    if missing:
        more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
        shown = ", ".join(str(i) for i in missing[:10]) + more
        noun = "entry" if len(missing) == 1 else "entries"
        failures.append(
            f"ledger {noun} {shown} missing from {file_name}: a bundle holds every entry of its checkpoint "
            f"(0 to {size - 1})"
        )
    beyond = sorted(i for i in lines if not 0 <= i < size)
    if beyond:
        failures.append(
            f"{file_name}: ledger entries {', '.join(str(i) for i in beyond[:10])} are outside the checkpoint "
            f"(size {size})"
        )
    entries: list[StoredEntry] = []
    for i in sorted(i for i in lines if 0 <= i < size):
        try:
            e = decode_entry(lines[i].encode("utf-8"))
        except LedgerError as exc:
            failures.append(f"ledger entry {i}: {exc.message}")
            continue
        entries.append(StoredEntry(i, e.type, e.time, e.payload, e.canonical, e.leaf_hash))
    complete = not failures
    if complete and root_hash([e.leaf_hash for e in entries]) != root:
        complete = False
        failures.append(
            f"{file_name}: the {size} entries do not hash to the signed root (an entry was changed, replaced or "
            "reordered)"
        )
    if complete:
        actual = type_counts(entries)
        if not isinstance(counts, Mapping):
            failures.append("manifest.json: log.counts: expected an object of entry type → number")
        else:
            claimed = {str(k): v for k, v in counts.items() if v != 0}
            for t in sorted(set(actual) | set(claimed)):
                if claimed.get(t, 0) != actual.get(t, 0):
                    failures.append(
                        f"manifest.json: log.counts: {t}: the manifest says {claimed.get(t, 0)}, the log holds "
                        f"{actual.get(t, 0)}"
                    )
    return LogCheck(tuple(entries), complete and not failures, tuple(failures))


def _parse_rfc3339(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None  # a changed entry: the tree hash check names it
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_instant(text: str, *, what: str = "--not-older-than") -> datetime:
    """A date (``2031-12-31``, meaning its start in UTC) or an RFC 3339 date-time; :class:`DisclosureError`
    naming ``what`` otherwise."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DisclosureError(f"{what}: {text!r} is not a date (YYYY-MM-DD) or an RFC 3339 date-time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def stamp(moment: datetime) -> str:
    """``2031-12-31T23:10:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def freshest(entries: Sequence[StoredEntry], witness_times: Sequence[int]) -> datetime | None:
    """Evidence of how recent a checkpoint is: the latest verified witness cosignature time (Unix seconds) when
    there is one — a witness signs its own clock's time — else the recorded time of the log's last entry (the
    log operator's own word: entry times need not increase, so the last entry's, not the latest, counts);
    ``None`` when there is neither."""
    if witness_times:
        return datetime.fromtimestamp(max(witness_times), UTC)
    return _parse_rfc3339(entries[-1].time) if entries else None
