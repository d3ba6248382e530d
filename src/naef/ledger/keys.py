"""Ed25519 keys as C2SP signed-note key strings (c2sp.org/signed-note, "Verifier keys").

* verifier key (public): ``<name>+<hex key ID>+<base64(signature type || public key)>``
* signer key (private): ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte Ed25519 seed)>``, the form
of   the reference implementation ``golang.org/x/mod/sumdb/note``.

The key ID is ``SHA-256(name || 0x0A || signature type || public key)[:4]`` read as a big-endian uint32
(signed-note §Signatures). Signature type ``0x01`` is an Ed25519 note signature; ``0x04`` is a timestamped
Ed25519 checkpoint cosignature (c2sp.org/tlog-cosignature): the same Ed25519 key pair gets a different key
ID, so a witness publishes ``signer.verifier(SIG_COSIGNATURE_V1)``.

Stakeholders (board members, the controller, observers) also use these keys to sign approvals:
:meth:`SignerKey.sign` and :meth:`VerifierKey.verify_raw` are plain RFC 8032 Ed25519 over the bytes given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from naef.ledger.errors import LedgerError

__all__ = [
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "SignerKey",
    "VerifierKey",
    "generate_key",
    "key_id",
    "read_signer_key",
    "read_verifier_key",
    "valid_key_name",
    "write_key_pair",
]

SIG_ED25519 = 0x01
"""Signature type of Ed25519 note signatures (signed-note §Signature types)."""

SIG_COSIGNATURE_V1 = 0x04
"""Signature type of timestamped Ed25519 checkpoint cosignatures (tlog-cosignature, ``cosignature/v1``)."""

_KNOWN_TYPES = (SIG_ED25519, SIG_COSIGNATURE_V1)


def valid_key_name(name: str) -> bool:
    """Key names are non-empty and contain no Unicode space and no ``+`` (signed-note §Format)."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name) and name.isprintable()


