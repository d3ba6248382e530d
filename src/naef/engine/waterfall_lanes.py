"""The Monte Carlo's waterfall on ``LANES`` paths at once: the rules and the order of arithmetic of
``naef.engine.waterfall_kernel.waterfall_path`` (its docstring is the specification), each operation applied to
every lane in one loop, so that the compiler runs it in SIMD registers (several paths per instruction) instead
of one path's serial chain of payments at a time.

Why it gives the same bits: every lane goes through the very operations, in the very order, that
``waterfall_path`` applies to its path; a rule that branches on a path's own figures (a class paid short, an
event of default, the cash trap) is computed for every lane and its result kept only where the branch is taken
(a select, ``a if c else b``, never a different sum), while rules that depend only on the period (issue dates,
grace periods, the release periods, the lock-up) stay ordinary branches. The serial kernel's short path for
settled periods (``_settled_periods``) is not taken: on a path that owes and holds nothing the full rules give
exactly its figures; and the per-path metric accumulators take the arithmetic of
:func:`naef.engine.metric_kernels.tranche_period` in every period, as ``tranche_and_path_metrics`` does.
``tests/engine/test_waterfall_lanes.py`` holds the two bit for bit on random scenarios and on crafted paths.

What that rests on, besides the order of arithmetic: inputs a validated scenario gives — finite collections,
capex and receivables (NaN or infinite ones, which the serial short path passes over, give other figures),
capex never negative (the serial short path reports a negative capex's gap as zero and forgets it; the full
rules, here and in the pure-Python oracle, carry it in the construction account), tranche sizes above zero (a
dust tolerance ``1e-9 × size`` not below zero), ``default_grace_periods`` not below zero and finite discount
factors and year fractions (so a quiet period adds ``±0.0`` and starts no default). Two reviewers found the two
apart only on inputs outside those bounds. And state the serial short path leaves as it is need not
match: after a settled run the lanes' count of passing trap tests (``_PASS``) has gone on counting, the serial
one has not, but it only decides the release of a trap account that cannot refill once nothing is owed past the
last proceeds (the only new debt then is fee arrears, which leave no pool to trap).

Layout: every lane quantity is one row of ``LANES`` contiguous float64 values in a flat array (``v[ROW + i]``,
``ROW`` a multiple of ``LANES`` known when compiling, so the rows provably do not overlap and no runtime alias
check is needed); the tranches' state rows are ``ts[(k * nt + j) * LANES + i]`` and the inputs and outputs are
period-major, ``x[t * LANES + i]``. Indices are unsigned (``_u``): the compiler then emits no wrap-around code
for negative indices and loads and stores whole vectors. Flags (an acceleration, a trap) are 1.0/0.0; counters
(periods in a row) are float64, exact far beyond any horizon. Nothing checks the buffers' sizes (Numba does not
check bounds): :func:`lane_scratch` and the periods of ``wf`` size them, and the one caller
(``naef.engine.kernel.monte_carlo_kernel``) allocates them so.

64 lanes because the compiler's loop vectoriser takes loops of that trip count (eight AVX-512 registers, or
sixteen AVX2 ones, a loop); loops of 8 to 32 are unrolled whole first and left scalar (Numba keeps LLVM's SLP
vectoriser off), and 128 lanes measured no faster.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from naef.engine.aligned import empty_aligned
from naef.engine.kernel_cache import ensure_fresh
from naef.engine.metric_kernels import (
    A_DEFAULT_AT,
    A_IS_LF,
    A_LATER,
    A_PO_LF,
    A_PV,
    A_RUN,
    A_WAL_DEN,
    A_WAL_NUM,
    N_ACC,
)
from naef.engine.waterfall_kernel import (  # the serial kernel's rows of waterfall_setup's arrays and its steps
    _CIA_FUNDING,
    _COSTS,
    _DSRA_TARGET,
    _DUES,
    _FEE,
    _IA,
    _INIT_DSRA,
    _IPAID,
    _ISSUE,
    _LF,
    _OUT,
    _PA,
    _PPAID,
    _PROCEEDS,
    _RATE,
    _SCHED_DS,
    _SIZE,
    _TOL,
    N_STATE,
    PATH_COL,
    _share,
    _take,
)

__all__ = ["LANES", "LANE_OUT_ROWS", "N_LANE_OUT", "lane_scratch", "to_lanes", "waterfall_lanes"]

#: paths run side by side (a lane loop: eight AVX-512 registers of eight doubles, or sixteen AVX2 ones of four)
LANES = 64
W = np.uint64(LANES)  # lane loops and row offsets are unsigned (``_u``)
# rows of the lane state ``v``: carried from one period to the next ...
(_CONS, _CIA, _DSRA, _TRAP, _TRAPX, _FEEARR, _EOD, _OWEDB, _PASS, _SHORT,
 # ... and the period's working figures
 _ACCEL, _CF, _GAP, _REL, _POOL, _TOTAL, _PAID, _REDEEM, _LEFT, _USE, _PREPAID, _OWED, _TON, _TOPEMEX, _OWN, _GO,
 _SSHORT, _ANY, _DONE, _OWEDNOW, _ACTIVE, _CFSUM) = tuple(np.uint64(i * LANES) for i in range(32))
N_V = 32
#: rows of the lane outputs (row, period, lane): the funding gap, CFADS, DSCR, MDF inflows, event of default
N_LANE_OUT = 5
_O_GAP, _O_CFADS, _O_DSCR, _O_MDF, _O_EOD = range(5)
#: ``waterfall_path``'s row of each output row, in the order of ``_O_*``
LANE_OUT_ROWS = tuple(PATH_COL[c] for c in ("pemex_capex_funding_usd", "cfads_usd", "dscr", "to_mdf_usd",
                                            "event_of_default"))
assert N_STATE == 6  # the tranches' state rows ``ts`` holds: ``_OUT`` ... ``_PPAID``


@njit(inline="always")
def _u(offset: int) -> Any:
    """``offset`` (never negative) as an unsigned integer: an index ``_u(o) + i`` (``i`` unsigned too) has no
    wrap-around code for negative indices, so a lane loop loads and stores contiguous vectors; with signed
    indices the compiler, unable to rule out a negative one, gathered and scattered lane by lane (170 gathers
    and scatters in the kernel)."""
    return np.uint64(offset)


@njit(inline="always")
def _row(k: int, j: int, nt: int) -> Any:
    """Where tranche ``j``'s state row ``k`` (``_OUT`` ... ``_PPAID``) starts in ``ts``."""
    return _u((k * nt + j) * LANES)


