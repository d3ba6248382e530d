"""The report files every command adds to its output folder (``report.html``, ``results.xlsx``, ``report.pdf``
with ``--pdf``), and the portfolio result in the shape the report takes."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naef.commands.common import PdfOption
from naef.format import usd_m

if TYPE_CHECKING:  # types only: the commands that import this module keep their --help light
    from naef.mdf.explain import BindingConstraint
    from naef.scenario.models import Scenario
    from naef.studies.portfolio import PortfolioStudy

__all__ = ["PdfOption", "add_deterministic_report", "add_report", "confirmed_prices", "portfolio_section"]


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


def add_deterministic_report(files: dict[str, str | bytes], *, scenario: Scenario, pdf: bool,
                             **documents: Any) -> None:
    """:func:`add_report` for a command whose own document is not a run (stress, sensitivity, sizing, portfolio):
    the report's key figures, Sankey and cash flows come from the scenario's deterministic run."""
    from naef.engine.simulate import simulate

    det = simulate(scenario)
    add_report(files, scenario=scenario, pdf=pdf, summary=det.summary, cashflows=det.table, **documents)


def confirmed_prices(binding: Sequence[BindingConstraint]) -> list[str]:
    """The constraints whose shadow price a MILP re-solve confirmed (or bounded from below), with that value:
    "sector floor small_enterprise >= 5% of spending: 0.47 of ENPV per US$ (confirmed)". Budget rows read as the
    value of one more dollar received in that year; degenerate LP prices and unconfirmed ones are left out."""
    out = []
    for b in binding:
        status = b["status"]
        if not (status.startswith("confirmed") or status.startswith("lower bound")) or b["confirmed_value"] <= 0:
            continue
        value = float(b["confirmed_value"])
        if b["shadow_price_unit"].endswith("per project"):
            what = f"{usd_m(value)} of ENPV for the link removed"
        elif b["kind"] == "budget":
            what = f"{value:.3f} of ENPV per US$ more received in {b.get('year')}"
        else:
            what = f"{value:.3f} of ENPV per US$ of shortfall allowed"
        name = f"money received in {b.get('year')}" if b["kind"] == "budget" else b["name"]
        out.append(f"{name}: {what} ({status})")
    return out


def portfolio_section(study: PortfolioStudy) -> dict[str, object]:
    """The portfolio study as the report's portfolio section (the plain document of ``docs/reports.md``)."""
    sel, basis, info, horizon = study.selection, study.price_basis, study.budget_at_confidence, study.horizon
    planned = {p.id: p.cost_usd for p in study.pipeline.projects}
    note = (f"ILLUSTRATIVE pipeline ({study.pipeline.source_name}); see docs/portfolio.md"
            if not study.pipeline_given else f"pipeline {study.pipeline.source_name}")
    money = basis.label
    note += f". Money in {basis.describe()} ({study.discount_rate:.1%})"
    joint = info.joint_probability if info is not None else None
    if joint is not None:
        note += f". The budget is funded in every year together on {joint:.0%} of the Monte Carlo paths"
    note += f"; every selected project finishes on schedule on {horizon.share_of_paths_all_on_schedule:.0%}"
    return {
        "projects": [
            {"id": s["id"], "name": s["name"], "sector": s["sector"], "state": s["state"],
             "cost_usd": planned.get(s["id"], s["expected_cost_usd"]), "expected_cost_usd": s["expected_cost_usd"],
             "start_year": s["start_year"], "enpv_usd": s["enpv_usd"], "price_basis": money,
             "enpv_discounted_to_year": study.base_year}
            for s in sel.selected
        ],
        "spend_usd_by_year": {str(y): v for y, v in zip(study.budget_years, sel.spend_usd, strict=True)},
        "budget_usd_by_year": {str(y): v for y, v in zip(study.budget_years, study.budget_usd, strict=True)},
        "outcomes_by_state": [
            {"state": r.state, "state_name": r.state_name, "job_years_p50": r.job_years_p50,
             "job_years_p10": r.job_years_p10, "job_years_p90": r.job_years_p90}
            for r in study.jobs_by_state
        ],
        "objective_usd": sel.objective_usd,
        "confidence": None if study.budget_given else study.confidence,
        "confidence_basis": None if study.budget_given else study.confidence_basis,
        "joint_probability": joint,
        "price_basis": money,
        "binding_constraints": confirmed_prices(sel.binding_constraints),
        "note": note,
        "appraisal": study.appraisal_rows(),
        "rejected": sel.rejected,
    }
