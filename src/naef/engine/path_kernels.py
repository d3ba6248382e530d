"""The compiled per-path steps around the waterfall (Numba): one path's collections from its prices and field
multipliers (:func:`collections_path`), one path's metrics from the waterfall's buffers
(:func:`tranche_and_path_metrics`, through :func:`metrics_from_accumulators`: the deterministic run, the stress
replays, the reference the Monte Carlo is held to), a path's metrics row (:func:`path_row`) and a value's
histogram bin (:func:`bin_of`). The fused kernel (``naef.engine.kernel``) runs the collections on every path and
takes the metrics in the waterfall's lanes (``naef.engine.metric_lanes``, the same arithmetic on many paths at
once); ``monte_carlo_collections`` and the stress replays call the steps directly, so every caller shares one
arithmetic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from naef.engine.kernel_cache import ensure_fresh
from naef.engine.metric_kernels import N_ACC, start_tranches, tranche_finish, tranche_period
from naef.engine.waterfall_kernel import TRANCHE_COL

__all__ = ["bin_of", "collections_path", "debt_service_span", "metrics_from_accumulators", "originator_rows",
           "path_row", "tranche_and_path_metrics"]

_IP, _PP, _IS, _PO = (TRANCHE_COL[k] for k in ("interest_paid_usd", "principal_paid_usd", "interest_shortfall_usd",
                                               "principal_outstanding_usd"))


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
    after ``L`` is reported apart (definitions in ``naef.engine.montecarlo``). The steps are those the Monte
    Carlo's waterfall takes period by period (``naef.engine.metric_kernels``)."""
    n = pout.shape[1]
    nt = size.shape[0]
    acc = np.empty((nt, N_ACC))
    start_tranches(acc)
    for j in range(nt):
        tol = 1e-9 * size[j]
        for t in range(n):
            tranche_period(acc, j, t, tout[_IP, j, t], tout[_PP, j, t], tout[_IS, j, t], tout[_PO, j, t],
                           legal_final[j], tranche_discount[j, t], t_end_years[t], t_issue_years[j], tol,
                           default_grace)
    metrics_from_accumulators(acc, pout, size, legal_final, t_end_years, t_issue_years, own_ds, senior_ds,
                              debt_service_span(own_ds), mdf_discount, mt, mp, np.empty((nt, n)))


@njit(cache=True, error_model="numpy")
def debt_service_span(own_ds: np.ndarray) -> np.ndarray:
    """Each tranche's first period with debt service of its own (``own_ds > 0``) and one past its last, as
    (tranches, 2) integers (``(n, n)``, an empty span, when it has none): path-independent, found once for
    :func:`metrics_from_accumulators` and ``metric_lanes.path_metrics_lanes`` (periods outside it hold no debt
    service of the tranche)."""
    nt, n = own_ds.shape
    span = np.zeros((nt, 2), dtype=np.int64)
    for j in range(nt):
        lo = 0
        while lo < n and not own_ds[j, lo] > 0.0:
            lo += 1
        hi = n
        while hi > lo and not own_ds[j, hi - 1] > 0.0:
            hi -= 1
        span[j, 0] = lo
        span[j, 1] = hi
    return span


@njit(cache=True, error_model="numpy", inline="always")
def _min_of_four_lanes(x: np.ndarray, row: int, lo: int, hi: int) -> float:
    """``m = x[row, t] if x[row, t] < m else m`` from ``m = inf`` over ``t`` in ``lo .. hi - 1``, on four
    independent lanes (periods ``t ≡ lo + k (mod 4)``) merged at the end: a NaN is never taken, and the value
    returned equals the serial one (the minimum of the values that are not NaN, or inf), since the minimum of a
    set does not depend on the order. Its bits are the same too unless it is zero (only ``+0.0`` and ``-0.0``
    compare equal with different bits, and which of them the serial loop keeps depends on the order): callers
    recompute a zero serially. The lanes have no dependency on each other, so the compiler keeps them in one
    vector register instead of one chain of compare-and-select per period. (Inlined, and indexed by row rather
    than given a row view: a view passed to a function costs a reference count update per call.)"""
    m0 = np.inf
    m1 = np.inf
    m2 = np.inf
    m3 = np.inf
    end4 = np.uint64(hi - (hi - lo) % 4)
    for t in range(np.uint64(lo), end4, np.uint64(4)):
        d0 = x[row, t]
        d1 = x[row, t + 1]
        d2 = x[row, t + 2]
        d3 = x[row, t + 3]
        m0 = d0 if d0 < m0 else m0
        m1 = d1 if d1 < m1 else m1
        m2 = d2 if d2 < m2 else m2
        m3 = d3 if d3 < m3 else m3
    for t in range(end4, np.uint64(hi)):
        d0 = x[row, t]
        m0 = d0 if d0 < m0 else m0
    m01 = m1 if m1 < m0 else m0
    m23 = m3 if m3 < m2 else m2
    return m23 if m23 < m01 else m01


