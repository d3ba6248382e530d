"""Errors of the disclosures (:mod:`naef.disclosure`)."""

from __future__ import annotations

from collections.abc import Sequence

from naef.errors import NaefError

__all__ = ["BundleError", "BundleVerificationError", "DisclosureError"]


class DisclosureError(NaefError):
    """Bad input to an export: an unknown format, a ledger that cannot be opened or has no signed checkpoint, an
    output folder that exists and is not empty, nothing to publish."""


class BundleError(DisclosureError):
    """A bundle that cannot be checked at all: no manifest, no checkpoint, a missing proof, unreadable files."""


class BundleVerificationError(DisclosureError):
    """A bundle was checked and failed: each item of ``failures`` names the record (or entry, or checkpoint)
    that failed and why; ``records`` lists the failing records' ids."""

    def __init__(self, message: str, *, failures: Sequence[str], records: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.failures = tuple(failures)
        self.records = tuple(records)
