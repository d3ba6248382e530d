"""Is a bundle's checkpoint an append-only extension of an older bundle's? (``verify-bundle --older``)

Same log key and origin; equal sizes need equal roots (else the log was forked); a smaller older size needs this
bundle's ``proofs/consistency/M.json`` to verify from the older root to this root (RFC 9162 §2.1.4.2). A fork that
never signed a checkpoint of the older size has no proof to offer and fails as well.
"""

from __future__ import annotations

import binascii
import json
from pathlib import Path

from naef.disclosure.common import ExportCheckpoint
from naef.ledger.errors import LedgerError
from naef.ledger.keys import VerifierKey
from naef.ledger.merkle import verify_consistency
from naef.ledger.note import open_checkpoint

__all__ = ["CONSISTENCY_DIR", "check_extends"]

CONSISTENCY_DIR = "proofs/consistency"
_CHECKPOINT_FILE = "checkpoint.txt"


def check_extends(
    folder: Path, cp: ExportCheckpoint, older: Path, older_note: str, vkey: VerifierKey
) -> tuple[int, list[str]]:
    """Size of the older bundle's checkpoint (``older_note``, from the bundle ``older``) and failures if the
    checkpoint ``cp`` of the bundle ``folder`` is not an extension of it."""
    where = f"older bundle {older}"
    try:
        c = open_checkpoint(older_note, vkey).checkpoint
    except LedgerError as exc:
        return -1, [f"{where}: {_CHECKPOINT_FILE}: {exc.message}"]
    if c.origin != cp.origin:
        return c.size, [f"{where}: log {c.origin!r} is not this bundle's log {cp.origin!r}"]
    if c.size > cp.size:
        return c.size, [
            f"{where}: its checkpoint (size {c.size}) is newer than this bundle's (size {cp.size}); "
            "give the bundles the other way round"
        ]
    if c.size == cp.size:
        if c.root_hash != cp.root_hash:
            return c.size, [
                f"fork: this bundle's checkpoint and the older bundle's both have size {cp.size} but different "
                f"roots ({cp.root_hash.hex()[:16]}… and {c.root_hash.hex()[:16]}…): the log was forked"
            ]
        return c.size, []
    if c.size == 0:
        return 0, []
    proof_file = folder / CONSISTENCY_DIR / f"{c.size}.json"
    try:
        proof = json.loads(proof_file.read_text(encoding="utf-8"))
        path = [binascii.unhexlify(h) for h in proof["consistency_path"]]
    except FileNotFoundError:
        return c.size, [
            f"fork or unrelated log: this bundle has no consistency proof from size {c.size} "
            f"({CONSISTENCY_DIR}/{c.size}.json): its log had no checkpoint of the older bundle's size"
        ]
    except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
        return c.size, [f"{CONSISTENCY_DIR}/{c.size}.json: not a consistency proof ({exc})"]
    if not verify_consistency(c.size, cp.size, path, c.root_hash, cp.root_hash):
        return c.size, [
            f"fork or rewritten history: the checkpoint of size {cp.size} is not consistent with the older "
            f"bundle's checkpoint of size {c.size} (RFC 9162 consistency proof fails)"
        ]
    return c.size, []