@njit(cache=True, error_model="numpy")
def metrics_from_accumulators(
    acc: np.ndarray, pout: np.ndarray, size: np.ndarray, legal_final: np.ndarray, t_end_years: np.ndarray,
    t_issue_years: np.ndarray, own_ds: np.ndarray, senior_ds: np.ndarray, ds_span: np.ndarray,
    mdf_discount: np.ndarray, mt: np.ndarray, mp: np.ndarray, q: np.ndarray,
) -> None:
    """The per-path metrics once every period of every tranche is in ``acc`` (``naef.engine.metric_kernels``):
    each tranche's row, with its minimum DSCR (CFADS over the debt service of it and the classes senior to it, in
    the periods it has debt service of its own; ``ds_span`` is :func:`debt_service_span` of ``own_ds``), and the
    path's: MDF inflows and their PV, event of default and its period, minimum DSCR, collections and the funding
    gap, each summed over periods in increasing order.

    The minima (a tranche's DSCR, the path's DSCR skipping periods without debt service, NaN) are those of the
    period-by-period loop bit for bit (:func:`_min_of_four_lanes`, a zero recomputed period by period); a
    tranche's quotients are computed first for every period of its span into a scratch row (a loop the compiler
    vectorises; a period without debt service of its own gets inf, which never updates a minimum), and the four
    sums keep each its own order of addition (they are only computed side by side in one loop). ``q`` is that
    scratch, (tranches, periods) or larger, overwritten."""
    n = pout.shape[1]
    nt = size.shape[0]
    for j in range(nt):
        lo = ds_span[j, 0]
        hi = ds_span[j, 1]
        for t in range(np.uint64(lo), np.uint64(hi)):
            q[j, t] = pout[10, t] / senior_ds[j, t] if own_ds[j, t] > 0.0 else np.inf
        min_dscr = _min_of_four_lanes(q, j, lo, hi)
        if min_dscr == 0.0:  # +0.0 or -0.0: the first of them in period order, as the serial loop keeps it
            min_dscr = np.inf
            for t in range(np.uint64(lo), np.uint64(hi)):
                if own_ds[j, t] > 0.0:
                    d = pout[10, t] / senior_ds[j, t]
                    if d < min_dscr:
                        min_dscr = d
        lf = legal_final[j]
        tranche_finish(acc[j], size[j], t_end_years[lf] - t_issue_years[j], min_dscr, mt[j])
    mdf = 0.0
    mdf_pv = 0.0
    coll = 0.0
    gap = 0.0
    for t in range(n):
        mdf += pout[24, t]
        mdf_pv += pout[24, t] * mdf_discount[t]
        coll += pout[9, t]
        gap += pout[3, t]
    eod_at = -1
    for t in range(n):
        if pout[25, t] > 0:
            eod_at = t
            break
    min_dscr = _min_of_four_lanes(pout, 12, 0, n)
    if min_dscr == 0.0:
        min_dscr = np.inf
        for t in range(n):
            d = pout[12, t]
            if d == d and d < min_dscr:
                min_dscr = d
    path_row(mdf, mdf_pv, eod_at, min_dscr, coll, gap, mp)


@njit(cache=True, error_model="numpy", inline="always")
def path_row(mdf: float, mdf_pv: float, eod_at: int, min_dscr: float, coll: float, gap: float,
             mp: np.ndarray) -> None:
    """A path's metrics row ``mp`` (``naef.engine.metrics.P_*``, all but the hedge's) from its MDF inflows and their
    PV, first period in default (-1: none), minimum DSCR, collections and funding gap."""
    mp[0] = mdf
    mp[1] = mdf_pv
    mp[2] = 1.0 if eod_at >= 0 else 0.0
    mp[3] = eod_at
    mp[4] = min_dscr
    mp[5] = coll
    mp[6] = gap


@njit(cache=True, error_model="numpy", inline="always")
def bin_of(x: float, lo: float, inv_width: float, top: float, nan_bin: int) -> Any:
    """Histogram bin of ``x`` (every variable's, path by path or in lanes): 0 for ``x <= lo``, ``k`` for ``lo +
    (k-1) w <= x < lo + k w`` (``x > lo``), ``n_bins + 1`` (``top = n_bins``) from the top of the range up,
    ``nan_bin`` for NaN (0: counted at the bottom; -1: not counted). A select between the cases, never a branch,
    so that a loop of it runs in SIMD lanes: ``y = (x - lo) / w`` is clamped to ``[0, n_bins]`` (NaN to
    ``n_bins``) before it is truncated, so the truncation is to int32, which AVX2 has for four doubles at once
    (``vcvttpd2dq``; a truncation to int64, ``int(y)``, has no AVX2 instruction and kept the loop scalar: 0.65
    against 0.37 µs a path for the five variables' 600 values in cache; ``tests/engine/test_montecarlo.py`` pins
    the bins to the formula). ``y >= n_bins`` gives ``n_bins + 1`` either way, and a clamped value is never
    selected when ``x <= lo`` or NaN."""
    y = (x - lo) * inv_width
    y = y if y < top else top
    y = y if y > 0.0 else 0.0
    k = np.int32(y) + np.int32(1)
    return np.int16(k if x > lo else (0 if x == x else nan_bin))


