"""The summary of a Monte Carlo run (``summary.json``), its per-period percentiles, and breakeven prices.

Pure functions of a prepared setup (``naef.engine.montecarlo.prepare``) and per-path metrics; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple, NotRequired, TypedDict

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from naef.analysis.ratings import BELOW_SCALE, RatingError, cap_rating, implied_rating, rating_cap
from naef.engine.credit import period_end_date
from naef.engine.mc_types import MonteCarloSetup
from naef.engine.metrics import (
    HIST_VARIABLES,
    N_METRICS_PATH,
    P_GAP,
    P_HEDGE,
    P_MDF,
    P_MDF_PV,
    PERCENTILES,
    T_AFTER_LF,
    T_DEFAULT,
    T_LOSS,
    T_MIN_DSCR,
    T_UNPAID_LF,
)
from naef.engine.montecarlo import deterministic_setup_inputs, run_chunk
from naef.engine.originator import cumulative_default_probability
from naef.engine.path_stats import ExactPaths, PathStats
from naef.engine.results import TrancheRowHead, tranche_row
from naef.scenario.exports import pledge_warnings
from naef.scenario.load import scenario_identity
from naef.version import __version__

__all__ = [
    "DefaultFacts",
    "EventOfDefault",
    "HedgeSection",
    "MdfInflows",
    "MonteCarloRun",
    "MonteCarloSummary",
    "MonteCarloTranche",
    "OriginatorDefault",
    "RunInfo",
    "SeniorBreakeven",
    "TrancheRisk",
    "UnhedgedRun",
    "breakeven_flat_prices",
    "build_mc_summary",
    "implied_quantile",
    "percentiles_table",
    "tranche_risk",
]

Array = NDArray[np.float64]


class RunInfo(TypedDict):
    """How a Monte Carlo was run: the first keys of ``summary.json``'s ``run``."""

    kind: str
    paths: int
    seed: int
    chunk_size: int
    engine: str
    block_paths: int


class DefaultedPaths(TypedDict):
    """Paths on which a tranche defaults: their count and share of all paths."""

    paths: int
    share: float


class UnpaidAtLegalFinal(TypedDict):
    """What is owed at the legal final (US$): mean over all paths, mean over defaulting paths, P90."""

    mean: float
    mean_given_default: float
    p90: float | None


class RecoveredAfterLegalFinal(TypedDict):
    """Paid after the legal final (US$, mean over all paths)."""

    mean: float


class DefaultFacts(TypedDict):
    """A tranche's defaults over the paths (:func:`default_facts`)."""

    legal_final_date: str
    defaulted: DefaultedPaths
    #: P10/P50/P90 of the period of default among defaulting paths (its start date, ISO 8601)
    default_date: dict[str, str | None]
    unpaid_at_legal_final_usd: UnpaidAtLegalFinal
    recovered_after_legal_final_usd: RecoveredAfterLegalFinal


class TrancheRisk(TrancheRowHead, DefaultFacts):
    """A tranche's risk over the paths (:func:`tranche_risk`): PD to the legal final and EL (fractions, with
    their standard errors), ratings on Moody's scale, WAL (years), minimum DSCR P5/P50/P95 (ratios)."""

    legal_final_years: float
    pd: float
    pd_se: float
    expected_loss: float
    expected_loss_se: float
    structural_rating: str
    structural_rating_pd: str
    implied_rating: str
    implied_rating_binds: str
    implied_rating_basis: str
    implied_rating_pd: str
    implied_rating_pd_binds: str
    wal_years: float | None
    min_dscr: dict[str, float | None]


class MonteCarloTranche(TrancheRisk):
    """A row of ``summary.json``'s ``tranches``: its risk and the lowest flat benchmark price (US$/bbl) that
    serves it in full (``None``: not even at the search's top)."""

    breakeven_flat_price_usd_per_bbl: float | None


class OriginatorDefault(TypedDict):
    """The originator's default on the run's paths (:func:`originator_default_facts`)."""

    drawn: bool
    name: str
    rating: str
    probability_within_horizon: float
    exports_stop_on_default: bool
    operating_continuity: float


