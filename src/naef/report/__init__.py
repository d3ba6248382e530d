"""Reports people read: ``report.html`` (one self-contained page that opens offline), ``results.xlsx`` (an Excel
workbook) and, through headless Chromium, ``report.pdf``.

* :func:`render_report` (``naef.report.html``): the HTML report of a run, assembled from its sections
  (``naef.report.sections``: the study's diagram, fan charts, tranche risk, hedge, stress, sensitivity and
  portfolio when their data is given);
* :func:`build_workbook` (``naef.report.workbook``): the workbook (inputs, cash flows, percentiles, tranches,
  portfolio), numbers as numbers with units in the headers;
* :func:`render_pdf` (``naef.report.pdf``): the HTML printed to PDF by headless Chromium;
* :func:`report_files`: both files of an output folder at once, for ``naef.commands.common.write_outputs``;
* the one number formatter of naef (report, workbook, portal, terminal and the MDF's messages) is ``naef.format``,
  at the base of the package so that every layer formats through it.

The names are loaded on first use, so that importing one of them does not load pandas, Jinja2 or openpyxl.
What each file contains: ``docs/reports.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from naef.lazy import lazy_names

if TYPE_CHECKING:
    from naef.report.errors import ReportError
    from naef.report.files import report_files
    from naef.report.html import render_report
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

_HOME = {
    "ChromiumNotFoundError": "naef.report.pdf",
    "PdfError": "naef.report.pdf",
    "ReportError": "naef.report.errors",
    "build_workbook": "naef.report.workbook",
    "chromium_path": "naef.report.pdf",
    "render_pdf": "naef.report.pdf",
    "render_report": "naef.report.html",
    "report_files": "naef.report.files",
}


#: the public names' modules (PEP 562, :func:`naef.lazy.lazy_names`)
__getattr__ = lazy_names(__name__, _HOME)
