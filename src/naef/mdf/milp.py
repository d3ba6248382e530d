"""The MDF's selection programme as matrices: the constraint rows, the HiGHS calls (MILP and LP relaxation) and the
policy constraints (sector floors, migrant share). :mod:`naef.mdf.selection` states the programme and solves it;
:mod:`naef.mdf.explain` confirms its shadow prices and explains the rejections by re-solving it.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from naef.errors import NaefError
from naef.format import usd_auto
from naef.mdf.appraisal import ProjectAppraisal
from naef.mdf.pipeline import SECTORS, STATES, Project

__all__ = [
    "DEFAULT_MIGRANT_SHARE_MIN",
    "DEFAULT_MIGRANT_STATES",
    "DEFAULT_SECTOR_FLOORS",
    "MIGRANT_STATES_SOURCE",
    "MIP_REL_GAP",
    "TIGHT_HIGHS_OPTIONS",
    "Constraints",
    "ExactRow",
    "Model",
    "Row",
    "SectorFloor",
    "SelectionError",
    "allowed_starts",
    "build_model",
    "cumulative_spend",
    "earliest_starts",
    "solve_lp",
    "solve_mip",
    "tol",
]

Array = NDArray[np.float64]


class SelectionError(NaefError):
    """Constraints that cannot all hold, or bad selection settings."""


#: Migrant-sending states: CONAPO's "muy alto" and "alto" grades of the México–Estados Unidos migration intensity
#: index in 2010 or in 2020 (the union of both years).
DEFAULT_MIGRANT_STATES: frozenset[str] = frozenset({
    "MX-AGU", "MX-COL", "MX-DUR", "MX-GRO", "MX-GUA", "MX-HID", "MX-JAL", "MX-MIC", "MX-MOR", "MX-NAY", "MX-OAX",
    "MX-SLP", "MX-ZAC",
})
MIGRANT_STATES_SOURCE = (
    "CONAPO, Índices de intensidad migratoria México-Estados Unidos: 2010 (very high and high: Zacatecas, "
    "Michoacán, Guanajuato, Nayarit, Durango, Aguascalientes, Jalisco, Colima, San Luis Potosí, Morelos, Guerrero, "
    "Hidalgo; as listed in CONAPO/OMI, 'El retorno en el nuevo escenario de la migración', p. 100) and 2020 (very "
    "high: Zacatecas, Michoacán, Nayarit, Guanajuato; high: San Luis Potosí, Aguascalientes, Oaxaca, Durango, "
    "Guerrero, Hidalgo; as reported by Líder Empresarial from the CONAPO report). The default is the union."
)
#: Minimum share of the portfolio's expected cost in migrant-sending states: ILLUSTRATIVE policy choice
DEFAULT_MIGRANT_SHARE_MIN = 0.40


@dataclass(frozen=True)
class SectorFloor:
    """A floor on a sector's expected cost in the portfolio: a share of the total (0 < share <= 1) or an amount."""

    sector: str
    share: float | None = None
    amount_usd: float | None = None

    def describe(self) -> str:
        """'sector floor education >= 5 %' or '... >= USD 1.20 bn'."""
        if self.share is not None:
            return f"sector floor {self.sector} >= {self.share:.0%} of spending"
        assert self.amount_usd is not None
        return f"sector floor {self.sector} >= {usd_auto(self.amount_usd)}"


#: Default sector floors: human capital and small enterprise each at least 5 % of spending (ILLUSTRATIVE policy)
DEFAULT_SECTOR_FLOORS: tuple[SectorFloor, ...] = (
    SectorFloor("education", share=0.05),
    SectorFloor("small_enterprise", share=0.05),
)


