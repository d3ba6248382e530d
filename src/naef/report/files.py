"""The report files of an output folder, for ``naef.commands.common.write_outputs`` (one line per command)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from naef.report.html import render_report
from naef.report.workbook import build_workbook
from naef.scenario.models import Scenario

__all__ = ["REPORT_HTML", "RESULTS_XLSX", "report_files"]

REPORT_HTML = "report.html"
RESULTS_XLSX = "results.xlsx"


def report_files(
    *,
    scenario: Scenario,
    summary: Mapping[str, Any],
    percentiles: pd.DataFrame | None = None,
    cashflows: pd.DataFrame | None = None,
    p50_cashflows: pd.DataFrame | None = None,
    stress: Mapping[str, Any] | None = None,
    sensitivity: Mapping[str, Any] | None = None,
    portfolio: Mapping[str, Any] | None = None,
    deterministic_summary: Mapping[str, Any] | None = None,
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
