"""The MDF's portfolio: the selected projects, spending against the funds available, outcomes by state."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from naef.format import (
    DASH,
    is_missing,
    pct,
    unit_of,
    usd_bn,
    usd_m,
)
from naef.mdf.pipeline import STATES
from naef.report import figures as fg
from naef.report.blocks import Card, Cell, Chart, Section, Table, Text, figure_cell
from naef.report.errors import ReportError
from naef.report.sections.common import Doc, spec_json

__all__ = ["build", "normalise_portfolio", "state_label"]


def _amounts_by_year(raw: object, key: str) -> dict[int, float]:
    out: dict[int, float] = {}
    if raw is None:
        return out
    items: list[tuple[object, object]]
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        items = []
        for i, row in enumerate(raw):
            if not isinstance(row, Mapping) or "year" not in row:
                raise ReportError(f"portfolio.{key}[{i}]: must be an object with 'year' and an amount in US$")
            amount = next((row[k] for k in row if k != "year"), None)
            items.append((row["year"], amount))
    else:
        raise ReportError(f"portfolio.{key}: must map years to US$ (an object or a list of {{year, amount}})")
    for year, amount in items:
        try:
            y = int(str(year))
        except ValueError:
            raise ReportError(f"portfolio.{key}: {year!r} is not a year") from None
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise ReportError(f"portfolio.{key}[{y}]: must be a number of US$ (got {amount!r})")
        out[y] = float(amount)
    return dict(sorted(out.items()))


def normalise_portfolio(portfolio: Mapping[str, Any]) -> dict[str, Any]:
    """Check the portfolio section's plain dict and bring it to one shape (docs/reports.md):

    ``projects`` (alias ``selected``): list of objects with ``sector``, ``state``, ``cost_usd`` (> 0), and
    ``start_year`` (alias ``start``: a year or an ISO date), optional ``id``, ``name`` and any other columns;
    ``spend_usd_by_year`` and ``budget_usd_by_year``: {year: US$} or [{"year": y, "<amount>_usd": x}];
    ``outcomes_by_state``: list of objects with ``state`` and numeric columns named with units; optional
    ``objective_usd``, ``confidence``, ``confidence_basis`` (``year``/``schedule``), ``joint_probability`` (every
    year's budget funded on the same path), ``price_basis`` (e.g. "constant 2024 US$"), ``binding_constraints``
    (strings or objects with ``name``), ``note``, ``title``; ``appraisal`` and ``rejected`` (lists of objects:
    the workbook's sheets of the same names). Raises :class:`ReportError` naming the key.
    """
    if not isinstance(portfolio, Mapping):
        raise ReportError("portfolio: must be an object (a dict)")
    raw = portfolio.get("projects", portfolio.get("selected"))
    if raw is None:
        raw = []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ReportError("portfolio.projects: must be a list of projects")
    projects = []
    for i, p in enumerate(raw):
        if not isinstance(p, Mapping):
            raise ReportError(f"portfolio.projects[{i}]: must be an object")
        for k in ("sector", "state", "cost_usd"):
            if k not in p:
                raise ReportError(f"portfolio.projects[{i}].{k}: missing")
        cost = p["cost_usd"]
        if isinstance(cost, bool) or not isinstance(cost, int | float) or not (math.isfinite(cost) and cost > 0):
            raise ReportError(f"portfolio.projects[{i}].cost_usd: must be a positive number of US$ (got {cost!r})")
        start = p.get("start_year", p.get("start"))
        if start is None:
            raise ReportError(f"portfolio.projects[{i}].start_year: missing")
        try:
            start_year = int(str(start)[:4])
        except ValueError:
            raise ReportError(f"portfolio.projects[{i}].start_year: {start!r} is not a year") from None
        row = {k: v for k, v in p.items() if k not in ("start",)}
        row.update({"sector": str(p["sector"]), "state": str(p["state"]), "cost_usd": float(cost),
                    "start_year": start_year})
        projects.append(row)
    outcomes = portfolio.get("outcomes_by_state") or []
    if not isinstance(outcomes, Sequence) or isinstance(outcomes, str):
        raise ReportError("portfolio.outcomes_by_state: must be a list of objects with 'state'")
    for i, o in enumerate(outcomes):
        if not isinstance(o, Mapping) or "state" not in o:
            raise ReportError(f"portfolio.outcomes_by_state[{i}]: must be an object with 'state'")
    constraints = portfolio.get("binding_constraints") or []
    tables = {key: _records(portfolio.get(key), key) for key in ("appraisal", "rejected")}
    return {
        "title": str(portfolio.get("title") or "The Mexican Development Fund's portfolio"),
        "note": str(portfolio.get("note") or ""),
        "objective_usd": portfolio.get("objective_usd"),
        "confidence": portfolio.get("confidence"),
        "confidence_basis": portfolio.get("confidence_basis"),
        "joint_probability": portfolio.get("joint_probability"),
        "price_basis": str(portfolio.get("price_basis") or "USD"),
        "projects": projects,
        "spend_usd_by_year": _amounts_by_year(portfolio.get("spend_usd_by_year"), "spend_usd_by_year"),
        "budget_usd_by_year": _amounts_by_year(portfolio.get("budget_usd_by_year"), "budget_usd_by_year"),
        "outcomes_by_state": [dict(o) for o in outcomes],
        "binding_constraints": [c.get("name", json.dumps(c)) if isinstance(c, Mapping) else str(c)
                                for c in constraints],
        **tables,
    }


def _records(raw: object, key: str) -> list[dict[str, Any]]:
    """An optional list of objects (``appraisal``: every project of the pipeline with its appraisal; ``rejected``:
    the projects not selected, each with ``id`` and ``reason``), for the workbook."""
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ReportError(f"portfolio.{key}: must be a list of objects")
    for i, row in enumerate(raw):
        if not isinstance(row, Mapping):
            raise ReportError(f"portfolio.{key}[{i}]: must be an object")
    return [dict(row) for row in raw]


def _fmt_any(name: str, x: object) -> tuple[str, bool]:
    """A portfolio value by its column's unit; (text, numeric)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return (DASH if x is None else str(x)), False
    unit = unit_of(name)
    if unit == "US$":
        return usd_m(x, unit=False), True
    if unit in ("fraction", "fraction/year", "probability", "share"):
        return pct(x, 1), True
    if unit == "calendar year" and float(x).is_integer():
        return str(int(x)), True
    if float(x).is_integer():
        return f"{int(x):,}", True
    return f"{x:,.2f}", True


def _header(name: str) -> str:
    unit = unit_of(name)
    label = " ".join(w for w in name.split("_") if w != "usd") or name
    if unit == "US$":
        return f"{label} (USD m)"
    if unit in ("fraction", "fraction/year", "probability", "share"):
        return f"{label} (%)"
    return label if unit == DASH or unit in ("count", "jobs") else f"{label} ({unit})"


def build(p: dict[str, Any], summary: Doc) -> Section:
    s = Section("portfolio", p["title"], p["note"])
    projects = p["projects"]
    total = sum(x["cost_usd"] for x in projects)
    s.cards.append(Card("Projects selected", Cell(f"{len(projects):,}")))
    s.cards.append(Card("Their planned cost", Cell(usd_bn(total))))
    if not is_missing(p["objective_usd"]):
        s.cards.append(Card("Expected NPV of the selection", figure_cell("portfolio", p, "objective_usd", usd_bn)))
    if not is_missing(p["confidence"]):
        joint = p.get("joint_probability")
        meaning = ("the whole schedule funded with this probability" if p.get("confidence_basis") == "schedule"
                   else "each year's funds on their own, not every year together")
        s.cards.append(Card("Budget confidence", figure_cell("portfolio", p, "confidence", lambda x: pct(x, 0)),
                            meaning))
        if not is_missing(joint):
            s.cards.append(Card("Every year funded together", figure_cell("portfolio", p, "joint_probability",
                                                                           lambda x: pct(x, 0)),
                                "share of the Monte Carlo paths on which the budget of every year is there"))
    if projects:
        first = ["id", "name", "sector", "state", "cost_usd", "start_year"]
        extra = [k for k in projects[0] if k not in first]
        cols = [k for k in first if any(k in x for x in projects)] + extra
        rows: list[tuple[Cell, ...]] = []
        numeric = []
        for x in sorted(projects, key=lambda r: (r["start_year"], str(r.get("id", "")))):
            cells = []
            for k in cols:
                cells.append(Cell(state_label(x.get(k))) if k == "state" else _fmt_cell(k, x.get(k)))
            rows.append(tuple(cells))
        numeric = [any(isinstance(x.get(k), int | float) and not isinstance(x.get(k), bool) for x in projects)
                   for k in cols]
        s.blocks.append(Table(tuple(_header(k) if k != "start_year" else "start (year)" for k in cols), tuple(rows),
                              tuple(numeric), title="The selected projects", caption="Planned costs before "
                              f"overruns, in {p['price_basis']}; start years as selected."))
    spend, budget = p["spend_usd_by_year"], p["budget_usd_by_year"]
    if spend or budget:
        years = sorted(set(spend) | set(budget))
        spec = fg.bar_chart(categories=[str(y) for y in years],
                            series=[("spending", [spend.get(y) for y in years])],
                            lines=[("funds available", [budget.get(y) for y in years])] if budget else [],
                            scale=1e9, value_title=f"{p['price_basis']} bn per year", value_format=",.3f")
        conf = ("" if is_missing(p["confidence"])
                else f" at the P{round((1.0 - float(p['confidence'])) * 100)} of the MDF's cumulative inflows "
                      f"(available with probability {float(p['confidence']):.0%})")
        s.blocks.append(Chart("chart-portfolio-spend", "The MDF's spending by year",
                              "Money the selected projects spend each year (bars)"
                              + (f" against the funds available{conf} (line), unspent money carried forward"
                                 if budget else "") + f", in {p['price_basis']} bn. Inputs: the project "
                              "pipeline's costs and durations, the selection, and the MDF's inflows from this "
                              "scenario's Monte Carlo (or a given budget).", spec_json(spec)))
    outcomes = p["outcomes_by_state"]
    if outcomes:
        metrics = [k for k in outcomes[0] if k != "state" and k != "state_name"
                   and all(isinstance(o.get(k), int | float) and not isinstance(o.get(k), bool) for o in outcomes)]
        ordered = sorted(outcomes, key=lambda o: str(o.get("state")))
        chosen = [m for m in metrics if "jobs" in m][:1] + [m for m in metrics if unit_of(m) == "US$"][:1]
        for m in chosen or metrics[:1]:
            scale = 1e6 if unit_of(m) == "US$" else 1.0
            label = _header(m)
            spec = fg.bar_chart(categories=[state_label(o.get("state"), o.get("state_name")) for o in ordered],
                                series=[(m.replace("_", " "), [o.get(m) for o in ordered])], scale=scale,
                                value_title=label, value_format=",.1f" if scale != 1.0 else ",.0f", horizontal=True)
            s.blocks.append(Chart(f"chart-portfolio-{m}", f"Outcomes by state: {label}",
                                  f"{label} by state (ISO 3166-2:MX) of the selected portfolio, run along the Monte "
                                  "Carlo's paths with disbursements limited by the cash the MDF actually has. Inputs: "
                                  "the pipeline's per-project figures and the selection.", spec_json(spec)))
        cols = ["state", *metrics]
        s.blocks.append(Table(tuple(_header(k) for k in cols),
                              tuple((Cell(state_label(o.get("state"), o.get("state_name"))),
                                     *(_fmt_cell(k, o.get(k)) for k in metrics)) for o in ordered),
                              (False, *([True] * len(metrics))),
                              title="Outcomes by state"))
    if p["binding_constraints"]:
        s.blocks.append(Text("Binding constraints of the selection (shadow prices confirmed by re-solving the MILP "
                             "with the constraint relaxed): " + "; ".join(p["binding_constraints"]) + "."))
    return s


def state_label(code: object, name: object = None) -> str:
    """A Mexican state as people read it, with its ISO 3166-2:MX code: "Michoacán de Ocampo (MX-MIC)" (the code
    alone when it is not a state of the pipeline's list, ``naef.mdf.pipeline.STATES``)."""
    c = str(code)
    full = str(name) if name else STATES.get(c)
    return f"{full} ({c})" if full and full != c else c


def _fmt_cell(name: str, x: object) -> Cell:
    text, is_num = _fmt_any(name, x)
    return Cell(text, css="num" if is_num else "")

