"""Errors of the control system's log (:mod:`naef.ledger`)."""

from __future__ import annotations

from naef.errors import NaefError

__all__ = ["LedgerError", "VerificationError"]


class LedgerError(NaefError):
    """Bad input to the ledger (unknown entry type, malformed payload, bad key, bad proof request, ...).

    Whenever this is raised by an append, nothing has been appended.
    """


class VerificationError(LedgerError):
    """Stored history or a published checkpoint failed verification.

    ``index`` is the first bad entry index when the failure can be pinned to one (else ``None``);
    ``checkpoint_size`` is the tree size of the first bad checkpoint when the failure is a checkpoint's.
    """

    def __init__(self, message: str, *, index: int | None = None, checkpoint_size: int | None = None) -> None:
        super().__init__(message)
        self.index = index
        self.checkpoint_size = checkpoint_size
