"""Ties in the selection programme, broken by one stated rule, so that the chosen portfolio depends on the
programme alone: not on the order of the pipeline's rows, the solver's path or the machine.

Why: a pipeline often holds projects of equal cost and value (the shipped pipeline's scholarships ``ed-gro-1`` and
``ed-oax-1``, US$ 36 M each, and ``ed-gua-1`` and ``ed-mic-1``, US$ 30 M each), and then several portfolios are
optimal. HiGHS returns one of them, and which one changed with the order of the projects (eight orders of the
shipped pipeline gave four different portfolios, all worth US$ 147,256,808.87) and with the machine (the benchmark
runs of sessions 7 to 12 picked ``ed-gro-1`` on some processors and ``ed-oax-1`` on others).

The rule (:data:`TIE_RULE`): portfolios whose ENPV is within :data:`TIE_REL` of the optimum's (a millionth of it)
are tied; of tied portfolios the chosen one comes first in this order:

1. the projects compared in the order of their ids (Python's string order, by code point): at the first project
   that one portfolio includes and the other leaves out, the one that includes it comes first;
2. with the same projects, their start years compared in the same order: at the first project started in
   different years, the one that starts it earlier comes first.

The rule is arbitrary, as every tie-break is; it is stated, and :mod:`naef.mdf.explain` names each rejected
project that a tied portfolio includes, so a reader sees where it decided.

How: lexicographic optimisation (M. Ehrgott, *Multicriteria Optimization*, 2nd ed., Springer 2005, ch. 5:
optimise the first criterion, keep its optimum as a constraint, then the next), under the value row
``ENPV(x) >= optimum - TIE_REL × max(|optimum|, 1)``. Each step packs several criteria into one objective with
integer weights that a double holds exactly (their sum below 2^52), a mixed-radix number whose digits are the
criteria, so that its minimum is the lexicographic minimum of the digits:

* step 1, over a block of at most 52 projects in id order (rank ``r`` from 0 to ``k - 1``): minimise
  ``sum_p 2^(k-1-r_p) (1 - sum_s x[p, s])``, the digits being the exclusions;
* step 2, over a block of the chosen projects in id order: minimise ``sum_p W_p sum_s pos_p(s) x[p, s]``, with
  ``pos_p(s)`` the index of ``s`` among p's allowed starts and ``W_p`` the product of the numbers of allowed starts
  of the block's later projects.

Each block's answer is fixed by exact rows before the next. Each step's objective is an integer and HiGHS closes its
gap to under one (its absolute gap is 1e-6), so the optimum is unique and no solver path can end elsewhere; a step
stopped by the time limit leaves the portfolio of the last finished step, reported as not settled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from naef.mdf.milp import Array, ExactRow, Model, Row, solve_mip

__all__ = ["TIE_REL", "TIE_RULE", "TieBreak", "break_ties", "in_a_tied_portfolio", "value_row"]

#: portfolios whose ENPV is within this share of the optimum's are tied (a millionth: US$ 147 on the shipped
#: pipeline's US$ 147 M; far below what an ENPV estimate can tell apart)
TIE_REL = 1e-6

#: the rule, as reports state it
TIE_RULE = ("portfolios within a millionth of the optimum's ENPV are tied; of tied portfolios the one chosen "
            "includes, at the first project (in the order of the ids) on which they differ, that project, and "
            "with the same projects starts earlier the first project (in the same order) whose start differs")

#: the largest sum of weights a step's objective may have: its integers are exact in a double (2^53)
_MAX_RADIX = 2.0**52


@dataclass(frozen=True)
class TieBreak:
    """The chosen portfolio and whether every step of the rule was solved to optimality (``settled``)."""

    x: Array
    settled: bool


def value_row(model: Model, best_usd: float) -> ExactRow:
    """``ENPV(x) >= best_usd - TIE_REL × max(|best_usd|, 1)`` as an exact row, scaled by ``max(|best_usd|, 1)`` so
    that its coefficients are near one (HiGHS's feasibility tolerance, 1e-7, then acts on a share of the value)."""
    scale = max(abs(best_usd), 1.0)
    return -model.obj / scale, -(best_usd - TIE_REL * scale) / scale


def _blocks(items: Sequence[int], radix: Sequence[int]) -> list[list[int]]:
    """``items`` cut into consecutive blocks whose product of radices stays within :data:`_MAX_RADIX`."""
    out: list[list[int]] = []
    size = _MAX_RADIX + 1.0
    for item, r in zip(items, radix, strict=True):
        if size * r > _MAX_RADIX:
            out.append([])
            size = 1.0
        out[-1].append(item)
        size *= r
    return out


def break_ties(model: Model, rows: Sequence[Row], x: Array, *, time_limit: float) -> TieBreak:
    """The portfolio the rule chooses among those tied with ``x`` (an optimum of the programme with ``rows``,
    proven by the caller); each step gets ``time_limit`` seconds."""
    if not model.var_p:
        return TieBreak(x, True)
    vp = np.asarray(model.var_p)
    vs = np.asarray(model.var_s)
    cols = {i: np.flatnonzero(vp == i) for i in sorted(set(model.var_p))}
    order = sorted(cols, key=lambda i: model.project_ids[i])
    exact: list[ExactRow] = [value_row(model, float(model.obj @ x))]

    def solve(block: list[int], digit: dict[int, Array], radix: dict[int, int]) -> Array | None:
        """Minimise the block's mixed-radix number (``digit[i]``: the coefficient of each of i's columns)."""
        c = np.zeros(len(vp))
        w = 1.0
        for i in reversed(block):
            c[cols[i]] = w * digit[i]
            w *= radix[i]
        status, xb = solve_mip(model, rows, time_limit=time_limit, objective=c, exact_rows=exact)
        return xb if status == 0 else None

    # step 1: include the projects in id order (digit 1 - y_p; weights on the columns: -2^(k-1-r))
    for block in _blocks(order, [2] * len(order)):
        xb = solve(block, {i: -np.ones(len(cols[i])) for i in block}, dict.fromkeys(block, 2))
        if xb is None:
            return TieBreak(x, False)
        x = xb
        for i in block:
            ind = np.zeros(len(vp))
            ind[cols[i]] = 1.0
            exact.append((-ind, -1.0) if x[cols[i]].sum() > 0.5 else (ind, 0.0))
    # step 2: the chosen projects' starts in id order, the earliest first (digit: the start's index)
    chosen = [i for i in order if x[cols[i]].sum() > 0.5]
    for block in _blocks(chosen, [len(cols[i]) for i in chosen]):
        if all(len(cols[i]) == 1 for i in block):
            continue
        pos = {i: np.argsort(np.argsort(vs[cols[i]], kind="stable"), kind="stable").astype(float) for i in block}
        xb = solve(block, pos, {i: len(cols[i]) for i in block})
        if xb is None:
            return TieBreak(x, False)
        x = xb
        for i in block:
            ind = np.zeros(len(vp))
            ind[cols[i][x[cols[i]] > 0.5]] = 1.0
            exact.append((-ind, -1.0))
    return TieBreak(x, True)


def in_a_tied_portfolio(model: Model, rows: Sequence[Row], best_usd: float, project: int, *,
                        time_limit: float) -> bool | None:
    """Whether some portfolio tied with the optimum ``best_usd`` (of the programme with ``rows``) includes
    ``project`` (an index into ``model.project_ids``); None when the solver stopped at ``time_limit`` unsure."""
    ind = (np.asarray(model.var_p) == project).astype(float)
    if not ind.any():
        return False
    status, _ = solve_mip(model, rows, time_limit=time_limit, objective=np.zeros(len(ind)),
                          exact_rows=[value_row(model, best_usd), (-ind, -1.0)])
    if status == 0:
        return True
    return False if status == 2 else None
