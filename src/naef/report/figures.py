"""Plotly figure specifications (plain JSON-ready dicts: ``{"data": [...], "layout": {...}}``) for the report.

Pure functions of numbers already computed by the engine; nothing here runs a model. The browser draws them
with the Plotly.js bundled in the report (``naef.report.html``). Values are in display units (USD bn, kboe/d,
%); every missing value (NaN) becomes ``None`` (a gap in the chart).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TypedDict

from naef.analysis.flows import SwapFlows
from naef.format import usd_auto

__all__ = [
    "COLORS",
    "Axis",
    "Figure",
    "Layout",
    "Trace",
    "bar_chart",
    "fan_chart",
    "finite_or_none",
    "sankey_chart",
    "sobol_chart",
    "tornado_chart",
]

#: the report's palette (navy, teal, orange, gold, grey, plum)
COLORS = ("#1f3b73", "#2a9d8f", "#e76f51", "#e9c46a", "#6c757d", "#8e5572")
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


#: a Plotly trace or shape (keys as Plotly.js names them)
Trace = dict[str, object]


class Axis(TypedDict, total=False):
    """A Plotly axis: its title, grid and how its categories are laid out."""

    title: dict[str, str]
    gridcolor: str
    zeroline: bool
    type: str
    autorange: str
    automargin: bool


class Layout(TypedDict, total=False):
    """A Plotly layout (pixels for sizes and margins)."""

    height: int
    margin: dict[str, int]
    font: dict[str, object]
    paper_bgcolor: str
    plot_bgcolor: str
    xaxis: Axis
    yaxis: Axis
    legend: dict[str, object]
    hovermode: str
    barmode: str
    shapes: list[Trace]
    annotations: list[Trace]


class Figure(TypedDict):
    """A Plotly figure: what ``Plotly.newPlot`` draws (report.html, the portal)."""

    data: list[Trace]
    layout: Layout


def finite_or_none(x: object, scale: float = 1.0) -> float | None:
    """``x / scale`` as a float, or ``None`` when it is missing or not finite (JSON has no NaN)."""
    if x is None or isinstance(x, bool) or not isinstance(x, int | float):
        return None
    v = float(x)
    return v / scale if math.isfinite(v) else None


def _layout(*, y_title: str, x_title: str = "", height: int = 380, hovermode: str = "x unified",
            barmode: str | None = None, shapes: list[Trace] | None = None,
            annotations: list[Trace] | None = None) -> Layout:
    layout: Layout = {
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 36, "b": 50},
        "font": {"family": _FONT, "size": 12, "color": "#222"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": {"title": {"text": x_title}, "gridcolor": "#e5e5e5", "zeroline": False},
        "yaxis": {"title": {"text": y_title}, "gridcolor": "#e5e5e5", "zeroline": False},
        "legend": {"orientation": "h", "x": 0.0, "y": 1.0, "yanchor": "bottom"},
        "hovermode": hovermode,
    }
    if barmode is not None:
        layout["barmode"] = barmode
    if shapes is not None:
        layout["shapes"] = shapes
    if annotations is not None:
        layout["annotations"] = annotations
    return layout


def _float(x: object) -> float:
    """A number of a document's row as a float (a missing one is an error: the row was built wrong)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise TypeError(f"not a number: {x!r}")
    return float(x)


