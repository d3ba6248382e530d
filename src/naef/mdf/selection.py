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

Of several optimal portfolios (projects of equal cost and value), the one chosen is the first by a stated rule
(:mod:`naef.mdf.ties`: the projects in id order, one worth something included first and one that is not left out
first, then their starts, earliest first), so the answer depends on the programme alone, not on the order of the
pipeline's rows, the solver's path or the machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np

from naef.format import usd_auto
from naef.mdf.appraisal import ProjectAppraisal
from naef.mdf.explain import BindingConstraint, BudgetMarginalValue, RejectedProject, explain
from naef.mdf.milp import (
    DEFAULT_MIGRANT_SHARE_MIN,
    DEFAULT_MIGRANT_STATES,
    DEFAULT_SECTOR_FLOORS,
    MIGRANT_STATES_SOURCE,
    Array,
    Constraints,
    Model,
    Row,
    SectorFloor,
    SelectionError,
    allowed_starts,
    build_model,
    cumulative_spend,
    solve_mip,
)
from naef.mdf.pipeline import Project
from naef.mdf.ties import TieBreak, break_ties

__all__ = [
    "DEFAULT_MIGRANT_SHARE_MIN",
    "DEFAULT_MIGRANT_STATES",
    "DEFAULT_SECTOR_FLOORS",
    "MIGRANT_STATES_SOURCE",
    "Constraints",
    "SectorFloor",
    "SelectedProject",
    "Selection",
    "SelectionError",
    "SelectionSettings",
    "allowed_starts",
    "cumulative_spend",
    "select_portfolio",
]

#: The default policy constraints (sector floors and migrant share)
DEFAULT_CONSTRAINTS = Constraints()


class SelectedProject(TypedDict):
    """A chosen project: its start year, expected cost (constant US$, undiscounted) and ENPV discounted to the
    base year."""

    id: str
    start_year: int
    name: str
    sector: str
    state: str
    expected_cost_usd: float
    enpv_usd: float


class SectorFloorSetting(TypedDict):
    """A sector floor as a share of spending or an amount (constant US$)."""

    sector: str
    share: float | None
    amount_usd: float | None


class SelectionSettings(TypedDict):
    """The policy constraints the selection was made under."""

    sector_floors: list[SectorFloorSetting]
    migrant_share_min: float
    migrant_states: list[str]


@dataclass
class Selection:
    """The chosen portfolio and what explains it."""

    selected: list[SelectedProject]
    objective_usd: float
    budget_years: list[int]
    budget_usd: list[float]
    spend_usd: list[float]
    binding_constraints: list[BindingConstraint]
    rejected: list[RejectedProject]
    lp_objective_usd: float
    optimal: bool
    #: whether the tie rule (:data:`naef.mdf.ties.TIE_RULE`) chose among the optimal portfolios, here and in the
    #: explanation's removal re-solves and checks for ties: False when one of those solves stopped at its time limit
    #: or a step needed too many cuts (another run may then choose another portfolio of the same value)
    ties_settled: bool
    base_year: int
    settings: SelectionSettings
    #: per budget year Y: the value of one more dollar received in Y (LP: Σ of the budget duals from Y on; and
    #: the finite re-solve that confirms it)
    budget_marginal_value: list[BudgetMarginalValue] = field(default_factory=list)

    def start_years(self) -> dict[str, int]:
        """Selected project id -> start year."""
        return {s["id"]: int(s["start_year"]) for s in self.selected}


