"""Engine results as the JSON the API returns and the portal draws (pure functions, no I/O).

* :func:`sankey` — the study's diagram (``naef.analysis.flows``: financing → NAEF → PEMEX's fields → the collection
  account → the MDF) with the nominal totals of a deterministic run over the whole horizon;
* :func:`percentiles_json` — ``percentiles.csv`` of a Monte Carlo as columns (NaN → null);
* :func:`stress_rows` — one row per stress path for the portal's table;
* :func:`run_document` — everything one web run returns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from typing_extensions import TypedDict  # pydantic reads typing_extensions' TypedDict on Python < 3.12

if TYPE_CHECKING:  # the studies' documents' types only
    from naef.analysis.mc_summary import MonteCarloSummary
    from naef.analysis.stress import StressDocument
    from naef.engine.results import DeterministicSummary

__all__ = [
    "FAN_VARIABLES",
    "FanVariable",
    "RunDocument",
    "SankeyDocument",
    "SankeyLink",
    "StressBlock",
    "StressRow",
    "fan_series",
    "jsonable",
    "percentiles_json",
    "run_document",
    "sankey",
    "stress_rows",
]

#: (column prefix in percentiles.csv, title, unit, scale) of the portal's fan charts; money per period in USD m as
#: in report.html (``naef.format``'s convention), ``{period}`` named by the scenario's grid
FAN_VARIABLES: tuple[tuple[str, str, str, float], ...] = (
    ("benchmark_usd_per_bbl", "Benchmark oil price", "USD/bbl", 1.0),
    ("dscr", "Debt-service coverage ratio (DSCR)", "×", 1.0),
    ("to_mdf_usd", "Inflows to the Mexican Development Fund", "USD m per {period}", 1e-6),
)


class SankeyLink(TypedDict):
    """One flow of the Sankey: ``source`` and ``target`` index ``SankeyDocument.nodes``."""

    source: int
    target: int
    value_usd: float
    label: str
    basis: str


class SankeyDocument(TypedDict):
    """The swap's flows of a deterministic run as the portal draws them (:func:`sankey`)."""

    nodes: list[str]
    node_ids: list[str]
    node_colours: list[str]
    links: list[SankeyLink]
    figure: dict[str, Any]
    """The Plotly figure (``naef.report.figures.sankey_chart``), as Plotly's JSON."""
    unit: str
    revenue_usd: float
    to_mdf_usd: float
    to_mdf_pv_usd: float
    discount_rate: float
    issuance_usd: float
    first_mdf_period: str | None


class StressRow(TypedDict):
    """One stress path in the portal's table (:func:`stress_rows`)."""

    name: str
    title: str
    min_price_usd_per_bbl: float | None
    min_price_date: str | None
    mdf_inflows_usd: float | None
    mdf_loss_vs_base_share: float | None
    min_dscr: float | None
    event_of_default_date: str | None
    defaulted_tranches: list[str]
    cash_trap_periods: int


class StressBlock(TypedDict):
    """A run's stress replay: the study's document (``stress.json``) and the portal's rows."""

    document: dict[str, Any]
    rows: list[StressRow]


class FanVariable(TypedDict):
    """A fan chart of the portal: a column prefix of ``percentiles.csv``, its title, unit and scale."""

    column: str
    title: str
    unit: str
    scale: float


class RunDocument(TypedDict):
    """Everything one web run returns (:func:`run_document`; ``GET /api/runs/{id}/result``). The summaries are the
    studies' own documents (``summary.json``: :class:`~naef.engine.results.DeterministicSummary`,
    :class:`~naef.analysis.mc_summary.MonteCarloSummary`), with non-finite numbers as null. They stay JSON objects
    here: FastAPI validates this return type with pydantic, which would reject those nulls and drop keys it does
    not know if the fields were the documents' TypedDicts; :func:`run_document`'s arguments are typed."""

    scenario: dict[str, Any]
    naef_version: str
    deterministic: dict[str, Any]
    sankey: SankeyDocument
    stress: StressBlock | None
    monte_carlo: dict[str, Any] | None
    percentiles: dict[str, list[Any]] | None
    fan_variables: list[FanVariable]


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


