"""The one error hierarchy of naef.

Every package raises a subclass of :class:`NaefError`; only the command line (``naef.cli``) and the web API turn
them into exit codes and HTTP responses. Messages are one line: they name the input (a key path, a file, an
argument) and the reason, so that a person can fix the input without reading a traceback.
"""

from __future__ import annotations

__all__ = ["CliError", "NaefError"]


class NaefError(Exception):
    """Base class of every error naef raises on purpose (bad input, failed verification, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CliError(NaefError):
    """A bad command-line argument (a path, an option value)."""
