"""The demo's keys and stakeholders: deterministic Ed25519 keys derived from a public seed (for demonstrations
only: anyone can recompute them), the demo governance, the witnesses and the public key files the demo writes."""

from __future__ import annotations

import hashlib

from naef.ledger.governance import Governance, Role
from naef.ledger.keys import SIG_COSIGNATURE_V1, SignerKey

__all__ = [
    "DEMO_LOG_KEY_NAME",
    "DEMO_SEED",
    "DEMO_STAKEHOLDERS",
    "REGISTRAR",
    "WITNESSES",
    "demo_governance",
    "demo_key",
    "demo_public_keys",
    "pub_name",
]

DEMO_SEED = b"naef demo keys v1 - public seed, NOT SECRET"
"""Seed of the demo keys: key(name) = Ed25519 seed SHA-256(DEMO_SEED || 0x0A || name). Public on purpose."""

DEMO_LOG_KEY_NAME = "demo.naef.example/log"
DEMO_STAKEHOLDERS: tuple[tuple[str, Role], ...] = (
    ("mx-board-1", "mexican_board"),
    ("mx-board-2", "mexican_board"),
    ("na-board-1", "north_american_board"),
    ("na-board-2", "north_american_board"),
    ("controller", "independent_controller"),
    ("observer-1", "observer"),
)
WITNESSES = ("controller", "observer-1")
REGISTRAR = "controller"  # signs the BODS imports and the MDF's receipts (independent-controller role)


def demo_key(name: str) -> SignerKey:
    """The deterministic demo key of ``name`` (public seed: for demonstrations only)."""
    return SignerKey(name, hashlib.sha256(DEMO_SEED + b"\n" + name.encode("utf-8")).digest())


def demo_governance() -> Governance:
    """The demo stakeholders with their demo keys and the default quorum (1 MX + 1 NA + controller)."""
    return Governance.model_validate(
        {
            "stakeholders": [
                {"name": name, "role": role, "public_key": demo_key(name).verifier().encode()}
                for name, role in DEMO_STAKEHOLDERS
            ]
        }
    )


def demo_public_keys() -> dict[str, str]:
    """File name → content of the demo's public key files: the log's Ed25519 verifier key, then each witness's
    ``cosignature/v1`` key (one line each, as ``naef keys new`` writes them)."""
    keys = {pub_name(DEMO_LOG_KEY_NAME): demo_key(DEMO_LOG_KEY_NAME).verifier().encode() + "\n"}
    for name in WITNESSES:
        keys[pub_name(name)] = demo_key(name).verifier(SIG_COSIGNATURE_V1).encode() + "\n"
    return keys


def pub_name(key_name: str) -> str:
    return f"{key_name.replace('/', '_')}.pub"
