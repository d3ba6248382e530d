"""The report's error."""

from __future__ import annotations

from naef.errors import NaefError

__all__ = ["ReportError"]


class ReportError(NaefError):
    """Report inputs that do not fit together (another scenario's results) or a missing package."""
