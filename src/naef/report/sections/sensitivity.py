"""Sensitivity: the tornado (one input at a time) or Sobol' indices of senior risk and the MDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import naef.format as fmt
from naef.format import (
    DASH,
    plain,
)
from naef.report import figures as fg
from naef.report.blocks import Cell, Chart, Section, Table, figure_cell
from naef.report.sections.common import Doc, cells, spec_json

__all__ = ["build"]


def _output_scale(unit: str) -> tuple[float, str, str]:
    if unit == "US$":
        return 1e9, "USD bn", ",.2f"
    if unit == "share of size":
        return 0.01, "% of size", ".3f"
    return 1.0, unit, ".4g"


def build(sens: Doc) -> Section:
    run = sens.get("run", {})
    method = run.get("method")
    s = Section("sensitivity", "Sensitivity: which inputs drive senior risk and the MDF",
                f"{run.get('evaluations', DASH)} Monte Carlos of {plain(run.get('paths'), '{:,}')} paths each, seed "
                f"{run.get('seed', DASH)}, on common random numbers (method: {method}). Method: docs/sensitivity.md.")
    rows: list[tuple[Cell, ...]] = []
    for f in sens.get("factors", []):
        rows.append(cells(str(f.get("name")), str(f.get("unit", DASH)),
                           Cell(plain(f.get("base"), "{:,.4g}"), css="num"),
                           Cell(plain(f.get("low"), "{:,.4g}"), css="num"),
                           Cell(plain(f.get("high"), "{:,.4g}"), css="num"),
                           str(f.get("range_source", "")) + (" (ILLUSTRATIVE)" if f.get("illustrative") else "")))
    s.blocks.append(Table(("input", "unit", "base", "low", "high", "range and its source"), tuple(rows),
                          (False, False, True, True, True, False), title="The inputs and their ranges"))
    outputs = {o["name"]: o for o in sens.get("outputs", [])}
    for name, out in outputs.items():
        scale, unit_label, vfmt = _output_scale(str(out.get("unit")))
        if method == "tornado" and name in sens.get("tornado", {}):
            base = float(sens["base"][name])
            spec = fg.tornado_chart(rows=sens["tornado"][name], base=base, scale=scale, value_title=unit_label,
                                    value_format=vfmt)
            base_cell = figure_cell("sensitivity", sens, f"base.{name}", fmt.scaled(scale, unit_label))
            s.blocks.append(Chart(
                f"chart-tornado-{name}", f"Tornado: {name} ({unit_label})",
                f"{out.get('description', name)}: the output with each input at the low (teal) and the high "
                f"(orange) end of its range, the other inputs at base; bars start at the base case "
                f"({base_cell.text}, the vertical line) and are sorted by swing |high − low|, largest on top. "
                f"Inputs: the ranges in the table above; {plain(run.get('paths'), '{:,}')} paths per evaluation, "
                f"seed {run.get('seed', DASH)} (sensitivity.json).", spec_json(spec)))
            out_fmt = fmt.scaled(scale, "")
            rows = [(Cell("base case"), Cell(DASH, css="num"), Cell(DASH, css="num"),
                     figure_cell("sensitivity", sens, f"base.{name}", out_fmt, css="num"),
                     figure_cell("sensitivity", sens, f"base.{name}", out_fmt, css="num"), Cell(DASH, css="num"))]
            for i in range(len(sens["tornado"][name])):
                def c(key: str, f: Callable[[Any], str], i: int = i, name: str = name) -> Cell:
                    return figure_cell("sensitivity", sens, f"tornado.{name}[{i}].{key}", f, css="num")

                rows.append((c("factor", fmt.text), c("low_value", fmt.sig4), c("high_value", fmt.sig4),
                             c("output_low", out_fmt), c("output_high", out_fmt), c("swing", out_fmt)))
            s.blocks.append(Table(("input", "low", "high", f"output at low ({unit_label})",
                                   f"output at high ({unit_label})", f"swing ({unit_label})"), tuple(rows),
                                  (False, True, True, True, True, True)))
        elif method == "sobol" and name in sens.get("sobol", {}):
            res = sens["sobol"][name]
            spec = fg.sobol_chart(indices=res.get("indices", []))
            s.blocks.append(Chart(
                f"chart-sobol-{name}", f"Sobol' indices: {name}",
                f"{out.get('description', name)}: first-order (S1) and total-order (ST) Sobol' indices of each "
                f"input over its range (uniform), with 95 % bootstrap half-widths; Saltelli sample of "
                f"{run.get('samples', DASH)} base points (SALib). With few samples the estimates are noisy."
                + (" The output did not vary over the sample: its indices are undefined." if res.get("constant")
                   else ""), spec_json(spec)))
    return s

