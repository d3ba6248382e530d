"""The report files of an output folder, for ``naef.commands.common.write_outputs`` (one line per command)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from naef.report.html import render_report
from naef.report.workbook import build_workbook
from naef.scenario.models import Scenario

if TYPE_CHECKING:  # the documents' types only
    from naef.analysis.mc_summary import MonteCarloSummary
    from naef.analysis.stress import StressDocument
    from naef.engine.results import DeterministicSummary
    from naef.studies.sensitivity import SensitivityDocument

__all__ = ["REPORT_HTML", "RESULTS_XLSX", "report_files"]

REPORT_HTML = "report.html"
RESULTS_XLSX = "results.xlsx"


def report_files(
    *,
    scenario: Scenario,
    summary: DeterministicSummary | MonteCarloSummary,
    percentiles: pd.DataFrame | None = None,
    cashflows: pd.DataFrame | None = None,
    p50_cashflows: pd.DataFrame | None = None,
    stress: StressDocument | None = None,
    sensitivity: SensitivityDocument | None = None,
    portfolio: Mapping[str, Any] | None = None,
    deterministic_summary: DeterministicSummary | None = None,
    sizing: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> dict[str, str | bytes]:
    """``{"report.html": <the HTML text>, "results.xlsx": <the workbook's bytes>}`` of a run.

    The arguments are those of :func:`naef.report.html.render_report` and
    :func:`naef.report.workbook.build_workbook`; ``p50_cashflows`` goes to the workbook only.
    """
    html = render_report(scenario=scenario, summary=summary, percentiles=percentiles, cashflows=cashflows,
                         stress=stress, sensitivity=sensitivity, portfolio=portfolio, title=title,
                         deterministic_summary=deterministic_summary, sizing=sizing)
    xlsx = build_workbook(scenario=scenario, summary=summary, percentiles=percentiles, cashflows=cashflows,
                          p50_cashflows=p50_cashflows, portfolio=portfolio,
                          deterministic_summary=deterministic_summary)
    return {REPORT_HTML: html, RESULTS_XLSX: xlsx}