def fan_chart(
    *,
    dates: Sequence[str],
    bands: dict[int, Sequence[object]],
    scale: float,
    y_title: str,
    value_format: str,
    deterministic: Sequence[object] | None = None,
    deterministic_name: str = "deterministic run",
    reference_lines: Sequence[tuple[float, str]] = (),
) -> Figure:
    """A fan chart: the P5–P95 and P25–P75 bands shaded, the P50 as a line, optionally the deterministic run
    dashed, and horizontal reference lines (value, label). ``bands`` maps a percentile (5, 25, 50, 75, 95) to its
    values by period; values are divided by ``scale``."""
    def series(values: Sequence[object]) -> list[float | None]:
        return [finite_or_none(v, scale) for v in values]

    x = list(dates)
    band = "rgba(31,59,115,{a})"
    hover = f"%{{y:{value_format}}}"
    data: list[Trace] = []
    for lo, hi, alpha in ((5, 95, 0.15), (25, 75, 0.30)):
        data.append({"type": "scatter", "mode": "lines", "x": x, "y": series(bands[hi]), "name": f"P{hi}",
                     "line": {"width": 0, "color": band.format(a=alpha)}, "showlegend": False,
                     "hovertemplate": hover})
        data.append({"type": "scatter", "mode": "lines", "x": x, "y": series(bands[lo]), "name": f"P{lo}–P{hi}",
                     "fill": "tonexty", "fillcolor": band.format(a=alpha), "line": {"width": 0, "color":
                                                                                     band.format(a=alpha)},
                     "hovertemplate": hover})
    data.append({"type": "scatter", "mode": "lines", "x": x, "y": series(bands[50]), "name": "P50",
                 "line": {"width": 2, "color": COLORS[0]}, "hovertemplate": hover})
    if deterministic is not None:
        data.append({"type": "scatter", "mode": "lines", "x": x, "y": series(deterministic),
                     "name": deterministic_name, "line": {"width": 1.5, "dash": "dash", "color": COLORS[2]},
                     "hovertemplate": hover})
    shapes: list[Trace] = []
    annotations: list[Trace] = []
    for i, (value, label) in enumerate(reference_lines):
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": value, "y1": value,
                       "line": {"color": COLORS[4], "width": 1, "dash": "dot"}})
        # labels alternate right and left, so that two close levels (DSCR 1.00×, cash trap 1.20×) never overlap
        annotations.append({"xref": "paper", "x": 1 if i % 2 == 0 else 0, "xanchor": "right" if i % 2 == 0 else "left",
                            "yref": "y", "y": value, "yanchor": "bottom", "text": label, "showarrow": False,
                            "font": {"size": 10, "color": COLORS[4]}, "bgcolor": "rgba(255,255,255,0.8)"})
    return {"data": data, "layout": _layout(y_title=y_title, shapes=shapes, annotations=annotations)}


def _rgba(hex_colour: str, alpha: float) -> str:
    c = hex_colour.lstrip("#")
    return f"rgba({int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{alpha})"


def sankey_chart(flows: SwapFlows) -> Figure:
    """The swap as a Sankey diagram (``naef.analysis.flows``): link widths in USD bn, every node labelled with its
    name and amount, the Mexican Development Fund's node, label and inflow drawn in bold gold.

    Plotly puts a node's label to its right, or to its left in the last column; the MDF has no outflow here, so it
    sits in the last column with the other final uses and its label never meets another node's."""
    index = {n.id: i for i, n in enumerate(flows.nodes)}

    def label(node_id: str, name: str) -> str:
        amount = usd_auto(flows.size_usd(node_id))
        if node_id == "mdf":
            return f"<b>{name}</b><br><b>{amount}</b>"
        if flows.inflow_usd(node_id) > 0 and flows.outflow_usd(node_id) > 0:
            # a node money passes through sits in a middle column with its label to its right, where the next
            # column's labels end: one word a line keeps it narrow (a long name there met "Returned to PEMEX")
            name = "<br>".join(name.split())
        return f"{name}<br>{amount}"

    colours = {n.id: n.colour for n in flows.nodes}
    return {
        "data": [{
            "type": "sankey",
            "arrangement": "snap",
            "valueformat": ",.2f",
            "valuesuffix": " USD bn",
            "node": {"label": [label(n.id, n.label) for n in flows.nodes], "pad": 26, "thickness": 18,
                     "color": [n.colour for n in flows.nodes],
                     "customdata": [n.label for n in flows.nodes],
                     "hovertemplate": "%{customdata}: %{value:,.2f} USD bn<extra></extra>",
                     "line": {"color": "white", "width": 0.5}},
            "link": {"source": [index[x.source] for x in flows.links], "target": [index[x.target] for x in flows.links],
                     "value": [x.amount_usd / 1e9 for x in flows.links],
                     "color": [_rgba(colours[x.target], 0.65) if x.target == "mdf" else _rgba(colours[x.source], 0.3)
                               for x in flows.links],
                     "customdata": [x.basis for x in flows.links],
                     "hovertemplate": "%{source.customdata} → %{target.customdata}: %{value:,.2f} USD bn<br>"
                                      "%{customdata}<extra></extra>"},
        }],
        "layout": {"height": 640, "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
                   "font": {"family": _FONT, "size": 12, "color": "#222"}, "paper_bgcolor": "white"},
    }