class MdfInflows(TypedDict):
    """The MDF's inflows over the horizon (US$; P10/P50/P90 and mean; nominal and in present value at
    ``discount_rate``) and the share of paths on which it receives nothing."""

    nominal_usd: dict[str, float | None]
    pv_usd: dict[str, float | None]
    discount_rate: float
    probability_nothing: float


class HedgeRisk(TypedDict):
    pd: float
    pd_se: float
    expected_loss: float
    expected_loss_se: float
    implied_rating: str


class HedgeTranche(TypedDict):
    """A tranche's risk on the same paths with and without the hedges."""

    name: str
    with_hedge: HedgeRisk
    without_hedge: HedgeRisk


class HedgeSection(TypedDict):
    """``summary.json``'s ``hedge``: premiums (US$), the mean net payoff, and risk with and without hedges."""

    hedges: list[dict[str, object]]
    premium_value_usd: float
    premium_from_proceeds_usd: float
    premium_from_collections_usd: float
    mean_net_payoff_usd: float
    note: str
    tranches: list[HedgeTranche]
    mdf_with_hedge: MdfInflows
    mdf_without_hedge: MdfInflows


class MonteCarloRun(RunInfo):
    """``summary.json``'s ``run``: how it was run (:class:`RunInfo`), the price model (and its parameters; ``None``
    for a deck), the spot it starts from (US$/bbl), the differential's model and whether fields are uncertain."""

    price_model: str
    price_model_parameters: dict[str, object] | None
    spot_usd_per_bbl: float
    differential_model: str
    field_uncertainty: bool
    #: ``"streamed"`` when the run kept only streamed statistics (``naef.analysis.montecarlo.KEEP_PATHS_LIMIT``)
    per_path_results: NotRequired[str]


class EventOfDefault(TypedDict):
    """The share of paths with an event of default and its Monte Carlo standard error, ``sqrt(p (1 - p) / n)``."""

    probability: float
    se: float


class SeniorBreakeven(TypedDict):
    """The lowest flat benchmark price (US$/bbl) that serves every most-senior tranche in full, and its basis."""

    senior: float | None
    basis: str


class MonteCarloSummary(TypedDict):
    """``summary.json`` of a Monte Carlo run (:func:`build_mc_summary`; keys documented in the README, "summary.json
    (Monte Carlo)")."""

    scenario: Mapping[str, object]
    naef_version: str
    run: MonteCarloRun
    issuance_usd: float
    rating_cap: dict[str, object]
    warnings: list[str]
    originator_default: OriginatorDefault
    tranches: list[MonteCarloTranche]
    event_of_default: EventOfDefault
    breakeven_flat_price_usd_per_bbl: SeniorBreakeven
    mdf: MdfInflows
    pemex_capex_funding_usd_mean: float
    hedge: HedgeSection | None
    percentiles_file: str
    paths: int


class UnhedgedRun(NamedTuple):
    """The same paths run without the scenario's hedges (common random numbers): its set-up and per-path
    metrics (or, for a streamed run, its statistics in ``metrics_tranche`` and ``None`` in ``metrics_path``)."""

    setup: MonteCarloSetup
    metrics_tranche: Array | PathStats
    metrics_path: Array | None


def _stats(x: Array | PathStats, mp: Array | None = None) -> PathStats:
    """Per-path figures (``mt``, with ``mp`` when given) as statistics; statistics as they are."""
    if isinstance(x, np.ndarray):
        return ExactPaths(x, mp if mp is not None else np.zeros((x.shape[0], N_METRICS_PATH)))
    return x


def _rating_or_none(el: float, horizon_years: float, table: str) -> str:
    if not (math.isfinite(horizon_years) and horizon_years > 0):
        return BELOW_SCALE if el > 0 else "Aaa"
    return implied_rating(expected_loss=min(max(el, 0.0), 1.0), wal_years=horizon_years, table=table)


