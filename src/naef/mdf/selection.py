"""Portfolio selection: the mixed-integer programme that chooses projects and start years, solved with HiGHS.

Notation: projects p with expected cost E_p = E[m_p] · cost_usd (the reference class's mean overrun), duration
d_p and earliest start a_p; budget years y_1 < ... < y_n with amounts B_y (available at the chosen confidence; what
is not spent is carried forward). A start year s is allowed for p when max(a_p, y_1) <= s and s + d_p - 1 <= y_n
(the project is paid for inside the budget's years). Binary x[p, s] = 1 when p starts in s.

    maximise   sum_{p,s} ENPV_p · (1 + r)^-(s - base_year) · x[p, s]
    subject to
      one start:      sum_s x[p, s] <= 1                                               for every p
      budget:         sum_{p,s} S_p,s(y) · x[p, s] <= sum_{t <= y} B_t                  for every budget year y
                      where S_p,s(y) = E_p / d_p · clip(y - s + 1, 0, d_p), the spend of p by the end of y
      sector floor:   sum_{p in k,s} E_p x[p, s] >= A_k                 (an amount), or
                      sum_{p in k,s} E_p x[p, s] >= f_k sum_{p,s} E_p x[p, s]          (a share)
      migrant share:  sum_{p in M,s} E_p x[p, s] >= h sum_{p,s} E_p x[p, s]     (M: migrant-sending states)
      requires:       sum_s x[p, s] <= sum_s x[q, s]                                    when p requires q
      excludes:       sum_s x[p, s] + sum_s x[q, s] <= 1                                when p excludes q

The cumulative budget rows are the carry-forward: money unspent in one year is there the next. The LP relaxation
(0 <= x <= 1) is solved with ``scipy.optimize.linprog(method="highs")`` for the duals: each row's shadow price is
the change in the optimal ENPV per unit of its right-hand side (US$ for budget, floor and share rows). They explain
the binding constraints and why each rejected project lost (its reduced cost in the relaxation). An infeasible
set of constraints is reduced by a deletion filter to a minimal set of groups that conflict, named in the error.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from naef.errors import NaefError
from naef.mdf.appraisal import ProjectAppraisal
from naef.mdf.pipeline import SECTORS, STATES, Project

__all__ = [
    "DEFAULT_MIGRANT_SHARE_MIN",
    "DEFAULT_MIGRANT_STATES",
    "DEFAULT_SECTOR_FLOORS",
    "MIGRANT_STATES_SOURCE",
    "Constraints",
    "SectorFloor",
    "Selection",
    "SelectionError",
    "allowed_starts",
    "cumulative_spend",
    "select_portfolio",
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
        """'sector floor education >= 5 %' or '... >= US$ 1.20 bn'."""
        if self.share is not None:
            return f"sector floor {self.sector} >= {self.share:.0%} of spending"
        assert self.amount_usd is not None
        return f"sector floor {self.sector} >= {_usd_bn(self.amount_usd)}"


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


@dataclass
class Selection:
    """The chosen portfolio and what explains it."""

    selected: list[dict[str, Any]]
    objective_usd: float
    budget_years: list[int]
    budget_usd: list[float]
    spend_usd: list[float]
    binding_constraints: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    lp_objective_usd: float
    optimal: bool
    base_year: int
    settings: dict[str, Any] = field(default_factory=dict)

    def start_years(self) -> dict[str, int]:
        """Selected project id -> start year."""
        return {s["id"]: int(s["start_year"]) for s in self.selected}


def allowed_starts(project: Project, years: Sequence[int]) -> list[int]:
    """Start years s with max(start_year_min, first year) <= s and s + duration - 1 <= last year."""
    first, last = years[0], years[-1]
    lo = max(project.start_year_min, first)
    return list(range(lo, last - project.duration_years + 2))


def cumulative_spend(*, expected_cost_usd: float, duration_years: int, start_year: int, years: Sequence[int]
                     ) -> Array:
    """S(y): spend by the end of each year y (even spending of the expected cost over the duration)."""
    y = np.asarray(years, dtype=float)
    done = np.clip(y - start_year + 1, 0, duration_years)
    return np.asarray(expected_cost_usd / duration_years * done, dtype=float)


@dataclass
class _Row:
    name: str
    kind: str  # budget, sector_floor, migrant_share, one_start, requires, excludes, nonempty
    group: str  # the name used in an infeasibility report
    coeffs: Array
    rhs: float
    unit: str
    detail: dict[str, Any]


@dataclass
class _Model:
    var_p: list[int]
    var_s: list[int]
    obj: Array
    rows: list[_Row]


def _build(projects: Sequence[Project], appraisals: Mapping[str, ProjectAppraisal], years: list[int],
           budget: Array, constraints: Constraints, base_year: int) -> _Model:
    var_p: list[int] = []
    var_s: list[int] = []
    for i, p in enumerate(projects):
        for s in allowed_starts(p, years):
            var_p.append(i)
            var_s.append(s)
    nv = len(var_p)
    vp = np.array(var_p, dtype=int)
    vs = np.array(var_s, dtype=int)
    cost = np.array([appraisals[p.id].expected_cost_usd for p in projects])
    obj = np.array([appraisals[projects[i].id].enpv_usd(start_year=s, base_year=base_year)
                    for i, s in zip(var_p, var_s, strict=True)])
    ecost = cost[vp] if nv else np.zeros(0)
    rows: list[_Row] = []
    cum_budget = np.cumsum(budget)
    if nv:
        dur = np.array([projects[i].duration_years for i in var_p])
        spend = (ecost / dur)[:, None] * np.clip(np.asarray(years)[None, :] - vs[:, None] + 1, 0, dur[:, None])
    else:
        spend = np.zeros((0, len(years)))
    for j, y in enumerate(years):
        rows.append(_Row(f"budget by {y}", "budget", "the budget", spend[:, j].copy(), float(cum_budget[j]),
                         "US$", {"year": y}))
    sector_of = np.array([SECTORS.index(projects[i].sector) for i in var_p], dtype=int)
    for f in constraints.sector_floors:
        in_k = (sector_of == SECTORS.index(f.sector)).astype(float)
        if f.amount_usd is not None:
            coeffs, rhs = -in_k * ecost, -f.amount_usd
        else:
            assert f.share is not None
            coeffs, rhs = (f.share - in_k) * ecost, 0.0
        rows.append(_Row(f.describe(), "sector_floor", f.describe(), coeffs, rhs, "US$",
                         {"sector": f.sector, "share": f.share, "amount_usd": f.amount_usd}))
    if constraints.migrant_share_min > 0:
        in_m = np.array([projects[i].state in constraints.migrant_states for i in var_p], dtype=float)
        desc = f"migrant-sending states >= {constraints.migrant_share_min:.0%} of spending"
        rows.append(_Row(desc, "migrant_share", desc, (constraints.migrant_share_min - in_m) * ecost, 0.0, "US$",
                         {"share": constraints.migrant_share_min}))
    index = {p.id: i for i, p in enumerate(projects)}
    for i, p in enumerate(projects):
        rows.append(_Row(f"one start of {p.id}", "one_start", "one start per project", (vp == i).astype(float), 1.0,
                         "project", {"id": p.id}))
    for i, p in enumerate(projects):
        for q in p.requires:
            coeffs = (vp == i).astype(float) - (vp == index[q]).astype(float)
            rows.append(_Row(f"{p.id} requires {q}", "requires", "requires", coeffs, 0.0, "project",
                             {"id": p.id, "other": q}))
    pairs: set[tuple[int, int]] = set()
    for i, p in enumerate(projects):
        for q in p.excludes:
            pairs.add((min(i, index[q]), max(i, index[q])))
    for a, b in sorted(pairs):
        coeffs = (vp == a).astype(float) + (vp == b).astype(float)
        rows.append(_Row(f"{projects[a].id} excludes {projects[b].id}", "excludes", "excludes", coeffs, 1.0,
                         "project", {"id": projects[a].id, "other": projects[b].id}))
    return _Model(var_p=var_p, var_s=var_s, obj=obj, rows=rows)


@contextmanager
def _quiet_native_stdout() -> Iterator[None]:
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


def _solve_mip(model: _Model, rows: Sequence[_Row], *, time_limit: float) -> tuple[int, Array | None]:
    nv = len(model.var_p)
    if nv == 0:
        feasible = all(r.rhs >= -1e-9 for r in rows)
        return (0, np.zeros(0)) if feasible else (2, None)
    kwargs: dict[str, Any] = {}
    if rows:
        a = np.vstack([r.coeffs for r in rows])
        b = np.array([r.rhs for r in rows])
        kwargs["constraints"] = LinearConstraint(a, -np.inf, b + _tol(b))
    with _quiet_native_stdout():
        res = milp(-model.obj, integrality=np.ones(nv), bounds=Bounds(0, 1),
                   options={"disp": False, "mip_rel_gap": 1e-6, "time_limit": time_limit}, **kwargs)
    x = None if res.x is None else np.round(np.asarray(res.x, dtype=float))
    return int(res.status), x


def _tol(b: Array) -> Array:
    """Feasibility slack allowed on a row: a millionth of the right-hand side plus US$ 1e-3 (rounding only)."""
    return np.asarray(1e-6 * np.maximum(np.abs(b), 1.0) + 1e-3, dtype=float)


def _usd_bn(x: float) -> str:
    """US$ in billions (two decimals) from US$ 1 bn, in millions below."""
    return f"US$ {x / 1e9:,.2f} bn" if abs(x) >= 1e9 else f"US$ {x / 1e6:,.1f} m"


def _conflict(model: _Model, *, always: Sequence[_Row] = (), time_limit: float) -> list[str]:
    """A minimal list of constraint groups that cannot all hold (a deletion filter over the groups)."""
    groups: dict[str, list[_Row]] = {}
    for r in model.rows:
        if r.kind != "one_start":
            groups.setdefault(r.group, []).append(r)
    base = [r for r in model.rows if r.kind == "one_start"] + list(always)
    keep = list(groups)

    def infeasible(names: Sequence[str]) -> bool:
        rows = base + [r for g in names for r in groups[g]]
        status, _ = _solve_mip(model, rows, time_limit=time_limit)
        return status == 2

    for g in list(keep):
        trial = [k for k in keep if k != g]
        if infeasible(trial):
            keep = trial
    return keep


def _describe_groups(names: Sequence[str], years: list[int], budget: Array) -> str:
    out = []
    for g in names:
        if g == "the budget":
            out.append(f"the budget ({_usd_bn(float(budget.sum()))} by {years[-1]})")
        elif g in ("requires", "excludes"):
            out.append(f"the pipeline's '{g}' links")
        else:
            out.append(g)
    return " and ".join(out)


def select_portfolio(
    projects: Sequence[Project],
    appraisals: Mapping[str, ProjectAppraisal],
    *,
    years: Sequence[int],
    budget_usd: Sequence[float] | Array,
    constraints: Constraints = Constraints(),
    base_year: int | None = None,
    time_limit: float = 60.0,
) -> Selection:
    """Choose the portfolio (see the module docstring for the programme). ``budget_usd[j]`` is the money that
    becomes available in ``years[j]`` (consecutive calendar years); ``base_year`` (default: the first budget year)
    is the year the objective is discounted to. Raises :class:`SelectionError` naming the conflicting constraints
    when they cannot all hold."""
    yrs = [int(y) for y in years]
    budget = np.asarray(budget_usd, dtype=float)
    if not yrs:
        raise SelectionError("budget: no years")
    if budget.shape != (len(yrs),):
        raise SelectionError(f"budget: {budget.size} amounts for {len(yrs)} years")
    if yrs != list(range(yrs[0], yrs[0] + len(yrs))):
        raise SelectionError("budget: the years must be consecutive")
    if not np.all(np.isfinite(budget)) or np.any(budget < 0):
        raise SelectionError("budget: amounts must be finite and not negative")
    constraints.check()
    base = yrs[0] if base_year is None else int(base_year)
    model = _build(projects, appraisals, yrs, budget, constraints, base)
    status, x = _solve_mip(model, model.rows, time_limit=time_limit)
    if status == 1 and x is None:
        raise SelectionError(f"portfolio: the MIP solver reached its time limit ({time_limit:g} s) before finding "
                             "a feasible portfolio; allow more time or simplify the constraints")
    if status == 2 or x is None:
        if status not in (0, 1, 2):
            raise SelectionError(f"portfolio: the MIP solver failed (HiGHS status {status})")
        names = _conflict(model, time_limit=time_limit)
        raise SelectionError(_infeasible_message(names, model, projects, yrs, budget))
    if not np.any(x > 0.5) and constraints_force_nothing(model, projects, yrs, budget, time_limit=time_limit):
        nonempty = _Row("fund something", "nonempty", "fund something", -np.ones(len(model.var_p)), -1.0,
                        "project", {})
        names = _conflict(model, always=[nonempty], time_limit=time_limit)
        raise SelectionError("portfolio: " + _describe_groups(names, yrs, budget)
                             + " can only all hold by funding nothing")
    return _explain(model, x, projects, appraisals, yrs, budget, constraints, base, optimal=status == 0)


def constraints_force_nothing(model: _Model, projects: Sequence[Project], years: list[int], budget: Array, *,
                              time_limit: float) -> bool:
    """True when some project has a positive ENPV and fits the budget on its own (so an empty optimum is the
    policy constraints' doing)."""
    one = [r for r in model.rows if r.kind in ("one_start", "budget")]
    status, x = _solve_mip(model, one, time_limit=time_limit)
    return status == 0 and x is not None and bool(np.any(x > 0.5)) and float(model.obj @ x) > 0


def _infeasible_message(names: list[str], model: _Model, projects: Sequence[Project], years: list[int],
                        budget: Array) -> str:
    if len(names) == 1 and names[0].startswith("sector floor"):
        row = next(r for r in model.rows if r.group == names[0])
        sector = row.detail["sector"]
        total = sum(_sector_costs(model, row))
        return (f"portfolio: infeasible: {names[0]} cannot be met: the {sector} projects that can be paid for by "
                f"{years[-1]} cost {_usd_bn(total)} in all")
    return f"portfolio: infeasible: {_describe_groups(names, years, budget)} cannot all hold"


def _sector_costs(model: _Model, row: _Row) -> list[float]:
    """The expected cost of each project with a start allowed in the sector of a floor ``row`` (amount floors:
    the coefficient is minus the cost)."""
    costs: dict[int, float] = {}
    for j, i in enumerate(model.var_p):
        if row.coeffs[j] < 0:
            costs[i] = float(-row.coeffs[j])
    return list(costs.values())


def _lp(model: _Model) -> tuple[Array, Array, float]:
    """The LP relaxation: (x, shadow price of each row for the maximisation (>= 0), objective)."""
    nv = len(model.var_p)
    if nv == 0:
        return np.zeros(0), np.zeros(len(model.rows)), 0.0
    a = np.vstack([r.coeffs for r in model.rows])
    b = np.array([r.rhs for r in model.rows])
    with _quiet_native_stdout():
        res = linprog(-model.obj, A_ub=a, b_ub=b + _tol(b), bounds=(0, 1), method="highs")
    if res.status != 0:
        return np.zeros(nv), np.zeros(len(model.rows)), math.nan
    duals = -np.asarray(res.ineqlin.marginals, dtype=float)
    return np.asarray(res.x, dtype=float), np.maximum(duals, 0.0), float(-res.fun)


def _explain(model: _Model, x: Array, projects: Sequence[Project], appraisals: Mapping[str, ProjectAppraisal],
             years: list[int], budget: Array, constraints: Constraints, base_year: int, *, optimal: bool
             ) -> Selection:
    x_lp, duals, lp_obj = _lp(model)
    chosen = {model.var_p[j]: model.var_s[j] for j in range(len(model.var_p)) if x[j] > 0.5}
    spend = np.zeros(len(years))
    selected: list[dict[str, Any]] = []
    for i in sorted(chosen, key=lambda i: (chosen[i], i)):
        p, ap, s = projects[i], appraisals[projects[i].id], chosen[i]
        spend += np.diff(cumulative_spend(expected_cost_usd=ap.expected_cost_usd, duration_years=p.duration_years,
                                          start_year=s, years=years), prepend=0.0)
        selected.append({"id": p.id, "start_year": s, "name": p.name, "sector": p.sector, "state": p.state,
                         "expected_cost_usd": ap.expected_cost_usd,
                         "enpv_usd": ap.enpv_usd(start_year=s, base_year=base_year)})
    a = np.vstack([r.coeffs for r in model.rows]) if model.var_p else np.zeros((len(model.rows), 0))
    lhs = a @ x if model.var_p else np.zeros(len(model.rows))
    selected_ids = {projects[i].id for i in chosen}
    binding: list[dict[str, Any]] = []
    for k, r in enumerate(model.rows):
        slack = r.rhs - float(lhs[k])
        tight = slack <= float(_tol(np.array([r.rhs]))[0]) + 1e-6 * max(abs(r.rhs), 1.0)
        priced = duals[k] > 1e-12
        if r.kind == "one_start" or not (tight or priced):
            continue
        if not priced:  # tight without a price: report it only when the portfolio actually presses on it
            if r.kind == "budget" and float(lhs[k]) <= 0:
                continue
            if r.kind == "requires" and r.detail["id"] not in selected_ids:
                continue
            if r.kind == "excludes" and not ({r.detail["id"], r.detail["other"]} & selected_ids):
                continue
        binding.append({"name": r.name, "kind": r.kind, "binding_in_milp": tight, "slack": max(slack, 0.0),
                        "shadow_price": float(duals[k]), "shadow_price_unit": f"US$ of ENPV per {r.unit}",
                        **{k2: v for k2, v in r.detail.items() if v is not None}})
    rejected = [
        {"id": p.id, "name": p.name, "reason": _why_rejected(i, p, model, a, duals, x_lp, projects, appraisals,
                                                            years, selected_ids, base_year)}
        for i, p in enumerate(projects) if i not in chosen
    ]
    objective = float(model.obj @ x) if model.var_p else 0.0
    return Selection(
        selected=selected, objective_usd=objective, budget_years=years, budget_usd=[float(b) for b in budget],
        spend_usd=[float(v) for v in spend], binding_constraints=binding, rejected=rejected,
        lp_objective_usd=lp_obj, optimal=optimal, base_year=base_year,
        settings={
            "sector_floors": [{"sector": f.sector, "share": f.share, "amount_usd": f.amount_usd}
                              for f in constraints.sector_floors],
            "migrant_share_min": constraints.migrant_share_min,
            "migrant_states": sorted(constraints.migrant_states),
        },
    )


def _why_rejected(i: int, p: Project, model: _Model, a: Array, duals: Array, x_lp: Array,
                  projects: Sequence[Project], appraisals: Mapping[str, ProjectAppraisal], years: list[int],
                  selected_ids: set[str], base_year: int) -> str:
    cols = [j for j in range(len(model.var_p)) if model.var_p[j] == i]
    ap = appraisals[p.id]
    if not cols:
        first = max(p.start_year_min, years[0])
        return (f"earliest start too late: starting in {first} it would be paid for until "
                f"{first + p.duration_years - 1}, after the budget's last year {years[-1]}")
    if ap.enpv_at_start_usd <= 0:
        return (f"negative expected NPV: US$ {ap.enpv_at_start_usd / 1e6:,.1f} m at its start (planned NPV "
                f"US$ {ap.planned_npv_at_start_usd / 1e6:,.1f} m; expected cost ×{ap.cost_multiplier_mean:.2f}, "
                f"benefits ×{ap.benefit_ratio_mean:.2f} of plan)")
    for q in p.excludes:
        if q in selected_ids:
            return f"excluded by {q} (chosen)"
    for other in projects:
        if p.id in other.excludes and other.id in selected_ids:
            return f"excluded by {other.id} (chosen)"
    for q in p.requires:
        if q not in selected_ids:
            return f"requires {q}, which was not chosen"
    # reduced cost in the LP relaxation at the best start: ENPV minus the shadow-priced use of each constraint
    best_j, best_rc, best_parts = cols[0], -math.inf, {}
    for j in cols:
        parts: dict[int, float] = {}
        for k, r in enumerate(model.rows):
            if duals[k] > 0 and a[k, j] != 0 and r.kind != "one_start":
                parts[k] = float(duals[k] * a[k, j])
        rc = float(model.obj[j]) - sum(parts.values())
        if rc > best_rc:
            best_j, best_rc, best_parts = j, rc, parts
    s = model.var_s[best_j]
    cost = ap.expected_cost_usd
    value_per_usd = float(model.obj[best_j]) / cost
    budget_part = sum(v for k, v in best_parts.items() if model.rows[k].kind == "budget")
    others = {k: v for k, v in best_parts.items() if model.rows[k].kind != "budget"}
    top = max(others, key=lambda k: others[k]) if others else None
    share_lp = float(sum(x_lp[j] for j in cols))
    if best_rc < 0 and budget_part > 0 and (top is None or budget_part >= others[top]):
        return (f"not enough budget: its ENPV per dollar ({value_per_usd:.3f} if started in {s}) is below the "
                f"budget's shadow price over its spending years ({budget_part / cost:.3f})")
    if best_rc < 0 and top is not None and others[top] > 0:
        row = model.rows[top]
        if row.kind in ("requires", "excludes"):
            return f"its link '{row.name}' costs more ENPV than it brings (best start {s})"
        return (f"{row.name}: its spending uses that constraint at a shadow cost of {others[top] / cost:.3f} of ENPV "
                f"per dollar, more than its ENPV per dollar ({value_per_usd:.3f}, best start {s})")
    if share_lp > 1e-6:
        return (f"not enough budget for whole projects: the LP relaxation would fund {share_lp:.0%} of it, but "
                f"the integer portfolio uses the money better (ENPV per dollar {value_per_usd:.3f})")
    return f"crowded out by projects with more ENPV for the same budget (ENPV per dollar {value_per_usd:.3f})"

