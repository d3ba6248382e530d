"""What the report's sections share: the documents' type, period names, reading a run's kind and hash, and
charts' JSON made safe for the page."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from naef.format import is_missing, lookup, suffixed
from naef.report.blocks import Cell, Table, figure_cell

__all__ = [
    "MCF_PER_BOE",
    "PERIOD_NAME",
    "Column",
    "Doc",
    "cells",
    "column",
    "dates",
    "hash_of",
    "item_rows",
    "item_table",
    "kind",
    "spec_json",
]

Doc = Mapping[str, Any]
#: the name of a period by the number of periods a year
PERIOD_NAME = {1: "year", 2: "half-year", 4: "quarter", 12: "month"}
#: gas converted to barrels of oil equivalent at 6 Mcf/boe, as in the Monte Carlo's production percentiles
#: (``naef.engine.montecarlo.prepare``: ``boe = oil_bbl + gas_mcf / 6``)
MCF_PER_BOE = 6.0


def spec_json(spec: Mapping[str, Any]) -> str:
    """A figure as JSON safe inside ``<script type="application/json">``."""
    text = json.dumps(spec, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def kind(doc: Doc | None) -> str | None:
    """The run's kind (``run.kind``: "deterministic", "monte_carlo", ...) of a document, if it says."""
    if doc is None:
        return None
    run = doc.get("run")
    return str(run.get("kind")) if isinstance(run, Mapping) else None


def hash_of(doc: Doc) -> str | None:
    """The scenario content hash a document names, if it names one."""
    sc = doc.get("scenario")
    if not isinstance(sc, Mapping):
        return None
    h = sc.get("content_hash_sha256", sc.get("content_hash"))
    return str(h) if h is not None else None


def cells(*items: Cell | str) -> tuple[Cell, ...]:
    """A table row: strings become plain cells."""
    return tuple(c if isinstance(c, Cell) else Cell(c) for c in items)


def column(df: pd.DataFrame, name: str) -> list[object] | None:
    """A column as a list with NaN as ``None``; ``None`` when the frame has no such column."""
    if name not in df.columns:
        return None
    return [None if (isinstance(v, float) and math.isnan(v)) else v for v in df[name].tolist()]


def dates(df: pd.DataFrame) -> list[str]:
    """The ``period_start`` column as ISO dates."""
    return [str(d)[:10] for d in df["period_start"].tolist()]


@dataclass(frozen=True)
class Column:
    """A column of a per-item table (one row per tranche, path, ...): its header (with the unit), the key of the
    figure in the item (``"pd"``, ``"min_dscr.p50"``), its format, and optionally the key of its standard error
    (shown as "x ± se" in the same format) or several keys shown together ("1.20 / 1.45 / 1.80")."""

    header: str
    key: str
    fmt: Callable[[Any], str]
    numeric: bool = True
    se_key: str | None = None
    joined: tuple[str, ...] = ()


def item_rows(source: str, doc: Doc, list_key: str, columns: Sequence[Column],
              bad: Callable[[Mapping[str, Any]], bool] | None = None) -> tuple[tuple[Cell, ...], ...]:
    """One row per item of ``doc[list_key]``: each column's figure marked with where it comes from
    (``data-figure`` = ``<list_key>[i].<key>``); the first cell in red when ``bad(item)``."""
    items = lookup(doc, list_key) if _has(doc, list_key) else []
    rows: list[tuple[Cell, ...]] = []
    for i, item in enumerate(items):
        row: list[Cell] = []
        for j, col in enumerate(columns):
            css = ("num" if col.numeric else "") + (" bad" if j == 0 and bad is not None and bad(item) else "")
            css = css.strip()
            if col.joined:
                parts = [col.fmt(_get(item, f"{col.key}.{k}")) for k in col.joined]
                row.append(Cell(" / ".join(parts), css=css))
                continue
            f = col.fmt
            if col.se_key is not None and not is_missing(_get(item, col.se_key)):
                f = suffixed(col.fmt, f" ± {col.fmt(_get(item, col.se_key))}")
            row.append(figure_cell(source, doc, f"{list_key}[{i}].{col.key}", f, css=css))
        rows.append(tuple(row))
    return tuple(rows)


def item_table(source: str, doc: Doc, list_key: str, columns: Sequence[Column], *, title: str = "",
               caption: str = "", bad: Callable[[Mapping[str, Any]], bool] | None = None) -> Table:
    """:func:`item_rows` as a table with the columns' headers."""
    return Table(tuple(c.header for c in columns), item_rows(source, doc, list_key, columns, bad),
                 tuple(c.numeric for c in columns), title=title, caption=caption)


def _get(item: Any, key: str) -> Any:
    try:
        return lookup(item, key)
    except KeyError:
        return None


def _has(doc: Doc, key: str) -> bool:
    try:
        return isinstance(lookup(doc, key), list)
    except KeyError:
        return False
