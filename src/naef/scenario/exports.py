"""The pledged export receivables against PEMEX's crude exports (``naef/data/pemex/crude_exports.csv``).

Rules (the naef authors' judgement, docs/scenario.md ``[collateral]``):

* **refused** (a ``ScenarioError``, exit 2): a year whose pledge exceeds PEMEX's exports of the latest *reported*
  year at or before it (811,000 bbl/d in 2024 for every later year). Receivables of barrels PEMEX does not
  export cannot be pledged; PEMEX's projections are not used for this limit because they have missed by a
  factor of two (PEMEX announced 435,000 bbl/d for 2022 in Dec 2021 and exported about 0.92 million bbl/d in
  its first four months, Reuters 27 May 2022);
* **warned**: a year whose pledge exceeds half of PEMEX's exports reported or projected for it (PEMEX's 2025
  programme, 487,900 bbl/d in 2026, 393,100 bbl/d for the decade after). Half is a judgement: the receivables
  left unpledged are PEMEX's main US-dollar income against about USD 99 bn of financial debt (2025), and the
  future-flow programme that was rated above PEMEX, PEMEX Finance Ltd., was about 1 % of PEMEX's debt (Fitch,
  2013), so a pledge of most of the exports is outside the experience the published criteria rest on.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from typing import Any, Protocol

from naef.resources import read_data_text


class Collateral(Protocol):
    """What the check reads of ``naef.scenario.models.Collateral`` (not imported: models imports this module)."""

    @property
    def source(self) -> str: ...

    @property
    def pledged_exports_profile(self) -> tuple[Any, ...]: ...

    def pledged_bpd_in_year(self, year: int) -> float: ...

__all__ = ["WARN_SHARE", "ExportRow", "check_pledge_limit", "exports_bpd", "pemex_exports", "pledge_warnings"]

#: a pledge above this share of the exports expected in a year is a warning
WARN_SHARE = 0.5


@dataclass(frozen=True)
class ExportRow:
    year: int
    bpd: float
    kind: str  # "reported" or "projection"
    source: str


@functools.cache
def pemex_exports() -> tuple[ExportRow, ...]:
    """The shipped rows, by year."""
    text = read_data_text("pemex", "crude_exports.csv")
    rows = [ExportRow(int(r["year"]), float(r["crude_exports_bpd"]), r["kind"], r["source"])
            for r in csv.DictReader(io.StringIO(text))]
    return tuple(sorted(rows, key=lambda r: r.year))


def exports_bpd(year: int, *, reported_only: bool) -> ExportRow | None:
    """The row in effect in ``year``: the last row at or before it (reported rows only, or every row)."""
    found = None
    for r in pemex_exports():
        if r.year <= year and (r.kind == "reported" or not reported_only):
            found = r
    if found is None:  # before the first row: the first one
        rows = [r for r in pemex_exports() if r.kind == "reported" or not reported_only]
        found = rows[0] if rows else None
    return found


def _pledge_key(collateral: Collateral) -> str:
    return ("collateral.pledged_exports_profile" if collateral.pledged_exports_profile
            else "collateral.pledged_exports_bpd")


def check_pledge_limit(collateral: Collateral, *, first_year: int, last_year: int) -> None:
    """Raise ``ValueError`` (the key path first) when some year's pledge exceeds PEMEX's latest reported exports."""
    for year in range(first_year, last_year + 1):
        pledged = collateral.pledged_bpd_in_year(year)
        ref = exports_bpd(year, reported_only=True)
        if ref is not None and pledged > ref.bpd:
            raise ValueError(
                f"{_pledge_key(collateral)}: {pledged:,.0f} bbl/d pledged in {year} is more than PEMEX's "
                f"crude exports of {ref.year} ({ref.bpd:,.0f} bbl/d, the latest reported year; "
                "naef/data/pemex/crude_exports.csv)")


def pledge_warnings(scenario: Any) -> list[str]:
    """One line per run of years whose pledge exceeds half of PEMEX's exports reported or projected for them
    (``scenario``: a ``naef.scenario.models.Scenario``)."""
    c: Collateral = scenario.collateral
    if c.source != "incremental_plus_exports":
        return []
    head = scenario.scenario
    over: list[tuple[int, float, float]] = []
    for year in range(head.start.year, head.end.year + 1):
        pledged = c.pledged_bpd_in_year(year)
        ref = exports_bpd(year, reported_only=False)
        if ref is not None and pledged > WARN_SHARE * ref.bpd:
            over.append((year, pledged, ref.bpd))
    if not over:
        return []
    worst = max(over, key=lambda x: x[1] / x[2])
    return [
        f"{_pledge_key(c)}: the pledge is more than {WARN_SHARE:.0%} of PEMEX's crude exports reported or "
        f"projected in {len(over)} years from {over[0][0]} to {over[-1][0]} (at most {worst[1] / worst[2]:.0%}: "
        f"{worst[1]:,.0f} of {worst[2]:,.0f} bbl/d in {worst[0]}); future-flow ratings above the originator rest "
        "on programmes of about 1 % of its debt (naef.scenario.exports)"
    ]
