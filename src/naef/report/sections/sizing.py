"""Sizing: the largest size at a target rating, and the evaluations the search made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import naef.format as fmt
from naef.format import (
    DASH,
    pct,
    plain,
    usd_bn,
)
from naef.report.blocks import Card, Cell, Section, Table, figure_cell
from naef.report.sections.common import Doc

__all__ = ["build"]


def build(sizing: Doc) -> Section:
    what = f"tranche {sizing.get('tranche')}" if sizing.get("tranche") else "the programme (all tranches pro rata)"
    s = Section("sizing", "Sizing at a target rating",
                f"The largest size of {what} whose implied rating ({str(sizing.get('basis', 'el')).upper()} basis) "
                f"is at least {sizing.get('target_rating', DASH)}, every size on the same Monte Carlo paths.")
    s.cards.append(Card("Largest size at the target", figure_cell("sizing", sizing, "size_usd", usd_bn),
                        f"× {plain(sizing.get('scale'), '{:.4f}')} of the scenario's size"))
    s.cards.append(Card("Implied rating there", figure_cell("sizing", sizing, "implied_rating", fmt.text)))
    s.cards.append(Card("PD there", figure_cell("sizing", sizing, "pd", pct), f"± {pct(sizing.get('pd_se'))}"))
    s.cards.append(Card("EL there", figure_cell("sizing", sizing, "expected_loss", lambda x: pct(x, 3)),
                        f"± {pct(sizing.get('expected_loss_se'), 3)}"))
    rows: list[tuple[Cell, ...]] = []
    for i in range(len(sizing.get("evaluations", []))):
        def c(key: str, fmt: Callable[[Any], str], i: int = i) -> Cell:
            return figure_cell("sizing", sizing, f"evaluations[{i}].{key}", fmt, css="num")

        rows.append((c("scale", lambda x: plain(x, "{:.4f}")), c("size_usd", fmt.bn), c("pd", pct),
                     c("expected_loss", lambda x: pct(x, 3)), c("implied_rating", fmt.text),
                     c("passes", lambda x: "yes" if x else "no")))
    s.blocks.append(Table(("scale (× size)", "size (USD bn)", "PD (%)", "EL (% of size)", "implied rating", "passes"),
                          tuple(rows), (True,) * 6, title="Evaluations, in the order made"))
    return s