def tranche_risk(setup: MonteCarloSetup, mt: Array | PathStats) -> list[TrancheRisk]:
    """PD, EL (with standard errors), WAL, implied ratings and minimum-DSCR percentiles of each tranche, from
    every path's metrics ``mt`` (paths, tranches, N_METRICS_TRANCHE) or from a run's statistics
    (``naef.engine.path_stats``)."""
    stats = _stats(mt)
    grid = setup.grid
    ppy = grid.periods_per_year
    by_name = {t.name: t for t in setup.scenario.tranches}
    n = stats.n_paths
    if n == 0:
        raise RatingError("defaulted: needs at least one path")
    cap = rating_cap(setup.scenario)
    rows: list[TrancheRisk] = []
    for j, sch in enumerate(setup.spec.tranches):
        t = by_name[sch.name]
        # PD = k / n with the binomial standard error sqrt(pd (1 - pd) / n) (naef.analysis.ratings)
        pd_ = stats.default_count(j) / n
        pd_se = math.sqrt(pd_ * (1.0 - pd_) / n)
        el, el_se = stats.loss_mean_se(j)
        wal_mean = stats.wal_mean(j)
        legal_years = float(t.legal_final_years_or_maturity)
        structural = _rating_or_none(el, wal_mean if math.isfinite(wal_mean) else legal_years,
                                     "moodys_idealized_el")
        structural_pd = _rating_or_none(pd_, legal_years, "moodys_idealized_pd")
        implied, binds = cap_rating(structural, cap)
        implied_pd, binds_pd = cap_rating(structural_pd, cap)
        rows.append({
            **tranche_row(sch, periods_per_year=ppy),
            "legal_final_years": legal_years,
            "pd": pd_,
            "pd_se": pd_se,
            "expected_loss": el,
            "expected_loss_se": el_se,
            # from the tranche's own losses (EL at the mean WAL; PD at the legal final) ...
            "structural_rating": structural,
            "structural_rating_pd": structural_pd,
            # ... capped by the originator's rating plus its uplift and by the country ceiling
            "implied_rating": implied,
            "implied_rating_binds": binds,
            "implied_rating_basis": ("min(structural rating on expected loss at the mean WAL, Moody's idealized "
                                     "cumulative EL rates; originator + uplift; country ceiling)"),
            "implied_rating_pd": implied_pd,
            "implied_rating_pd_binds": binds_pd,
            "wal_years": wal_mean if math.isfinite(wal_mean) else None,
            "min_dscr": stats.tranche_quantiles(j, T_MIN_DSCR, (5, 50, 95)),
            **default_facts(setup, j, stats),
        })
    return rows


def default_facts(setup: MonteCarloSetup, j: int, stats: PathStats) -> DefaultFacts:
    """Tranche ``j``'s defaults over the paths: its ``legal_final_date`` (the end of its risk horizon),
    ``defaulted`` (paths and share), ``default_date`` (P10/P50/P90 of the period of default among defaulting
    paths, as the period's start date), ``unpaid_at_legal_final_usd`` (mean over all paths, mean over defaulting
    paths, P90) and ``recovered_after_legal_final_usd`` (mean; paid after the legal final, never netted against
    the loss)."""
    grid = setup.grid
    hits = stats.default_count(j)
    dates: dict[str, str | None] = {"p10": None, "p50": None, "p90": None}
    at = stats.default_period_quantiles(j, (0.1, 0.5, 0.9))
    if at is not None:
        for q, k in zip((10, 50, 90), at, strict=True):
            dates[f"p{q}"] = grid.starts[k].isoformat()
    return {
        "legal_final_date": period_end_date(grid, setup.spec.legal_finals[j]),
        "defaulted": {"paths": hits, "share": hits / stats.n_paths},
        "default_date": dates,
        "unpaid_at_legal_final_usd": {
            "mean": stats.tranche_mean(j, T_UNPAID_LF),
            "mean_given_default": stats.tranche_mean(j, T_UNPAID_LF, given_default=True),
            "p90": stats.tranche_quantiles(j, T_UNPAID_LF, (90,))["p90"],
        },
        "recovered_after_legal_final_usd": {"mean": stats.tranche_mean(j, T_AFTER_LF)},
    }


def originator_default_facts(setup: MonteCarloSetup) -> OriginatorDefault:
    """The originator's default on the run's paths: whether it is drawn, its probability within the horizon and
    what follows it (``naef.engine.originator``)."""
    sc = setup.scenario
    o = sc.originator
    return {
        "drawn": sc.uncertainty.originator,
        "name": o.name,
        "rating": o.rating,
        # each path's default time is drawn from this distribution (the share of paths is its sample estimate)
        "probability_within_horizon": float(
            cumulative_default_probability(o.rating, setup.grid.t_end_years[-1:])[0]),
        "exports_stop_on_default": o.exports_stop_on_default,
        "operating_continuity": o.operating_continuity,
    }


