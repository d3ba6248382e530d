"""What a disclosure bundle's folder holds, by name, and the format modules (see :mod:`naef.disclosure.bundle`)."""

from __future__ import annotations

from collections.abc import Mapping

from naef.disclosure import eiti, iati, oc4ids
from naef.disclosure.common import FormatModule
from naef.disclosure.errors import DisclosureError

__all__ = [
    "BUNDLE_KIND",
    "CHECKPOINT_FILE",
    "ENTRIES_FILE",
    "FORMATS",
    "INCLUSION_DIR",
    "MANIFEST_FILE",
    "format_module",
]

MANIFEST_FILE = "manifest.json"
CHECKPOINT_FILE = "checkpoint.txt"
ENTRIES_FILE = "entries.jsonl"
INCLUSION_DIR = "proofs/inclusion"
BUNDLE_KIND = "naef disclosure bundle"

FORMATS: Mapping[str, FormatModule] = {"iati": iati, "oc4ids": oc4ids, "eiti": eiti}
"""The formats by name."""


def format_module(name: str) -> FormatModule:
    """The format module called ``name``; :class:`DisclosureError` for an unknown one."""
    try:
        return FORMATS[name]
    except KeyError:
        raise DisclosureError(f"format: unknown format {name!r} (choose {', '.join(FORMATS)})") from None
