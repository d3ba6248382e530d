"""What the report's sections share: the documents' type, period names, reading a run's kind and hash, and
charts' JSON made safe for the page."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from naef.report.blocks import Cell

__all__ = ["MCF_PER_BOE", "PERIOD_NAME", "Doc", "cells", "column", "dates", "hash_of", "kind", "spec_json"]

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