@njit(inline="always")
def _acc_row(j: int, position: int) -> Any:
    """Where tranche ``j``'s accumulator ``position`` starts in the lane accumulators (``A_*`` positions)."""
    return _u((j * N_ACC + position) * LANES)


@njit(cache=True, error_model="numpy")
def lane_scratch(n_tranches: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lane state ``v``, the tranches' state ``ts`` and the metric accumulators ``acc`` (flat, per lane), each
    on a cache-line boundary (``naef.engine.aligned``: a row of 64 lanes is then eight whole cache lines)."""
    return (empty_aligned(N_V * LANES, np.float64), empty_aligned(N_STATE * n_tranches * LANES, np.float64),
            empty_aligned(n_tranches * N_ACC * LANES, np.float64))


@njit(cache=True, error_model="numpy")
def _prepay_lanes(v: np.ndarray, ts: np.ndarray, cash_row: int, lo: int, hi: int, nt: int, from_pool: bool) -> None:
    """``waterfall_kernel._prepay_pro_rata`` on the lanes whose ``_ACTIVE`` flag is set: prepay ``min(cash, L)``
    of tranches ``lo .. hi - 1`` pro rata to their principal outstanding (``L`` its sum), nothing where ``L <= 0``;
    adds what was repaid to ``_PREPAID`` and, when ``from_pool``, takes it from ``_POOL`` and ``_OWN``."""
    for i in range(W):
        v[_LEFT + i] = 0.0
    for j in range(lo, hi):
        o = _row(_OUT, j, nt)
        for i in range(W):
            v[_LEFT + i] += ts[o + i]
    for i in range(W):
        go = v[_ACTIVE + i] != 0.0 and v[_LEFT + i] > 0.0
        v[_GO + i] = 1.0 if go else 0.0
        cash = v[cash_row + i]
        left = v[_LEFT + i]
        v[_USE + i] = cash if cash < left else left
    for j in range(lo, hi):
        o = _row(_OUT, j, nt)
        a = _row(_PA, j, nt)
        pp = _row(_PPAID, j, nt)
        for i in range(W):
            go = v[_GO + i] != 0.0
            out = ts[o + i]
            x = v[_USE + i] * (out / v[_LEFT + i])
            x = out if x > out else x
            out_new = out - x
            ts[o + i] = out_new if go else out
            pa = ts[a + i]
            pa_new = out_new if pa > out_new else pa
            ts[a + i] = pa_new if go else pa
            ts[pp + i] = ts[pp + i] + x if go else ts[pp + i]
            v[_PREPAID + i] = v[_PREPAID + i] + x if go else v[_PREPAID + i]
            if from_pool:
                v[_POOL + i] = v[_POOL + i] - x if go else v[_POOL + i]
                v[_OWN + i] = v[_OWN + i] - x if go else v[_OWN + i]


@njit(cache=True, error_model="numpy")
def _pay_class_lanes(v: np.ndarray) -> None:
    """``waterfall_kernel._pay_class`` on every lane: ``_TOTAL`` paid from the pool, the trap account (its export
    part capped at what is left in it), then the DSRA; what was paid into ``_PAID``."""
    for i in range(W):
        total = v[_TOTAL + i]
        pool = v[_POOL + i]
        x = _take(total, pool)
        pool -= x
        trap = v[_TRAP + i]
        y = _take(total - x, trap)
        trap -= y
        v[_TRAPX + i] = min(v[_TRAPX + i], trap)
        dsra = v[_DSRA + i]
        z = _take(total - x - y, dsra)
        v[_DSRA + i] = dsra - z
        v[_POOL + i] = pool
        v[_TRAP + i] = trap
        v[_PAID + i] = x + y + z


@njit(cache=True, error_model="numpy")
def waterfall_lanes(
    wf: tuple[Any, ...], coll: np.ndarray, capex: np.ndarray, exports: np.ndarray, v: np.ndarray, ts: np.ndarray,
    acc: np.ndarray, out: np.ndarray, tranche_discount: np.ndarray, t_end_years: np.ndarray,
    t_issue_years: np.ndarray,
) -> None:
    """``waterfall_path``'s rules on ``LANES`` paths: ``coll``, ``capex``, ``exports`` are (periods ×
    ``LANES``) period-major; writes ``out`` (``N_LANE_OUT`` rows × periods × ``LANES``: funding gap, CFADS, DSCR,
    MDF inflows, event of default — ``waterfall_path``'s rows 3, 10, 12, 24, 25) and each lane's metric
    accumulators ``acc`` ((tranche × ``N_ACC`` + position) × ``LANES`` + lane); ``v``, ``ts``: scratch
    (:func:`lane_scratch`). ``wf`` is ``waterfall_setup`` of the spec (its scratch state is not used)."""
    (tri, trf, principal, grace, class_bounds, per, _st, default_margin, reinvest, trap_sweep, release_periods,
     keep_periods, cons_release_period, cia_release_period, trap_dscr, lookback, lockup, default_grace,
     _quiet_after) = wf
    n = per.shape[1]
    nt = trf.shape[1]
    nc = class_bounds.shape[0] - 1
    for i in range(v.shape[0]):
        v[i] = 0.0
    for i in range(ts.shape[0]):
        ts[i] = 0.0
    for j in range(nt):
        for k in range(N_ACC):
            for i in range(W):
                acc[_acc_row(j, k) + i] = -1.0 if k == A_DEFAULT_AT else 0.0
    for t in range(n):
        tw = _u(t * LANES)
        fee = per[_FEE, t]
        o_cf = _u((_O_CFADS * n + t) * LANES)
        net_proceeds = per[_PROCEEDS, t] - per[_COSTS, t] - per[_INIT_DSRA, t]
        cia_funding = per[_CIA_FUNDING, t]
        init_dsra = per[_INIT_DSRA, t]
        release_now = t == cons_release_period
        cia_release_now = t == cia_release_period
        for i in range(W):
            v[_ACCEL + i] = v[_EOD + i]
            c = coll[tw + i]
            cf = c - fee if c > fee else 0.0
            v[_CF + i] = cf
            out[o_cf + i] = cf  # read by the cash-trap test's look-back (this period's and later)
            # accounts earn the reinvestment rate on their opening balances (credited to each account)
            cons = v[_CONS + i]
            cia = v[_CIA + i]
            dsra = v[_DSRA + i]
            trap = v[_TRAP + i]
            if reinvest != 0.0:
                cons += cons * reinvest
                cia += cia * reinvest
                dsra += dsra * reinvest
                trap += trap * reinvest
            cons += net_proceeds
            cons -= cia_funding
            cons -= capex[tw + i]
            gap = -cons if cons < 0 else 0.0
            cons += gap
            v[_GAP + i] = gap
            v[_REL + i] = cons if release_now else 0.0
            v[_CONS + i] = 0.0 if release_now else cons
            v[_DSRA + i] = dsra + init_dsra
            v[_CIA + i] = cia + cia_funding
            v[_TRAP + i] = trap
        # each tranche: interest paid starts at zero, issued notes outstanding, default interest on arrears, then
        # the coupon of a tranche in grace from the capitalised interest account
        for j in range(nt):
            o = _row(_OUT, j, nt)
            ia_row = _row(_IA, j, nt)
            pa_row = _row(_PA, j, nt)
            ip_row = _row(_IPAID, j, nt)
            size = trf[_SIZE, j]
            issued = tri[_ISSUE, j] == t
            rate = trf[_RATE, j]
            rm = rate + default_margin
            in_grace = grace[j, t]
            for i in range(W):
                po = size if issued else ts[o + i]
                ts[o + i] = po
                ia = ts[ia_row + i]
                pa = ts[pa_row + i]
                upd = ia + (ia * rm + pa * default_margin)
                ia = upd if (ia > 0.0 or pa > 0.0) else ia
                ip = 0.0
                if in_grace:
                    due = po * rate
                    cia = v[_CIA + i]
                    paid = _take(due, cia)
                    v[_CIA + i] = cia - paid
                    ip += paid
                    ia += due - paid
                ts[ip_row + i] = ip
                ts[ia_row + i] = ia
        for i in range(W):
            cia_rel = v[_CIA + i] if cia_release_now else 0.0
            if cia_release_now:
                v[_CIA + i] = 0.0
            pool = coll[tw + i] + v[_REL + i] + cia_rel
            fee_due = fee + v[_FEEARR + i]
            a = _take(fee_due, pool)
            pool -= a
            trap = v[_TRAP + i]
            b = _take(fee_due - a, trap)
            trap -= b
            v[_TRAPX + i] = min(v[_TRAPX + i], trap)
            v[_TRAP + i] = trap
            v[_POOL + i] = pool
            v[_FEEARR + i] = fee_due - (a + b)
        for c in range(nc):
            lo = class_bounds[c]
            hi = class_bounds[c + 1]
            # interest: the regular coupon (none in grace) plus arrears
            for i in range(W):
                v[_TOTAL + i] = 0.0
            for j in range(lo, hi):
                o = _row(_OUT, j, nt)
                ia_row = _row(_IA, j, nt)
                du = _row(_DUES, j, nt)
                in_grace = grace[j, t]
                rate = trf[_RATE, j]
                for i in range(W):
                    regular = 0.0 if in_grace else ts[o + i] * rate
                    d = regular + ts[ia_row + i]
                    ts[du + i] = d
                    v[_TOTAL + i] += d
            _pay_class_lanes(v)
            for j in range(lo, hi):
                ia_row = _row(_IA, j, nt)
                du = _row(_DUES, j, nt)
                ip_row = _row(_IPAID, j, nt)
                for i in range(W):
                    due = ts[du + i]
                    share = _share(due, v[_PAID + i], v[_TOTAL + i])
                    ts[ip_row + i] += share
                    ts[ia_row + i] = due - share
            # principal: scheduled plus arrears, capped at what is outstanding; all of it once accelerated
            for i in range(W):
                v[_TOTAL + i] = 0.0
            for j in range(lo, hi):
                o = _row(_OUT, j, nt)
                pa_row = _row(_PA, j, nt)
                du = _row(_DUES, j, nt)
                sched = principal[j, t]
                for i in range(W):
                    po = ts[o + i]
                    d = po if v[_ACCEL + i] != 0.0 else min(sched + ts[pa_row + i], po)
                    ts[du + i] = d
                    v[_TOTAL + i] += d
            _pay_class_lanes(v)
            for j in range(lo, hi):
                o = _row(_OUT, j, nt)
                pa_row = _row(_PA, j, nt)
                du = _row(_DUES, j, nt)
                pp = _row(_PPAID, j, nt)
                for i in range(W):
                    due = ts[du + i]
                    share = _share(due, v[_PAID + i], v[_TOTAL + i])
                    ts[pp + i] = share
                    ts[pa_row + i] = max(due - share, 0.0)
                    ts[o + i] -= share
        # unused proceeds, after the period's debt service, redeem the notes pro rata (never distributed)
        if release_now:
            for i in range(W):
                rel = v[_REL + i]
                pool = v[_POOL + i]
                redeem = rel if rel < pool else pool
                v[_REDEEM + i] = redeem
                v[_ACTIVE + i] = 1.0 if rel > 0.0 else 0.0
                v[_PREPAID + i] = 0.0
            _prepay_lanes(v, ts, _REDEEM, 0, nt, nt, False)
            for i in range(W):
                redeem = v[_REDEEM + i]
                pool = v[_POOL + i] - redeem
                pool += redeem - v[_PREPAID + i]
                pool = 0.0 if pool < 0.0 else pool
                v[_POOL + i] = pool if v[_ACTIVE + i] != 0.0 else v[_POOL + i]
        for i in range(W):
            v[_OWED + i] = v[_FEEARR + i]
        for j in range(nt):
            o = _row(_OUT, j, nt)
            ia_row = _row(_IA, j, nt)
            for i in range(W):
                v[_OWED + i] += ts[o + i] + ts[ia_row + i]
        dsra_target = per[_DSRA_TARGET, t]
        for i in range(W):
            owed = v[_OWED + i]
            target = 0.0 if v[_ACCEL + i] != 0.0 else dsra_target
            target = owed if target > owed else target
            dsra = v[_DSRA + i]
            dsra_rel = dsra - target if dsra > target else 0.0
            dsra -= dsra_rel
            pool = v[_POOL + i] + dsra_rel
            need = target - dsra if target > dsra else 0.0
            topup = _take(need, pool)
            v[_DSRA + i] = dsra + topup
            v[_POOL + i] = pool - topup
        # the trap test: the lock-up, an acceleration, or the look-back DSCR
        locked = t < lockup
        ds_sum = 0.0
        if not locked:
            for i in range(W):
                v[_CFSUM + i] = 0.0
            for k in range(np.uint64(max(t - lookback + 1, 0)), np.uint64(t + 1)):
                if per[_SCHED_DS, k] > 0:
                    ds_sum += per[_SCHED_DS, k]
                    kw = _u((_O_CFADS * n + np.int64(k)) * LANES)
                    for i in range(W):
                        v[_CFSUM + i] += out[kw + i]
        ds_bar = trap_dscr * ds_sum
        keep = 0.0
        for k in range(np.uint64(t + 1), np.uint64(min(t + 1 + keep_periods, n))):
            keep += per[_SCHED_DS, k]
        o_mdf = _u((_O_MDF * n + t) * LANES)
        for i in range(W):
            accelerated = v[_ACCEL + i] != 0.0
            test = locked or accelerated or (ds_sum > 0.0 and v[_CFSUM + i] < ds_bar)
            v[_PASS + i] = 0.0 if test else v[_PASS + i] + 1.0
            on = v[_OWED + i] > 0.0 and test
            v[_TON + i] = 1.0 if on else 0.0
            v[_TOPEMEX + i] = _take(exports[tw + i], v[_POOL + i])
        if trap_sweep:
            # mandatory prepayment with the fund's own cash: the most senior class with principal outstanding
            # first, pro rata within it (lanes with the trap on); the rest as below
            for i in range(W):
                v[_OWN + i] = v[_POOL + i] - v[_TOPEMEX + i]
                v[_ACTIVE + i] = v[_TON + i]
                v[_PREPAID + i] = 0.0
            for c in range(nc):
                n_active = 0
                for i in range(W):
                    active = v[_ACTIVE + i] != 0.0 and v[_OWN + i] > 0.0
                    v[_ACTIVE + i] = 1.0 if active else 0.0
                    n_active += active
                if n_active == 0:
                    break  # no lane prepays this class or any after it (a lane left out is left as it is)
                _prepay_lanes(v, ts, _OWN, class_bounds[c], class_bounds[c + 1], nt, True)
            for i in range(W):
                to_pemex = v[_TOPEMEX + i]
                pool = v[_POOL + i]
                swept = to_pemex if pool < to_pemex else pool
                v[_POOL + i] = swept if v[_TON + i] != 0.0 else pool
        else:
            for i in range(W):
                on = v[_TON + i] != 0.0
                pool = v[_POOL + i]
                to_pemex = v[_TOPEMEX + i]
                v[_TRAPX + i] = v[_TRAPX + i] + to_pemex if on else v[_TRAPX + i]
                v[_TOPEMEX + i] = 0.0 if on else to_pemex
                v[_POOL + i] = 0.0 if on else pool
                v[_TRAP + i] = v[_TRAP + i] + pool if on else v[_TRAP + i]
        for i in range(W):
            on = v[_TON + i] != 0.0
            trap = v[_TRAP + i]
            trap_x = v[_TRAPX + i]
            if v[_OWED + i] > 0.0:
                held = trap - keep if trap > keep else 0.0
                trap_rel = held if v[_PASS + i] >= release_periods else 0.0
            else:
                trap_rel = trap
            rel_x = trap_x if trap_x < trap_rel else trap_rel
            trap_rel = 0.0 if on else trap_rel
            rel_x = 0.0 if on else rel_x
            v[_TRAP + i] = trap if on else trap - trap_rel
            v[_TRAPX + i] = trap_x if on else trap_x - rel_x
            out[o_mdf + i] = v[_POOL + i] - v[_TOPEMEX + i] + (trap_rel - rel_x)
        # events of default: the most senior class with debt outstanding short of interest (``_SSHORT``; ``_DONE``:
        # a class before this one had debt), anything owed at the end of a tranche's legal final period; and each
        # tranche's metric accumulators (``metric_kernels.tranche_period``, every period), tranche by tranche
        te = t_end_years[t]
        c = 0
        for j in range(nt):
            while j == class_bounds[c + 1]:  # the class of tranche j (an empty class has none)
                c += 1
            first = j == 0
            class_start = j == class_bounds[c]
            class_end = j == class_bounds[c + 1] - 1
            o = _row(_OUT, j, nt)
            ia_row = _row(_IA, j, nt)
            ip_row = _row(_IPAID, j, nt)
            pp_row = _row(_PPAID, j, nt)
            tol = trf[_TOL, j]
            lf = tri[_LF, j]
            past_final = t >= lf
            a_pv, a_wal_num, a_wal_den = _acc_row(j, A_PV), _acc_row(j, A_WAL_NUM), _acc_row(j, A_WAL_DEN)
            a_later, a_run, a_default_at = _acc_row(j, A_LATER), _acc_row(j, A_RUN), _acc_row(j, A_DEFAULT_AT)
            a_po_lf, a_is_lf = _acc_row(j, A_PO_LF), _acc_row(j, A_IS_LF)
            in_horizon = t <= lf
            at_final = t == lf
            disc = tranche_discount[j, t] if in_horizon else 0.0
            years = te - t_issue_years[j]
            for i in range(W):
                po = ts[o + i]
                ia = ts[ia_row + i]
                pp = ts[pp_row + i]
                debt = po > tol or ia > tol  # dust (rounding residue of a repaid tranche) is not debt outstanding
                done = False if first else v[_DONE + i] != 0.0
                short = (False if first else v[_SSHORT + i] != 0.0) or (not done and ia > tol)
                any_debt = debt or (False if class_start else v[_ANY + i] != 0.0)
                v[_SSHORT + i] = 1.0 if short else 0.0
                v[_ANY + i] = 1.0 if any_debt else 0.0
                v[_DONE + i] = 1.0 if (done or (class_end and any_debt)) else 0.0
                owed_now = debt or (False if first else v[_OWEDNOW + i] != 0.0)
                v[_OWEDNOW + i] = 1.0 if owed_now else 0.0
                v[_EOD + i] = 1.0 if (debt and past_final) else v[_EOD + i]
                if in_horizon:
                    acc[a_pv + i] += (ts[ip_row + i] + pp) * disc
                    acc[a_wal_num + i] += years * pp
                    acc[a_wal_den + i] += pp
                    not_yet = acc[a_default_at + i] < 0
                    run = acc[a_run + i] + 1.0 if ia > tol else 0.0
                    run = run if not_yet else acc[a_run + i]
                    acc[a_run + i] = run
                    starts = not_yet and (run > default_grace or (at_final and po + ia > tol))
                    acc[a_default_at + i] = t if starts else acc[a_default_at + i]
                    if at_final:
                        acc[a_po_lf + i] = po
                        acc[a_is_lf + i] = ia
                else:
                    acc[a_later + i] += ts[ip_row + i] + pp
        sched_ds = per[_SCHED_DS, t]
        o_gap = _u((_O_GAP * n + t) * LANES)
        o_dscr = _u((_O_DSCR * n + t) * LANES)
        o_eod = _u((_O_EOD * n + t) * LANES)
        for i in range(W):
            short = v[_SHORT + i] + 1.0 if v[_SSHORT + i] != 0.0 else 0.0
            v[_SHORT + i] = short
            eod = v[_EOD + i] != 0.0 or short > default_grace
            v[_EOD + i] = 1.0 if eod else 0.0
            owed_now = v[_OWEDNOW + i] != 0.0
            in_default = eod and (v[_OWEDB + i] != 0.0 or owed_now)
            v[_OWEDB + i] = 1.0 if owed_now else 0.0
            out[o_gap + i] = v[_GAP + i]
            out[o_dscr + i] = v[_CF + i] / sched_ds if sched_ds > 0 else np.nan
            out[o_eod + i] = 1.0 if in_default else 0.0


@njit(cache=True, error_model="numpy")
def to_lanes(paths: np.ndarray, lanes: np.ndarray) -> None:
    """``LANES`` paths' rows (``LANES``, periods) period-major into ``lanes`` (periods × ``LANES``), the layout of
    :func:`waterfall_lanes`' inputs: a period at a time, its ``LANES`` values stored as whole vectors (each read
    from its path's row: the ``LANES`` cache lines of eight periods stay in L1 while those periods are read). A
    path at a time wrote each value to another cache line (0.7 µs a path for three inputs); blocks of eight periods
    path by path stored scalars (0.155 µs a path in cache, against 0.056 a period at a time: session 12, Zen 5)."""
    n = paths.shape[1]
    for t in range(n):
        tw = _u(t * LANES)
        for k in range(LANES):
            lanes[tw + _u(k)] = paths[k, t]


ensure_fresh(waterfall_lanes)  # nothing cached from other sources than these (naef.engine.kernel_cache)
