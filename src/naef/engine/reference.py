"""The pure-Python reference of the waterfall: plain loops over paths and periods, floats, no NumPy arithmetic.

It is the oracle the vectorised engine (``naef.engine.waterfall``) is tested against, and ``--engine reference``
runs it. It follows the same rules (see the module docstring of ``naef.engine.waterfall``) written the slow,
obvious way; only the final packing of results into arrays uses NumPy.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from naef.engine.waterfall import PATH_COLUMNS, TRANCHE_COLUMNS, WaterfallResult, WaterfallSpec

__all__ = ["run_waterfall_reference"]


def _take(due: float, available: float) -> float:
    return due if due < available else available


def _ratio(num: float, den: float) -> float:
    if den <= 0:
        return float("nan")
    try:
        return num / den
    except OverflowError:
        return float("inf") if num > 0 else float("-inf")


def _one_path(
    spec: WaterfallSpec, collections: list[float], capex: list[float], exports: list[float]
) -> tuple[dict[str, list[float]], dict[str, list[list[float]]]]:
    n = len(collections)
    trs = spec.tranches
    nt = len(trs)
    rows: dict[str, list[float]] = {name: [0.0] * n for name in PATH_COLUMNS}
    trows: dict[str, list[list[float]]] = {name: [[0.0] * n for _ in range(nt)] for name in TRANCHE_COLUMNS}
    fee = [float(x) for x in spec.trustee_fee_usd]
    sched_ds = [float(x) for x in spec.scheduled_ds_usd]
    cfads = [max(collections[t] - fee[t], 0.0) for t in range(n)]  # never negative
    cons = cia = dsra = trap = fee_arrears = 0.0
    trap_exports = 0.0  # PEMEX's export receivables inside the trap account: drawn last, returned to PEMEX
    outstanding = [0.0] * nt
    int_arrears = [0.0] * nt
    pr_arrears = [0.0] * nt
    legal_final = spec.legal_finals
    margin = spec.default_interest_margin / spec.periods_per_year
    reinvest = spec.reinvestment_rate / spec.periods_per_year
    eod = False
    owed_before = False
    passed = 0  # consecutive periods the trap test has passed
    short_run = 0
    for t in range(n):
        accelerated = eod
        for j in range(nt):
            if trs[j].issue_period == t:
                outstanding[j] = trs[j].size_usd
            # default interest on overdue amounts: interest arrears at coupon + margin, overdue principal at the margin
            if int_arrears[j] > 0.0 or pr_arrears[j] > 0.0:
                int_arrears[j] += int_arrears[j] * (trs[j].rate_per_period + margin) + pr_arrears[j] * margin
        # reinvestment income on each account's opening balance, credited to the account
        income = 0.0
        if reinvest != 0.0:
            earned = [cons * reinvest, cia * reinvest, dsra * reinvest, trap * reinvest]
            cons += earned[0]
            cia += earned[1]
            dsra += earned[2]
            trap += earned[3]
            income = earned[0] + earned[1] + earned[2] + earned[3]
        cons += float(spec.proceeds_usd[t]) - float(spec.issuance_costs_usd[t]) - float(spec.initial_dsra_usd[t])
        cons -= float(spec.cia_funding_usd[t])
        cons -= capex[t]
        gap = -cons if cons < 0 else 0.0
        cons += gap
        release = 0.0
        if t == spec.construction_release_period:
            release, cons = cons, 0.0
        dsra += float(spec.initial_dsra_usd[t])
        deposit = float(spec.initial_dsra_usd[t])
        cia += float(spec.cia_funding_usd[t])
        cia_draw = 0.0
        for j in range(nt):
            if trs[j].grace[t]:
                due = outstanding[j] * trs[j].rate_per_period
                paid = _take(due, cia)
                cia -= paid
                cia_draw += paid
                trows["interest_paid_usd"][j][t] += paid
                int_arrears[j] += due - paid
        cia_rel = 0.0
        if t == spec.cia_release_period:
            cia_rel, cia = cia, 0.0
        pool = collections[t] + release + cia_rel
        trap_draw = dsra_draw = 0.0
        # trustee fees: pool, then trap
        fee_due = fee[t] + fee_arrears
        a = _take(fee_due, pool)
        pool -= a
        b = _take(fee_due - a, trap)
        trap -= b
        trap_exports = min(trap_exports, trap)  # draws take the fund's own cash first
        trap_draw += b
        fee_paid = a + b
        fee_arrears = fee_due - fee_paid
        # class by class: interest, then principal
        for members in spec.classes:
            for kind in ("interest", "principal"):
                dues = []
                for j in members:
                    if kind == "interest":
                        # the coupon runs on principal outstanding until it is repaid, past maturity too
                        regular = 0.0 if trs[j].grace[t] else outstanding[j] * trs[j].rate_per_period
                        dues.append(regular + int_arrears[j])
                    elif accelerated:
                        dues.append(outstanding[j])
                    else:
                        dues.append(min(float(trs[j].principal_usd[t]) + pr_arrears[j], outstanding[j]))
                total = sum(dues)
                x = _take(total, pool)
                pool -= x
                y = _take(total - x, trap)
                trap -= y
                trap_exports = min(trap_exports, trap)
                z = _take(total - x - y, dsra)
                dsra -= z
                trap_draw += y
                dsra_draw += z
                paid_total = x + y + z
                for k, j in enumerate(members):
                    if paid_total >= total:
                        share = dues[k]
                    elif total > 0:
                        share = dues[k] * (paid_total / total)
                    else:
                        share = 0.0
                    if kind == "interest":
                        trows["interest_paid_usd"][j][t] += share
                        int_arrears[j] = dues[k] - share
                    else:
                        trows["principal_paid_usd"][j][t] = share
                        pr_arrears[j] = max(dues[k] - share, 0.0)
                        outstanding[j] -= share
        # unused proceeds left after the period's debt service redeem the notes pro rata to principal outstanding
        prepaid = 0.0
        if release > 0.0:
            redeem = min(release, pool)
            pool -= redeem
            left = sum(outstanding)
            use = min(redeem, left)
            for j in range(nt):
                x = min(use * (outstanding[j] / left), outstanding[j]) if left > 0.0 else 0.0
                outstanding[j] -= x
                pr_arrears[j] = min(pr_arrears[j], outstanding[j])
                trows["principal_paid_usd"][j][t] += x
                prepaid += x
            pool += redeem - prepaid
            pool = max(pool, 0.0)  # rounding dust of the pro-rata split
        # DSRA (never above the debt owed)
        owed_all = fee_arrears
        for j in range(nt):
            owed_all += outstanding[j] + int_arrears[j]
        target = min(0.0 if accelerated else float(spec.dsra_target_usd[t]), owed_all)
        dsra_rel = dsra - target if dsra > target else 0.0
        dsra -= dsra_rel
        pool += dsra_rel
        need = target - dsra if target > dsra else 0.0
        topup = _take(need, pool)
        dsra += topup
        pool -= topup
        deposit += topup
        # cash trap on the lookback DSCR
        lo = max(t - spec.lookback_periods + 1, 0)
        due_periods = [k for k in range(lo, t + 1) if sched_ds[k] > 0]
        ds_sum = sum(sched_ds[k] for k in due_periods)
        cf_sum = sum(cfads[k] for k in due_periods)
        debt_left = sum(outstanding) + sum(int_arrears) + fee_arrears > 0.0
        trap_test = (ds_sum > 0.0 and cf_sum < spec.cash_trap_dscr * ds_sum) or t < spec.lockup_until_period \
            or accelerated
        passed = 0 if trap_test else passed + 1
        trap_on = debt_left and trap_test
        trapped = trap_rel = released_exports = 0.0
        # the residual's first dollars are the period's unneeded export receivables (PEMEX's)
        to_pemex = _take(exports[t], pool)
        if trap_on and spec.trap_sweep:
            # mandatory prepayment with the fund's own cash (unneeded export receivables go back to PEMEX): the
            # most senior class with principal outstanding, pro rata, then the next
            own = pool - to_pemex
            for members in spec.classes:
                left = sum(outstanding[j] for j in members)
                if own <= 0.0 or left <= 0.0:
                    continue
                use = min(own, left)
                for j in members:
                    x = min(use * (outstanding[j] / left), outstanding[j])
                    outstanding[j] -= x
                    pr_arrears[j] = min(pr_arrears[j], outstanding[j])
                    trows["principal_paid_usd"][j][t] += x
                    prepaid += x
                    pool -= x
                    own -= x
            pool = max(pool, to_pemex)  # rounding dust of the pro-rata split: nothing negative to the MDF
        elif trap_on:
            trapped, pool = pool, 0.0
            trap += trapped
            trap_exports += to_pemex
            to_pemex = 0.0
        else:
            if not debt_left:
                trap_rel = trap
            elif passed >= spec.release_periods:
                keep = sum(sched_ds[k] for k in range(t + 1, min(t + 1 + spec.release_keep_periods, n)))
                trap_rel = max(trap - keep, 0.0)
            released_exports = min(trap_exports, trap_rel)  # PEMEX's receivables go back first
            trap -= trap_rel
            trap_exports -= released_exports
        to_mdf = pool - to_pemex + (trap_rel - released_exports)
        to_pemex += released_exports
        # event of default: the most senior class with debt left is short of interest beyond the grace
        dust = [1e-9 * trs[j].size_usd for j in range(nt)]
        senior = next((m for m in spec.classes
                       if any(outstanding[j] > dust[j] or int_arrears[j] > dust[j] for j in m)), ())
        senior_short = any(int_arrears[j] > 1e-9 * trs[j].size_usd for j in senior)
        short_run = short_run + 1 if senior_short else 0
        if short_run > spec.default_grace_periods:
            eod = True
        owing = [j for j in range(nt) if outstanding[j] > dust[j] or int_arrears[j] > dust[j]]
        if any(t >= legal_final[j] for j in owing):
            eod = True  # anything owed after a legal final
        in_default = eod and (owed_before or bool(owing))
        owed_before = bool(owing)
        values = {
            "proceeds_usd": float(spec.proceeds_usd[t]),
            "issuance_costs_usd": float(spec.issuance_costs_usd[t]),
            "capex_usd": capex[t],
            "pemex_capex_funding_usd": gap,
            "construction_release_usd": release,
            "construction_balance_usd": cons,
            "cia_draw_usd": cia_draw,
            "cia_release_usd": cia_rel,
            "cia_balance_usd": cia,
            "collections_usd": collections[t],
            "cfads_usd": cfads[t],
            "debt_service_due_usd": sched_ds[t],
            "dscr": _ratio(cfads[t], sched_ds[t]),
            "fees_usd": fee_paid,
            "fees_shortfall_usd": fee_arrears,
            "dsra_deposit_usd": deposit,
            "dsra_draw_usd": dsra_draw,
            "dsra_release_usd": dsra_rel,
            "dsra_balance_usd": dsra,
            "trapped_usd": trapped,
            "trap_draw_usd": trap_draw,
            "trap_release_usd": trap_rel,
            "trap_balance_usd": trap,
            "returned_to_pemex_usd": to_pemex,
            "to_mdf_usd": to_mdf,
            "event_of_default": 1.0 if in_default else 0.0,
            "trap_exports_balance_usd": trap_exports,
            "reinvestment_income_usd": income,
            "prepayment_usd": prepaid,
        }
        for name, value in values.items():
            rows[name][t] = value
        for j in range(nt):
            trows["interest_shortfall_usd"][j][t] = int_arrears[j]
            trows["principal_shortfall_usd"][j][t] = pr_arrears[j]
            trows["principal_outstanding_usd"][j][t] = outstanding[j]
    return rows, trows


def run_waterfall_reference(
    spec: WaterfallSpec,
    *,
    collections_usd: NDArray[np.float64],
    capex_usd: NDArray[np.float64],
    pledged_exports_usd: NDArray[np.float64],
) -> WaterfallResult:
    """Same contract as :func:`naef.engine.waterfall.run_waterfall`, one path at a time in plain Python."""
    n_paths = collections_usd.shape[0]
    per_path = [
        _one_path(spec, collections_usd[i].tolist(), capex_usd[i].tolist(), pledged_exports_usd[i].tolist())
        for i in range(n_paths)
    ]
    result = WaterfallResult()
    for name in PATH_COLUMNS:
        result.path[name] = np.array([rows[name] for rows, _ in per_path], dtype=np.float64)
    for name in TRANCHE_COLUMNS:
        result.tranche[name] = np.array([trows[name] for _, trows in per_path], dtype=np.float64).transpose(1, 0, 2)
    return result
