"""The NAEF waterfall on all paths at once: arrays shaped (paths, periods), a loop over periods only.

Accounts: the construction account (proceeds in; issuance costs, the initial DSRA, the capitalised-interest
account and capex out; its balance is released into the waterfall after the last issuance or capex period), the
capitalised-interest account (CIA; pays interest during grace periods), the debt-service reserve account (DSRA),
the cash-trap account, and the period's pool of cash.

Order of payments each period (``docs/architecture.md`` and README, "Cash identity"):

1. trustee fees (with any arrears) from the pool, then the trap account;
2. for each seniority class, most senior first: interest, then scheduled principal (with arrears), pro rata
   within the class, paid from the pool, then the trap account, then the DSRA — so a junior class is paid nothing
   while a more senior one is short; whatever is unpaid is carried as a shortfall (arrears), never dropped;
3. the DSRA: any balance above its target is released into the pool, then it is topped up to target from the pool;
4. the cash trap: while debt is outstanding and either the lookback DSCR (CFADS summed over the periods among the
   last ``L`` that had debt service due, over the sum of that debt service) is under ``cash_trap_dscr``, or the
   period is before ``lockup_until_period`` (no distributions before every tranche has made its first scheduled
   principal payment, unless the scenario allows them), the rest of the pool goes to the trap account, where it
   serves later periods' debt service; otherwise the trap account is released and the rest is the residual;
5. the residual goes to the MDF, except that pledged export receivables not needed for the waterfall are returned
   to PEMEX first (they back the securities but are not net revenues of the added production).

The cash identity holds in every period of every path::

    proceeds + collections + pemex_capex_funding
      = capex + issuance_costs + fees_paid + Σ interest_paid + Σ principal_paid + to_mdf + returned_to_pemex
        + Δ(construction + cia + dsra + trap balances)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from naef.engine.schedules import TrancheSchedule

__all__ = [
    "PATH_COLUMNS",
    "TRANCHE_COLUMNS",
    "WaterfallResult",
    "WaterfallSpec",
    "cash_identity_residual",
    "run_waterfall",
]

Array = NDArray[np.float64]

#: per-path columns of a waterfall result, each shaped (paths, periods)
PATH_COLUMNS = (
    "proceeds_usd",
    "issuance_costs_usd",
    "capex_usd",
    "pemex_capex_funding_usd",
    "construction_release_usd",
    "construction_balance_usd",
    "cia_draw_usd",
    "cia_release_usd",
    "cia_balance_usd",
    "collections_usd",
    "cfads_usd",
    "debt_service_due_usd",
    "dscr",
    "fees_usd",
    "fees_shortfall_usd",
    "dsra_deposit_usd",
    "dsra_draw_usd",
    "dsra_release_usd",
    "dsra_balance_usd",
    "trapped_usd",
    "trap_draw_usd",
    "trap_release_usd",
    "trap_balance_usd",
    "returned_to_pemex_usd",
    "to_mdf_usd",
)
#: per-tranche columns, each shaped (tranches, paths, periods)
TRANCHE_COLUMNS = (
    "interest_paid_usd",
    "principal_paid_usd",
    "interest_shortfall_usd",
    "principal_shortfall_usd",
    "principal_outstanding_usd",
)


@dataclass(frozen=True)
class WaterfallSpec:
    """Everything the waterfall needs that does not vary by path (arrays have one entry per period).

    ``tranches`` are in payment order (seniority, then the scenario's order); ``classes`` groups their indices
    by seniority. ``dsra_target_usd[t]`` is the DSRA target at the end of period ``t``; ``scheduled_ds_usd`` is
    the scheduled debt service payable from collections (the DSCR's denominator). While debt is outstanding,
    periods before ``lockup_until_period`` trap their residual.
    """

    periods_per_year: int
    tranches: tuple[TrancheSchedule, ...]
    classes: tuple[tuple[int, ...], ...]
    proceeds_usd: Array
    issuance_costs_usd: Array
    initial_dsra_usd: Array
    cia_funding_usd: Array
    construction_release_period: int
    cia_release_period: int
    trustee_fee_usd: Array
    dsra_target_usd: Array
    scheduled_ds_usd: Array
    cash_trap_dscr: float
    lookback_periods: int
    lockup_until_period: int = 0

    @property
    def n_periods(self) -> int:
        """Number of periods of the grid."""
        return int(self.proceeds_usd.shape[0])


@dataclass
class WaterfallResult:
    """Arrays of one waterfall run: ``path[name]`` (paths, periods), ``tranche[name]`` (tranches, paths, periods)."""

    path: dict[str, Array] = field(default_factory=dict)
    tranche: dict[str, Array] = field(default_factory=dict)


def _pay(due: Array, sources: list[Array]) -> tuple[Array, list[Array]]:
    """Pay ``due`` from ``sources`` in order; returns the amount paid and what each source gave.

    The arithmetic (remaining = due - x - y ..., paid = x + y + ...) is done in the same order as the reference.
    """
    remaining = due
    taken = []
    for src in sources:
        take = np.minimum(remaining, src)
        remaining = remaining - take
        taken.append(take)
    paid = taken[0]
    for take in taken[1:]:
        paid = paid + take
    return paid, taken


def run_waterfall(
    spec: WaterfallSpec,
    *,
    collections_usd: Array,
    capex_usd: Array,
    pledged_exports_usd: Array,
) -> WaterfallResult:
    """Run the waterfall on (paths, periods) arrays of collections, capex and pledged export receivables.

    ``collections_usd`` already includes the pledged export receivables; ``pledged_exports_usd`` says how much of
    it they are, so that what the waterfall does not need of them returns to PEMEX.
    """
    n_paths, n = collections_usd.shape
    nt = len(spec.tranches)
    out = {name: np.zeros((n_paths, n)) for name in PATH_COLUMNS}
    tr = {name: np.zeros((nt, n_paths, n)) for name in TRANCHE_COLUMNS}
    zeros = np.zeros(n_paths)
    cons, cia, dsra, trap = zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy()
    fee_arrears = zeros.copy()
    outstanding = np.zeros((nt, n_paths))
    int_arrears = np.zeros((nt, n_paths))
    pr_arrears = np.zeros((nt, n_paths))
    sizes = np.array([t.size_usd for t in spec.tranches])
    rates = np.array([t.rate_per_period for t in spec.tranches])
    cfads = collections_usd - spec.trustee_fee_usd[None, :]
    sched_ds = spec.scheduled_ds_usd
    look = spec.lookback_periods

    for t in range(n):
        # construction account
        for j, sch in enumerate(spec.tranches):
            if sch.issue_period == t:
                outstanding[j] = sizes[j]
        cons = cons + (spec.proceeds_usd[t] - spec.issuance_costs_usd[t] - spec.initial_dsra_usd[t]
                       - spec.cia_funding_usd[t]) - capex_usd[:, t]
        gap = np.maximum(-cons, 0.0)
        cons = cons + gap
        release = cons.copy() if t == spec.construction_release_period else zeros
        cons = cons - release
        dsra = dsra + spec.initial_dsra_usd[t]
        deposit = np.full(n_paths, spec.initial_dsra_usd[t])
        cia = cia + spec.cia_funding_usd[t]
        # grace-period interest from the capitalised-interest account
        cia_draw = zeros.copy()
        for j, sch in enumerate(spec.tranches):
            if sch.grace[t]:
                due = outstanding[j] * rates[j]
                paid = np.minimum(due, cia)
                cia = cia - paid
                cia_draw = cia_draw + paid
                tr["interest_paid_usd"][j, :, t] = paid
                int_arrears[j] = int_arrears[j] + (due - paid)
        cia_rel = cia.copy() if t == spec.cia_release_period else zeros
        cia = cia - cia_rel
        pool = collections_usd[:, t] + release + cia_rel
        trap_draw = zeros.copy()
        dsra_draw = zeros.copy()
        # 1. trustee fees
        fee_due = spec.trustee_fee_usd[t] + fee_arrears
        fee_paid, (p_take, t_take) = _pay(fee_due, [pool, trap])
        pool, trap, trap_draw = pool - p_take, trap - t_take, trap_draw + t_take
        fee_arrears = fee_due - fee_paid
        # 2. interest then principal, class by class
        for members in spec.classes:
            idx = list(members)
            for kind in ("interest", "principal"):
                if kind == "interest":
                    active = np.array([spec.tranches[j].active[t] and not spec.tranches[j].grace[t] for j in idx])
                    due_j = np.where(active[:, None], outstanding[idx] * rates[idx, None], 0.0) + int_arrears[idx]
                else:
                    sched = np.array([spec.tranches[j].principal_usd[t] for j in idx])
                    due_j = np.minimum(sched[:, None] + pr_arrears[idx], outstanding[idx])
                due = due_j.sum(axis=0)
                paid, (p_take, t_take, d_take) = _pay(due, [pool, trap, dsra])
                pool, trap, dsra = pool - p_take, trap - t_take, dsra - d_take
                trap_draw, dsra_draw = trap_draw + t_take, dsra_draw + d_take
                share = np.divide(paid, due, out=np.zeros_like(due), where=due > 0)
                # a class paid in full gets exactly what it was due (no rounding residue left outstanding)
                paid_j = np.where((paid >= due)[None, :], due_j, due_j * share[None, :])
                if kind == "interest":
                    tr["interest_paid_usd"][idx, :, t] += paid_j
                    int_arrears[idx] = due_j - paid_j
                else:
                    tr["principal_paid_usd"][idx, :, t] = paid_j
                    sched_now = np.array([spec.tranches[j].principal_usd[t] for j in idx])[:, None]
                    pr_arrears[idx] = np.maximum(np.minimum(sched_now + pr_arrears[idx], outstanding[idx]) - paid_j,
                                                 0.0)
                    outstanding[idx] = outstanding[idx] - paid_j
        # 3. DSRA release and top-up
        target = spec.dsra_target_usd[t]
        dsra_rel = np.maximum(dsra - target, 0.0)
        dsra, pool = dsra - dsra_rel, pool + dsra_rel
        topup = np.minimum(pool, np.maximum(target - dsra, 0.0))
        dsra, pool = dsra + topup, pool - topup
        deposit = deposit + topup
        # 4. cash trap on the lookback DSCR
        # window sums added in period order (as the reference does), not as differences of running sums,
        # which cancel catastrophically when a tiny amount sits beside a large one
        ds_sum = 0.0
        cf_sum = np.zeros(n_paths)
        for k in range(max(t - look + 1, 0), t + 1):
            if sched_ds[k] > 0:
                ds_sum += float(sched_ds[k])
                cf_sum = cf_sum + cfads[:, k]
        debt_left = (outstanding.sum(axis=0) + int_arrears.sum(axis=0) + fee_arrears) > 0.0
        trap_on = debt_left & (((ds_sum > 0.0) & (cf_sum < spec.cash_trap_dscr * ds_sum))
                               | (t < spec.lockup_until_period))
        trapped = np.where(trap_on, pool, 0.0)
        trap_rel = np.where(trap_on, 0.0, trap)
        residual = pool - trapped
        trap = trap + trapped - trap_rel
        # 5. residual: unneeded export receivables back to PEMEX, the rest to the MDF
        to_pemex = np.minimum(residual, pledged_exports_usd[:, t])
        to_mdf = residual - to_pemex + trap_rel

        o = out
        o["proceeds_usd"][:, t] = spec.proceeds_usd[t]
        o["issuance_costs_usd"][:, t] = spec.issuance_costs_usd[t]
        o["capex_usd"][:, t] = capex_usd[:, t]
        o["pemex_capex_funding_usd"][:, t] = gap
        o["construction_release_usd"][:, t] = release
        o["construction_balance_usd"][:, t] = cons
        o["cia_draw_usd"][:, t] = cia_draw
        o["cia_release_usd"][:, t] = cia_rel
        o["cia_balance_usd"][:, t] = cia
        o["collections_usd"][:, t] = collections_usd[:, t]
        o["cfads_usd"][:, t] = cfads[:, t]
        o["debt_service_due_usd"][:, t] = sched_ds[t]
        with np.errstate(over="ignore"):
            o["dscr"][:, t] = cfads[:, t] / sched_ds[t] if sched_ds[t] > 0 else np.nan
        o["fees_usd"][:, t] = fee_paid
        o["fees_shortfall_usd"][:, t] = fee_arrears
        o["dsra_deposit_usd"][:, t] = deposit
        o["dsra_draw_usd"][:, t] = dsra_draw
        o["dsra_release_usd"][:, t] = dsra_rel
        o["dsra_balance_usd"][:, t] = dsra
        o["trapped_usd"][:, t] = trapped
        o["trap_draw_usd"][:, t] = trap_draw
        o["trap_release_usd"][:, t] = trap_rel
        o["trap_balance_usd"][:, t] = trap
        o["returned_to_pemex_usd"][:, t] = to_pemex
        o["to_mdf_usd"][:, t] = to_mdf
        tr["interest_shortfall_usd"][:, :, t] = int_arrears
        tr["principal_shortfall_usd"][:, :, t] = pr_arrears
        tr["principal_outstanding_usd"][:, :, t] = outstanding
    return WaterfallResult(path=out, tranche=tr)


def cash_identity_residual(result: WaterfallResult) -> Array:
    """Sources minus uses minus the change in balances, per path and period (zero up to rounding).

    ``proceeds + collections + pemex_capex_funding - capex - issuance_costs - fees - Σ interest - Σ principal
    - to_mdf - returned_to_pemex - Δ(construction + cia + dsra + trap balances)``.
    """
    p = result.path
    balances = p["construction_balance_usd"] + p["cia_balance_usd"] + p["dsra_balance_usd"] + p["trap_balance_usd"]
    delta = np.diff(balances, axis=1, prepend=0.0)
    paid = result.tranche["interest_paid_usd"].sum(axis=0) + result.tranche["principal_paid_usd"].sum(axis=0)
    residual: Array = (
        p["proceeds_usd"] + p["collections_usd"] + p["pemex_capex_funding_usd"]
        - p["capex_usd"] - p["issuance_costs_usd"] - p["fees_usd"] - paid
        - p["to_mdf_usd"] - p["returned_to_pemex_usd"] - delta
    )
    return residual