@dataclass(frozen=True)
class Constraints:
    """The policy constraints of a selection (the budget is an argument of :func:`select_portfolio`)."""

    sector_floors: tuple[SectorFloor, ...] = DEFAULT_SECTOR_FLOORS
    migrant_share_min: float = DEFAULT_MIGRANT_SHARE_MIN
    migrant_states: frozenset[str] = DEFAULT_MIGRANT_STATES

    def check(self) -> None:
        """Raise :class:`SelectionError` naming the bad setting."""
        if not (math.isfinite(self.migrant_share_min) and 0.0 <= self.migrant_share_min <= 1.0):
            raise SelectionError(f"migrant share: must be between 0 and 1 (got {self.migrant_share_min})")
        for st in sorted(self.migrant_states):
            if st not in STATES:
                raise SelectionError(f"migrant states: unknown state code {st!r}")
        seen: set[str] = set()
        for f in self.sector_floors:
            if f.sector not in SECTORS:
                raise SelectionError(f"sector floor: unknown sector {f.sector!r} (choose one of {', '.join(SECTORS)})")
            if f.sector in seen:
                raise SelectionError(f"sector floor {f.sector}: given twice")
            seen.add(f.sector)
            if (f.share is None) == (f.amount_usd is None):
                raise SelectionError(f"sector floor {f.sector}: give a share or an amount, not both or neither")
            if f.share is not None and not (math.isfinite(f.share) and 0.0 < f.share <= 1.0):
                raise SelectionError(f"sector floor {f.sector}: a share must be in (0, 1] (got {f.share})")
            if f.amount_usd is not None and not (math.isfinite(f.amount_usd) and f.amount_usd > 0):
                raise SelectionError(f"sector floor {f.sector}: an amount must be positive (got {f.amount_usd})")
        total = sum(f.share for f in self.sector_floors if f.share is not None)
        if total > 1.0 + 1e-12:
            raise SelectionError(f"sector floors: the shares add up to {total:.0%}, more than 100% of spending")


def allowed_starts(project: Project, years: Sequence[int], *, earliest: int | None = None) -> list[int]:
    """Start years s with max(start_year_min, first year, ``earliest``) <= s and s + duration - 1 <= last year
    (``earliest``: from :func:`earliest_starts`, after the prerequisites can be finished)."""
    first, last = years[0], years[-1]
    lo = max(project.start_year_min, first, earliest if earliest is not None else first)
    return list(range(lo, last - project.duration_years + 2))


def earliest_starts(projects: Sequence[Project], years: Sequence[int]) -> dict[str, int]:
    """Each project's earliest possible start: max(start_year_min, first year, the year after each prerequisite's
    earliest finish), through chains of ``requires`` (a prerequisite is finished before the dependent starts)."""
    by_id = {p.id: p for p in projects}
    out: dict[str, int] = {}

    def visit(ident: str, depth: int) -> int:
        if ident in out:
            return out[ident]
        if depth > len(projects):
            raise SelectionError(f"requires: a cycle of requirements through {ident!r}")
        p = by_id[ident]
        start = max(p.start_year_min, int(years[0]))
        for q in p.requires:
            start = max(start, visit(q, depth + 1) + by_id[q].duration_years)
        out[ident] = start
        return start

    for p in projects:
        visit(p.id, 0)
    return out


def cumulative_spend(*, expected_cost_usd: float, duration_years: int, start_year: int, years: Sequence[int]
                     ) -> Array:
    """S(y): spend by the end of each year y (even spending of the expected cost over the duration)."""
    y = np.asarray(years, dtype=float)
    done = np.clip(y - start_year + 1, 0, duration_years)
    return np.asarray(expected_cost_usd / duration_years * done, dtype=float)


class RowDetail(TypedDict, total=False):
    """What a row of the programme is about: its budget ``year``; a floor's ``sector`` and ``share`` or
    ``amount_usd`` (US$); a link's project ``id``, the ``other`` project and the ``start_year`` it binds."""

    year: int
    sector: str
    share: float | None
    amount_usd: float | None
    id: str
    other: str
    start_year: int


@dataclass
class Row:
    name: str
    kind: str  # budget, sector_floor, migrant_share, one_start, requires, excludes, nonempty
    group: str  # the name used in an infeasibility report
    coeffs: Array
    rhs: float
    unit: str
    detail: RowDetail


@dataclass
class Model:
    """The programme: column ``j`` is project ``var_p[j]`` (an index into ``project_ids``) started in ``var_s[j]``,
    worth ``obj[j]`` (ENPV, US$); ``rows`` are ``coeffs @ x <= rhs``."""

    var_p: list[int]
    var_s: list[int]
    obj: Array
    rows: list[Row]
    project_ids: list[str]


