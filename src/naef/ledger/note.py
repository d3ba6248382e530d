"""C2SP signed notes, transparency-log checkpoints and ``cosignature/v1`` witness cosignatures.

Specifications (their examples are test data in ``tests/data/c2sp/``):

* c2sp.org/signed-note — a note is UTF-8 text ending in a newline, a blank line, then one or more lines
  ``— <key name> base64(uint32 key ID || signature)``; no control characters other than newline; unknown keys
  are ignored, a failing signature from a known key rejects the note, and at least one known key must verify.

  Stricter than the reference ``golang.org/x/mod/sumdb/note.Open`` in two places, on purpose: Go *drops* a
  second line by a verifier it already checked without verifying it, so a valid line followed by an invalid
  one by the same key passes; naef rejects any note with two lines of one (key name, key ID) — whichever
  verifies — so every line by a known key is verified and none rides along unchecked. And base64 must be
  canonical (what the standard encoder writes: padding bits zero), so one signature or root has one spelling.
* c2sp.org/tlog-checkpoint — the note text is ``origin\\nsize\\nbase64(root)\\n`` plus optional extension
  lines; the size is an unsigned 64-bit decimal (``0 <= size < 2**64``, as Go's ``strconv.ParseUint(s, 10, 64)``).
* c2sp.org/tlog-cosignature — a witness's Ed25519 cosignature (signature type 0x04) is
  ``uint64 timestamp || Ed25519 signature`` over ``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint
  text``.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from naef.ledger.errors import LedgerError
from naef.ledger.keys import SIG_COSIGNATURE_V1, SIG_ED25519, SignerKey, VerifierKey, valid_key_name
from naef.ledger.merkle import HASH_SIZE

__all__ = [
    "EM_DASH",
    "MAX_SIGNATURES",
    "MAX_TREE_SIZE",
    "Checkpoint",
    "Note",
    "NoteSignature",
    "OpenedCheckpoint",
    "add_signatures",
    "b64decode_canonical",
    "cosign_checkpoint",
    "cosignature_message",
    "open_checkpoint",
    "open_note",
    "parse_note",
    "sign_checkpoint",
    "sign_note",
]

EM_DASH = "\u2014"
MAX_SIGNATURES = 100
"""Most signature lines accepted in one note (the spec requires at least 16; Go's reference allows 100)."""
MAX_TREE_SIZE = 2**64 - 1
"""Largest checkpoint tree size: sizes are unsigned 64-bit integers (tlog-checkpoint; RFC 9162 ``uint64``)."""


def b64decode_canonical(text: str, what: str) -> bytes:
    """Decode standard, padded base64 (RFC 4648 §4) that is *canonical*: re-encoding the bytes gives ``text``.

    Refuses anything else with a :class:`LedgerError` naming ``what``: characters outside the alphabet, missing
    or extra padding, and non-zero padding bits (RFC 4648 §3.5 lets decoders reject them; ``"AB=="`` and
    ``"AA=="`` would otherwise both decode to ``b"\\x00"``, giving one signature two spellings).
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise LedgerError(f"{what}: not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise LedgerError(f"{what}: non-canonical base64 (non-zero padding bits)")
    return raw


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the signature bytes after the 4-byte key ID."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """``— <name> base64(key ID || signature)`` followed by a newline."""
        blob = base64.b64encode(struct.pack(">I", self.key_id) + self.signature).decode("ascii")
        return f"{EM_DASH} {self.name} {blob}\n"


@dataclass(frozen=True)
class Note:
    """A parsed (not yet verified) signed note."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> str:
        """Text, blank line, signature lines — the wire form."""
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)


def _check_text(text: str, what: str) -> None:
    if not text.endswith("\n"):
        raise LedgerError(f"{what}: note text must end with a newline")
    bad = next((ch for ch in text if ord(ch) < 0x20 and ch != "\n"), None)
    if bad is not None:
        raise LedgerError(f"{what}: control character U+{ord(bad):04X} in note")


