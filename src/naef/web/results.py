"""Engine results as the JSON the API returns and the portal draws (pure functions, no I/O).

* :func:`sankey` — the study's diagram (financing → NAEF → oil production → net revenues → MDF → investment) with
  the nominal totals of a deterministic run over the whole horizon;
* :func:`percentiles_json` — ``percentiles.csv`` of a Monte Carlo as columns (NaN → null);
* :func:`stress_rows` — one row per stress path for the portal's table;
* :func:`run_document` — everything one web run returns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FAN_VARIABLES",
    "SANKEY_NODES",
    "fan_series",
    "jsonable",
    "percentiles_json",
    "run_document",
    "sankey",
    "stress_rows",
    "table_sums",
]

#: (column prefix in percentiles.csv, title, unit, scale) of the portal's fan charts
FAN_VARIABLES: tuple[tuple[str, str, str, float], ...] = (
    ("benchmark_usd_per_bbl", "Benchmark oil price", "US$/bbl", 1.0),
    ("dscr", "Debt-service coverage ratio (DSCR)", "x", 1.0),
    ("to_mdf_usd", "MDF inflows per period", "US$ million", 1e-6),
)

SANKEY_NODES: tuple[str, ...] = (
    "Investors",
    "NAEF securities",
    "PEMEX capex (new fields)",
    "Issuance costs",
    "Reserves at issuance (DSRA, capitalised interest)",
    "Added oil & gas production (sales)",
    "Operating costs",
    "Duties to the Federation",
    "Pledged export receivables",
    "Collection account",
    "Debt service to investors",
    "Returned to PEMEX",
    "Trustee fees",
    "Mexican Development Fund",
    "Investment: roads, ports, airports, rail, human capital",
)


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars as Python numbers and non-finite floats as ``None`` (strict JSON)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    return value


def table_sums(table: pd.DataFrame) -> dict[str, float]:
    """Horizon totals of a deterministic cash-flow table: every ``*_usd`` column, and ``interest_paid_usd`` /
    ``principal_paid_usd`` summed over tranches."""
    sums = {str(c): float(table[c].sum()) for c in table.columns if str(c).endswith("_usd")}
    sums["interest_paid_usd"] = float(sum(v for k, v in sums.items() if k.startswith("interest_paid_usd_")))
    sums["principal_paid_usd"] = float(sum(v for k, v in sums.items() if k.startswith("principal_paid_usd_")))
    return sums


def sankey(summary: Mapping[str, Any], sums: Mapping[str, float]) -> dict[str, Any]:
    """The study's diagram as Sankey links with the amounts (nominal USD, whole horizon) of a deterministic run.

    Links (``summary`` is ``simulate(...).summary``; ``sums`` is :func:`table_sums` of its table):

    * investors → NAEF securities: securities proceeds; NAEF → field capex, issuance costs, reserves at issuance
      (initial DSRA + capitalised interest), and any surplus → collection account (released into the waterfall);
    * capex → added production: the capex that brings it on (the production node then shows its sales);
    * production → operating costs, duties, and collection account: collections − pledged export receivables
      (sales − opex − duties + hedge payoffs, floored at 0 — the *net revenues* of the added production);
    * pledged export receivables → collection account; reserves → collection account (drawn for debt service or
      released over the life of the securities);
    * collection account → trustee fees, debt service (interest + principal), returned to PEMEX, and the MDF;
      MDF → investment.

    Zero links are left out. Amounts are nominal sums, not present values.
    """
    su = summary["sources_and_uses"]
    uses = su["uses"]
    tot = summary["totals"]
    reserves = float(uses.get("initial_dsra_usd", 0.0)) + float(uses.get("capitalised_interest_usd", 0.0))
    pledged = float(sums.get("pledged_exports_usd", 0.0))
    capex = float(uses.get("field_capex_usd", 0.0))
    n = {name: i for i, name in enumerate(SANKEY_NODES)}
    raw = [
        ("Investors", "NAEF securities", float(su["sources"]["securities_proceeds_usd"])),
        ("NAEF securities", "PEMEX capex (new fields)", capex),
        ("NAEF securities", "Issuance costs", float(uses.get("issuance_costs_usd", 0.0))),
        ("NAEF securities", "Reserves at issuance (DSRA, capitalised interest)", reserves),
        ("NAEF securities", "Collection account", float(su.get("surplus_usd", 0.0))),
        ("PEMEX capex (new fields)", "Added oil & gas production (sales)", capex),
        ("Added oil & gas production (sales)", "Operating costs", float(tot["opex_usd"])),
        ("Added oil & gas production (sales)", "Duties to the Federation", float(tot["duties_usd"])),
        ("Added oil & gas production (sales)", "Collection account", max(0.0, float(tot["collections_usd"]) - pledged)),
        ("Pledged export receivables", "Collection account", pledged),
        ("Reserves at issuance (DSRA, capitalised interest)", "Collection account", reserves),
        ("Collection account", "Trustee fees", float(tot["fees_usd"])),
        ("Collection account", "Debt service to investors",
         float(tot["interest_paid_usd"]) + float(tot["principal_paid_usd"])),
        ("Collection account", "Returned to PEMEX", float(tot["returned_to_pemex_usd"])),
        ("Collection account", "Mexican Development Fund", float(tot["to_mdf_usd"])),
        ("Mexican Development Fund", "Investment: roads, ports, airports, rail, human capital",
         float(tot["to_mdf_usd"])),
    ]
    links = [
        {"source": n[a], "target": n[b], "value_usd": v, "label": f"{a} → {b}"}
        for a, b, v in raw
        if math.isfinite(v) and v > 0.5
    ]
    return {
        "nodes": list(SANKEY_NODES),
        "links": links,
        "unit": "US$ (nominal, whole horizon)",
        "revenue_usd": float(tot["revenue_usd"]),
        "to_mdf_usd": float(tot["to_mdf_usd"]),
        "to_mdf_pv_usd": float(tot["to_mdf_pv_usd"]),
        "discount_rate": float(tot["discount_rate"]),
        "issuance_usd": float(summary["issuance_usd"]),
        "first_mdf_period": tot.get("first_mdf_period"),
    }


def percentiles_json(table: pd.DataFrame) -> dict[str, list[Any]]:
    """``percentiles.csv`` as ``{column: [values by period]}``; dates as ISO strings, NaN as null."""
    out: dict[str, list[Any]] = {}
    for col in table.columns:
        series = table[col]
        if col == "period_start":
            out[str(col)] = [str(v)[:10] for v in series]
        else:
            out[str(col)] = [jsonable(v) for v in series.to_numpy()]
    return out


def stress_rows(stress: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per stress path: price low point, MDF inflows and loss against the base case, DSCR, defaults."""
    rows = []
    for p in stress["paths"]:
        bench, mdf = p["benchmark_usd_per_bbl"], p["mdf"]
        rows.append({
            "name": p["name"],
            "title": p.get("title") or p["name"],
            "min_price_usd_per_bbl": bench["min"],
            "min_price_date": bench["min_date"],
            "mdf_inflows_usd": mdf["inflows_usd"],
            "mdf_loss_vs_base_share": mdf["loss_vs_base_share"],
            "min_dscr": p["min_dscr"],
            "event_of_default_date": p["event_of_default_date"],
            "defaulted_tranches": [t["name"] for t in p["tranches"] if t["defaulted"]],
            "cash_trap_periods": p["cash_trap_periods"],
        })
    return jsonable(rows)  # type: ignore[no-any-return]