def build_model(projects: Sequence[Project], appraisals: Mapping[str, ProjectAppraisal], years: list[int],
           budget: Array, constraints: Constraints, base_year: int) -> Model:
    var_p: list[int] = []
    var_s: list[int] = []
    es = earliest_starts(projects, years)
    for i, p in enumerate(projects):
        for s in allowed_starts(p, years, earliest=es[p.id]):
            var_p.append(i)
            var_s.append(s)
    nv = len(var_p)
    vp = np.array(var_p, dtype=int)
    vs = np.array(var_s, dtype=int)
    cost = np.array([appraisals[p.id].expected_cost_usd for p in projects])
    obj = np.array([appraisals[projects[i].id].enpv_usd(start_year=s, base_year=base_year)
                    for i, s in zip(var_p, var_s, strict=True)])
    ecost = cost[vp] if nv else np.zeros(0)
    rows: list[Row] = []
    cum_budget = np.cumsum(budget)
    if nv:
        dur = np.array([projects[i].duration_years for i in var_p])
        spend = (ecost / dur)[:, None] * np.clip(np.asarray(years)[None, :] - vs[:, None] + 1, 0, dur[:, None])
    else:
        spend = np.zeros((0, len(years)))
    for j, y in enumerate(years):
        rows.append(Row(f"budget by {y}", "budget", "the budget", spend[:, j].copy(), float(cum_budget[j]),
                         "US$", {"year": y}))
    sector_of = np.array([SECTORS.index(projects[i].sector) for i in var_p], dtype=int)
    for f in constraints.sector_floors:
        in_k = (sector_of == SECTORS.index(f.sector)).astype(float)
        if f.amount_usd is not None:
            coeffs, rhs = -in_k * ecost, -f.amount_usd
        else:
            assert f.share is not None
            coeffs, rhs = (f.share - in_k) * ecost, 0.0
        rows.append(Row(f.describe(), "sector_floor", f.describe(), coeffs, rhs, "US$",
                         {"sector": f.sector, "share": f.share, "amount_usd": f.amount_usd}))
    if constraints.migrant_share_min > 0:
        in_m = np.array([projects[i].state in constraints.migrant_states for i in var_p], dtype=float)
        desc = f"migrant-sending states >= {constraints.migrant_share_min:.0%} of spending"
        rows.append(Row(desc, "migrant_share", desc, (constraints.migrant_share_min - in_m) * ecost, 0.0, "US$",
                         {"share": constraints.migrant_share_min}))
    index = {p.id: i for i, p in enumerate(projects)}
    # the rows of each project in the order of the ids, not of the pipeline's rows: the rows' order decides the order
    # in which a rejection's reason names its constraints, which must not depend on how the pipeline was sorted
    by_id = sorted(range(len(projects)), key=lambda i: projects[i].id)
    for i in by_id:
        p = projects[i]
        rows.append(Row(f"one start of {p.id}", "one_start", "one start per project", (vp == i).astype(float), 1.0,
                         "project", {"id": p.id}))
    for i in by_id:
        p = projects[i]
        for q in sorted(p.requires):
            # p may start in s only if q starts in some s' with s' + d_q <= s (q finished before p starts):
            #     x[p, s] - sum_{s' <= s - d_q} x[q, s'] <= 0        for every allowed start s of p
            dq = projects[index[q]].duration_years
            q_cols = vp == index[q]
            for s in sorted({int(v) for v in vs[vp == i]}):
                coeffs = ((vp == i) & (vs == s)).astype(float) - (q_cols & (vs + dq <= s)).astype(float)
                rows.append(Row(f"{p.id} requires {q} (finished before {p.id} starts)", "requires",
                                f"{p.id} requires {q}", coeffs, 0.0, "project",
                                {"id": p.id, "other": q, "start_year": s}))
    pairs: set[tuple[str, str]] = set()
    for p in projects:
        for q in p.excludes:
            pairs.add((min(p.id, q), max(p.id, q)))
    for a_id, b_id in sorted(pairs):
        a, b = index[a_id], index[b_id]
        coeffs = (vp == a).astype(float) + (vp == b).astype(float)
        name = f"{projects[a].id} excludes {projects[b].id}"
        rows.append(Row(name, "excludes", name, coeffs, 1.0,
                         "project", {"id": projects[a].id, "other": projects[b].id}))
    return Model(var_p=var_p, var_s=var_s, obj=obj, rows=rows, project_ids=[p.id for p in projects])