def parse_note(message: str | bytes) -> Note:
    """Split a signed note into its text and signature lines (signed-note §Format); no verification here."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LedgerError("note: not valid UTF-8") from exc
    _check_text(message, "note")
    split = message.rfind("\n\n")
    if split < 0:
        raise LedgerError("note: no blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block:
        raise LedgerError("note: no signature lines")
    sigs: list[NoteSignature] = []
    first_line: dict[tuple[str, int], int] = {}
    for n, line in enumerate(block[:-1].split("\n"), start=1):
        if n > MAX_SIGNATURES:
            raise LedgerError(f"note: more than {MAX_SIGNATURES} signatures")
        if not line.startswith(EM_DASH + " "):
            raise LedgerError(f"note: signature line {n} does not start with an em dash and a space")
        name, sep, b64 = line[2:].partition(" ")
        if not sep or not valid_key_name(name) or not b64:
            raise LedgerError(f"note: signature line {n} is malformed")
        raw = b64decode_canonical(b64, f"note: signature line {n}")
        if len(raw) < 5:
            raise LedgerError(f"note: signature line {n} is too short")
        sig = NoteSignature(name, struct.unpack(">I", raw[:4])[0], raw[4:])
        earlier = first_line.setdefault((sig.name, sig.key_id), n)
        if earlier != n:
            raise LedgerError(
                f"note: signature line {n} repeats the key {sig.name}+{sig.key_id:08x} of line {earlier} "
                "(one signature per key)"
            )
        sigs.append(sig)
    return Note(text, tuple(sigs))


def cosignature_message(text: str, timestamp: int) -> bytes:
    """The bytes a ``cosignature/v1`` witness signs: ``cosignature/v1\\ntime <ts>\\n`` then the checkpoint
    text."""
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode("utf-8")


def _signature_by(key: SignerKey, text: str, sig_type: int, timestamp: int | None) -> NoteSignature:
    if sig_type == SIG_ED25519:
        return NoteSignature(key.name, key.key_id, key.sign(text.encode("utf-8")))
    if timestamp is None or not 0 <= timestamp < 2**63:
        raise LedgerError(f"cosignature by {key.name}: timestamp must be in [0, 2^63)")
    vkey = key.verifier(SIG_COSIGNATURE_V1)
    sig = key.sign(cosignature_message(text, timestamp))
    return NoteSignature(key.name, vkey.key_id, struct.pack(">Q", timestamp) + sig)


def sign_note(text: str, signers: Sequence[SignerKey]) -> str:
    """Sign ``text`` (which must end in a newline) with each Ed25519 signer; returns the signed note."""
    _check_text(text, "note")
    if not signers:
        raise LedgerError("note: at least one signer is needed")
    return Note(text, tuple(_signature_by(k, text, SIG_ED25519, None) for k in signers)).encode()


def add_signatures(message: str, signers: Sequence[SignerKey]) -> str:
    """Append Ed25519 signatures to an existing note; a signer whose (name, ID) already signed is skipped."""
    note = parse_note(message)
    have = {(s.name, s.key_id) for s in note.signatures}
    extra = [
        _signature_by(k, note.text, SIG_ED25519, None) for k in signers if (k.name, k.key_id) not in have
    ]
    return Note(note.text, note.signatures + tuple(extra)).encode()


def _verify_one(vkey: VerifierKey, text: str, sig: bytes) -> tuple[bool, int | None]:
    """(valid?, cosignature timestamp or None) for one signature of a known key."""
    if vkey.sig_type == SIG_ED25519:
        return vkey.verify_raw(text.encode("utf-8"), sig), None
    if vkey.sig_type == SIG_COSIGNATURE_V1:
        if len(sig) != 8 + 64:
            return False, None
        (timestamp,) = struct.unpack(">Q", sig[:8])
        if timestamp >= 2**63:
            return False, None
        return vkey.verify_raw(cosignature_message(text, timestamp), sig[8:]), timestamp
    return False, None  # pragma: no cover - VerifierKey.parse admits no other type


def open_note(
    message: str | bytes, known: Iterable[VerifierKey]
) -> tuple[Note, list[tuple[VerifierKey, int | None]]]:
    """Parse and verify a note against the known keys (signed-note §Signatures).

    Signatures whose (name, key ID) match no known key are ignored; *every* line by a known key must verify,
    or the note is rejected (a key signs at most once: :func:`parse_note` refuses repeated lines); with no
    verified known signature the note is rejected. Returns the note and the keys that verified (with the
    timestamp for ``cosignature/v1`` keys).
    """
    note = parse_note(message)
    by_id: dict[tuple[str, int], VerifierKey] = {}
    for k in known:
        by_id[(k.name, k.key_id)] = k
    verified: list[tuple[VerifierKey, int | None]] = []
    for sig in note.signatures:
        vkey = by_id.get((sig.name, sig.key_id))
        if vkey is None:
            continue
        ok, timestamp = _verify_one(vkey, note.text, sig.signature)
        if not ok:
            raise LedgerError(f"note: invalid signature by {sig.name}+{sig.key_id:08x}")
        verified.append((vkey, timestamp))
    if not verified:
        raise LedgerError("note: no signature by a known key")
    return note, verified


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint body: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise LedgerError("checkpoint: origin must be a non-empty single line")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise LedgerError(f"checkpoint: tree size {self.size} is not an unsigned 64-bit integer (0 to 2^64-1)")
        if len(self.root_hash) != HASH_SIZE:
            raise LedgerError(f"checkpoint: root hash must be {HASH_SIZE} bytes")
        if any(not e or "\n" in e for e in self.extensions):
            raise LedgerError("checkpoint: extension lines must be non-empty single lines")

    def text(self) -> str:
        """``origin\\nsize\\nbase64(root)\\n[extension lines\\n]`` (tlog-checkpoint §Note text)."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root_hash).decode("ascii"),
            *self.extensions,
        ]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text (at least three non-empty lines; decimal size without leading
        zeros)."""
        if not text.endswith("\n"):
            raise LedgerError("checkpoint: text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or any(not line for line in lines):
            raise LedgerError("checkpoint: expected origin, size and root hash lines (all non-empty)")
        origin, size_s, root_s, *ext = lines
        if (
            len(size_s) > 20
            or not size_s.isascii()
            or not size_s.isdigit()
            or (size_s != "0" and size_s.startswith("0"))
        ):
            raise LedgerError(f"checkpoint: tree size {size_s[:24]!r} is not a decimal without leading zeros")
        root = b64decode_canonical(root_s, "checkpoint: root hash")
        return cls(origin, int(size_s), root, tuple(ext))


def sign_checkpoint(checkpoint: Checkpoint, log_key: SignerKey) -> str:
    """The checkpoint as a signed note by the log's key (whose name should be the origin)."""
    return sign_note(checkpoint.text(), [log_key])