def _conflict(model: Model, *, always: Sequence[Row] = (), time_limit: float) -> list[str]:
    """A minimal list of constraint groups that cannot all hold (a deletion filter over the groups)."""
    groups: dict[str, list[Row]] = {}
    for r in model.rows:
        if r.kind != "one_start":
            groups.setdefault(r.group, []).append(r)
    base = [r for r in model.rows if r.kind == "one_start"] + list(always)
    keep = list(groups)

    def infeasible(names: Sequence[str]) -> bool:
        rows = base + [r for g in names for r in groups[g]]
        status, _ = solve_mip(model, rows, time_limit=time_limit)
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
            out.append(f"the budget ({usd_auto(float(budget.sum()))} by {years[-1]})")
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
    constraints: Constraints = DEFAULT_CONSTRAINTS,
    base_year: int | None = None,
    time_limit: float = 60.0,
    resolve_time_limit: float = 20.0,
    resolve_step_usd: float | None = None,
) -> Selection:
    """Choose the portfolio (see the module docstring for the programme). ``budget_usd[j]`` is the money that
    becomes available in ``years[j]`` (consecutive calendar years); ``base_year`` (default: the first budget year)
    is the year the objective is discounted to. Raises :class:`SelectionError` naming the conflicting constraints
    when they cannot all hold. Each re-solve that confirms a shadow price or a rejection's reason
    (:mod:`naef.mdf.explain`) gets ``resolve_time_limit`` seconds; its finite step is ``resolve_step_usd``
    (default: 0.1 % of the total budget)."""
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
    model = build_model(projects, appraisals, yrs, budget, constraints, base)
    status, x = solve_mip(model, model.rows, time_limit=time_limit)
    if status == 1 and x is None:
        raise SelectionError(f"portfolio: the MIP solver reached its time limit ({time_limit:g} s) before finding "
                             "a feasible portfolio; allow more time or simplify the constraints")
    if status == 2 or x is None:
        if status not in (0, 1, 2):
            raise SelectionError(f"portfolio: the MIP solver failed (HiGHS status {status})")
        names = _conflict(model, time_limit=time_limit)
        raise SelectionError(_infeasible_message(names, model, projects, yrs, budget))
    if not np.any(x > 0.5) and constraints_force_nothing(model, projects, yrs, budget, time_limit=time_limit):
        nonempty = Row("fund something", "nonempty", "fund something", -np.ones(len(model.var_p)), -1.0,
                        "project", {})
        names = _conflict(model, always=[nonempty], time_limit=time_limit)
        raise SelectionError("portfolio: " + _describe_groups(names, yrs, budget)
                             + " can only all hold by funding nothing")
    optimum = float(model.obj @ x) if status == 0 and model.var_p else None
    ties = (break_ties(model, model.rows, x, optimum_usd=optimum, time_limit=time_limit)
            if optimum is not None else TieBreak(x, status == 0))
    x = ties.x
    chosen = {model.var_p[j]: model.var_s[j] for j in range(len(model.var_p)) if x[j] > 0.5}
    spend = np.zeros(len(yrs))
    selected: list[SelectedProject] = []
    for i in sorted(chosen, key=lambda i: (chosen[i], i)):
        p, ap, s = projects[i], appraisals[projects[i].id], chosen[i]
        spend += np.diff(cumulative_spend(expected_cost_usd=ap.expected_cost_usd, duration_years=p.duration_years,
                                          start_year=s, years=yrs), prepend=0.0)
        selected.append({"id": p.id, "start_year": s, "name": p.name, "sector": p.sector, "state": p.state,
                         "expected_cost_usd": ap.expected_cost_usd,
                         "enpv_usd": ap.enpv_usd(start_year=s, base_year=base)})
    why = explain(model, x, projects, appraisals, yrs, budget, chosen, time_limit=resolve_time_limit,
                  step_usd=resolve_step_usd, base_optimal=status == 0,
                  optimum_usd=optimum)
    return Selection(
        selected=selected, objective_usd=float(model.obj @ x) if model.var_p else 0.0, budget_years=yrs,
        budget_usd=[float(b) for b in budget], spend_usd=[float(v) for v in spend],
        binding_constraints=why.binding_constraints, rejected=why.rejected, lp_objective_usd=why.lp_objective_usd,
        optimal=status == 0, ties_settled=ties.settled and why.ties_settled, base_year=base,
        budget_marginal_value=why.budget_marginal_value,
        settings={
            "sector_floors": [{"sector": f.sector, "share": f.share, "amount_usd": f.amount_usd}
                              for f in constraints.sector_floors],
            "migrant_share_min": constraints.migrant_share_min,
            "migrant_states": sorted(constraints.migrant_states),
        },
    )


def constraints_force_nothing(model: Model, projects: Sequence[Project], years: list[int], budget: Array, *,
                              time_limit: float) -> bool:
    """True when some project has a positive ENPV and fits the budget on its own (so an empty optimum is the
    policy constraints' doing)."""
    one = [r for r in model.rows if r.kind in ("one_start", "budget")]
    status, x = solve_mip(model, one, time_limit=time_limit)
    return status == 0 and x is not None and bool(np.any(x > 0.5)) and float(model.obj @ x) > 0


def _infeasible_message(names: list[str], model: Model, projects: Sequence[Project], years: list[int],
                        budget: Array) -> str:
    if len(names) == 1 and names[0].startswith("sector floor"):
        row = next(r for r in model.rows if r.group == names[0])
        sector = row.detail["sector"]
        total = sum(_sector_costs(model, row))
        return (f"portfolio: infeasible: {names[0]} cannot be met: the {sector} projects that can be paid for by "
                f"{years[-1]} cost {usd_auto(total)} in all")
    return f"portfolio: infeasible: {_describe_groups(names, years, budget)} cannot all hold"


def _sector_costs(model: Model, row: Row) -> list[float]:
    """The expected cost of each project with a start allowed in the sector of a floor ``row`` (amount floors:
    the coefficient is minus the cost)."""
    costs: dict[int, float] = {}
    for j, i in enumerate(model.var_p):
        if row.coeffs[j] < 0:
            costs[i] = float(-row.coeffs[j])
    return list(costs.values())
