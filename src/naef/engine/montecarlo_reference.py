"""The oracle of a Monte Carlo chunk: collections in plain Python, the pure-Python waterfall
(``naef.engine.reference``) and per-path metrics computed the slow, obvious way — the same definitions as the
compiled kernel (``naef.engine.montecarlo`` docstring), written independently of it. ``naef run --engine
reference`` uses it.

Collections follow the kernel's order of arithmetic exactly, so that a cash-trap or default test sitting on a
knife edge (CFADS exactly at its trigger) is decided the same way by both; ``naef.engine.simulate.operations``
(NumPy) computes the same quantities another way and is compared with them to a tolerance in the tests."""

from __future__ import annotations

import math

import numpy as np

from naef.engine.mc_types import ChunkResult, MonteCarloSetup
from naef.engine.metrics import N_BINS, N_METRICS_PATH, N_METRICS_TRANCHE
from naef.engine.reference import run_waterfall_reference
from naef.engine.simulate import PathInputs

__all__ = ["run_chunk_reference"]


def _bin(x: float, lo: float, width: float) -> int:
    if not x > lo:
        return 0
    y = (x - lo) * (1.0 / width)
    return N_BINS + 1 if y >= N_BINS else int(y) + 1


def collections_reference(
    setup: MonteCarloSetup, inputs: PathInputs
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float], np.ndarray]:
    """Collections, capex and pledged export receivables (paths, periods), each path's net hedge cash flow and its
    production in boe/d (paths, periods), one path, period and field at a time (the rules of
    ``naef.engine.kernel.collections_path``)."""
    (gas, unit_cum, qi, reserves, is_oil, opex, shut_in, base_capex, heat, gas_diff, oil_rate, gas_rate, pledged,
     notional, put_k, call_k, premium, days) = setup.kernel_fields
    n_paths, n = inputs.benchmark_usd_per_bbl.shape
    nf = len(qi)
    ppy = setup.grid.periods_per_year
    o = setup.scenario.originator
    default_at = ([n] * n_paths if inputs.originator_default_period is None
                  else [int(x) for x in inputs.originator_default_period])
    coll = np.zeros((n_paths, n))
    capex = np.zeros((n_paths, n))
    exports = np.zeros((n_paths, n))
    boe_per_day = np.zeros((n_paths, n))
    hedge_net = []
    for p in range(n_paths):
        h_total = 0.0
        qm = [float(inputs.qi_multiplier[f, p]) for f in range(nf)]
        rm = [float(inputs.reserves_multiplier[f, p]) for f in range(nf)]
        cm = [float(inputs.capex_multiplier[f, p]) for f in range(nf)]
        dl = [int(inputs.delay_periods[f, p]) // ppy for f in range(nf)]
        # the originator defaults in this period (none: n); from then on the fields run at its operating
        # continuity and, if so set, the pledged export receivables stop
        d_at = default_at[p]
        for t in range(n):
            continuity = o.operating_continuity if t >= d_at else 1.0
            exports_on = 0.0 if (t >= d_at and o.exports_stop_on_default) else 1.0
            p_oil = max(float(inputs.benchmark_usd_per_bbl[p, t]) + float(inputs.differential_usd_per_bbl[p, t]),
                        0.0)
            p_gas = max(float(gas[t]) + gas_diff, 0.0)
            net = 0.0
            cx = 0.0
            boe = 0.0
            for f in range(nf):
                scale = float(qi[f]) * qm[f]
                cap = float(reserves[f]) * rm[f]
                cum1 = min(scale * float(unit_cum[f, dl[f], t]), cap)
                cum0 = min(scale * float(unit_cum[f, dl[f], t - 1]), cap) if t > 0 else 0.0
                vol = (cum1 - cum0) * continuity
                unit_price = p_oil if is_oil[f] else heat * p_gas
                duty = oil_rate if is_oil[f] else gas_rate
                if shut_in[f] and unit_price - duty * unit_price - float(opex[f]) < 0.0:
                    vol = 0.0  # shut in below its cash cost
                rev = vol * unit_price
                result = rev - duty * rev
                result -= vol * float(opex[f])
                net += max(result, 0.0)  # a field's loss is PEMEX's, not netted against other fields
                boe += vol if is_oil[f] else vol / 6.0
                cx += float(base_capex[f, t]) * cm[f]
            h = 0.0
            if notional[t] > 0.0:
                s = float(inputs.benchmark_usd_per_bbl[p, t])
                if put_k[t] > s:
                    h += float(notional[t]) * (float(put_k[t]) - s)
                if s > call_k[t]:
                    h -= float(notional[t]) * (s - float(call_k[t]))
            h -= float(premium[t])
            h_total += h
            net += h
            ex = float(pledged[t]) * exports_on * p_oil
            coll[p, t] = (net if net > 0.0 else 0.0) + ex
            capex[p, t] = cx
            exports[p, t] = ex
            boe_per_day[p, t] = boe / float(days[t])
        hedge_net.append(h_total)
    return coll, capex, exports, hedge_net, boe_per_day


def run_chunk_reference(setup: MonteCarloSetup, inputs: PathInputs) -> ChunkResult:
    """Same contract as ``naef.engine.montecarlo.run_chunk``, one path at a time in plain Python."""
    sc, grid, spec = setup.scenario, setup.grid, setup.spec
    coll, capex, exports, hedge_net, boe = collections_reference(setup, inputs)
    wf = run_waterfall_reference(spec, collections_usd=coll, capex_usd=capex, pledged_exports_usd=exports)
    n_paths, n = coll.shape
    nt = len(spec.tranches)
    ppy = grid.periods_per_year
    by_name = {t.name: t for t in sc.tranches}
    grace = sc.triggers.default_grace_periods
    rate = sc.scenario.discount_rate
    mt = np.zeros((n_paths, nt, N_METRICS_TRANCHE))
    mp = np.zeros((n_paths, N_METRICS_PATH))
    hist = np.zeros((5, n, N_BINS + 2), dtype=np.int64)
    lo, width = setup.hist_lo.tolist(), setup.hist_width.tolist()
    for p in range(n_paths):
        cfads = wf.path["cfads_usd"][p].tolist()
        for j, sch in enumerate(spec.tranches):
            legal = min(sch.issue_period + by_name[sch.name].legal_final_years_or_maturity * ppy - 1, n - 1)
            ip = wf.tranche["interest_paid_usd"][j, p].tolist()
            pp = wf.tranche["principal_paid_usd"][j, p].tolist()
            short = wf.tranche["interest_shortfall_usd"][j, p].tolist()
            owed = wf.tranche["principal_outstanding_usd"][j, p].tolist()
            tol = 1e-9 * sch.size_usd
            default_at, run = -1, 0
            for t in range(legal + 1):  # the risk horizon ends at the legal final
                run = run + 1 if short[t] > tol else 0
                if run > grace or (t == legal and owed[t] + short[t] > tol):
                    default_at = t
                    break
            v = 1.0 / (1.0 + sch.rate_per_period)
            pv = sum((ip[t] + pp[t]) * v ** (t + 1 - sch.issue_period) for t in range(legal + 1))
            loss = 1.0 - pv / sch.size_usd
            t_issue = float(grid.t_start_years[sch.issue_period])
            # principal paid by the legal final, and what is unpaid then counted at the legal final
            paid_by = [(float(grid.t_end_years[t]) - t_issue, pp[t]) for t in range(legal + 1)]
            paid_by.append((float(grid.t_end_years[legal]) - t_issue, owed[legal]))
            total = sum(w for _, w in paid_by)
            wal = sum(y * w for y, w in paid_by) / total if total > 0 else math.nan
            unpaid_at_legal = owed[legal] + short[legal]
            after_legal = sum(ip[t] + pp[t] for t in range(legal + 1, n))
            own = sch.debt_service_from_collections_usd
            senior = np.sum([s.debt_service_from_collections_usd for s in spec.tranches
                             if s.seniority <= sch.seniority], axis=0)
            ratios = [cfads[t] / float(senior[t]) for t in range(n) if own[t] > 0]
            mt[p, j] = [1.0 if default_at >= 0 else 0.0, default_at, loss if loss > 1e-9 else 0.0, wal,
                        min(ratios) if ratios else math.inf, unpaid_at_legal, after_legal]
        to_mdf = wf.path["to_mdf_usd"][p].tolist()
        eod = wf.path["event_of_default"][p].tolist()
        dscr = wf.path["dscr"][p].tolist()
        finite = [d for d in dscr if not math.isnan(d)]
        eod_at = next((t for t in range(n) if eod[t] > 0), -1)
        mp[p] = [
            sum(to_mdf),
            sum(to_mdf[t] * (1.0 + rate) ** -float(grid.t_end_years[t]) for t in range(n)),
            1.0 if eod_at >= 0 else 0.0,
            eod_at,
            min(finite) if finite else math.inf,
            sum(coll[p].tolist()),
            float(wf.path["pemex_capex_funding_usd"][p].sum()),
            hedge_net[p],
        ]
        bench = inputs.benchmark_usd_per_bbl[p].tolist()
        coll_p = coll[p].tolist()
        for t in range(n):
            hist[0, t, _bin(bench[t], lo[0], width[0])] += 1
            hist[1, t, _bin(coll_p[t], lo[1], width[1])] += 1
            if not math.isnan(dscr[t]):
                hist[2, t, _bin(dscr[t], lo[2], width[2])] += 1
            hist[3, t, _bin(to_mdf[t], lo[3], width[3])] += 1
            hist[4, t, _bin(float(boe[p, t]), lo[4], width[4])] += 1
    return ChunkResult(mt, mp, hist)
