"""What every study's result shares: its files as text, and the swap's flows of its deterministic run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Protocol

import pandas as pd

from naef.analysis.flows import SwapFlows, swap_flows

__all__ = ["Files", "StudyResult", "csv_text", "json_text", "swap_flows_of"]

#: a study's output files: name → content (text, or bytes for binary files)
Files = dict[str, str | bytes]


def json_text(document: object) -> str:
    """A JSON document as written to disk: indented, no NaN or infinity (``None`` instead, set by the builders)."""
    return json.dumps(document, indent=2, allow_nan=False, default=_not_serialisable) + "\n"


def csv_text(table: pd.DataFrame) -> str:
    """A table as written to disk: no index, floats with six decimals."""
    return table.to_csv(index=False, float_format="%.6f")


def _not_serialisable(obj: object) -> object:
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def swap_flows_of(cashflows: pd.DataFrame) -> SwapFlows:
    """The swap's flows over the horizon of a deterministic run: :func:`naef.analysis.flows.swap_flows`, the one
    builder that report.html and the portal draw (the same amounts, names and colours)."""
    return swap_flows(cashflows)


class StudyResult(Protocol):
    """What every study returns: its summary document, its tables and its files (and, where it has a
    deterministic run, the swap's flows)."""

    @property
    def summary(self) -> Mapping[str, object]: ...

    def tables(self) -> dict[str, pd.DataFrame]: ...

    def files(self) -> Files: ...
