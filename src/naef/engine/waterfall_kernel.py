"""The compiled waterfall of one path, every column kept (and of many: :func:`waterfall_paths`), compiled with Numba:
the deterministic run, the stress replays and the paths a report tabulates. The Monte Carlo runs the same rules on
many paths at once (``naef.engine.waterfall_lanes``, held to this one bit for bit).

The rules are those of ``naef.engine.waterfall`` (its docstring is the specification); the pure-Python oracle
``naef.engine.reference`` follows the same rules and the same order of arithmetic, and the tests hold the two
together on random scenarios and paths. Nothing here does I/O or allocates per period; arrays are float64.

Events of default (``default_grace_periods``): when the most senior class with debt outstanding still has
interest unpaid at the end of a period (the pool, the trap account and the DSRA being exhausted) for more than
``default_grace_periods`` consecutive periods, an event of default is declared; from the next period the debt is
accelerated (every tranche's whole outstanding principal is due, in order of seniority), the DSRA target is zero
and nothing is distributed while any debt is left.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from naef.engine.kernel_cache import ensure_fresh

__all__ = [
    "N_PATH_COLUMNS",
    "N_TRANCHE_COLUMNS",
    "PATH_COL",
    "SPEC_DEFAULT_GRACE",
    "SPEC_ISSUE_PERIOD",
    "SPEC_LEGAL_FINAL",
    "SPEC_SIZE",
    "TRANCHE_COL",
    "waterfall_path",
    "waterfall_paths",
    "waterfall_setup",
]

#: row index of each per-path column in the kernel's (columns, periods) buffer; order = waterfall.PATH_COLUMNS
PATH_COL = {
    name: i
    for i, name in enumerate((
        "proceeds_usd", "issuance_costs_usd", "capex_usd", "pemex_capex_funding_usd", "construction_release_usd",
        "construction_balance_usd", "cia_draw_usd", "cia_release_usd", "cia_balance_usd", "collections_usd",
        "cfads_usd", "debt_service_due_usd", "dscr", "fees_usd", "fees_shortfall_usd", "dsra_deposit_usd",
        "dsra_draw_usd", "dsra_release_usd", "dsra_balance_usd", "trapped_usd", "trap_draw_usd", "trap_release_usd",
        "trap_balance_usd", "returned_to_pemex_usd", "to_mdf_usd", "event_of_default", "trap_exports_balance_usd",
        "reinvestment_income_usd", "prepayment_usd",
    ))
}
TRANCHE_COL = {
    name: i
    for i, name in enumerate((
        "interest_paid_usd", "principal_paid_usd", "interest_shortfall_usd", "principal_shortfall_usd",
        "principal_outstanding_usd",
    ))
}
_IP, _PP, _IS, _PS, _PO = 0, 1, 2, 3, 4
#: rows of ``waterfall_setup``'s per-period array, per-tranche float and integer arrays, and scratch state
_PROCEEDS, _COSTS, _INIT_DSRA, _CIA_FUNDING, _FEE, _DSRA_TARGET, _SCHED_DS = range(7)
N_PERIOD_ROWS = 7
_SIZE, _RATE, _TOL = range(3)
_ISSUE, _LF = range(2)
_OUT, _IA, _PA, _IPAID, _DUES, _PPAID = range(6)
N_STATE = 6
#: positions in ``naef.engine.waterfall.spec_arrays`` (``waterfall_path``'s arguments) the metrics also read
SPEC_ISSUE_PERIOD, SPEC_SIZE, SPEC_LEGAL_FINAL, SPEC_DEFAULT_GRACE = 0, 1, 5, 24
#: rows of the kernel's per-path and per-tranche buffers
N_PATH_COLUMNS = len(PATH_COL)
N_TRANCHE_COLUMNS = len(TRANCHE_COL)


@njit(cache=True, error_model="numpy")
def _take(due: float, available: float) -> float:
    return due if due < available else available


@njit(cache=True, error_model="numpy")
def _pay_class(
    total: float, pool: float, trap: float, trap_x: float, dsra: float, trap_draw: float, dsra_draw: float,
) -> tuple[float, float, float, float, float, float, float]:
    """A class's dues ``total`` paid from the pool, then the trap account (its export part capped at what is left
    in it), then the DSRA: returns what was paid and the new pool, trap, trap exports, DSRA, trap draws and DSRA
    draws."""
    x = _take(total, pool)
    pool -= x
    y = _take(total - x, trap)
    trap -= y
    trap_x = min(trap_x, trap)
    z = _take(total - x - y, dsra)
    dsra -= z
    return x + y + z, pool, trap, trap_x, dsra, trap_draw + y, dsra_draw + z


@njit(cache=True, error_model="numpy")
def _share(due: float, paid_total: float, total: float) -> float:
    """A tranche's part of what its class was paid: its whole due when the class is paid in full, else pro rata
    to the dues."""
    if paid_total >= total:
        return due
    return due * (paid_total / total) if total > 0 else 0.0


@njit(cache=True, error_model="numpy")
def _settled_periods(
    t0: int, t1: int, per: np.ndarray, collections: np.ndarray, capex: np.ndarray, exports: np.ndarray,
    pout: np.ndarray, tout: np.ndarray,
) -> None:
    """Periods ``t0 .. t1 - 1`` with nothing owed or held (``waterfall_path``'s short path; no debt, so not in
    default): each period's fee, then export receivables back to PEMEX, the rest to the MDF. The short path
    leaves the state as it is, so the periods are independent of one another and each column is written in one
    pass over them (loops without branches or calls, which the compiler vectorises; ``_take`` is written out)."""
    for t in range(t0, t1):
        pool = collections[t]
        due = per[_FEE, t]
        fee_paid = due if due < pool else pool
        pool -= fee_paid
        ex = exports[t]
        to_pemex = ex if ex < pool else pool
        cfads = collections[t] - per[_FEE, t] if collections[t] > per[_FEE, t] else 0.0
        pout[3, t] = capex[t] if capex[t] > 0.0 else 0.0
        pout[9, t] = collections[t]
        pout[10, t] = cfads
        pout[12, t] = cfads / per[_SCHED_DS, t] if per[_SCHED_DS, t] > 0 else np.nan
        pout[24, t] = pool - to_pemex
        pout[25, t] = 0.0
        pout[13, t] = fee_paid
        pout[14, t] = per[_FEE, t] - fee_paid
        pout[23, t] = to_pemex
    for i in (0, 1, 4, 5, 6, 7, 8, 15, 16, 17, 18, 19, 20, 21, 22, 26, 27, 28):
        for t in range(t0, t1):
            pout[i, t] = 0.0
    for t in range(t0, t1):
        pout[2, t] = capex[t]
        pout[11, t] = per[_SCHED_DS, t]
    for c in range(tout.shape[0]):
        for j in range(tout.shape[1]):
            for t in range(t0, t1):
                tout[c, j, t] = 0.0


@njit(cache=True, error_model="numpy")
def _prepay_pro_rata(
    cash: float, lo: int, hi: int, st: np.ndarray, prepaid: float, pool: float, own: float, from_pool: bool,
) -> tuple[float, float, float]:
    """Prepay ``u = min(cash, L)`` of tranches ``lo .. hi - 1``, ``L`` their principal outstanding, pro rata:
    tranche ``j`` repays ``min(u O_j / L, O_j)`` (arrears of principal capped at what is left outstanding), added
    to its principal paid in the period (``st``: ``waterfall_path``'s state rows). Returns ``prepaid`` plus what
    was repaid and, when ``from_pool``, ``pool`` and ``own`` less it (each figure added or taken one tranche at a
    time, in order: the arithmetic of the oracle)."""
    lo_u, hi_u = np.uint64(lo), np.uint64(hi)  # unsigned tranche indices (``waterfall_path``'s docstring)
    left = 0.0
    for j in range(lo_u, hi_u):
        left += st[_OUT, j]
    if left <= 0.0:
        return prepaid, pool, own
    use = cash if cash < left else left
    for j in range(lo_u, hi_u):
        x = use * (st[_OUT, j] / left)
        if x > st[_OUT, j]:
            x = st[_OUT, j]
        st[_OUT, j] -= x
        if st[_PA, j] > st[_OUT, j]:
            st[_PA, j] = st[_OUT, j]
        st[_PPAID, j] += x
        prepaid += x
        if from_pool:
            pool -= x
            own -= x
    return prepaid, pool, own


@njit(cache=True, error_model="numpy")
def waterfall_setup(
    issue_period: np.ndarray, size: np.ndarray, rate: np.ndarray, principal: np.ndarray, grace: np.ndarray,
    legal_final: np.ndarray, default_margin: float, reinvest: float, trap_sweep: bool, release_periods: int,
    keep_periods: int, class_bounds: np.ndarray, proceeds: np.ndarray,
    costs: np.ndarray, init_dsra: np.ndarray, cia_funding: np.ndarray, cons_release_period: int,
    cia_release_period: int, fee: np.ndarray, dsra_target: np.ndarray, sched_ds: np.ndarray, trap_dscr: float,
    lookback: int, lockup: int, default_grace: int, quiet_after: int,
) -> tuple[Any, ...]:
    """``waterfall_path``'s first argument from ``naef.engine.waterfall.spec_arrays`` (its arguments), built once
    per lane of paths: the per-period arrays as the rows of one (``N_PERIOD_ROWS``, periods) array, the
    per-tranche ones as the rows of one float and one integer array (with each tranche's dust tolerance
    ``1e-9 × size``, computed here once instead of on every path), the scalars, and the path's scratch state
    (``N_STATE`` rows by tranche: principal outstanding, interest and principal in arrears, interest paid, dues,
    principal paid), which every path starts afresh. Fewer arrays: fewer pointers, sizes and strides live in
    the period loop and passed (and reference-counted) on each call."""
    n = fee.shape[0]
    nt = size.shape[0]
    per = np.empty((N_PERIOD_ROWS, n))
    for i, row in enumerate((proceeds, costs, init_dsra, cia_funding, fee, dsra_target, sched_ds)):
        for t in range(n):
            per[i, t] = row[t]
    trf = np.empty((3, nt))
    tri = np.empty((2, nt), dtype=np.int64)
    for j in range(nt):
        trf[_SIZE, j] = size[j]
        trf[_RATE, j] = rate[j]
        trf[_TOL, j] = 1e-9 * size[j]  # dust (rounding residue of a repaid tranche) is not debt outstanding
        tri[_ISSUE, j] = issue_period[j]
        tri[_LF, j] = legal_final[j]
    st = np.zeros((N_STATE, nt))
    return (tri, trf, np.ascontiguousarray(principal), np.ascontiguousarray(grace), class_bounds, per, st,
            default_margin, reinvest, trap_sweep, release_periods, keep_periods, cons_release_period,
            cia_release_period, trap_dscr, lookback, lockup, default_grace, quiet_after)


@njit(cache=True, error_model="numpy")
def waterfall_path(
    wf: tuple[Any, ...], collections: np.ndarray, capex: np.ndarray, exports: np.ndarray, pout: np.ndarray,
    tout: np.ndarray,
) -> None:
    """Run the waterfall of one path, writing every column into ``pout`` (columns, periods) and ``tout`` (columns,
    tranches, periods) (see ``PATH_COL`` / ``TRANCHE_COL``). ``wf`` is :func:`waterfall_setup` of the spec (its
    scratch state is overwritten).

    Once nothing is owed or held (no debt, arrears or balances), no proceeds, releases or grace periods remain
    (``t > quiet_after``) and collections cover the trustee fee, a period is computed on a short path that gives
    exactly what the full rules give in that state: fee, then export receivables back to PEMEX, the rest to the
    MDF (given capex that is neither negative nor NaN, as a validated scenario's never is: the short path reports
    a negative capex's funding gap as zero and forgets it, where the full rules and the pure-Python oracle would
    carry it in the construction account). (The DSRA target does not matter there: the rules cap it at the debt
    owed after the period's payments, which is zero, so nothing is deposited or released.) The short path leaves
    the state as it is, so a run of such periods is computed in one pass (``_settled_periods``).

    Loops whose bounds are read from arrays (a class's tranches, the cash-trap look-back and the amount kept back)
    run over unsigned indices (``np.uint64``): Numba wraps a signed index that could be negative (``x[-1]``) with
    a shift, a mask and an add on every access, which the compiler cannot drop when it cannot prove the bound
    non-negative; an unsigned index has no such code (measured: a sixth of the waterfall's instructions).
    """
    (tri, trf, principal, grace, class_bounds, per, st, default_margin, reinvest, trap_sweep, release_periods,
     keep_periods, cons_release_period, cia_release_period, trap_dscr, lookback, lockup, default_grace,
     quiet_after) = wf
    n = collections.shape[0]
    nt = trf.shape[1]
    nc = class_bounds.shape[0] - 1
    cons = 0.0
    cia = 0.0
    dsra = 0.0
    trap = 0.0
    trap_x = 0.0  # the part of the trap account that is PEMEX's export receivables (drawn last, returned to PEMEX)
    fee_arrears = 0.0
    for i in range(N_STATE):
        for j in range(nt):
            st[i, j] = 0.0
    eod = False
    owed_before = False  # debt (above dust) outstanding at the end of the previous period
    pass_run = 0  # consecutive periods in which the cash-trap test has passed (release of a held trap balance)
    short_run = 0
    settled = False
    short_until = 0  # periods before this one were computed on the short path
    for t in range(n):
        if t < short_until:
            continue
        accelerated = eod
        if settled and t > quiet_after and collections[t] >= per[_FEE, t]:
            # the short path leaves the state as it is: so do the following periods until one fails the test
            short_until = t + 1
            while short_until < n and collections[short_until] >= per[_FEE, short_until]:
                short_until += 1
            _settled_periods(t, short_until, per, collections, capex, exports, pout, tout)
            continue
        cfads = collections[t] - per[_FEE, t] if collections[t] > per[_FEE, t] else 0.0
        pout[10, t] = cfads  # read by the cash-trap test's look-back below (and in later periods)
        for j in range(nt):
            st[_IPAID, j] = 0.0
            if tri[_ISSUE, j] == t:
                st[_OUT, j] = trf[_SIZE, j]
            # default interest: overdue interest compounds at the coupon plus the margin, overdue principal
            # (already bearing the coupon as principal outstanding) bears the margin on top
            if st[_IA, j] > 0.0 or st[_PA, j] > 0.0:
                st[_IA, j] += st[_IA, j] * (trf[_RATE, j] + default_margin) + st[_PA, j] * default_margin
        # accounts earn the reinvestment rate on their opening balances (credited to each account)
        income = 0.0
        if reinvest != 0.0:
            i_cons = cons * reinvest
            i_cia = cia * reinvest
            i_dsra = dsra * reinvest
            i_trap = trap * reinvest
            cons += i_cons
            cia += i_cia
            dsra += i_dsra
            trap += i_trap
            income = i_cons + i_cia + i_dsra + i_trap
        cons += per[_PROCEEDS, t] - per[_COSTS, t] - per[_INIT_DSRA, t]
        cons -= per[_CIA_FUNDING, t]
        cons -= capex[t]
        gap = -cons if cons < 0 else 0.0
        cons += gap
        release = 0.0
        if t == cons_release_period:
            release = cons
            cons = 0.0
        dsra += per[_INIT_DSRA, t]
        deposit = per[_INIT_DSRA, t]
        cia += per[_CIA_FUNDING, t]
        cia_draw = 0.0
        for j in range(nt):
            if grace[j, t]:
                due = st[_OUT, j] * trf[_RATE, j]
                paid = _take(due, cia)
                cia -= paid
                cia_draw += paid
                st[_IPAID, j] += paid
                st[_IA, j] += due - paid
        cia_rel = 0.0
        if t == cia_release_period:
            cia_rel = cia
            cia = 0.0
        pool = collections[t] + release + cia_rel
        trap_draw = 0.0
        dsra_draw = 0.0
        fee_due = per[_FEE, t] + fee_arrears
        a = _take(fee_due, pool)
        pool -= a
        b = _take(fee_due - a, trap)
        trap -= b
        trap_x = min(trap_x, trap)
        trap_draw += b
        fee_paid = a + b
        fee_arrears = fee_due - fee_paid
        for c in range(nc):
            lo = np.uint64(class_bounds[c])
            hi = np.uint64(class_bounds[c + 1])
            # interest (the regular coupon, none in grace, plus arrears), then principal (scheduled plus arrears,
            # capped at what is outstanding; all of it once accelerated), each from the pool, the trap account and
            # the DSRA in that order and shared pro rata to the dues when short (``_pay_class``)
            total = 0.0
            for j in range(lo, hi):
                regular = 0.0 if grace[j, t] else st[_OUT, j] * trf[_RATE, j]
                st[_DUES, j] = regular + st[_IA, j]
                total += st[_DUES, j]
            paid_total, pool, trap, trap_x, dsra, trap_draw, dsra_draw = _pay_class(
                total, pool, trap, trap_x, dsra, trap_draw, dsra_draw)
            for j in range(lo, hi):
                share = _share(st[_DUES, j], paid_total, total)
                st[_IPAID, j] += share
                st[_IA, j] = st[_DUES, j] - share
            total = 0.0
            for j in range(lo, hi):
                st[_DUES, j] = (st[_OUT, j] if accelerated
                                else min(principal[j, t] + st[_PA, j], st[_OUT, j]))
                total += st[_DUES, j]
            paid_total, pool, trap, trap_x, dsra, trap_draw, dsra_draw = _pay_class(
                total, pool, trap, trap_x, dsra, trap_draw, dsra_draw)
            for j in range(lo, hi):
                share = _share(st[_DUES, j], paid_total, total)
                st[_PPAID, j] = share
                st[_PA, j] = max(st[_DUES, j] - share, 0.0)
                st[_OUT, j] -= share
        # unused proceeds, after the period's debt service, redeem the notes pro rata to their principal
        # outstanding (never distributed)
        prepaid = 0.0
        if release > 0.0:
            redeem = release if release < pool else pool
            pool -= redeem
            prepaid, _, _ = _prepay_pro_rata(redeem, 0, nt, st, prepaid, 0.0, 0.0, False)
            pool += redeem - prepaid  # only once every note is redeemed
            if pool < 0.0:
                pool = 0.0  # rounding dust of the pro-rata split (a few ulps), never a real shortfall
        owed_all = fee_arrears
        for j in range(nt):
            owed_all += st[_OUT, j] + st[_IA, j]
        target = 0.0 if accelerated else per[_DSRA_TARGET, t]
        if target > owed_all:
            target = owed_all  # a reserve never holds more than the whole debt
        dsra_rel = dsra - target if dsra > target else 0.0
        dsra -= dsra_rel
        pool += dsra_rel
        need = target - dsra if target > dsra else 0.0
        topup = _take(need, pool)
        dsra += topup
        pool -= topup
        deposit += topup
        owed = owed_all  # nothing owed has changed since
        debt_left = owed > 0.0
        # the trap test: the lock-up, an acceleration, or the look-back DSCR (the sums are only needed without
        # the first two)
        trap_test = t < lockup or accelerated
        if not trap_test:
            ds_sum = 0.0
            cf_sum = 0.0
            for k in range(np.uint64(max(t - lookback + 1, 0)), np.uint64(t + 1)):
                if per[_SCHED_DS, k] > 0:
                    ds_sum += per[_SCHED_DS, k]
                    cf_sum += pout[10, k]  # CFADS of period k (this period's written at its start)
            trap_test = ds_sum > 0.0 and cf_sum < trap_dscr * ds_sum
        pass_run = 0 if trap_test else pass_run + 1
        trap_on = debt_left and trap_test
        trapped = 0.0
        trap_rel = 0.0
        rel_x = 0.0
        to_pemex = _take(exports[t], pool)
        if trap_on and trap_sweep:
            # mandatory prepayment with the fund's own cash (the period's unneeded export receivables go back
            # to PEMEX): the most senior class with principal outstanding first, pro rata within it
            own = pool - to_pemex
            for c in range(nc):
                if own <= 0.0:
                    break
                prepaid, pool, own = _prepay_pro_rata(own, class_bounds[c], class_bounds[c + 1], st, prepaid,
                                                      pool, own, True)
            if pool < to_pemex:
                pool = to_pemex  # rounding dust of the pro-rata split (a few ulps): nothing negative to the MDF
        elif trap_on:
            trapped = pool
            trap_x += to_pemex
            to_pemex = 0.0
            pool = 0.0
            trap += trapped
        else:
            if not debt_left:
                trap_rel = trap
            elif pass_run >= release_periods:
                keep = 0.0
                for k in range(np.uint64(t + 1), np.uint64(min(t + 1 + keep_periods, n))):
                    keep += per[_SCHED_DS, k]
                trap_rel = trap - keep if trap > keep else 0.0
            rel_x = trap_x if trap_x < trap_rel else trap_rel
            trap -= trap_rel
            trap_x -= rel_x
        to_mdf = pool - to_pemex + (trap_rel - rel_x)
        to_pemex += rel_x
        # events of default: the most senior class with debt outstanding short of interest
        senior_short = False
        for c in range(nc):
            any_debt = False
            for j in range(np.uint64(class_bounds[c]), np.uint64(class_bounds[c + 1])):
                # dust (rounding residue of a repaid tranche) is not debt outstanding
                if st[_OUT, j] > trf[_TOL, j] or st[_IA, j] > trf[_TOL, j]:
                    any_debt = True
                if st[_IA, j] > trf[_TOL, j]:
                    senior_short = True
            if any_debt:
                break
        short_run = short_run + 1 if senior_short else 0
        if short_run > default_grace:
            eod = True
        # any principal or interest still owed at the end of a tranche's legal final period is an event of default
        owed_now = False
        for j in range(nt):
            if st[_OUT, j] > trf[_TOL, j] or st[_IA, j] > trf[_TOL, j]:
                owed_now = True
                if t >= tri[_LF, j]:
                    eod = True
        in_default = eod and (owed_before or owed_now)
        owed_before = owed_now
        settled = owed == 0.0 and trap == 0.0 and dsra == 0.0 and cia == 0.0 and cons == 0.0
        pout[0, t] = per[_PROCEEDS, t]
        pout[1, t] = per[_COSTS, t]
        pout[2, t] = capex[t]
        pout[3, t] = gap
        pout[4, t] = release
        pout[5, t] = cons
        pout[6, t] = cia_draw
        pout[7, t] = cia_rel
        pout[8, t] = cia
        pout[9, t] = collections[t]
        pout[11, t] = per[_SCHED_DS, t]
        pout[12, t] = cfads / per[_SCHED_DS, t] if per[_SCHED_DS, t] > 0 else np.nan
        pout[13, t] = fee_paid
        pout[14, t] = fee_arrears
        pout[15, t] = deposit
        pout[16, t] = dsra_draw
        pout[17, t] = dsra_rel
        pout[18, t] = dsra
        pout[19, t] = trapped
        pout[20, t] = trap_draw
        pout[21, t] = trap_rel
        pout[22, t] = trap
        pout[23, t] = to_pemex
        pout[24, t] = to_mdf
        pout[25, t] = 1.0 if in_default else 0.0
        pout[26, t] = trap_x
        pout[27, t] = income
        pout[28, t] = prepaid
        for j in range(nt):
            tout[_IP, j, t] = st[_IPAID, j]
            tout[_PP, j, t] = st[_PPAID, j]
            tout[_IS, j, t] = st[_IA, j]
            tout[_PS, j, t] = st[_PA, j]
            tout[_PO, j, t] = st[_OUT, j]


@njit(cache=True, error_model="numpy")
def waterfall_paths(
    spec: tuple[Any, ...], collections: np.ndarray, capex: np.ndarray, exports: np.ndarray, pout: np.ndarray,
    tout: np.ndarray,
) -> None:
    """:func:`waterfall_path` on every path, every column kept: ``spec`` is ``naef.engine.waterfall.spec_arrays``
    (:func:`waterfall_setup`'s arguments), ``pout`` (paths, columns, periods), ``tout`` (paths, columns,
    tranches, periods)."""
    wf = waterfall_setup(*spec)
    for p in range(collections.shape[0]):
        waterfall_path(wf, collections[p], capex[p], exports[p], pout[p], tout[p])


ensure_fresh(waterfall_path)  # nothing cached from other sources than these (naef.engine.kernel_cache)