@njit(cache=True, error_model="numpy")
def originator_rows(default_period: int, continuity: float, exports_after: float, prod_mult: np.ndarray,
                    export_mult: np.ndarray) -> None:
    """One path's row of ``naef.engine.originator.originator_multipliers`` from its ``originator_terms``: 1 before
    ``default_period``, then ``continuity`` on the fields' volumes (``prod_mult``) and ``exports_after`` on the
    pledged receivables (``export_mult``)."""
    for t in range(prod_mult.shape[0]):
        after = t >= default_period
        prod_mult[t] = continuity if after else 1.0
        export_mult[t] = exports_after if after else 1.0


@njit(cache=True, error_model="numpy")
def collections_path(
    fields: tuple[Any, ...], bench: np.ndarray, diff: np.ndarray, qi_mult: np.ndarray, res_mult: np.ndarray,
    delay: np.ndarray, capex_mult: np.ndarray, prod_mult: np.ndarray, export_mult: np.ndarray, coll: np.ndarray,
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
    originator's default on this path (:func:`originator_rows`; ones without it). ``fields`` is the
    path-independent part, ``MonteCarloSetup.kernel_fields``: the gas price by period, the fields' unit Arps
    cumulatives by delay, initial rates, reserves, products, opex, shut-in flags and capex, the gas heat content
    and differential, the duty rates, the pledged barrels, the hedge's notional, strikes and premiums, and the
    days of each period.
    """
    (gas_price, unit_cum, qi, reserves, is_oil, opex_per_unit, shut_in, base_capex, heat, gas_diff, oil_rate,
     gas_rate, pledged_bbl, hedge_notional_bbl, put_strike, call_strike, hedge_premium, days) = fields
    n = bench.shape[0]
    nf = qi.shape[0]
    # field by field, each field's periods in one run (contiguous rows of ``unit_cum`` and ``base_capex``; the
    # compiler vectorises the loop over periods); per period the fields are still added in order 0 .. nf - 1, so
    # every sum is the one the period-by-period order gives. ``coll``, ``capex`` and ``boe_per_day`` hold the
    # period's running sums (operating results, capex, boe) and ``exports`` the realised oil price until the end.
    # The period loop has no branch on data and no conditional store, so that it vectorises into plain loads,
    # selects and stores (a conditional ``coll[t] +=`` became a masked store, slow on AMD; a boolean shut-in flag
    # tested in the loop cost mask conversions on every vector): a positive result is added as it is and any
    # other as 0.0, which leaves the sum's bits unchanged (it starts at +0.0 and only grows, and x + 0.0 == x
    # for every x but -0.0), and a field without ``shut_in`` compares its margin with -inf, which nothing is
    # below (a NaN margin shuts no field in, as before).
    for t in range(n):
        p_oil = bench[t] + diff[t]
        exports[t] = 0.0 if p_oil < 0.0 else p_oil
        coll[t] = 0.0
        capex[t] = 0.0
        boe_per_day[t] = 0.0
    for f in range(nf):
        scale = qi[f] * qi_mult[f]
        cap = reserves[f] * res_mult[f]
        d = delay[f]
        oil = is_oil[f]
        duty = oil_rate if oil else gas_rate
        opex = opex_per_unit[f]
        shut_below = 0.0 if shut_in[f] else -np.inf  # the margin below which the field is shut in
        cm = capex_mult[f]
        prev = 0.0
        for t in range(n):
            cum1 = scale * unit_cum[f, d, t]
            if cum1 > cap:
                cum1 = cap
            vol = (cum1 - prev) * prod_mult[t]  # the originator's operating continuity after its default
            prev = cum1
            if oil:
                unit_price = exports[t]
            else:
                p_gas = gas_price[t] + gas_diff
                unit_price = heat * (0.0 if p_gas < 0.0 else p_gas)
            # a field selling below its cash cost (opex and duty per unit) is shut in: the period's volume is lost
            if unit_price - duty * unit_price - opex < shut_below:
                vol = 0.0
            rev = vol * unit_price
            field_net = rev - duty * rev
            field_net -= vol * opex
            # a field's operating loss stays with PEMEX, never netted against another's
            coll[t] += field_net if field_net > 0.0 else 0.0
            boe_per_day[t] += vol if oil else vol / 6.0
            capex[t] += base_capex[f, t] * cm
    hedge_net = 0.0
    for t in range(n):
        h = 0.0
        if hedge_notional_bbl[t] > 0.0:
            s = bench[t]
            if put_strike[t] > s:
                h += hedge_notional_bbl[t] * (put_strike[t] - s)
            if s > call_strike[t]:
                h -= hedge_notional_bbl[t] * (s - call_strike[t])
        h -= hedge_premium[t]
        hedge_net += h
        net = coll[t] + h
        ex = pledged_bbl[t] * export_mult[t] * exports[t]
        coll[t] = (net if net > 0.0 else 0.0) + ex
        exports[t] = ex
        boe_per_day[t] = boe_per_day[t] / days[t]
    return hedge_net


ensure_fresh(collections_path)  # nothing cached from other sources than these (naef.engine.kernel_cache)