@contextmanager
def quiet_native_stdout() -> Iterator[None]:
    """Send file descriptor 1 to the null device while HiGHS runs: its MIP solver can print progress lines from
    C++ even with ``disp=False``, which would corrupt ``--json`` output. Python's own ``sys.stdout`` is untouched."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


#: HiGHS's relative MIP gap: every optimum is proven to a billionth of its value (a tenth of the tie tolerance of
#: :mod:`naef.mdf.ties`, so where in the gap HiGHS stops moves the edge of the tied set by at most a tenth of its width)
MIP_REL_GAP = 1e-9

#: an exact row ``coeffs @ x <= ub`` (no feasibility slack, unlike a :class:`Row`): fixings and the value row
ExactRow = tuple[Array, float]


#: HiGHS's options for a programme whose exact rows must hold to far better than its default tolerances (the tie
#: rule's value row, a hundred-millionth of the optimum below it): feasibility tolerances at HiGHS's least, 1e-10
#: (defaults: 1e-7 for rows in the LP, 1e-6 in the MIP), so that the answers it lets below such a row lie within a
#: ten-billionth of it, and no presolve (HiGHS's presolve returned wrong optima and false infeasibility on such
#: programmes — a portfolio of value 10 reported as 6 with the default tolerances, and with the tight ones a wrong
#: optimum on a small knapsack with an exact tie, ``tests/mdf/test_ties.py``; cf. ERGO-Code/HiGHS issues 1725, 1958
#: and 2303)
TIGHT_HIGHS_OPTIONS: dict[str, float | bool] = {
    "presolve": False, "primal_feasibility_tolerance": 1e-10, "mip_feasibility_tolerance": 1e-10,
}


def solve_mip(model: Model, rows: Sequence[Row], *, time_limit: float, objective: Array | None = None,
              exact_rows: Sequence[ExactRow] = (), rel_gap: float = MIP_REL_GAP, tight: bool = False
              ) -> tuple[int, Array | None]:
    """HiGHS on the programme: maximise ``model.obj`` (or minimise ``objective``) over binary ``x`` subject to
    ``rows`` (each with the slack :func:`tol`) and ``exact_rows`` (none), to the relative gap ``rel_gap`` (HiGHS
    stops at it or at its absolute gap, 1e-6), with :data:`TIGHT_HIGHS_OPTIONS` when ``tight``; (status, x rounded
    to 0/1 or None)."""
    nv = len(model.var_p)
    if nv == 0:
        feasible = all(r.rhs >= -1e-9 for r in rows) and all(ub >= 0.0 for _, ub in exact_rows)
        return (0, np.zeros(0)) if feasible else (2, None)
    constraints = []
    if rows:
        a = np.vstack([r.coeffs for r in rows])
        b = np.array([r.rhs for r in rows])
        constraints.append(LinearConstraint(a, -np.inf, b + tol(b)))
    if exact_rows:
        constraints.append(LinearConstraint(np.vstack([c for c, _ in exact_rows]), -np.inf,
                                            np.array([ub for _, ub in exact_rows])))
    c = -model.obj if objective is None else objective
    options: dict[str, float | bool] = {"disp": False, "mip_rel_gap": rel_gap, "time_limit": time_limit}
    with quiet_native_stdout(), warnings.catch_warnings():
        if tight:  # scipy passes options it does not know to HiGHS verbatim, with a warning saying so
            options.update(TIGHT_HIGHS_OPTIONS)
            warnings.filterwarnings("ignore", message="Unrecognized options detected", category=RuntimeWarning)
        res = milp(c, integrality=np.ones(nv), bounds=Bounds(0, 1), constraints=constraints or None,
                   options=options)
    x = None if res.x is None else np.round(np.asarray(res.x, dtype=float))
    return int(res.status), x


def tol(b: Array) -> Array:
    """Feasibility slack allowed on a row: a millionth of the right-hand side plus US$ 1e-3 (rounding only)."""
    return np.asarray(1e-6 * np.maximum(np.abs(b), 1.0) + 1e-3, dtype=float)


def solve_lp(model: Model) -> tuple[Array, Array, float]:
    """The LP relaxation: (x, shadow price of each row for the maximisation (>= 0), objective)."""
    nv = len(model.var_p)
    if nv == 0:
        return np.zeros(0), np.zeros(len(model.rows)), 0.0
    a = np.vstack([r.coeffs for r in model.rows])
    b = np.array([r.rhs for r in model.rows])
    with quiet_native_stdout():
        res = linprog(-model.obj, A_ub=a, b_ub=b + tol(b), bounds=(0, 1), method="highs")
    if res.status != 0:
        return np.zeros(nv), np.zeros(len(model.rows)), math.nan
    duals = -np.asarray(res.ineqlin.marginals, dtype=float)
    return np.asarray(res.x, dtype=float), np.maximum(duals, 0.0), float(-res.fun)
