"""The comparison as people read it: the side-by-side rows (terminal, ``compare.html``, ``compare.xlsx``, the
portal), ``compare.html`` (one self-contained page, the same template, styles and inlined Plotly.js as
``report.html``; overlaid fan charts; rows whose values differ highlighted) and ``compare.xlsx``.

The input is ``compare.json`` (:mod:`naef.studies.compare`) and, for the fan charts, each run's percentiles
(``percentiles.csv`` as a DataFrame) by label.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from naef.format import bn, pct, plain, times, usd_auto
from naef.report import figures as fg
from naef.report.blocks import Cell, Chart, Section, Table, Text
from naef.report.sections.common import spec_json

__all__ = ["CompareRow", "compare_files", "compare_rows", "compare_workbook", "render_compare"]


@dataclass(frozen=True)
class CompareRow:
    """One row of the comparison: its section, what it shows (with unit), one text per run, the raw values, and
    whether the runs differ on it."""

    section: str
    label: str
    texts: tuple[str, ...]
    values: tuple[Any, ...]
    differs: bool


def _value_text(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:,.6g}"
    if isinstance(v, list | dict):
        text = json.dumps(v, separators=(", ", ": "))
        return text if len(text) <= 60 else text[:57] + "…"
    return str(v)


def _row(section: str, label: str, values: Sequence[Any], fmt: Any) -> CompareRow:
    texts = tuple(fmt(v) if v is not None else "—" for v in values)
    return CompareRow(section, label, texts, tuple(values), differs=len(set(texts)) > 1)


def compare_rows(doc: Mapping[str, Any]) -> list[CompareRow]:
    """The comparison's rows: the inputs that differ, then the headline results (``naef.studies.compare``)."""
    results = doc["results"]
    rows = [CompareRow("inputs", d["key"], tuple(_value_text(v) for v in d["values"]), tuple(d["values"]), True)
            for d in doc["differences"]]

    def each(fn: Any) -> list[Any]:
        return [fn(r) for r in results]

    h = "results"
    rows.append(_row(h, "run", each(lambda r: "Monte Carlo" if r["kind"] == "monte_carlo" else "deterministic"), str))
    rows.append(_row(h, "paths, seed", each(
        lambda r: None if r["paths"] is None else f"{r['paths']:,}, seed {r['seed']}"), str))
    rows.append(_row(h, "issuance (USD bn)", each(lambda r: r["issuance_usd"]), bn))
    names: list[str] = []
    for r in results:
        for t in r["tranches"]:
            if t["name"] not in names:
                names.append(t["name"])

    def tranche(r: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        return next((t for t in r["tranches"] if t["name"] == name), {})

    for name in names:
        rows.append(_row(h, f"{name}: size (USD bn)", each(lambda r, n=name: tranche(r, n).get("size_usd")), bn))
        rows.append(_row(h, f"{name}: rating (EL)", each(lambda r, n=name: tranche(r, n).get("implied_rating")), str))
        rows.append(_row(h, f"{name}: PD", each(lambda r, n=name: tranche(r, n).get("pd")), pct))
        rows.append(_row(h, f"{name}: EL", each(lambda r, n=name: tranche(r, n).get("expected_loss")),
                         lambda x: pct(x, 3)))
        rows.append(_row(h, f"{name}: WAL (years)", each(lambda r, n=name: tranche(r, n).get("wal_years")), plain))
        rows.append(_row(h, f"{name}: min DSCR P50", each(lambda r, n=name: tranche(r, n).get("min_dscr_p50")),
                         times))
    for q in ("p10", "p50", "p90"):
        rows.append(_row(h, f"MDF inflows {q.upper()} (USD bn, nominal)",
                         each(lambda r, k=q: r["mdf"][f"nominal_{k}_usd"]), bn))
    rows.append(_row(h, "MDF inflows P50 (USD bn, PV)", each(lambda r: r["mdf"]["pv_p50_usd"]), bn))
    rows.append(_row(h, "PEMEX capex funding (USD bn, deterministic)", each(lambda r: r["pemex_capex_funding_usd"]),
                     bn))
    rows.append(_row(h, "PEMEX capex funding (USD bn, Monte Carlo mean)",
                     each(lambda r: r["pemex_capex_funding_usd_mean"]), bn))
    rows.append(_row(h, "binding constraint", each(
        lambda r: None if r["binding_constraint"] is None else
        f"{r['binding_constraint']['tranche']} ({r['binding_constraint']['basis']})"), str))
    return rows


def _fan_overlay(labels: Sequence[str], frames: Sequence[pd.DataFrame], var: str, scale: float,
                 y_title: str) -> fg.Figure | None:
    """Each run's P10–P90 band and P50 line of ``var`` by period, in its own colour, on one chart."""
    data: list[fg.Trace] = []
    for i, (label, df) in enumerate(zip(labels, frames, strict=True)):
        cols = [f"{var}_p{q}" for q in (10, 50, 90)]
        if any(c not in df.columns for c in cols):
            return None
        colour = fg.COLORS[i % len(fg.COLORS)]
        x = [str(d)[:10] for d in df["period_start"]]
        lo, mid, hi = ([fg.finite_or_none(v, scale) for v in df[c].tolist()] for c in cols)
        data.append({"type": "scatter", "mode": "lines", "x": x, "y": hi, "name": f"{label} P90",
                     "line": {"width": 0, "color": colour}, "showlegend": False, "legendgroup": label,
                     "hovertemplate": "%{y:,.2f}"})
        data.append({"type": "scatter", "mode": "lines", "x": x, "y": lo, "name": f"{label} P10–P90",
                     "fill": "tonexty", "fillcolor": fg._rgba(colour, 0.18), "line": {"width": 0, "color": colour},
                     "legendgroup": label, "hovertemplate": "%{y:,.2f}"})
        data.append({"type": "scatter", "mode": "lines", "x": x, "y": mid, "name": f"{label} P50",
                     "line": {"width": 2, "color": colour}, "legendgroup": label, "hovertemplate": "%{y:,.2f}"})
    return {"data": data, "layout": fg._layout(y_title=y_title, height=420)}


def _sections(doc: Mapping[str, Any], percentiles: Mapping[str, pd.DataFrame]) -> list[Section]:
    labels = [r["label"] for r in doc["results"]]
    rows = compare_rows(doc)
    inputs = Section("inputs", "What differs between the inputs",
                     intro="Every key path (as the scenario's errors name keys) whose value is not the same in all "
                           "the scenarios, with each one's value; all other inputs are equal.")
    diff_rows = [r for r in rows if r.section == "inputs"]
    if diff_rows:
        inputs.blocks.append(Table(columns=("key path", *labels), numeric=(False, *([False] * len(labels))),
                                   rows=tuple((Cell(r.label), *(Cell(t, css="diff") for t in r.texts))
                                              for r in diff_rows)))
    else:
        inputs.blocks.append(Text("The scenarios' inputs are identical (same content hash)."))
    results = Section("results", "Headline results side by side",
                      intro=f"Highlighted: the rows whose values differ. Common random numbers: "
                            f"{doc['common_random_numbers_note']}.")
    res_rows = [r for r in rows if r.section == "results"]
    results.blocks.append(Table(columns=("figure", *labels), numeric=(False, *([True] * len(labels))),
                                rows=tuple((Cell(r.label, css="diff" if r.differs else ""),
                                            *(Cell(t, css="diff" if r.differs else "") for t in r.texts))
                                           for r in res_rows)))
    sections = [inputs, results]
    frames = [percentiles.get(label) for label in labels]
    present = [(label, df) for label, df in zip(labels, frames, strict=True) if df is not None]
    if len(present) >= 2:
        fans = Section("fan-charts", "Fan charts overlaid",
                       intro="Each run's P10–P90 band (shaded) and P50 (line) by period, in its own colour; from "
                             "each run's percentiles.csv.")
        for var, scale, title, unit in (("to_mdf_usd", 1e9, "MDF inflows by period", "USD bn"),
                                        ("benchmark_usd_per_bbl", 1.0, "Benchmark oil price", "USD/bbl"),
                                        ("dscr", 1.0, "DSCR by period", "×")):
            spec = _fan_overlay([p[0] for p in present], [p[1] for p in present], var, scale, unit)
            if spec is not None:
                fans.blocks.append(Chart(f"chart-compare-{var.replace('_', '-')}", f"{title} ({unit})",
                                         f"{title}: " + "; ".join(p[0] for p in present) + ".", spec_json(spec)))
        sections.append(fans)
    sources = Section("sources", "What was compared")
    sources.blocks.append(Table(
        columns=("label", "source", "scenario", "content hash", "--set changes"), numeric=(False,) * 5,
        rows=tuple((Cell(i["label"]), Cell(i["source"]), Cell(i["scenario"]["name"]),
                    Cell(i["scenario"]["content_hash_sha256"][:12] + "…"),
                    Cell("; ".join(f"{k} = {_value_text(v)}" for k, v in (i["scenario"].get("changes") or {}).items())
                         or "—"))
                   for i in doc["inputs"])))
    sections.append(sources)
    return sections


def render_compare(doc: Mapping[str, Any], percentiles: Mapping[str, pd.DataFrame]) -> str:
    """``compare.html``: one self-contained page (report.html's template and styles, Plotly.js inlined)."""
    from naef import __version__
    from naef.report.html import _environment, plotly_js

    sections = _sections(doc, percentiles)
    js, plotly_version = plotly_js()
    labels = [r["label"] for r in doc["results"]]
    hashes = " ".join(i["scenario"]["content_hash_sha256"] for i in doc["inputs"])
    return str(_environment().get_template("report.html.j2").render(
        title="naef comparison — " + " vs ".join(labels),
        scenario_name=" vs ".join(labels),
        description="",
        horizon=", ".join(f"{i['scenario']['start']}, {i['scenario']['years']} years" for i in doc["inputs"]),
        kind_text=("common random numbers" if doc["common_random_numbers"] else "no common random numbers"),
        version=__version__,
        summary_version=str(doc.get("naef_version", __version__)),
        scenario_hash=hashes,
        hash_cell=Cell(", ".join(h[:12] + "…" for h in hashes.split())),
        sections=sections,
        plotly_js=js,
        plotly_version=plotly_version,
        figures=[(b.id, b.spec_json) for sec in sections for b in sec.blocks if isinstance(b, Chart)],
        usd=usd_auto,
    ))


def compare_workbook(doc: Mapping[str, Any]) -> bytes:
    """``compare.xlsx``: a sheet of the side-by-side rows (values as numbers where they are; rows that differ
    filled), a sheet of the inputs compared."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    labels = [r["label"] for r in doc["results"]]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "comparison"
    ws.append(["section", "figure", *labels, "differs"])
    for c in ws[1]:
        c.font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF3BF")
    for r in compare_rows(doc):
        cells = [v if isinstance(v, int | float | str) or v is None else json.dumps(v) for v in r.values]
        ws.append([r.section, r.label, *cells, "yes" if r.differs else "no"])
        if r.differs:
            for c in ws[ws.max_row]:
                c.fill = fill
    ws.freeze_panes = "C2"
    ws.column_dimensions["B"].width = 44
    info = wb.create_sheet("inputs")
    info.append(["label", "source", "scenario", "content_hash_sha256", "changes", "common_random_numbers"])
    for i in doc["inputs"]:
        info.append([i["label"], i["source"], i["scenario"]["name"], i["scenario"]["content_hash_sha256"],
                     json.dumps(i["scenario"].get("changes") or {}), doc["common_random_numbers_note"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def compare_files(doc: Mapping[str, Any], percentiles: Mapping[str, pd.DataFrame]) -> dict[str, str | bytes]:
    """``compare.html`` and ``compare.xlsx``."""
    return {"compare.html": render_compare(doc, percentiles), "compare.xlsx": compare_workbook(doc)}