def _mdf(setup: MonteCarloSetup, stats: PathStats) -> MdfInflows:
    return {
        "nominal_usd": {**stats.path_quantiles(P_MDF, (10, 50, 90)), "mean": stats.path_mean(P_MDF)},
        "pv_usd": {**stats.path_quantiles(P_MDF_PV, (10, 50, 90)), "mean": stats.path_mean(P_MDF_PV)},
        "discount_rate": setup.scenario.scenario.discount_rate,
        "probability_nothing": stats.nothing_to_mdf_count() / stats.n_paths,
    }


def breakeven_flat_prices(setup: MonteCarloSetup, *, hi_usd_per_bbl: float = 500.0) -> list[float | None]:
    """For each tranche, the lowest flat benchmark price (US$/bbl, every period) at which it is paid in full and
    on schedule (no default, zero loss) in the deterministic case (no field uncertainty); ``None`` if not even at
    ``hi_usd_per_bbl``. Found on a grid of 401 prices, then refined twice by 64 between the bracketing points
    (resolution about 0.0003 US$/bbl); assumes service improves with the price."""
    n = setup.grid.n
    nt = setup.n_tranches

    def served(prices: Array) -> NDArray[np.bool_]:
        res = run_chunk(setup, deterministic_setup_inputs(setup, np.repeat(prices[:, None], n, axis=1)), threads=1)
        ok: NDArray[np.bool_] = (res.metrics_tranche[:, :, T_DEFAULT] < 0.5) & (
            res.metrics_tranche[:, :, T_LOSS] <= 0.0)
        return ok

    grid = np.linspace(0.0, hi_usd_per_bbl, 401)
    ok = served(grid)
    out: list[float | None] = []
    for j in range(nt):
        idx = np.nonzero(ok[:, j])[0]
        if idx.size == 0:
            out.append(None)
            continue
        k = int(idx[0])
        if k == 0:
            out.append(0.0)
            continue
        lo, hi = float(grid[k - 1]), float(grid[k])
        for _ in range(2):
            fine = np.linspace(lo, hi, 65)
            good = np.nonzero(served(fine)[:, j])[0]
            first = int(good[0]) if good.size else 64
            lo, hi = float(fine[max(first - 1, 0)]), float(fine[first])
        out.append(hi)
    return out


def _hedge_risk(row: TrancheRisk) -> HedgeRisk:
    return {"pd": row["pd"], "pd_se": row["pd_se"], "expected_loss": row["expected_loss"],
            "expected_loss_se": row["expected_loss_se"], "implied_rating": row["implied_rating"]}


def _hedge_section(setup: MonteCarloSetup, stats: PathStats,
                   unhedged: UnhedgedRun | None) -> HedgeSection | None:
    if unhedged is None:
        return None
    bare = unhedged.setup
    u_stats = _stats(unhedged.metrics_tranche, unhedged.metrics_path)
    with_rows = tranche_risk(setup, stats)
    without_rows = tranche_risk(bare, u_stats)
    return {
        "hedges": list(setup.hedge.rows),
        "premium_value_usd": setup.hedge.premium_value_usd,
        "premium_from_proceeds_usd": setup.hedge.premium_from_proceeds_usd,
        "premium_from_collections_usd": float(setup.hedge.premium_from_collections_usd.sum()),
        "mean_net_payoff_usd": stats.path_mean(P_HEDGE),
        "note": "the same paths (common random numbers) run with and without the hedges",
        "tranches": [
            {"name": w["name"], "with_hedge": _hedge_risk(w), "without_hedge": _hedge_risk(o)}
            for w, o in zip(with_rows, without_rows, strict=True)
        ],
        "mdf_with_hedge": _mdf(setup, stats),
        "mdf_without_hedge": _mdf(bare, u_stats),
    }