def cosign_checkpoint(message: str, witness: SignerKey, *, timestamp: int) -> str:
    """Append a witness's ``cosignature/v1`` line (type 0x04) to a signed checkpoint note.

    The caller (the witness) must first have checked the checkpoint against the log's key and its consistency
    with the last checkpoint it cosigned; this function only signs. A witness that already cosigned this note
    is replaced by the new cosignature (a later timestamp).
    """
    note = parse_note(message)
    Checkpoint.parse(note.text)
    cosig = _signature_by(witness, note.text, SIG_COSIGNATURE_V1, timestamp)
    kept = tuple(s for s in note.signatures if (s.name, s.key_id) != (cosig.name, cosig.key_id))
    return Note(note.text, (*kept, cosig)).encode()


@dataclass(frozen=True)
class OpenedCheckpoint:
    """A verified checkpoint: its body, the parsed note and the witnesses whose cosignatures verified."""

    checkpoint: Checkpoint
    note: Note
    cosigners: tuple[tuple[VerifierKey, int], ...]


def open_checkpoint(
    message: str | bytes, log_key: VerifierKey, witnesses: Iterable[VerifierKey] = ()
) -> OpenedCheckpoint:
    """Verify a checkpoint note: the log key's signature is required, its name must equal the origin, and
    every signature by a listed witness must verify (others are ignored, per signed-note)."""
    witness_list = list(witnesses)
    note, verified = open_note(message, [log_key, *witness_list])
    if not any(v == log_key for v, _ in verified):
        raise LedgerError(
            f"checkpoint: no valid signature by the log key {log_key.name}+{log_key.key_id:08x}"
        )
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != log_key.name:
        raise LedgerError(
            f"checkpoint: origin {checkpoint.origin!r} is not the log key's name {log_key.name!r}"
        )
    cosigners = tuple((v, ts) for v, ts in verified if v != log_key and ts is not None)
    return OpenedCheckpoint(checkpoint, note, cosigners)
