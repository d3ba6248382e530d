"""Ties in the selection programme, broken by one stated rule, so that the chosen portfolio depends on the
programme alone: not on the order of the pipeline's rows, the solver's path or the machine.

Why: a pipeline often holds projects of equal cost and value (the shipped pipeline's scholarships ``ed-gro-1`` and
``ed-oax-1``, US$ 36 M each, and ``ed-gua-1`` and ``ed-mic-1``, US$ 30 M each), and then several portfolios are
optimal. HiGHS returns one of them, and which one changed with the order of the projects (eight orders of the
shipped pipeline gave four different portfolios, all worth US$ 147,256,808.87) and with the machine (the benchmark
runs of sessions 7 to 12 picked ``ed-gro-1`` on some processors and ``ed-oax-1`` on others).

The rule (:data:`TIE_RULE`): portfolios whose ENPV is at least ``optimum - TIE_REL × max(|optimum|, US$ 1)`` are
tied (:data:`TIE_REL` is a hundred-millionth: float rounding is some 1e-16 of the value, and HiGHS proves the
optimum to 1e-9, a tenth of the tolerance); of tied portfolios the chosen one comes first in this order:

1. the projects compared in the order of their ids (Python's string order, by code point): at the first project
   that one portfolio includes and the other leaves out, the one that includes it comes first if the project is
   worth something (a positive ENPV at its best start), the one that leaves it out if not — so the rule never
   adds a project that loses money because its loss is within the tolerance;
2. with the same projects, their start years compared in the same order: at the first project started in
   different years, the one that starts it earlier comes first.

The rule is arbitrary, as every tie-break is; it is stated, and :mod:`naef.mdf.explain` names each rejected
project that a tied portfolio includes, so a reader sees where it decided.

How: lexicographic optimisation (M. Ehrgott, *Multicriteria Optimization*, 2nd ed., Springer 2005, ch. 5:
optimise the first criterion, keep its optimum as a constraint, then the next), under the value row. Each step
packs several criteria into one objective with small integer weights (their sum below 2^24, so that HiGHS's bounds,
good to some 1e-9 of the objective, stay far inside one unit), a mixed-radix number whose digits are the criteria,
so that its minimum is the lexicographic minimum of the digits:

* step 1, over a block of at most 24 projects in id order (rank ``r`` from 0 to ``k - 1``): minimise
  ``sum_p 2^(k-1-r_p) d_p`` with the digit ``d_p = 1 - sum_s x[p, s]`` for a project worth something and
  ``sum_s x[p, s]`` for one that is not;
* step 2, over a block of the chosen projects in id order: minimise ``sum_p W_p sum_s pos_p(s) x[p, s]``, with
  ``pos_p(s)`` the index of ``s`` among p's allowed starts and ``W_p`` the product of the numbers of allowed starts
  of the block's later projects.

Each step is solved with no relative gap (HiGHS's absolute gap, 1e-6, is far below one unit of an integer
objective), so its optimum is unique and no solver path can end elsewhere; each block's answer is then fixed by
exact rows. The value row lies within HiGHS's default tolerances of the portfolios just below it, and there HiGHS's
tolerance let through thousands of portfolios below the floor and its presolve returned wrong optima (a reviewer's
case: 6 where 10 was feasible; and, even with tight tolerances, a wrong optimum on a small knapsack with an exact
tie); so these solves run with feasibility tolerances of 1e-10 and without presolve
(:data:`naef.mdf.milp.TIGHT_HIGHS_OPTIONS`), and every answer is still checked against the row in exact terms, one
that misses it cut off (a no-good cut) and the step solved again. A step stopped by the time limit, or cut off more
than :data:`_MAX_CUTS` times, leaves the portfolio of the last finished step, reported as not settled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from naef.mdf.milp import Array, ExactRow, Model, Row, solve_mip

__all__ = ["TIE_REL", "TIE_RULE", "TieBreak", "break_ties", "in_a_tied_portfolio", "tie_floor_usd"]

#: portfolios whose ENPV is within this share of the optimum's are tied (US$ 1.47 on the shipped pipeline's
#: US$ 147 M; far above float rounding, far below what an ENPV estimate can tell apart)
TIE_REL = 1e-8

#: the rule, as reports state it
TIE_RULE = ("portfolios within a hundred-millionth of the optimum's ENPV are tied; of tied portfolios the one "
            "chosen includes, at the first project (in the order of the ids) on which they differ, that project if "
            "it is worth something and leaves it out if not, and with the same projects starts earlier the first "
            "project (in the same order) whose start differs")

#: the largest sum of weights a step's objective may have (HiGHS's bounds on it then stay far inside one unit)
_MAX_RADIX = 2.0**24

#: how many answers that miss the value row a step may cut off before it gives up (unsettled)
_MAX_CUTS = 50


@dataclass(frozen=True)
class TieBreak:
    """The chosen portfolio and whether every step of the rule was solved to optimality (``settled``)."""

    x: Array
    settled: bool


def tie_floor_usd(optimum_usd: float) -> float:
    """The least ENPV of a portfolio tied with the optimum: ``optimum - TIE_REL × max(|optimum|, 1)``."""
    return optimum_usd - TIE_REL * max(abs(optimum_usd), 1.0)


def _value_row(model: Model, floor_usd: float, scale: float) -> ExactRow:
    """``ENPV(x) >= floor_usd`` as an exact row, scaled by ``scale`` so that its coefficients are near one."""
    return -model.obj / scale, -floor_usd / scale


def _no_good(x: Array) -> ExactRow:
    """The cut that excludes exactly the 0/1 vector ``x``: ``sum_{x_j=1} x_j - sum_{x_j=0} x_j <= |x| - 1``."""
    return np.where(x > 0.5, 1.0, -1.0), float(np.sum(x > 0.5)) - 1.0


def _solve_in_floor(model: Model, rows: Sequence[Row], objective: Array, exact: Sequence[ExactRow],
                    floor_usd: float, *, time_limit: float) -> tuple[bool | None, Array | None]:
    """The optimum of ``objective`` under ``rows``, ``exact`` and ``ENPV >= floor_usd`` checked in exact terms (an
    answer HiGHS's tolerance let below the floor is cut off and the step solved again): (True, x); (False, None)
    when no portfolio meets them; (None, None) when the solver could not settle it."""
    cuts: list[ExactRow] = []
    for _ in range(_MAX_CUTS + 1):
        status, x = solve_mip(model, rows, time_limit=time_limit, objective=objective, exact_rows=[*exact, *cuts],
                              rel_gap=0.0, tight=True)
        if status == 2:
            return False, None
        if status != 0 or x is None:
            return None, None
        if float(model.obj @ x) >= floor_usd:
            return True, x
        cuts.append(_no_good(x))
    return None, None


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


def break_ties(model: Model, rows: Sequence[Row], x: Array, *, optimum_usd: float, time_limit: float,
               starts: bool = True) -> TieBreak:
    """The portfolio the rule chooses among those tied with the optimum ``optimum_usd`` of the programme with
    ``rows`` (``x``: a portfolio of that value, proven optimal by the caller; ``rows`` let at most one start of a
    project be chosen, as :func:`naef.mdf.milp.build_model`'s do); each step gets ``time_limit`` seconds. A block
    whose digits are all at their least possible values already is not solved. ``starts=False`` stops after step 1
    (which projects are chosen is then the rule's; their start years are a tied portfolio's, not the rule's)."""
    if not model.var_p:
        return TieBreak(x, True)
    vp = np.asarray(model.var_p)
    vs = np.asarray(model.var_s)
    cols = {i: np.flatnonzero(vp == i) for i in sorted(set(model.var_p))}
    order = sorted(cols, key=lambda i: model.project_ids[i])
    floor = tie_floor_usd(optimum_usd)
    exact: list[ExactRow] = [_value_row(model, floor, max(abs(optimum_usd), 1.0))]

    def step(block: list[int], digit: dict[int, Array], radix: dict[int, int]) -> Array | None:
        """Minimise the block's mixed-radix number (``digit[i]``: the coefficient of each of i's columns)."""
        if all(float(digit[i] @ x[cols[i]]) <= float(min(digit[i].min(), 0.0)) for i in block):
            return x  # every digit already at its least possible value: the block's minimum, without a solve
        c = np.zeros(len(vp))
        w = 1.0
        for i in reversed(block):
            c[cols[i]] = w * digit[i]
            w *= radix[i]
        found, xb = _solve_in_floor(model, rows, c, exact, floor, time_limit=time_limit)
        return xb if found else None

    # step 1: in id order, a project worth something in (coefficient -w), one that is not out (+w)
    for block in _blocks(order, [2] * len(order)):
        sign = {i: -1.0 if float(np.max(model.obj[cols[i]])) > 0.0 else 1.0 for i in block}
        xb = step(block, {i: np.full(len(cols[i]), sign[i]) for i in block}, dict.fromkeys(block, 2))
        if xb is None:
            return TieBreak(x, False)
        x = xb
        for i in block:
            ind = np.zeros(len(vp))
            ind[cols[i]] = 1.0
            exact.append((-ind, -1.0) if x[cols[i]].sum() > 0.5 else (ind, 0.0))
    # step 2: the chosen projects' starts in id order, the earliest first (digit: the start's index)
    chosen = [i for i in order if x[cols[i]].sum() > 0.5] if starts else []
    for block in _blocks(chosen, [len(cols[i]) for i in chosen]):
        if all(len(cols[i]) == 1 for i in block):
            continue
        pos = {i: np.argsort(np.argsort(vs[cols[i]], kind="stable"), kind="stable").astype(float) for i in block}
        xb = step(block, pos, {i: len(cols[i]) for i in block})
        if xb is None:
            return TieBreak(x, False)
        x = xb
        for i in block:
            ind = np.zeros(len(vp))
            ind[cols[i][x[cols[i]] > 0.5]] = 1.0
            exact.append((-ind, -1.0))
    return TieBreak(x, True)


def in_a_tied_portfolio(model: Model, rows: Sequence[Row], optimum_usd: float, project: int, *,
                        time_limit: float) -> bool | None:
    """Whether some portfolio tied with the optimum ``optimum_usd`` (of the programme with ``rows``) includes
    ``project`` (an index into ``model.project_ids``); None when the solver could not settle it."""
    ind = (np.asarray(model.var_p) == project).astype(float)
    if not ind.any():
        return False
    floor = tie_floor_usd(optimum_usd)
    exact = [_value_row(model, floor, max(abs(optimum_usd), 1.0)), (-ind, -1.0)]
    found, _ = _solve_in_floor(model, rows, np.zeros(len(ind)), exact, floor, time_limit=time_limit)
    return found
