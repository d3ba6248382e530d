"""The report's building blocks: sections holding key-figure cards, tables, charts, text and code.

Plain frozen dataclasses that ``naef.report.html`` fills and the Jinja2 template (``templates/report.html.j2``)
lays out. A :class:`Cell` that shows a figure of a run's document carries where it comes from (``source``: which
document, ``key``: its path in it, ``value``: its exact JSON), written into the HTML as ``data-source``,
``data-figure`` and ``data-value`` so that a reader or a test can check it against the JSON file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from naef.format import DASH, lookup, value_json

__all__ = ["Card", "Cell", "Chart", "Code", "Section", "Table", "Text", "figure_cell"]


@dataclass(frozen=True)
class Cell:
    """One shown value; ``key``/``source``/``value`` when it is a figure of a run's document."""

    text: str
    key: str | None = None
    source: str | None = None
    value: str | None = None
    css: str = ""


def figure_cell(source: str, doc: Any, key: str, fmt: Callable[[Any], str], *, css: str = "") -> Cell:
    """The figure at ``key`` of ``doc`` (named ``source``), formatted by ``fmt``; "—" (and no data attributes)
    when the document does not have it."""
    try:
        value = lookup(doc, key)
    except KeyError:
        return Cell(DASH, css=css)
    if isinstance(value, dict | list):
        return Cell(DASH, css=css)
    return Cell(fmt(value), key=key, source=source, value=value_json(value), css=css)


@dataclass(frozen=True)
class Card:
    """A key figure: label, value, a short note (e.g. its standard error or basis)."""

    label: str
    cell: Cell
    note: str = ""


@dataclass(frozen=True)
class Table:
    """A table: column headers (with units), rows of cells, which columns are numeric (right-aligned)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: tuple[bool, ...]
    title: str = ""
    caption: str = ""
    kind: str = "table"


@dataclass(frozen=True)
class Chart:
    """A Plotly chart: its id, title, caption (what it shows, from which inputs) and JSON specification."""

    id: str
    title: str
    caption: str
    spec_json: str
    kind: str = "chart"


@dataclass(frozen=True)
class Text:
    """A paragraph (``css``: "note" for small print, "warning" for a caveat)."""

    text: str
    css: str = ""
    kind: str = "text"


@dataclass(frozen=True)
class Code:
    """Preformatted text, with an optional download link (a ``data:`` URI: nothing is fetched) and a
    collapsed variant."""

    text: str
    title: str = ""
    download_name: str = ""
    download_href: str = ""
    collapsed: bool = False
    kind: str = "code"


@dataclass
class Section:
    """A section of the report: id (the anchor), title, an introduction, its blocks and key-figure cards."""

    id: str
    title: str
    intro: str = ""
    cards: list[Card] = field(default_factory=list)
    blocks: list[Table | Chart | Text | Code] = field(default_factory=list)