def run_document(
    *,
    deterministic_summary: Mapping[str, Any],
    deterministic_sums: Mapping[str, float],
    stress: Mapping[str, Any] | None,
    monte_carlo_summary: Mapping[str, Any] | None,
    percentiles: pd.DataFrame | None,
) -> dict[str, Any]:
    """The JSON of one run: the deterministic summary and Sankey, the stress rows, and (for a Monte Carlo) its
    summary and percentiles by period."""
    doc: dict[str, Any] = {
        "scenario": jsonable(deterministic_summary["scenario"]),
        "naef_version": deterministic_summary["naef_version"],
        "deterministic": jsonable(deterministic_summary),
        "sankey": jsonable(sankey(deterministic_summary, deterministic_sums)),
        "stress": None if stress is None else {"document": jsonable(stress), "rows": stress_rows(stress)},
        "monte_carlo": None if monte_carlo_summary is None else jsonable(monte_carlo_summary),
        "percentiles": None if percentiles is None else percentiles_json(percentiles),
        "fan_variables": [
            {"column": c, "title": t, "unit": u, "scale": s} for c, t, u, s in FAN_VARIABLES
        ],
    }
    return doc


def fan_series(percentiles: Mapping[str, Sequence[Any]], column: str, scale: float) -> dict[str, list[Any]]:
    """One variable's P5…P95 by period, scaled (for the no-JavaScript table under a fan chart)."""
    out: dict[str, list[Any]] = {"period_start": list(percentiles["period_start"])}
    for q in (5, 10, 25, 50, 75, 90, 95):
        vals = percentiles.get(f"{column}_p{q}", [])
        out[f"p{q}"] = [None if v is None else float(v) * scale for v in vals]
    return out
