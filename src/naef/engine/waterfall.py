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
   to PEMEX first (they back the securities but are not net revenues of the added production). When the residual
   is trapped, its export-receivable part (the first ``pledged_exports`` dollars of it) is tracked inside the trap
   account (``trap_exports_balance_usd``): later draws on the trap account take the fund's own cash first, and on
   release that part goes back to PEMEX, not to the MDF.

Interest: every tranche bears its coupon on its principal outstanding in every period from issue until it is repaid,
after its scheduled maturity too. Overdue amounts bear default interest (LMA-style, ``triggers.default_interest_margin``
``m`` a year): at the start of each period, interest arrears compound at ``(coupon + m) / ppy`` and overdue
principal (principal arrears, which already bear the coupon as principal outstanding) bears ``m / ppy`` more; both
are added to the interest arrears.

Events of default: an event of default is declared at the end of a period when (a) the most senior class with debt
outstanding (more than 1e-9 of a tranche's size: rounding dust left by a repaid tranche does not count) still has
interest unpaid for more than ``default_grace_periods`` consecutive periods (the pool, the trap account and the DSRA
being exhausted), or (b) any tranche still owes principal or interest at the end of its legal final period. From the
next period the debt is accelerated: every tranche's whole outstanding principal is due, class by class; the DSRA
target is zero (its balance pays the debt) and nothing is distributed while any debt is left. The column
``event_of_default`` is 1 in the periods in which the debt is in default: from the declaration to the period in
which the last debt is repaid (0 afterwards).

Unused proceeds (the construction account's balance when it is released) redeem the notes pro rata to their principal
outstanding, after the period's scheduled payments; they enter the pool (and can reach the MDF) only once every note is
redeemed. With ``trap_sweep``, cash the trap would hold prepays principal instead (mandatory prepayment): the most
senior class with principal outstanding first, pro rata within it, then the next; without it, a held trap balance is
released only after the trap test has passed for ``release_periods`` consecutive periods, and only above the next
``release_keep_periods`` periods of scheduled debt service (in full once no debt is left). Prepayments are principal
paid (column ``prepayment_usd``). The DSRA target is capped at the debt owed. Accounts earn the reinvestment rate on
their opening balances, credited to each account (``reinvestment_income_usd``). CFADS is floored at zero.

The cash identity holds in every period of every path::

    proceeds + collections + pemex_capex_funding + reinvestment_income
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
    "spec_arrays",
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
    "event_of_default",
    "trap_exports_balance_usd",
    "reinvestment_income_usd",
    "prepayment_usd",
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
    default_grace_periods: int = 1
    #: each tranche's legal final period (the period that ends on its legal final date), in payment order; empty:
    #: each tranche's scheduled final period
    legal_final_periods: tuple[int, ...] = ()
    #: default interest: overdue amounts bear the coupon plus this annual margin (``triggers.default_interest_margin``)
    default_interest_margin: float = 0.0
    #: annual rate earned by the accounts (construction, capitalised interest, DSRA, trap) on opening balances
    reinvestment_rate: float = 0.0
    #: cash trapped (lock-up, DSCR trigger, acceleration) prepays the most senior class instead of being held
    trap_sweep: bool = False
    #: without the sweep: consecutive passing periods before a held trap balance is released
    release_periods: int = 1
    #: without the sweep: periods of scheduled debt service kept in the trap account on release
    release_keep_periods: int = 0

    @property
    def legal_finals(self) -> tuple[int, ...]:
        """Each tranche's legal final period (payment order)."""
        return self.legal_final_periods or tuple(t.last_period for t in self.tranches)

    @property
    def n_periods(self) -> int:
        """Number of periods of the grid."""
        return int(self.proceeds_usd.shape[0])


@dataclass
class WaterfallResult:
    """Arrays of one waterfall run: ``path[name]`` (paths, periods), ``tranche[name]`` (tranches, paths, periods)."""

    path: dict[str, Array] = field(default_factory=dict)
    tranche: dict[str, Array] = field(default_factory=dict)


def spec_arrays(spec: WaterfallSpec) -> tuple[object, ...]:
    """The spec as the positional arrays and scalars of the compiled kernel (``naef.engine.kernel``)."""
    trs = spec.tranches
    bounds = np.array([members[0] for members in spec.classes] + [len(trs)], dtype=np.int64)
    events = [spec.construction_release_period, spec.cia_release_period, *(t.issue_period for t in trs)]
    for arr in (spec.proceeds_usd, spec.issuance_costs_usd, spec.initial_dsra_usd, spec.cia_funding_usd,
                *(t.grace for t in trs)):
        nz = np.nonzero(arr)[0]
        if nz.size:
            events.append(int(nz[-1]))
    return (
        np.array([t.issue_period for t in trs], dtype=np.int64),
        np.array([t.size_usd for t in trs], dtype=np.float64),
        np.array([t.rate_per_period for t in trs], dtype=np.float64),
        np.ascontiguousarray(np.array([t.principal_usd for t in trs], dtype=np.float64)),
        np.ascontiguousarray(np.array([t.grace for t in trs], dtype=np.bool_)),
        np.array(spec.legal_finals, dtype=np.int64),
        float(spec.default_interest_margin) / spec.periods_per_year,
        float(spec.reinvestment_rate) / spec.periods_per_year,
        bool(spec.trap_sweep),
        int(spec.release_periods),
        int(spec.release_keep_periods),
        bounds,
        np.asarray(spec.proceeds_usd, dtype=np.float64),
        np.asarray(spec.issuance_costs_usd, dtype=np.float64),
        np.asarray(spec.initial_dsra_usd, dtype=np.float64),
        np.asarray(spec.cia_funding_usd, dtype=np.float64),
        int(spec.construction_release_period),
        int(spec.cia_release_period),
        np.asarray(spec.trustee_fee_usd, dtype=np.float64),
        np.asarray(spec.dsra_target_usd, dtype=np.float64),
        np.asarray(spec.scheduled_ds_usd, dtype=np.float64),
        float(spec.cash_trap_dscr),
        int(spec.lookback_periods),
        int(spec.lockup_until_period),
        int(spec.default_grace_periods),
        max(events),
    )


def run_waterfall(
    spec: WaterfallSpec,
    *,
    collections_usd: Array,
    capex_usd: Array,
    pledged_exports_usd: Array,
) -> WaterfallResult:
    """Run the waterfall on (paths, periods) arrays of collections, capex and pledged export receivables.

    ``collections_usd`` already includes the pledged export receivables; ``pledged_exports_usd`` says how much of
    it they are, so that what the waterfall does not need of them returns to PEMEX. The work is done by the
    compiled kernel (``naef.engine.waterfall_kernel.waterfall_paths``), every column of every path kept.
    """
    from naef.engine.waterfall_kernel import PATH_COL, TRANCHE_COL, waterfall_paths

    n_paths, n = collections_usd.shape
    nt = len(spec.tranches)
    pout = np.zeros((n_paths, len(PATH_COL), n))
    tout = np.zeros((n_paths, len(TRANCHE_COL), nt, n))
    waterfall_paths(
        spec_arrays(spec),
        np.ascontiguousarray(collections_usd, dtype=np.float64),
        np.ascontiguousarray(capex_usd, dtype=np.float64),
        np.ascontiguousarray(pledged_exports_usd, dtype=np.float64),
        pout,
        tout,
    )
    result = WaterfallResult()
    for name, i in PATH_COL.items():
        result.path[name] = pout[:, i, :]
    for name, i in TRANCHE_COL.items():
        result.tranche[name] = tout[:, i].transpose(1, 0, 2)
    return result


def cash_identity_residual(result: WaterfallResult) -> Array:
    """Sources minus uses minus the change in balances, per path and period (zero up to rounding).

    ``proceeds + collections + pemex_capex_funding + reinvestment_income - capex - issuance_costs - fees
    - Σ interest - Σ principal - to_mdf - returned_to_pemex - Δ(construction + cia + dsra + trap balances)``.
    """
    p = result.path
    balances = p["construction_balance_usd"] + p["cia_balance_usd"] + p["dsra_balance_usd"] + p["trap_balance_usd"]
    delta = np.diff(balances, axis=1, prepend=0.0)
    paid = result.tranche["interest_paid_usd"].sum(axis=0) + result.tranche["principal_paid_usd"].sum(axis=0)
    residual: Array = (
        p["proceeds_usd"] + p["collections_usd"] + p["pemex_capex_funding_usd"] + p["reinvestment_income_usd"]
        - p["capex_usd"] - p["issuance_costs_usd"] - p["fees_usd"] - paid
        - p["to_mdf_usd"] - p["returned_to_pemex_usd"] - delta
    )
    return residual