def key_id(name: str, sig_type: int, public_key: bytes) -> int:
    """``SHA-256(name || 0x0A || sig_type || public_key)[:4]`` as a big-endian uint32 (signed-note)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise LedgerError(f"{what}: not standard base64") from exc


def _parse_hash(text: str, what: str) -> int:
    if len(text) != 8 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise LedgerError(f"{what}: key ID must be 8 hex digits, got {text!r}")
    return int(text, 16)


@dataclass(frozen=True)
class VerifierKey:
    """A public key with its name and key ID (a C2SP *vkey*)."""

    name: str
    key_id: int
    sig_type: int
    public_key: bytes

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes, sig_type: int = SIG_ED25519) -> VerifierKey:
        """The vkey of a raw 32-byte Ed25519 public key under ``name`` for signature type ``sig_type``."""
        if not valid_key_name(name):
            raise LedgerError(f"key name {name!r}: must be non-empty, without spaces or '+'")
        if sig_type not in _KNOWN_TYPES:
            raise LedgerError(f"key {name}: unsupported signature type 0x{sig_type:02x}")
        if len(public_key) != 32:
            raise LedgerError(f"key {name}: an Ed25519 public key has 32 bytes, got {len(public_key)}")
        return cls(name, key_id(name, sig_type, public_key), sig_type, bytes(public_key))

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse ``name+hash+base64(type || key)``; the key ID must match the recomputed one."""
        text = text.strip()
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise LedgerError(f"verifier key {text[:40]!r}: expected name+hash+base64")
        name, hash16, key64 = parts
        if not valid_key_name(name):
            raise LedgerError(f"verifier key {text[:40]!r}: invalid key name")
        claimed = _parse_hash(hash16, f"verifier key {name}")
        raw = _b64decode(key64, f"verifier key {name}")
        if len(raw) < 2:
            raise LedgerError(f"verifier key {name}: empty key material")
        if key_id(name, raw[0], raw[1:]) != claimed:
            raise LedgerError(f"verifier key {name}: key ID {hash16} does not match the key")
        if raw[0] not in _KNOWN_TYPES:
            raise LedgerError(f"verifier key {name}: unsupported signature type 0x{raw[0]:02x}")
        if len(raw) != 33:
            raise LedgerError(f"verifier key {name}: an Ed25519 public key has 32 bytes, got {len(raw) - 1}")
        return cls(name, claimed, raw[0], raw[1:])

    def encode(self) -> str:
        """The key string ``name+hash+base64(type || key)``."""
        blob = base64.b64encode(bytes([self.sig_type]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{blob}"

    def __str__(self) -> str:
        return self.encode()

    def verify_raw(self, message: bytes, signature: bytes) -> bool:
        """RFC 8032 Ed25519 verification of ``signature`` over ``message`` (no framing)."""
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SignerKey:
    """An Ed25519 private key with its name (a C2SP signer key). ``repr`` never shows the seed."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not valid_key_name(self.name):
            raise LedgerError(f"key name {self.name!r}: must be non-empty, without spaces or '+'")
        if len(self.seed) != 32:
            raise LedgerError(f"signer key {self.name}: an Ed25519 seed has 32 bytes, got {len(self.seed)}")

    @classmethod
    def parse(cls, text: str) -> SignerKey:
        """Parse ``PRIVATE+KEY+name+hash+base64(0x01 || seed)``; the key ID must match the derived public
        key."""
        text = text.strip()
        parts = text.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise LedgerError("signer key: expected PRIVATE+KEY+name+hash+base64")
        name, hash16, key64 = parts[2:]
        if not valid_key_name(name):
            raise LedgerError("signer key: invalid key name")
        claimed = _parse_hash(hash16, f"signer key {name}")
        raw = _b64decode(key64, f"signer key {name}")
        if len(raw) != 33 or raw[0] != SIG_ED25519:
            raise LedgerError(f"signer key {name}: expected 0x01 followed by a 32-byte Ed25519 seed")
        key = cls(name, raw[1:])
        if key.key_id != claimed:
            raise LedgerError(f"signer key {name}: key ID {hash16} does not match the key")
        return key

    @property
    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def public_key(self) -> bytes:
        """The 32-byte RFC 8032 public key."""
        return self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> int:
        """Key ID of the Ed25519 (type 0x01) verifier key."""
        return key_id(self.name, SIG_ED25519, self.public_key)

    def verifier(self, sig_type: int = SIG_ED25519) -> VerifierKey:
        """The public verifier key; ``SIG_COSIGNATURE_V1`` gives the witness (cosigner) form."""
        return VerifierKey.from_public_key(self.name, self.public_key, sig_type)

    def encode(self) -> str:
        """The key string ``PRIVATE+KEY+name+hash+base64(0x01 || seed)``."""
        blob = base64.b64encode(bytes([SIG_ED25519]) + self.seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{blob}"

    def sign(self, message: bytes) -> bytes:
        """RFC 8032 Ed25519 signature (64 bytes) over ``message`` (deterministic)."""
        return self._private.sign(message)


def generate_key(name: str) -> SignerKey:
    """A fresh Ed25519 key pair under ``name`` (seed from the OS CSPRNG)."""
    seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return SignerKey(name, seed)


def write_key_pair(key: SignerKey, out_dir: Path, *, cosigner: bool = False) -> tuple[Path, Path]:
    """Write ``NAME.key`` (mode 0600, created exclusively) and ``NAME.pub``; refuses to overwrite either.

    With ``cosigner`` the ``.pub`` file holds the type-0x04 (``cosignature/v1``) verifier key of a witness.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    private_path = out_dir / f"{key.name.replace('/', '_')}.key"
    public_path = out_dir / f"{key.name.replace('/', '_')}.pub"
    for p in (private_path, public_path):
        if p.exists():
            raise LedgerError(f"{p}: already exists; not overwriting a key")
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.encode() + "\n")
    os.chmod(private_path, 0o600)
    vkey = key.verifier(SIG_COSIGNATURE_V1 if cosigner else SIG_ED25519)
    public_path.write_text(vkey.encode() + "\n", encoding="ascii")
    return private_path, public_path


def _read_text(path: Path | str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read key file ({exc.strerror})") from exc


def read_signer_key(path: Path | str) -> SignerKey:
    """Load a ``PRIVATE+KEY+...`` file."""
    try:
        return SignerKey.parse(_read_text(path))
    except LedgerError as exc:
        raise LedgerError(f"{path}: {exc.message}") from exc


def read_verifier_key(source: Path | str) -> VerifierKey:
    """Load a verifier key from a file, or parse it if ``source`` is itself a key string.

    A ``PRIVATE+KEY+...`` file is accepted too: its type-0x01 verifier key is returned.
    """
    text = str(source)
    if "+" in text and not Path(text).exists():
        return VerifierKey.parse(text)
    content = _read_text(source).strip()
    try:
        if content.startswith("PRIVATE+KEY+"):
            return SignerKey.parse(content).verifier()
        return VerifierKey.parse(content)
    except LedgerError as exc:
        raise LedgerError(f"{source}: {exc.message}") from exc