def bar_chart(
    *,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[object]]],
    scale: float,
    value_title: str,
    value_format: str,
    horizontal: bool = False,
    lines: Sequence[tuple[str, Sequence[object]]] = (),
    height: int = 380,
) -> Figure:
    """Grouped bars (one trace per series), optionally with line traces over the same categories (e.g. a
    budget); values divided by ``scale``."""
    cats = list(categories)
    data: list[Trace] = []
    for i, (name, values) in enumerate(series):
        vals = [finite_or_none(v, scale) for v in values]
        trace: Trace = {"type": "bar", "name": name, "marker": {"color": COLORS[i % len(COLORS)]}}
        if horizontal:
            trace.update({"orientation": "h", "y": cats, "x": vals,
                          "hovertemplate": f"%{{y}}: %{{x:{value_format}}}<extra>{name}</extra>"})
        else:
            trace.update({"x": cats, "y": vals, "hovertemplate": f"%{{x}}: %{{y:{value_format}}}<extra>{name}</extra>"})
        data.append(trace)
    for j, (name, values) in enumerate(lines):
        data.append({"type": "scatter", "mode": "lines+markers", "name": name, "x": cats,
                     "y": [finite_or_none(v, scale) for v in values],
                     "line": {"color": COLORS[(len(series) + j + 1) % len(COLORS)], "width": 2}})
    if horizontal:
        layout = _layout(y_title="", x_title=value_title, height=max(height, 60 + 26 * len(cats)),
                         hovermode="closest", barmode="group")
        layout["yaxis"].update({"autorange": "reversed", "automargin": True, "type": "category"})
    else:
        layout = _layout(y_title=value_title, height=height, hovermode="closest", barmode="group")
        layout["xaxis"]["type"] = "category"
    return {"data": data, "layout": layout}


def tornado_chart(
    *,
    rows: Sequence[Mapping[str, object]],
    base: float,
    scale: float,
    value_title: str,
    value_format: str,
) -> Figure:
    """A tornado: for each input (largest swing on top), a bar from the base case to the output with the input at
    the low end of its range and one to the output at the high end; values divided by ``scale``."""
    names = [str(r["factor"]) for r in rows]
    b = base / scale
    data: list[Trace] = []
    for key, value_key, name, color in (("output_low", "low_value", "input at the low end", COLORS[1]),
                                        ("output_high", "high_value", "input at the high end", COLORS[2])):
        data.append({
            "type": "bar", "orientation": "h", "name": name, "y": names,
            "x": [(_float(r[key]) / scale - b) for r in rows], "base": [b] * len(rows),
            "customdata": [[_float(r[key]) / scale, r[value_key]] for r in rows],
            "marker": {"color": color},
            "hovertemplate": (f"%{{y}} = %{{customdata[1]:.4g}}: %{{customdata[0]:{value_format}}}"
                              f"<extra>{name}</extra>"),
        })
    layout = _layout(y_title="", x_title=value_title, height=max(260, 80 + 30 * len(names)),
                     hovermode="closest", barmode="overlay")
    layout["yaxis"]["autorange"] = "reversed"
    layout["yaxis"]["automargin"] = True
    layout["shapes"] = [{"type": "line", "xref": "x", "x0": b, "x1": b, "yref": "paper", "y0": 0, "y1": 1,
                         "line": {"color": "#222", "width": 1}}]
    return {"data": data, "layout": layout}


def sobol_chart(*, indices: Sequence[Mapping[str, object]]) -> Figure:
    """First-order (S1) and total-order (ST) Sobol' indices by input, with their 95 % half-widths as error
    bars, sorted by ST."""
    rows = sorted(indices, key=lambda r: -(finite_or_none(r.get("ST")) or 0.0))
    names = [str(r["factor"]) for r in rows]
    data: list[Trace] = []
    for i, (k, conf, name) in enumerate((("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total order ST"))):
        data.append({
            "type": "bar", "orientation": "h", "name": name, "y": names,
            "x": [finite_or_none(r.get(k)) for r in rows],
            "error_x": {"type": "data", "array": [finite_or_none(r.get(conf)) for r in rows], "visible": True},
            "marker": {"color": COLORS[i + 1]},
        })
    layout = _layout(y_title="", x_title="Sobol' index (share of the output's variance)",
                     height=max(260, 80 + 34 * len(names)), hovermode="closest", barmode="group")
    layout["yaxis"]["autorange"] = "reversed"
    layout["yaxis"]["automargin"] = True
    return {"data": data, "layout": layout}
