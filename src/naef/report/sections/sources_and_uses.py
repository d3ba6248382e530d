"""Sources and uses at issuance, the tranches on the deterministic run, and its cash flows by year."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

import naef.format as fmt
from naef.format import (
    DASH,
    pct,
)
from naef.report import figures as fg
from naef.report.blocks import Cell, Chart, Section, Table, Text, figure_cell
from naef.report.sections.common import PERIOD_NAME, Column, Doc, cells, item_table, spec_json

__all__ = ["TRANCHE_COLUMNS", "annual_chart", "build"]


#: the columns of the deterministic run's tranche table, in order: (header with unit, key in summary.json's
#: tranches[i], format); a new per-tranche figure is one more entry here
TRANCHE_COLUMNS: tuple[Column, ...] = (
    Column("tranche", "name", fmt.text, numeric=False),
    Column("rank", "seniority", fmt.integer),
    Column("size (USD bn)", "size_usd", fmt.bn),
    Column("coupon (%/yr)", "coupon_rate", pct),
    Column("issue", "issue_date", fmt.text),
    Column("legal final", "legal_final_date", fmt.text),
    Column("WAL (years)", "wal_years", fmt.years),
    Column("min DSCR (×)", "min_dscr", fmt.number),
    Column("mean DSCR (×)", "mean_dscr", fmt.number),
    Column("investor yield (%/yr)", "investor_yield", pct),
    Column("interest paid (USD bn)", "interest_paid_usd", fmt.bn),
    Column("principal paid (USD bn)", "principal_paid_usd", fmt.bn),
    Column("defaulted", "defaulted", lambda x: fmt.text(None if x is None else ("yes" if x else "no")),
           numeric=False),
    Column("default date", "default_date", fmt.text, numeric=False),
    Column("unpaid at legal final (USD bn)", "unpaid_at_legal_final_usd", fmt.bn),
    Column("paid after legal final (USD bn)", "recovered_after_legal_final_usd", fmt.bn),
    Column("principal unpaid at horizon end (USD bn)", "principal_outstanding_usd", fmt.bn),
    Column("interest unpaid at horizon end (USD bn)", "interest_shortfall_usd", fmt.bn),
)


def _unpaid(tr: Mapping[str, Any]) -> bool:
    return bool(tr.get("defaulted") or (tr.get("principal_outstanding_usd") or 0.0) > 0.5
                or (tr.get("interest_shortfall_usd") or 0.0) > 0.5)


def build(det: Doc) -> Section:
    s = Section("sources-and-uses", "Sources and uses at issuance (deterministic run)")
    su = det["sources_and_uses"]
    issuance = float(su["sources"]["securities_proceeds_usd"]) or 1.0

    def row(label: str, key: str) -> tuple[Cell, ...]:
        cell = figure_cell("deterministic", det, key, fmt.bn, css="num")
        try:
            share = pct(float(json.loads(cell.value or "null") or 0.0) / issuance, 1)
        except (TypeError, ValueError):
            share = DASH
        return cells(label, cell, Cell(share, css="num"))

    rows: list[tuple[Cell, ...]] = [row("Securities proceeds (sources)",
                                        "sources_and_uses.sources.securities_proceeds_usd")]
    labels = {"field_capex_usd": "Field capex (PEMEX developments)", "issuance_costs_usd": "Issuance costs",
              "initial_dsra_usd": "Initial debt-service reserve (DSRA)",
              "capitalised_interest_usd": "Capitalised interest (grace periods)"}
    for k in su["uses"]:
        rows.append(row("  " + labels.get(k, k.removesuffix("_usd").replace("_", " ")), f"sources_and_uses.uses.{k}"))
    rows.append(row("Total uses", "sources_and_uses.total_uses_usd"))
    if su.get("surplus_usd"):
        rows.append(row("Surplus (stays in the construction account, then released to the waterfall)",
                        "sources_and_uses.surplus_usd"))
    if su.get("shortfall_usd"):
        rows.append(row("Shortfall (uses exceed proceeds)", "sources_and_uses.shortfall_usd"))
    rows.append(row("Capex funded by PEMEX (timing)", "sources_and_uses.capex_funded_by_pemex_usd"))
    s.blocks.append(Table(("item", "USD bn", "share of proceeds (%)"), tuple(rows), (False, True, True)))
    if su.get("note"):
        s.blocks.append(Text(str(su["note"]), "note"))
    if det.get("tranches"):
        s.blocks.append(item_table(
            "deterministic", det, "tranches", TRANCHE_COLUMNS, bad=_unpaid,
            title="The tranches on the deterministic run",
            caption="DSCR is senior-inclusive: collections less the trustee fee over the scheduled debt service of "
                    "the tranche's class and every more senior class. A tranche in red is not paid in full.",
        ))
    return s


def annual_chart(cf: pd.DataFrame, ppy: int) -> Chart | None:
    need = ("period_start", "collections_usd", "to_mdf_usd")
    if any(c not in cf.columns for c in need):
        return None
    years = pd.Series([str(d)[:4] for d in cf["period_start"]], index=cf.index)
    interest = cf[[c for c in cf.columns if c.startswith("interest_paid_usd_")]].sum(axis=1)
    principal = cf[[c for c in cf.columns if c.startswith("principal_paid_usd_")]].sum(axis=1)
    frame = pd.DataFrame({"year": years, "collections": cf["collections_usd"], "debt": interest + principal,
                          "mdf": cf["to_mdf_usd"],
                          "pemex": cf["returned_to_pemex_usd"] if "returned_to_pemex_usd" in cf.columns else 0.0})
    by_year = frame.groupby("year", sort=True).sum()
    cats = [str(y) for y in by_year.index]
    spec = fg.bar_chart(
        categories=cats,
        series=[("debt service paid", by_year["debt"].tolist()), ("to the MDF", by_year["mdf"].tolist()),
                ("returned to PEMEX", by_year["pemex"].tolist())],
        lines=[("collections", by_year["collections"].tolist())],
        scale=1e9, value_title="USD bn per year", value_format=",.2f",
    )
    return Chart("chart-annual", "Collections and where they went, by year (deterministic run)",
                 f"Sums over each calendar year of the deterministic run's {PERIOD_NAME.get(ppy, 'period')}ly "
                 "cash flows (cashflows.csv): collections (line) and the debt service paid (interest and principal, "
                 "all tranches), the MDF's inflows and the pledged receivables returned to PEMEX (bars), in USD bn. "
                 "Debt service in the grace years is paid from the capitalised-interest account, not collections.",
                 spec_json(spec))