def build_mc_summary(
    setup: MonteCarloSetup, mt: Array | PathStats, mp: Array | None = None, *, run_info: RunInfo,
    unhedged: UnhedgedRun | None = None,
) -> MonteCarloSummary:
    """``summary.json`` of a Monte Carlo run (keys documented in the README, "summary.json (Monte Carlo)"), from
    every path's metrics (``mt``, ``mp``) or from the run's streamed statistics (``mt`` a ``PathStats``)."""
    sc = setup.scenario
    stats = _stats(mt, mp)
    n_paths = stats.n_paths
    breakevens = breakeven_flat_prices(setup)
    tranches: list[MonteCarloTranche] = [{**row, "breakeven_flat_price_usd_per_bbl": be}
                                         for row, be in zip(tranche_risk(setup, stats), breakevens, strict=True)]
    senior = min(t.seniority for t in setup.spec.tranches)
    senior_be = [be for sch, be in zip(setup.spec.tranches, breakevens, strict=True) if sch.seniority == senior]
    senior_breakeven = None if any(b is None for b in senior_be) else max(b for b in senior_be if b is not None)
    eod = stats.eod_count() / n_paths
    eod_se = math.sqrt(eod * (1.0 - eod) / n_paths)
    model = sc.price.stochastic
    return {
        "scenario": scenario_identity(sc),
        "naef_version": __version__,
        "run": {
            "kind": run_info["kind"],
            "paths": run_info["paths"],
            "seed": run_info["seed"],
            "chunk_size": run_info["chunk_size"],
            "engine": run_info["engine"],
            "block_paths": run_info["block_paths"],
            "price_model": model.model if model is not None else "deck (no price uncertainty)",
            "price_model_parameters": (
                {k: v for k, v in model.model_dump().items() if k not in ("model", "history")}
                if model is not None else None
            ),
            "spot_usd_per_bbl": setup.spot_usd_per_bbl,
            "differential_model": (sc.price.stochastic_differential.model
                                   if sc.price.stochastic_differential is not None else "fixed"),
            "field_uncertainty": sc.uncertainty.fields,
        },
        "issuance_usd": float(setup.spec.proceeds_usd.sum()),
        "rating_cap": rating_cap(sc).to_dict(),
        "warnings": pledge_warnings(sc),
        "originator_default": originator_default_facts(setup),
        "tranches": tranches,
        "event_of_default": {"probability": eod, "se": eod_se},
        "breakeven_flat_price_usd_per_bbl": {
            "senior": senior_breakeven,
            "basis": "flat benchmark price every period, deterministic production, full and timely service",
        },
        "mdf": _mdf(setup, stats),
        "pemex_capex_funding_usd_mean": stats.path_mean(P_GAP),
        "hedge": _hedge_section(setup, stats, unhedged),
        "percentiles_file": "percentiles.csv",
        "paths": n_paths,
    }


def implied_quantile(counts: NDArray[np.int64], q: float, *, lo: float, width: float) -> float:
    """The ``q`` quantile of a histogram (bin 0: at or below ``lo``; bin k: ``(lo + (k-1) w, lo + k w]``; last:
    above the range), interpolated linearly within its bin; ``nan`` for an empty histogram; the top of the range
    when it falls above it."""
    total = int(counts.sum())
    if total == 0:
        return math.nan
    target = q * total
    cum = np.cumsum(counts)
    k = int(np.searchsorted(cum, target, side="left"))
    k = min(k, counts.size - 1)
    if k == 0:
        return lo
    if k == counts.size - 1:
        return lo + (counts.size - 2) * width
    before = float(cum[k - 1])
    frac = (target - before) / float(counts[k]) if counts[k] > 0 else 1.0
    return lo + (k - 1 + frac) * width


def percentiles_table(setup: MonteCarloSetup, hist: NDArray[np.int64]) -> pd.DataFrame:
    """P5–P95 by period of the benchmark price, collections, DSCR and MDF inflows (``percentiles.csv``)."""
    cols: dict[str, object] = {"period_start": [d.isoformat() for d in setup.grid.starts]}
    for v, (name, _unit) in enumerate(HIST_VARIABLES):
        lo, width = float(setup.hist_lo[v]), float(setup.hist_width[v])
        for q in PERCENTILES:
            cols[f"{name}_p{q}"] = [
                implied_quantile(hist[v, t], q / 100.0, lo=lo, width=width) for t in range(setup.grid.n)
            ]
        if name == "dscr":
            cols["dscr_paths"] = hist[v].sum(axis=1)
    return pd.DataFrame(cols)