def sankey(summary: DeterministicSummary, cashflows: pd.DataFrame) -> SankeyDocument:
    """The study's diagram with the amounts (nominal US$, whole horizon) of a deterministic run: the flows of
    :func:`naef.analysis.flows.swap_flows` (the same names, amounts and colours as ``report.html``'s Sankey).

    ``summary`` is ``simulate(...).summary`` and ``cashflows`` its table. The JSON has the node labels
    (``nodes``), ids and colours, the links (``source``/``target`` as indices into ``nodes``, ``value_usd``,
    ``label`` "from → to", ``basis``), the Plotly figure the portal draws (``figure``, built by
    ``naef.report.figures.sankey_chart`` as in the report) and the headline figures of the page.
    """
    from naef.analysis.flows import swap_flows
    from naef.report.figures import sankey_chart

    flows = swap_flows(cashflows)
    index = {n.id: i for i, n in enumerate(flows.nodes)}
    tot = summary["totals"]
    return {
        "nodes": [n.label for n in flows.nodes],
        "node_ids": [n.id for n in flows.nodes],
        "node_colours": [n.colour for n in flows.nodes],
        "links": [{"source": index[x.source], "target": index[x.target], "value_usd": x.amount_usd,
                   "label": flows.label(x), "basis": x.basis} for x in flows.links],
        # report.figures.Figure is a typing.TypedDict, which pydantic does not read on Python 3.11: the API
        # documents the figure as an object
        "figure": dict(sankey_chart(flows)),
        "unit": "USD (nominal, whole horizon)",
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


def stress_rows(stress: StressDocument) -> list[StressRow]:
    """One row per stress path: price low point, MDF inflows and loss against the base case, DSCR, defaults."""
    rows: list[StressRow] = []
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
    deterministic_summary: DeterministicSummary,
    deterministic_cashflows: pd.DataFrame,
    stress: StressDocument | None,
    monte_carlo_summary: MonteCarloSummary | None,
    percentiles: pd.DataFrame | None,
) -> RunDocument:
    """The JSON of one run: the deterministic summary and Sankey, the stress rows, and (for a Monte Carlo) its
    summary and percentiles by period."""
    from naef.format import period_name

    periods_per_year = deterministic_summary["scenario"]["periods_per_year"]
    assert isinstance(periods_per_year, int)  # scenario_identity: the scenario's integer periods_per_year
    period = period_name(periods_per_year)
    doc: RunDocument = {
        "scenario": jsonable(deterministic_summary["scenario"]),
        "naef_version": deterministic_summary["naef_version"],
        "deterministic": jsonable(deterministic_summary),
        "sankey": jsonable(sankey(deterministic_summary, deterministic_cashflows)),
        "stress": None if stress is None else {"document": jsonable(stress), "rows": stress_rows(stress)},
        "monte_carlo": None if monte_carlo_summary is None else jsonable(monte_carlo_summary),
        "percentiles": None if percentiles is None else percentiles_json(percentiles),
        "fan_variables": [
            {"column": c, "title": t, "unit": u.format(period=period), "scale": s} for c, t, u, s in FAN_VARIABLES
        ],
    }
    return doc


def fan_series(percentiles: Mapping[str, Sequence[Any]] | None, column: str, scale: float) -> dict[str, list[Any]]:
    """One variable's P5…P95 by period, scaled (for the no-JavaScript table under a fan chart); no periods when a
    run has no percentiles (``RunDocument.percentiles`` is null for a deterministic run)."""
    percentiles = percentiles or {"period_start": []}
    out: dict[str, list[Any]] = {"period_start": list(percentiles["period_start"])}
    for q in (5, 10, 25, 50, 75, 90, 95):
        vals = percentiles.get(f"{column}_p{q}", [])
        out[f"p{q}"] = [None if v is None else float(v) * scale for v in vals]
    return out
