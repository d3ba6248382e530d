"""The compiled core: the waterfall of one path, and the fused Monte Carlo kernel (production → collections →
waterfall → per-path metrics and per-period histograms) over many paths, compiled with Numba.

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

import numpy as np
from numba import njit, prange

from naef.engine.metrics import N_METRICS_PATH, N_METRICS_TRANCHE

__all__ = ["N_METRICS_PATH", "N_METRICS_TRANCHE", "PATH_COL", "TRANCHE_COL", "waterfall_path"]

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
_NPC = len(PATH_COL)
_NTC = len(TRANCHE_COL)
#: paths whose histogram bins are gathered before they are counted (``monte_carlo_kernel``)
HIST_BATCH = 64


@njit(cache=True, error_model="numpy")
def _take(due: float, available: float) -> float:
    return due if due < available else available


@njit(cache=True, error_model="numpy")
def _settled_period(
    t: int, fee: np.ndarray, sched_ds: np.ndarray, collections: np.ndarray, capex: np.ndarray,
    exports: np.ndarray, pout: np.ndarray, tout: np.ndarray, full: bool,
) -> None:
    """One period with nothing owed or held (``waterfall_path``'s short path; no debt, so not in default)."""
    pool = collections[t]
    fee_paid = _take(fee[t], pool)
    pool -= fee_paid
    to_pemex = _take(exports[t], pool)
    cfads = collections[t] - fee[t] if collections[t] > fee[t] else 0.0
    if full:
        for i in range(pout.shape[0]):
            pout[i, t] = 0.0
        pout[2, t] = capex[t]
        pout[11, t] = sched_ds[t]
        pout[13, t] = fee_paid
        pout[14, t] = fee[t] - fee_paid
        pout[23, t] = to_pemex
    pout[3, t] = capex[t] if capex[t] > 0.0 else 0.0
    pout[9, t] = collections[t]
    pout[10, t] = cfads
    pout[12, t] = cfads / sched_ds[t] if sched_ds[t] > 0 else np.nan
    pout[24, t] = pool - to_pemex
    pout[25, t] = 0.0
    for c in range(tout.shape[0]):
        for j in range(tout.shape[1]):
            tout[c, j, t] = 0.0


@njit(cache=True, error_model="numpy")
def waterfall_path(
    issue_period: np.ndarray, size: np.ndarray, rate: np.ndarray, principal: np.ndarray, grace: np.ndarray,
    legal_final: np.ndarray, default_margin: float, reinvest: float, trap_sweep: bool, release_periods: int,
    keep_periods: int, class_bounds: np.ndarray, proceeds: np.ndarray,
    costs: np.ndarray, init_dsra: np.ndarray, cia_funding: np.ndarray, cons_release_period: int,
    cia_release_period: int, fee: np.ndarray, dsra_target: np.ndarray, sched_ds: np.ndarray, trap_dscr: float,
    lookback: int, lockup: int, default_grace: int, quiet_after: int, collections: np.ndarray, capex: np.ndarray,
    exports: np.ndarray, pout: np.ndarray, tout: np.ndarray, full: bool,
) -> None:
    """Run the waterfall of one path, writing into ``pout`` (columns, periods) and ``tout`` (columns, tranches,
    periods) (see ``PATH_COL`` / ``TRANCHE_COL``): every column when ``full``, otherwise only the path columns the
    Monte Carlo's metrics and histograms read (``gap``, collections, CFADS, DSCR, to the MDF, event of default:
    rows 3, 9, 10, 12, 24, 25) and every tranche column; the arithmetic is the same either way.

    Once nothing is owed or held (no debt, arrears or balances), no proceeds, releases or grace periods remain
    (``t > quiet_after``), the DSRA target is zero and collections cover the trustee fee, a period is computed on
    a short path that gives exactly what the full rules give in that state: fee, then export receivables back
    to PEMEX, the rest to the MDF.
    """
    n = collections.shape[0]
    nt = size.shape[0]
    nc = class_bounds.shape[0] - 1
    cons = 0.0
    cia = 0.0
    dsra = 0.0
    trap = 0.0
    trap_x = 0.0  # the part of the trap account that is PEMEX's export receivables (drawn last, returned to PEMEX)
    fee_arrears = 0.0
    outstanding = np.zeros(nt)
    int_arrears = np.zeros(nt)
    pr_arrears = np.zeros(nt)
    int_paid = np.zeros(nt)
    dues = np.zeros(nt)
    eod = False
    owed_before = False  # debt (above dust) outstanding at the end of the previous period
    pass_run = 0  # consecutive periods in which the cash-trap test has passed (release of a held trap balance)
    short_run = 0
    settled = False
    for t in range(n):
        accelerated = eod
        if settled and t > quiet_after and (accelerated or dsra_target[t] == 0.0) and collections[t] >= fee[t]:
            _settled_period(t, fee, sched_ds, collections, capex, exports, pout, tout, full)
            continue
        for j in range(nt):
            int_paid[j] = 0.0
            if issue_period[j] == t:
                outstanding[j] = size[j]
            # default interest: overdue interest compounds at the coupon plus the margin, overdue principal
            # (already bearing the coupon as principal outstanding) bears the margin on top
            if int_arrears[j] > 0.0 or pr_arrears[j] > 0.0:
                int_arrears[j] += int_arrears[j] * (rate[j] + default_margin) + pr_arrears[j] * default_margin
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
        cons += proceeds[t] - costs[t] - init_dsra[t]
        cons -= cia_funding[t]
        cons -= capex[t]
        gap = -cons if cons < 0 else 0.0
        cons += gap
        release = 0.0
        if t == cons_release_period:
            release = cons
            cons = 0.0
        dsra += init_dsra[t]
        deposit = init_dsra[t]
        cia += cia_funding[t]
        cia_draw = 0.0
        for j in range(nt):
            if grace[j, t]:
                due = outstanding[j] * rate[j]
                paid = _take(due, cia)
                cia -= paid
                cia_draw += paid
                int_paid[j] += paid
                int_arrears[j] += due - paid
        cia_rel = 0.0
        if t == cia_release_period:
            cia_rel = cia
            cia = 0.0
        pool = collections[t] + release + cia_rel
        trap_draw = 0.0
        dsra_draw = 0.0
        fee_due = fee[t] + fee_arrears
        a = _take(fee_due, pool)
        pool -= a
        b = _take(fee_due - a, trap)
        trap -= b
        trap_x = min(trap_x, trap)
        trap_draw += b
        fee_paid = a + b
        fee_arrears = fee_due - fee_paid
        for c in range(nc):
            lo = class_bounds[c]
            hi = class_bounds[c + 1]
            for kind in range(2):
                total = 0.0
                for j in range(lo, hi):
                    if kind == 0:
                        regular = outstanding[j] * rate[j]
                        if grace[j, t]:
                            regular = 0.0
                        dues[j] = regular + int_arrears[j]
                    elif accelerated:
                        dues[j] = outstanding[j]
                    else:
                        dues[j] = min(principal[j, t] + pr_arrears[j], outstanding[j])
                    total += dues[j]
                x = _take(total, pool)
                pool -= x
                y = _take(total - x, trap)
                trap -= y
                trap_x = min(trap_x, trap)
                z = _take(total - x - y, dsra)
                dsra -= z
                trap_draw += y
                dsra_draw += z
                paid_total = x + y + z
                for j in range(lo, hi):
                    if paid_total >= total:
                        share = dues[j]
                    elif total > 0:
                        share = dues[j] * (paid_total / total)
                    else:
                        share = 0.0
                    if kind == 0:
                        int_paid[j] += share
                        int_arrears[j] = dues[j] - share
                    else:
                        tout[_PP, j, t] = share
                        pr_arrears[j] = max(dues[j] - share, 0.0)
                        outstanding[j] -= share
        # unused proceeds, after the period's debt service, redeem the notes pro rata to their principal
        # outstanding (never distributed)
        prepaid = 0.0
        if release > 0.0:
            redeem = release if release < pool else pool
            pool -= redeem
            left = 0.0
            for j in range(nt):
                left += outstanding[j]
            use = redeem if redeem < left else left
            for j in range(nt):
                x = use * (outstanding[j] / left) if left > 0.0 else 0.0
                if x > outstanding[j]:
                    x = outstanding[j]
                outstanding[j] -= x
                if pr_arrears[j] > outstanding[j]:
                    pr_arrears[j] = outstanding[j]
                tout[_PP, j, t] += x
                prepaid += x
            pool += redeem - prepaid  # only once every note is redeemed
            if pool < 0.0:
                pool = 0.0  # rounding dust of the pro-rata split (a few ulps), never a real shortfall
        owed_all = fee_arrears
        for j in range(nt):
            owed_all += outstanding[j] + int_arrears[j]
        target = 0.0 if accelerated else dsra_target[t]
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
        lo_k = max(t - lookback + 1, 0)
        ds_sum = 0.0
        cf_sum = 0.0
        for k in range(lo_k, t + 1):
            if sched_ds[k] > 0:
                ds_sum += sched_ds[k]
                cf_sum += collections[k] - fee[k] if collections[k] > fee[k] else 0.0
        owed = fee_arrears
        for j in range(nt):
            owed += outstanding[j] + int_arrears[j]
        debt_left = owed > 0.0
        trap_test = (ds_sum > 0.0 and cf_sum < trap_dscr * ds_sum) or t < lockup or accelerated
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
                left = 0.0
                for j in range(class_bounds[c], class_bounds[c + 1]):
                    left += outstanding[j]
                if left <= 0.0:
                    continue
                use = own if own < left else left
                for j in range(class_bounds[c], class_bounds[c + 1]):
                    x = use * (outstanding[j] / left)
                    if x > outstanding[j]:
                        x = outstanding[j]
                    outstanding[j] -= x
                    if pr_arrears[j] > outstanding[j]:
                        pr_arrears[j] = outstanding[j]
                    tout[_PP, j, t] += x
                    prepaid += x
                    pool -= x
                    own -= x
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
                for k in range(t + 1, min(t + 1 + keep_periods, n)):
                    keep += sched_ds[k]
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
            for j in range(class_bounds[c], class_bounds[c + 1]):
                # dust (rounding residue of a repaid tranche) is not debt outstanding
                if outstanding[j] > 1e-9 * size[j] or int_arrears[j] > 1e-9 * size[j]:
                    any_debt = True
                if int_arrears[j] > 1e-9 * size[j]:
                    senior_short = True
            if any_debt:
                break
        short_run = short_run + 1 if senior_short else 0
        if short_run > default_grace:
            eod = True
        # any principal or interest still owed at the end of a tranche's legal final period is an event of default
        owed_now = False
        for j in range(nt):
            if outstanding[j] > 1e-9 * size[j] or int_arrears[j] > 1e-9 * size[j]:
                owed_now = True
                if t >= legal_final[j]:
                    eod = True
        in_default = eod and (owed_before or owed_now)
        owed_before = owed_now
        settled = owed == 0.0 and trap == 0.0 and dsra == 0.0 and cia == 0.0 and cons == 0.0
        cfads = collections[t] - fee[t] if collections[t] > fee[t] else 0.0
        # the columns the Monte Carlo reads (per-path metrics and histograms), then the rest when ``full``
        pout[3, t] = gap
        pout[9, t] = collections[t]
        pout[10, t] = cfads
        pout[12, t] = cfads / sched_ds[t] if sched_ds[t] > 0 else np.nan
        pout[24, t] = to_mdf
        pout[25, t] = 1.0 if in_default else 0.0
        if full:
            pout[0, t] = proceeds[t]
            pout[1, t] = costs[t]
            pout[2, t] = capex[t]
            pout[4, t] = release
            pout[5, t] = cons
            pout[6, t] = cia_draw
            pout[7, t] = cia_rel
            pout[8, t] = cia
            pout[11, t] = sched_ds[t]
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
            pout[26, t] = trap_x
            pout[27, t] = income
            pout[28, t] = prepaid
        for j in range(nt):
            tout[_IP, j, t] = int_paid[j]
            tout[_IS, j, t] = int_arrears[j]
            tout[_PS, j, t] = pr_arrears[j]
            tout[_PO, j, t] = outstanding[j]


@njit(cache=True, error_model="numpy")
def waterfall_paths(
    issue_period: np.ndarray, size: np.ndarray, rate: np.ndarray, principal: np.ndarray, grace: np.ndarray,
    legal_final: np.ndarray, default_margin: float, reinvest: float, trap_sweep: bool, release_periods: int,
    keep_periods: int, class_bounds: np.ndarray, proceeds: np.ndarray,
    costs: np.ndarray, init_dsra: np.ndarray, cia_funding: np.ndarray, cons_release_period: int,
    cia_release_period: int, fee: np.ndarray, dsra_target: np.ndarray, sched_ds: np.ndarray, trap_dscr: float,
    lookback: int, lockup: int, default_grace: int, quiet_after: int, collections: np.ndarray, capex: np.ndarray,
    exports: np.ndarray, pout: np.ndarray, tout: np.ndarray,
) -> None:
    """:func:`waterfall_path` on every path: ``pout`` (paths, columns, periods), ``tout`` (paths, columns,
    tranches, periods)."""
    for p in range(collections.shape[0]):
        waterfall_path(issue_period, size, rate, principal, grace, legal_final, default_margin, reinvest,
                       trap_sweep, release_periods, keep_periods, class_bounds,
                       proceeds, costs, init_dsra, cia_funding, cons_release_period, cia_release_period, fee,
                       dsra_target, sched_ds, trap_dscr, lookback, lockup, default_grace, quiet_after, collections[p],
                       capex[p], exports[p], pout[p], tout[p], True)


@njit(cache=True, error_model="numpy")
def _bin(x: float, lo: float, inv_width: float, n_bins: int) -> int:
    """Histogram bin of ``x``: 0 for ``x <= lo`` (and NaN), ``k`` for ``lo + (k-1) w <= x < lo + k w`` (``x > lo``),
    ``n_bins + 1`` from the top of the range up."""
    if not x > lo:
        return 0
    y = (x - lo) * inv_width
    if y >= n_bins:  # also keeps huge values (a DSCR over a tiny debt service) from overflowing int()
        return n_bins + 1
    return int(y) + 1


@njit(cache=True, error_model="numpy")
def tranche_and_path_metrics(
    pout: np.ndarray, tout: np.ndarray, size: np.ndarray, issue_period: np.ndarray, legal_final: np.ndarray,
    tranche_discount: np.ndarray, t_end_years: np.ndarray, t_issue_years: np.ndarray, own_ds: np.ndarray,
    senior_ds: np.ndarray, mdf_discount: np.ndarray, default_grace: int, mt: np.ndarray, mp: np.ndarray,
) -> None:
    """Per-path metrics from one path's buffers into ``mt`` (tranches, N_METRICS_TRANCHE) and ``mp``
    (N_METRICS_PATH,). Each tranche's risk horizon ends at its legal final period ``L``: default is interest
    unpaid beyond the grace, or anything owed at the end of ``L``; loss = 1 - PV at the coupon of what was paid
    up to ``L``, over the size; WAL counts principal paid up to ``L`` and what is unpaid then at ``L``; money paid
    after ``L`` is reported apart (definitions in ``naef.engine.montecarlo``)."""
    n = pout.shape[1]
    nt = size.shape[0]
    for j in range(nt):
        tol = 1e-9 * size[j]
        lf = legal_final[j]
        run = 0
        default_at = -1
        pv = 0.0
        wal_num = 0.0
        wal_den = 0.0
        later = 0.0
        min_dscr = np.inf
        for t in range(n):
            paid = tout[_IP, j, t] + tout[_PP, j, t]
            if t <= lf:
                pv += paid * tranche_discount[j, t]
                wal_num += (t_end_years[t] - t_issue_years[j]) * tout[_PP, j, t]
                wal_den += tout[_PP, j, t]
                if default_at < 0:
                    run = run + 1 if tout[_IS, j, t] > tol else 0
                    if run > default_grace or (t == lf and tout[_PO, j, t] + tout[_IS, j, t] > tol):
                        default_at = t
            else:
                later += paid
            if own_ds[j, t] > 0.0:
                d = pout[10, t] / senior_ds[j, t]
                if d < min_dscr:
                    min_dscr = d
        unpaid_p = tout[_PO, j, lf]
        wal_num += (t_end_years[lf] - t_issue_years[j]) * unpaid_p
        wal_den += unpaid_p
        loss = 1.0 - pv / size[j]
        mt[j, 0] = 1.0 if default_at >= 0 else 0.0
        mt[j, 1] = default_at
        mt[j, 2] = loss if loss > 1e-9 else 0.0
        mt[j, 3] = wal_num / wal_den if wal_den > 0 else np.nan
        mt[j, 4] = min_dscr
        mt[j, 5] = unpaid_p + tout[_IS, j, lf]
        mt[j, 6] = later
    mdf = 0.0
    mdf_pv = 0.0
    eod_at = -1
    min_dscr = np.inf
    coll = 0.0
    gap = 0.0
    for t in range(n):
        mdf += pout[24, t]
        mdf_pv += pout[24, t] * mdf_discount[t]
        coll += pout[9, t]
        gap += pout[3, t]
        if eod_at < 0 and pout[25, t] > 0:
            eod_at = t
        d = pout[12, t]
        if d == d and d < min_dscr:
            min_dscr = d
    mp[0] = mdf
    mp[1] = mdf_pv
    mp[2] = 1.0 if eod_at >= 0 else 0.0
    mp[3] = eod_at
    mp[4] = min_dscr
    mp[5] = coll
    mp[6] = gap


@njit(cache=True, error_model="numpy")
def collections_path(
    bench: np.ndarray, diff: np.ndarray, gas_price: np.ndarray, qi_mult: np.ndarray, res_mult: np.ndarray,
    delay: np.ndarray, capex_mult: np.ndarray, unit_cum: np.ndarray, qi: np.ndarray, reserves: np.ndarray,
    is_oil: np.ndarray, opex_per_unit: np.ndarray, shut_in: np.ndarray, base_capex: np.ndarray, heat: float,
    gas_diff: float,
    oil_rate: float, gas_rate: float, pledged_bbl: np.ndarray, hedge_notional_bbl: np.ndarray,
    put_strike: np.ndarray, call_strike: np.ndarray, hedge_premium: np.ndarray, days: np.ndarray,
    prod_mult: np.ndarray, export_mult: np.ndarray, coll: np.ndarray,
    capex: np.ndarray, exports: np.ndarray, boe_per_day: np.ndarray,
) -> float:
    """One path's collections, capex and pledged export receivables (written into ``coll``, ``capex``,
    ``exports``) and production in barrels of oil equivalent per day (``boe_per_day``: oil barrels plus gas at
    6 Mcf per boe, the SEC's energy-equivalence convention, Regulation S-X 4-10); returns the hedge's payoff net of
    premiums paid from collections.

    Volumes: cumulative production of field ``f`` at the end of period ``t`` is ``min(q_i m_q F_f,d[t], R m_R)``
    where ``F_f,d`` is the Arps cumulative for a unit initial rate when first production is delayed by ``d``
    periods (the Arps cumulative is proportional to ``q_i``), ``m_q``, ``m_R`` the path's multipliers; a period's
    volume is the difference of cumulatives. A field with ``shut_in`` whose unit price (realised oil price, or gas
    price × heat content) less the duty on it is below its opex per unit is shut in for the period (its volume
    is lost; the decline clock runs on). Each field's operating result ``revenue - duties - opex`` counts only
    when positive (a loss stays with PEMEX). Collections are
    ``max(Σ_f max(result_f, 0) + hedge payoff - hedge premium, 0) + pledged export receivables``.
    ``prod_mult`` and ``export_mult`` (periods,) scale the fields' volumes and the pledged receivables: the
    originator's default on this path (``naef.engine.originator``; ones without it).
    """
    n = bench.shape[0]
    nf = qi.shape[0]
    hedge_net = 0.0
    scale = np.empty(nf)
    cap = np.empty(nf)
    prev = np.zeros(nf)
    for f in range(nf):
        scale[f] = qi[f] * qi_mult[f]
        cap[f] = reserves[f] * res_mult[f]
    for t in range(n):
        p_oil = bench[t] + diff[t]
        if p_oil < 0.0:
            p_oil = 0.0
        p_gas = gas_price[t] + gas_diff
        if p_gas < 0.0:
            p_gas = 0.0
        net = 0.0
        cx = 0.0
        boe = 0.0
        for f in range(nf):
            cum1 = scale[f] * unit_cum[f, delay[f], t]
            if cum1 > cap[f]:
                cum1 = cap[f]
            vol = (cum1 - prev[f]) * prod_mult[t]  # the originator's operating continuity after its default
            prev[f] = cum1
            if is_oil[f]:
                unit_price = p_oil
                duty = oil_rate
            else:
                unit_price = heat * p_gas
                duty = gas_rate
            # a field selling below its cash cost (opex and duty per unit) is shut in: the period's volume is lost
            if shut_in[f] and unit_price - duty * unit_price - opex_per_unit[f] < 0.0:
                vol = 0.0
            rev = vol * unit_price
            field_net = rev - duty * rev
            field_net -= vol * opex_per_unit[f]
            if field_net > 0.0:  # a field's operating loss stays with PEMEX, never netted against another's
                net += field_net
            if is_oil[f]:
                boe += vol
            else:
                boe += vol / 6.0
            cx += base_capex[f, t] * capex_mult[f]
        capex[t] = cx
        h = 0.0
        if hedge_notional_bbl[t] > 0.0:
            s = bench[t]
            if put_strike[t] > s:
                h += hedge_notional_bbl[t] * (put_strike[t] - s)
            if s > call_strike[t]:
                h -= hedge_notional_bbl[t] * (s - call_strike[t])
        h -= hedge_premium[t]
        hedge_net += h
        net += h
        ex = pledged_bbl[t] * export_mult[t] * p_oil
        coll[t] = (net if net > 0.0 else 0.0) + ex
        exports[t] = ex
        boe_per_day[t] = boe / days[t]
    return hedge_net


@njit(parallel=True, cache=True, error_model="numpy")
def monte_carlo_kernel(
    bench: np.ndarray, diff: np.ndarray, gas_price: np.ndarray, qi_mult: np.ndarray, res_mult: np.ndarray,
    delay: np.ndarray, capex_mult: np.ndarray, unit_cum: np.ndarray, qi: np.ndarray, reserves: np.ndarray,
    is_oil: np.ndarray, opex_per_unit: np.ndarray, shut_in: np.ndarray, base_capex: np.ndarray, heat: float,
    gas_diff: float,
    oil_rate: float, gas_rate: float, pledged_bbl: np.ndarray, hedge_notional_bbl: np.ndarray,
    put_strike: np.ndarray, call_strike: np.ndarray, hedge_premium: np.ndarray, days: np.ndarray,
    prod_mult: np.ndarray, export_mult: np.ndarray,
    issue_period: np.ndarray, size: np.ndarray, rate: np.ndarray, principal: np.ndarray, grace: np.ndarray,
    legal_final: np.ndarray, default_margin: float, reinvest: float, trap_sweep: bool, release_periods: int,
    keep_periods: int, class_bounds: np.ndarray, proceeds: np.ndarray,
    costs: np.ndarray, init_dsra: np.ndarray, cia_funding: np.ndarray, cons_release_period: int,
    cia_release_period: int, fee: np.ndarray, dsra_target: np.ndarray, sched_ds: np.ndarray, trap_dscr: float,
    lookback: int, lockup: int, default_grace: int, quiet_after: int, tranche_discount: np.ndarray,
    t_end_years: np.ndarray, t_issue_years: np.ndarray, own_ds: np.ndarray, senior_ds: np.ndarray,
    mdf_discount: np.ndarray, hist_lo: np.ndarray, hist_inv_width: np.ndarray, n_bins: int, n_lanes: int,
    metrics_tranche: np.ndarray, metrics_path: np.ndarray, hist: np.ndarray,
) -> None:
    """The whole chain on every path of a chunk. Paths are split into ``n_lanes`` contiguous lanes run in
    parallel, each with its own scratch buffers and its own histogram ``hist[lane]`` (variables: benchmark price,
    collections, DSCR, MDF inflows, production in boe/d; (5, periods, n_bins + 2) counts). Per-path results do not
    depend on the lanes, and histogram counts are integers, so results are identical for any number of lanes or
    chunks."""
    n_paths = bench.shape[0]
    n = bench.shape[1]
    nt = size.shape[0]
    nv = hist.shape[1]
    for lane in prange(n_lanes):
        lo = lane * n_paths // n_lanes
        hi = (lane + 1) * n_paths // n_lanes
        coll = np.empty(n)
        capex = np.empty(n)
        exports = np.empty(n)
        boe = np.empty(n)
        pout = np.empty((_NPC, n))
        tout = np.zeros((_NTC, nt, n))
        # each path's histogram bins, kept for a batch of paths and added period by period (one period's bins of
        # a variable stay in cache while a batch's paths are counted, instead of a random write per path-period)
        bins = np.empty((n, nv, HIST_BATCH), dtype=np.int16)
        b = 0
        for p in range(lo, hi):
            hedge_net = collections_path(
                bench[p], diff[p], gas_price, qi_mult[:, p], res_mult[:, p], delay[:, p], capex_mult[:, p],
                unit_cum, qi, reserves, is_oil, opex_per_unit, shut_in, base_capex, heat, gas_diff, oil_rate,
                gas_rate,
                pledged_bbl, hedge_notional_bbl, put_strike, call_strike, hedge_premium, days, prod_mult[p],
                export_mult[p], coll, capex, exports, boe,
            )
            waterfall_path(issue_period, size, rate, principal, grace, legal_final, default_margin, reinvest,
                           trap_sweep, release_periods, keep_periods, class_bounds,
                           proceeds, costs, init_dsra, cia_funding, cons_release_period, cia_release_period, fee,
                           dsra_target, sched_ds, trap_dscr, lookback, lockup, default_grace, quiet_after, coll, capex,
                           exports, pout, tout, False)
            tranche_and_path_metrics(pout, tout, size, issue_period, legal_final, tranche_discount, t_end_years,
                                     t_issue_years, own_ds, senior_ds, mdf_discount, default_grace,
                                     metrics_tranche[p], metrics_path[p])
            metrics_path[p, 7] = hedge_net
            for t in range(n):
                bins[t, 0, b] = _bin(bench[p, t], hist_lo[0], hist_inv_width[0], n_bins)
                bins[t, 1, b] = _bin(coll[t], hist_lo[1], hist_inv_width[1], n_bins)
                d = pout[12, t]
                bins[t, 2, b] = _bin(d, hist_lo[2], hist_inv_width[2], n_bins) if d == d else -1
                bins[t, 3, b] = _bin(pout[24, t], hist_lo[3], hist_inv_width[3], n_bins)
                bins[t, 4, b] = _bin(boe[t], hist_lo[4], hist_inv_width[4], n_bins)
            b += 1
            if b == HIST_BATCH or p == hi - 1:
                _flush_bins(bins, b, hist[lane])
                b = 0


@njit(cache=True, error_model="numpy")
def _flush_bins(bins: np.ndarray, k: int, hist: np.ndarray) -> None:
    """Add the first ``k`` paths' bins (periods, variables, paths; -1: not counted) into ``hist`` (variables,
    periods, bins)."""
    for t in range(bins.shape[0]):
        for v in range(bins.shape[1]):
            row = hist[v, t]
            for i in range(k):
                x = bins[t, v, i]
                if x >= 0:
                    row[x] += 1
