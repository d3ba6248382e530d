"""What binds the MDF's portfolio and why each rejected project lost, each claim checked by re-solving the MILP.

**Shadow prices.** The LP relaxation's duals (``scipy.optimize.linprog``, HiGHS) are a first guess; every
constraint that is tight in the MILP or priced in the relaxation is then *re-solved* with its right-hand side
relaxed by a finite step Δ (Δ = 0.1 % of the total budget, at least US$ 1,000):

    confirmed value = (objective with the constraint relaxed by Δ − objective) / Δ

A constraint whose LP price is positive but whose finite step changes nothing is marked ``degenerate``; one whose
step raises the objective is ``confirmed`` (``confirmed (MILP only)`` without an LP price); a re-solve stopped by
its time limit gives a ``lower bound (time limit)`` or leaves the price ``unconfirmed (time limit)``. Each
re-solve carries the original objective as a cutoff row (relaxing can only raise the optimum), which prunes the
branch and bound without changing its result. A budget row is reported as *the value of one more dollar received in
year Y*: a dollar received in Y relaxes the cumulative budget of every year from Y on, so its LP value is the sum
of the budget duals from Y on, Σ_{y >= Y} λ_y, and its finite check adds Δ to year Y's money. Sector floors and
shares are relaxed by Δ dollars of shortfall; a ``requires``/``excludes`` link is removed (its value: US$ per
link).

**Rejections.** A rejected project's reason is, in order: it cannot be paid for inside the budget's years (its
earliest start, after its prerequisites can be finished, is too late); its expected NPV is not positive; else
it is *tied*: a portfolio of the same value (within :data:`naef.mdf.ties.TIE_REL` of the optimum) includes it, and
the tie rule (:mod:`naef.mdf.ties`) chose one without it; else the constraint groups (the budget, each sector floor,
the migrant share, each link touching it) whose removal *alone* brings it into the optimal portfolio — each found by
re-solving the MILP without that group, the tie rule choosing among that programme's optima as among the
original's, so that the answer does not depend on the solver's path. When no single removal brings it in, it is
crowded out by the constraints together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NotRequired, TypedDict

import numpy as np

from naef.format import usd_m
from naef.mdf.appraisal import ProjectAppraisal
from naef.mdf.milp import Array, Model, Row, earliest_starts, solve_lp, solve_mip, tol
from naef.mdf.pipeline import Project
from naef.mdf.ties import break_ties, in_a_tied_portfolio, tie_floor_usd

__all__ = ["BindingConstraint", "BudgetMarginalValue", "Explanation", "RejectedProject", "explain",
           "finite_step_usd"]


class BindingConstraint(TypedDict):
    """A binding (or priced) constraint of the selection: its LP shadow price and the finite re-solve that
    confirms it (``confirmed_value`` per ``step``, in ``shadow_price_unit``); ``slack`` in the row's unit (US$, or
    projects for links). Budget rows carry ``year`` and ``value_of_dollar_received_lp``; floors and shares their
    ``sector`` / ``share`` / ``amount_usd``; links their project ``id`` and ``other``."""

    name: str
    kind: str
    year: NotRequired[int]
    binding_in_milp: bool
    slack: float
    shadow_price: float
    lp_shadow_price: float
    value_of_dollar_received_lp: NotRequired[float]
    confirmed_value: float
    step: float
    shadow_price_unit: str
    status: str
    sector: NotRequired[str]
    share: NotRequired[float]
    amount_usd: NotRequired[float]
    id: NotRequired[str]
    other: NotRequired[str]


class BudgetMarginalValue(TypedDict):
    """The value of one more US$ received in ``year`` (US$ of ENPV per US$): the LP's and the re-solve's."""

    year: int
    lp_value_per_usd: float
    confirmed_value_per_usd: float
    step_usd: float
    proven: bool
    status: str


class RejectedProject(TypedDict):
    """A project left out and why (``excluded_by``: the constraint groups whose removal alone brings it in;
    ``tied``: a portfolio of the optimum's value includes it, and the tie rule chose another)."""

    id: str
    name: str
    reason: str
    excluded_by: list[str]
    tied: bool


@dataclass
class Explanation:
    """The binding constraints (with LP and confirmed values), the value of money by year, the rejections."""

    binding_constraints: list[BindingConstraint]
    budget_marginal_value: list[BudgetMarginalValue]
    rejected: list[RejectedProject]
    lp_objective_usd: float
    #: every use of the tie rule here settled (the removal re-solves' portfolios and the checks for tied projects)
    ties_settled: bool = True


def finite_step_usd(budget: Array) -> float:
    """Δ of the finite re-solves: 0.1 % of the total budget, at least US$ 1,000."""
    return max(1e-3 * float(np.sum(budget)), 1e3)


class _Resolver:
    """Re-solves of the MILP with some right-hand sides raised or rows removed (cached by key), each within
    ``time_limit`` seconds.

    A changed programme is given as its right-hand sides (one per row of the model, ``inf`` for a removed row); every
    change here only relaxes the programme. Each solution found so far (the base portfolio and every re-solve's) is
    kept with its right-hand sides, so a re-solve:

    * starts from the best known solution that is feasible for it (its objective is the cutoff row, so the branch
      and bound prunes everything that cannot beat it — it changes no optimum);
    * is not run at all when that solution is proven optimal already: when a programme Q whose right-hand sides are
      all at least as large (Q is a relaxation of this one) was solved to optimality and the known solution reaches
      Q's optimum, no portfolio of this programme can do better (the relaxations of the budget from year Y on are
      nested, so one solve often settles several years);
    * stopped by its time limit gives a lower bound on the gain and is marked as such.
    """

    def __init__(self, model: Model, x: Array, *, time_limit: float, base_optimal: bool = True,
                 optimum_usd: float | None = None) -> None:
        self.model, self.time_limit = model, time_limit
        # the optimum's value, not the chosen portfolio's: the tie rule may choose one up to its tolerance below
        value = float(model.obj @ x) if model.var_p else 0.0
        self.objective = value if optimum_usd is None else max(value, optimum_usd)
        self.base_rhs = np.array([r.rhs for r in model.rows], dtype=float)
        self._a = (np.vstack([r.coeffs for r in model.rows]) if model.var_p and model.rows
                   else np.zeros((len(model.rows), len(model.var_p))))
        self._cache: dict[str, tuple[Array | None, bool]] = {}
        #: (right-hand sides, solution, objective, proven optimal) of every programme solved so far
        self._pool: list[tuple[Array, Array, float, bool]] = [(self.base_rhs, x, self.objective, base_optimal)]
        self.solves = 0

    def relaxed(self, changes: Mapping[int, float]) -> Array:
        """The model's right-hand sides with ``changes`` (row index -> new right-hand side, ``inf`` removes it)."""
        rhs = self.base_rhs.copy()
        for k, v in changes.items():
            rhs[k] = v
        return rhs

    def rows(self, rhs: Array) -> list[Row]:
        """The model's rows with right-hand sides ``rhs`` (a row whose right-hand side is ``inf`` is left out)."""
        return [replace(r, rhs=float(v)) for r, v in zip(self.model.rows, rhs, strict=True) if np.isfinite(v)]

    def _feasible(self, x: Array, rhs: Array) -> bool:
        finite = np.isfinite(rhs)
        lhs = self._a[finite] @ x
        return bool(np.all(lhs <= rhs[finite] + tol(rhs[finite])))

    def solve(self, key: str, rhs: Array, *, inherit_from: str | None = None) -> tuple[Array | None, bool]:
        """(solution or None, proven optimal) of the programme with right-hand sides ``rhs``. ``inherit_from``: the
        key of a relaxation of this programme already re-solved; when its solution is feasible here but was not
        proven optimal (time limit), it is returned as this programme's lower bound without another solve."""
        if key in self._cache:
            return self._cache[key]
        m = self.model
        if not m.var_p:
            self._cache[key] = (np.zeros(0), True)
            return self._cache[key]
        known = [(obj, xs) for r, xs, obj, _ in self._pool if self._feasible(xs, rhs)]
        best_obj, best_x = max(known, key=lambda t: t[0]) if known else (-np.inf, None)
        # an upper bound: the optimum of a relaxation of this programme that was solved to optimality
        bounds = [obj for r, _, obj, proven in self._pool if proven and np.all(r >= rhs)]
        if best_x is not None and bounds and best_obj >= min(bounds) - 1e-9 * max(1.0, abs(min(bounds))):
            self._cache[key] = (best_x, True)
            return self._cache[key]
        if inherit_from is not None and inherit_from in self._cache:
            xi, proven_i = self._cache[inherit_from]
            if xi is not None and not proven_i and self._feasible(xi, rhs):
                self._cache[key] = (xi, False)
                return self._cache[key]
        rows = self.rows(rhs)
        if best_x is not None:
            # a portfolio at least as good as the best known one: a cutoff that prunes without changing the result
            rows.append(Row("objective cutoff", "cutoff", "objective cutoff", -m.obj,
                            -(best_obj - 1e-7 * abs(best_obj) - 1.0), "US$", {}))
        self.solves += 1
        status, x = solve_mip(m, rows, time_limit=self.time_limit)
        proven = status == 0
        if x is None or status not in (0, 1) or (best_x is not None and float(m.obj @ x) < best_obj):
            x = best_x  # the cutoff's solution is the best there is (or the solver stopped without a better one)
        if x is not None:
            self._pool.append((rhs, x, float(m.obj @ x), proven))
        self._cache[key] = (x, proven)
        return self._cache[key]

    def gain(self, key: str, rhs: Array, *, inherit_from: str | None = None) -> tuple[float, bool]:
        """(objective of the changed programme minus the original, 0 when it has no solution or the difference is
        within the tie tolerance, :data:`naef.mdf.ties.TIE_REL`; proven)."""
        x, proven = self.solve(key, rhs, inherit_from=inherit_from)
        if x is None:
            return 0.0, proven
        gain = float(self.model.obj @ x) - self.objective
        # a gain within the tie tolerance is no gain: a portfolio of the same value summed over other columns
        return (gain if gain > self.objective - tie_floor_usd(self.objective) else 0.0), proven


def _status(lp: float, confirmed: float, *, tight: bool, proven: bool = True) -> str:
    if not proven:
        return "lower bound (time limit)" if confirmed > 1e-9 else "unconfirmed (time limit)"
    if confirmed > 1e-9:
        return "confirmed" if lp > 1e-12 else "confirmed (MILP only)"
    if lp > 1e-12:
        return "degenerate"
    return "tight, no value" if tight else "slack"


def _budget_values(model: Model, duals: Array, lhs: Array, years: list[int], budget: Array, rv: _Resolver,
                   step: float) -> tuple[list[BudgetMarginalValue], list[BindingConstraint]]:
    """Per budget year Y: Σ_{y >= Y} λ_y and the finite check of Δ more received in Y; and the binding rows."""
    idx = [k for k, r in enumerate(model.rows) if r.kind == "budget"]
    lam = np.array([duals[k] for k in idx])
    tail = np.cumsum(lam[::-1])[::-1]  # Σ from Y on
    values: list[BudgetMarginalValue] = []
    binding: list[BindingConstraint] = []
    for j, k in enumerate(idx):
        r = model.rows[k]
        slack = r.rhs - float(lhs[k])
        tight = slack <= float(tol(np.array([r.rhs]))[0]) + 1e-6 * max(abs(r.rhs), 1.0) and float(lhs[k]) > 0
        confirmed, proven = 0.0, True
        if tail[j] > 1e-12:
            # every priced year is checked on its own programme (years that share an LP value relax different rows
            # of the MILP); in this order each year's programme is contained in the year before's, so an earlier
            # year's proven optimum often settles a later one without a solve, and when the year before shares the
            # LP value but its re-solve stopped at the time limit, its portfolio (if feasible here) is this year's
            # lower bound without spending another time limit (see _Resolver)
            rhs = rv.relaxed({i: rr.rhs + step for i, rr in enumerate(model.rows)
                              if rr.kind == "budget" and rr.detail["year"] >= years[j]})
            same = j > 0 and abs(tail[j] - tail[j - 1]) <= 1e-12 and tail[j - 1] > 1e-12
            gain, proven = rv.gain(f"budget+{years[j]}", rhs, inherit_from=f"budget+{years[j - 1]}" if same else None)
            confirmed = gain / step
        values.append({"year": years[j], "lp_value_per_usd": float(tail[j]),
                       "confirmed_value_per_usd": float(confirmed), "step_usd": step, "proven": proven,
                       "status": _status(float(tail[j]), float(confirmed), tight=tight, proven=proven)})
        if lam[j] > 1e-12 or tight:
            binding.append({"name": f"budget by {years[j]}", "kind": "budget", "year": years[j],
                            "binding_in_milp": bool(tight), "slack": max(slack, 0.0),
                            "shadow_price": float(lam[j]), "lp_shadow_price": float(lam[j]),
                            "value_of_dollar_received_lp": float(tail[j]),
                            "confirmed_value": float(confirmed), "step": step,
                            "shadow_price_unit": "US$ of ENPV per US$ received in that year",
                            "status": _status(float(tail[j]), float(confirmed), tight=tight, proven=proven)})
    # a dollar received earlier relaxes a superset of rows, so a later year's portfolio is feasible for every earlier
    # year's programme: a later year's value is a lower bound for every earlier year (needed when re-solves stopped
    # at their time limits in a different order)
    best = 0.0
    for v in reversed(values):
        if v["confirmed_value_per_usd"] < best and not v["proven"]:
            v["confirmed_value_per_usd"] = best
            v["status"] = _status(v["lp_value_per_usd"], best, tight=True, proven=False)
        best = max(best, v["confirmed_value_per_usd"])
    by_year = {v["year"]: v for v in values}
    for b in binding:
        v = by_year[b["year"]]
        b["confirmed_value"], b["status"] = v["confirmed_value_per_usd"], v["status"]
    return values, binding


def _policy_binding(model: Model, duals: Array, lhs: Array, rv: _Resolver, step: float,
                    selected_ids: set[str]) -> list[BindingConstraint]:
    """Floors, shares and links: LP price and a finite re-solve (relaxed by Δ US$, or the link removed)."""
    out: list[BindingConstraint] = []
    links: dict[str, list[int]] = {}
    for k, r in enumerate(model.rows):
        if r.kind in ("requires", "excludes"):
            links.setdefault(r.group, []).append(k)
    for k, r in enumerate(model.rows):
        if r.kind not in ("sector_floor", "migrant_share"):
            continue
        slack = r.rhs - float(lhs[k])
        tight = slack <= float(tol(np.array([r.rhs]))[0]) + 1e-6 * max(abs(r.rhs), 1.0)
        if not (tight or duals[k] > 1e-12):
            continue
        if duals[k] > 1e-12 or float(lhs[k]) != 0.0:
            gain, proven = rv.gain(f"relax:{r.name}", rv.relaxed({k: r.rhs + step}))
        else:
            gain, proven = 0.0, True
        confirmed = gain / step
        if not (duals[k] > 1e-12 or confirmed > 1e-9):
            continue  # tight at an empty or balanced portfolio, but worth nothing
        row: BindingConstraint = {
            "name": r.name, "kind": r.kind, "binding_in_milp": bool(tight), "slack": max(slack, 0.0),
            "shadow_price": float(duals[k]), "lp_shadow_price": float(duals[k]),
            "confirmed_value": float(confirmed), "step": step,
            "shadow_price_unit": "US$ of ENPV per US$ of shortfall allowed",
            "status": _status(float(duals[k]), float(confirmed), tight=tight, proven=proven)}
        # the row's own figures, in the model's order (sector, share, amount_usd), where given
        detail = r.detail
        if "sector" in detail:
            row["sector"] = detail["sector"]
        share, amount_usd = detail.get("share"), detail.get("amount_usd")
        if share is not None:
            row["share"] = share
        if amount_usd is not None:
            row["amount_usd"] = amount_usd
        out.append(row)
    for name, ks in links.items():
        r0 = model.rows[ks[0]]
        if not ({r0.detail["id"], r0.detail["other"]} & selected_ids):
            continue
        lp = float(sum(duals[k] for k in ks))
        slack = min(model.rows[k].rhs - float(lhs[k]) for k in ks)
        tight = slack <= 1e-6
        if lp > 1e-12:  # a priced link: is the price real? (links without a price are listed, not re-solved)
            confirmed, proven = rv.gain(f"drop:{name}", rv.relaxed(dict.fromkeys(ks, np.inf)))
        elif tight:
            confirmed, proven = 0.0, True
        else:
            continue
        out.append({"name": name, "kind": r0.kind, "binding_in_milp": bool(tight), "slack": max(slack, 0.0),
                    "shadow_price": lp, "lp_shadow_price": lp, "confirmed_value": float(confirmed), "step": 1.0,
                    "shadow_price_unit": "US$ of ENPV per project",
                    "status": _status(lp, confirmed, tight=tight, proven=proven) if lp > 1e-12
                    else "tight, no price", "id": r0.detail["id"],
                    "other": r0.detail["other"]})
    return out


def _removal_groups(model: Model, rejected: set[int], projects: Sequence[Project]) -> dict[str, list[int]]:
    # ``rejected``: the projects whose reason needs a re-solve
    """Constraint groups whose removal may let a rejected project in: the budget, each floor, the migrant share,
    and each link that touches a rejected project."""
    groups: dict[str, list[int]] = {}
    ids = {projects[i].id for i in rejected}
    for k, r in enumerate(model.rows):
        links_rejected = r.kind in ("requires", "excludes") and bool({r.detail["id"], r.detail["other"]} & ids)
        if r.kind in ("budget", "sector_floor", "migrant_share") or links_rejected:
            groups.setdefault(r.group, []).append(k)
    return groups


def _phrase(group: str, kind: str, p: Project, selected_ids: set[str], model: Model) -> str:
    """How a constraint group that keeps ``p`` out reads in its reason."""
    if kind == "requires":
        r0 = next(r for r in model.rows if r.group == group)
        q = r0.detail["other"]
        if p.id != r0.detail["id"]:  # p is the prerequisite of a dependent, or not in the link at all
            return f"the link '{group}'"
        if q in selected_ids:
            return f"its requirement that {q} be finished before it starts"
        return f"its requirement {q}, which was not chosen"
    if kind == "excludes":
        r0 = next(r for r in model.rows if r.group == group)
        if p.id not in (r0.detail["id"], r0.detail["other"]):  # a link between two other projects
            return f"the link '{group}'"
        other = r0.detail["other"] if r0.detail["id"] == p.id else r0.detail["id"]
        return f"its exclusion with {other}{' (chosen)' if other in selected_ids else ''}"
    return group


def _reason(p: Project, ap: ProjectAppraisal, cols: list[int], model: Model, entered_by: list[str],
            years: list[int], earliest: int, selected_ids: set[str], tied: bool) -> str:
    if not cols:
        if earliest > max(p.start_year_min, years[0]):
            return (f"prerequisites too late: {p.id} can start only after {', '.join(p.requires)} "
                    f"{'is' if len(p.requires) == 1 else 'are'} finished, in {earliest} at the earliest, and would "
                    f"then be paid for until {earliest + p.duration_years - 1}, after the budget's last year "
                    f"{years[-1]}")
        first = max(p.start_year_min, years[0])
        return (f"earliest start too late: starting in {first} it would be paid for until "
                f"{first + p.duration_years - 1}, after the budget's last year {years[-1]}")
    if ap.enpv_at_start_usd <= 0:
        return (f"negative expected NPV: {usd_m(ap.enpv_at_start_usd)} at its start (planned NPV "
                f"{usd_m(ap.planned_npv_at_start_usd)}; expected cost ×{ap.cost_multiplier_mean:.2f}, "
                f"benefits ×{ap.benefit_ratio_mean:.2f} of plan)")
    kinds = {r.group: r.kind for r in model.rows}
    best = max(cols, key=lambda j: float(model.obj[j]))
    per_usd = float(model.obj[best]) / ap.expected_cost_usd
    tail = f"ENPV per dollar {per_usd:.3f} if started in {model.var_s[best]}"
    if tied:
        return (f"tied: a portfolio of the same value (within a hundred-millionth of the optimum's ENPV) includes "
                f"it; the tie rule (the projects in the order of their ids) chose one without it ({tail})")
    if entered_by:
        names = " or ".join(_phrase(g, kinds[g], p, selected_ids, model) for g in entered_by)
        return (f"excluded by {names}: removing {'that constraint' if len(entered_by) == 1 else 'any one of them'} "
                f"alone brings it into the optimal portfolio ({tail})")
    links = [g for g, k in kinds.items() if k in ("requires", "excludes") and any(
        r.group == g and p.id in (r.detail["id"], r.detail["other"]) for r in model.rows)]
    blocking = [g for g in links if (kinds[g] == "excludes" and "(chosen)" in _phrase(g, kinds[g], p, selected_ids,
                                                                                      model))
                or (kinds[g] == "requires" and "not chosen" in _phrase(g, kinds[g], p, selected_ids, model))]
    if blocking:
        names = " and ".join(_phrase(g, kinds[g], p, selected_ids, model) for g in blocking)
        return (f"excluded by {names}; without it other constraints would still keep it out ({tail})")
    return f"crowded out by the constraints together: no single constraint's removal brings it in ({tail})"


def explain(model: Model, x: Array, projects: Sequence[Project], appraisals: Mapping[str, ProjectAppraisal],
            years: list[int], budget: Array, chosen: Mapping[int, int], *, time_limit: float,
            step_usd: float | None = None, base_optimal: bool = True, optimum_usd: float | None = None
            ) -> Explanation:
    # ``time_limit``: seconds for each re-solve
    """The binding constraints with confirmed values, the value of money by year and each rejection's reason.
    ``optimum_usd``: the proven optimum's value, against which rejected projects are checked for ties (None: not
    checked)."""
    _, duals, lp_obj = solve_lp(model)
    a = np.vstack([r.coeffs for r in model.rows]) if model.var_p else np.zeros((len(model.rows), 0))
    lhs = a @ x if model.var_p else np.zeros(len(model.rows))
    rv = _Resolver(model, x, time_limit=time_limit, base_optimal=base_optimal, optimum_usd=optimum_usd)
    settled = True
    step = finite_step_usd(budget) if step_usd is None else float(step_usd)
    selected_ids = {projects[i].id for i in chosen}
    values, binding = _budget_values(model, duals, lhs, years, budget, rv, step)
    binding += _policy_binding(model, duals, lhs, rv, step, selected_ids)
    rejected_idx = {i for i in range(len(projects)) if i not in chosen}
    cols_of: dict[int, list[int]] = {}
    for j, i in enumerate(model.var_p):
        cols_of.setdefault(i, []).append(j)
    needs_test = {i for i in rejected_idx if cols_of.get(i) and appraisals[projects[i].id].enpv_at_start_usd > 0}
    groups = _removal_groups(model, needs_test, projects)
    entered: dict[int, list[str]] = {i: [] for i in needs_test}
    if needs_test:
        for g, ks in groups.items():
            rhs = rv.relaxed(dict.fromkeys(ks, np.inf))
            xg, proven = rv.solve(f"without:{g}", rhs)
            if xg is None:
                continue
            if proven:  # the projects the tie rule chooses without the group (their starts do not matter here)
                # the relaxed programme's optimum: never below the original's (removing rows only relaxes), while the
                # portfolio handed back may be the rule's own, up to a tolerance below it
                optimum_g = max(float(model.obj @ xg), rv.objective)
                tb = break_ties(model, rv.rows(rhs), xg, optimum_usd=optimum_g, time_limit=time_limit, starts=False)
                xg, settled = tb.x, settled and tb.settled
            else:  # the solver's portfolio, not the rule's: which projects enter may differ on another run
                settled = False
            for i in needs_test:
                if any(xg[j] > 0.5 for j in cols_of[i]):
                    entered[i].append(g)
    tied_check = {i: in_a_tied_portfolio(model, model.rows, optimum_usd, i, time_limit=time_limit)
                  for i in sorted(needs_test)} if optimum_usd is not None else {}
    tied = {i for i, t in tied_check.items() if t}
    settled = settled and all(t is not None for t in tied_check.values())
    es = earliest_starts(projects, years)
    rejected: list[RejectedProject] = []
    for i in sorted(rejected_idx):
        p = projects[i]
        reason = _reason(p, appraisals[p.id], cols_of.get(i, []), model, entered.get(i, []), years, es[p.id],
                         selected_ids, i in tied)
        rejected.append({"id": p.id, "name": p.name, "reason": reason, "excluded_by": entered.get(i, []),
                         "tied": i in tied})
    if not base_optimal:  # the values are differences from a portfolio that may not be the optimum
        for item in (*binding, *values):
            item["status"] += "; the base portfolio is not proven optimal"
    return Explanation(binding_constraints=binding, budget_marginal_value=values, rejected=rejected,
                       lp_objective_usd=lp_obj, ties_settled=settled)

