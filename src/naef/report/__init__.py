"""Reports people read: ``report.html`` (one self-contained page that opens offline), ``results.xlsx`` (an Excel
workbook) and, through headless Chromium, ``report.pdf``.

* :func:`render_report` (``naef.report.html``): the HTML report of a run, with the study's diagram, fan charts,
  tranche risk, hedge, stress, sensitivity and portfolio sections when their data is given;
* :func:`build_workbook` (``naef.report.workbook``): the workbook (inputs, cash flows, percentiles, tranches,
  portfolio), numbers as numbers with units in the headers;
* :func:`render_pdf` (``naef.report.pdf``): the HTML printed to PDF by headless Chromium;
* :func:`report_files`: both files of an output folder at once, for ``naef.commands.common.write_outputs``.

What each contains: ``docs/reports.md``.
"""

from __future__ import annotations

from naef.report.files import report_files
from naef.report.html import ReportError, render_report
from naef.report.pdf import ChromiumNotFoundError, PdfError, chromium_path, render_pdf
from naef.report.workbook import build_workbook

__all__ = [
    "ChromiumNotFoundError",
    "PdfError",
    "ReportError",
    "build_workbook",
    "chromium_path",
    "render_pdf",
    "render_report",
    "report_files",
]
