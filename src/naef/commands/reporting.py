"""The report files every command adds to its output folder (``report.html``, ``results.xlsx``, ``report.pdf``
with ``--pdf``), and the portfolio result in the shape the report takes."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from naef.scenario.models import Scenario

__all__ = ["PdfOption", "add_deterministic_report", "add_report", "portfolio_section"]

#: ``--pdf``: also print the report to PDF with headless Chromium
PdfOption = Annotated[
    bool, typer.Option("--pdf", help="Also write report.pdf (needs Chromium: Debian's chromium package).")
]


def add_report(files: dict[str, str | bytes], *, scenario: Scenario, pdf: bool, **documents: Any) -> None:
    """Add ``report.html`` and ``results.xlsx`` (and ``report.pdf`` when ``pdf``) to ``files``, before they are
    written: a missing Chromium is an error before anything is written. ``documents`` are the keyword arguments of
    ``naef.report.report_files`` (summary, percentiles, cashflows, ...)."""
    from naef.report import report_files

    files.update(report_files(scenario=scenario, **documents))
    if pdf:
        from naef.report import render_pdf

        with tempfile.TemporaryDirectory(prefix="naef-report-") as tmp:
            html = Path(tmp) / "report.html"
            html.write_text(str(files["report.html"]), encoding="utf-8")
            render_pdf(html, Path(tmp) / "report.pdf")
            files["report.pdf"] = (Path(tmp) / "report.pdf").read_bytes()


def add_deterministic_report(files: dict[str, str | bytes], *, scenario: Scenario, pdf: bool, **documents: Any) -> None:
    """:func:`add_report` for a command whose own document is not a run (stress, sensitivity, sizing, portfolio):
    the report's key figures, Sankey and cash flows come from the scenario's deterministic run."""
    from naef.engine.simulate import simulate

    det = simulate(scenario)
    add_report(files, scenario=scenario, pdf=pdf, summary=det.summary, cashflows=det.table, **documents)


def _confirmed_prices(result: dict[str, Any]) -> list[str]:
    """The constraints whose shadow price a MILP re-solve confirmed (or bounded from below), with that value:
    "sector floor small_enterprise >= 5% of spending: 0.47 of ENPV per US$ (confirmed)". Budget rows read as the
    value of one more dollar received in that year; degenerate LP prices and unconfirmed ones are left out."""
    out = []
    for b in result.get("binding_constraints", []):
        status = str(b.get("status", ""))
        if not (status.startswith("confirmed") or status.startswith("lower bound")) or b.get("confirmed_value", 0) <= 0:
            continue
        value = float(b["confirmed_value"])
        if str(b.get("shadow_price_unit", "")).endswith("per project"):
            what = f"US$ {value / 1e6:,.1f} m of ENPV for the link removed"
        elif b.get("kind") == "budget":
            what = f"{value:.3f} of ENPV per US$ more received in {b['year']}"
        else:
            what = f"{value:.3f} of ENPV per US$ of shortfall allowed"
        name = f"money received in {b['year']}" if b.get("kind") == "budget" else b["name"]
        out.append(f"{name}: {what} ({status})")
    return out


def portfolio_section(result: dict[str, Any]) -> dict[str, Any]:
    """``naef portfolio``'s result as the report's portfolio section (``docs/reports.md``)."""
    outcomes = result.get("outcomes") or {}
    planned = {row["id"]: row["cost_usd"] for row in (result.get("appraisal") or {}).get("projects", [])}
    pipeline = result.get("pipeline") or {}
    note = (f"ILLUSTRATIVE pipeline ({pipeline.get('source', 'mdf_pipeline.csv')}); see docs/portfolio.md"
            if pipeline.get("illustrative") else f"pipeline {pipeline.get('source', '')}")
    basis = result.get("price_basis") or {}
    budget = result.get("budget") or {}
    horizon = outcomes.get("at_horizon") or {}
    money = basis.get("label", "US$")
    if basis:
        note += f". Money in {basis['description']} ({basis['discount_rate']:.1%})"
    if budget.get("joint_probability") is not None:
        note += (f". The budget is funded in every year together on {budget['joint_probability']:.0%} of the Monte "
                 "Carlo paths")
    if horizon.get("share_of_paths_all_on_schedule") is not None:
        note += f"; every selected project finishes on schedule on {horizon['share_of_paths_all_on_schedule']:.0%}"
    return {
        "projects": [
            {"id": s["id"], "name": s.get("name", s["id"]), "sector": s["sector"], "state": s["state"],
             "cost_usd": planned.get(s["id"], s["expected_cost_usd"]), "expected_cost_usd": s["expected_cost_usd"],
             "start_year": s["start_year"], "enpv_usd": s.get("enpv_usd"), "price_basis": money,
             "enpv_discounted_to_year": (result.get("run") or {}).get("base_year")}
            for s in result["selected"]
        ],
        "spend_usd_by_year": result["spend_usd_by_year"],
        "budget_usd_by_year": result["budget_usd_by_year"],
        "outcomes_by_state": [
            {"state": r["state"], "state_name": r.get("state_name"), "job_years_p50": r["job_years_p50"],
             "job_years_p10": r["job_years_p10"], "job_years_p90": r["job_years_p90"]}
            for r in outcomes.get("jobs_by_state", [])
        ],
        "objective_usd": result["objective_usd"],
        "confidence": (result.get("run") or {}).get("confidence"),
        "confidence_basis": (result.get("run") or {}).get("confidence_basis"),
        "joint_probability": budget.get("joint_probability"),
        "price_basis": money,
        "binding_constraints": _confirmed_prices(result),
        "note": note,
        "appraisal": (result.get("appraisal") or {}).get("projects", []),
        "rejected": result.get("rejected", []),
    }
