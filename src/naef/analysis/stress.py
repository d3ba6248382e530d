"""Historical price stresses: replay an oil-price episode, or a user's price deck, through the deterministic chain.

Each stress is one benchmark price path on the scenario's grid, run with everything else as in the deterministic
case (the scenario's differential, gas deck, production, capex and costs; no field uncertainty; hedges as in the
scenario), and compared with the base case (the scenario's own oil deck).

Episodes, replays and user decks
    :mod:`naef.analysis.stress_inputs` states how an episode or a user deck is read and laid on the grid.

Modes
    ``scaled`` (default): ``p'_q = spot × p_q / p_0``, where ``p_0`` is the episode's first quarter and ``spot``
    the deck's price at the scenario's start (the price the Monte Carlo starts from,
    ``MonteCarloSetup.spot_usd_per_bbl``): the shape of the historical shock at today's level; the first quarter
    is the spot exactly. ``levels``: the episode's prices as they were (nominal dollars of their time).

How a path is run (:func:`run_stress`)
    With the Monte Carlo's own compiled code: collections by ``naef.engine.kernel.collections_path``, the waterfall
    by ``run_waterfall`` (the kernel's ``waterfall_path``, every column kept) and the per-path metrics by
    ``tranche_and_path_metrics`` (definitions in ``naef.engine.montecarlo``). A stress path is therefore, bit for
    bit, the Monte Carlo path with the same prices and no field uncertainty (tested against ``run_chunk``). The base
    case equals ``naef run``'s deterministic run up to rounding: ``naef.engine.simulate.operations`` computes the
    same collections with NumPy in another order (differences of order 1e-6 US$), which can only matter for a test
    sitting exactly on its threshold.

Per-path results
    From the Monte Carlo's metrics: ``defaulted``, the period of default, ``loss`` (share of size, PV at the
    coupon), WAL, the tranches' and the path's minimum DSCR, the period of the event of default and the MDF's
    inflows (nominal and PV at the scenario's discount rate). Added here: the largest and the final interest
    shortfall (arrears), the largest principal arrears, principal and interest unpaid at the legal final period,
    the first period with any shortfall (interest or scheduled principal above ``1e-9 × size``, the Monte Carlo's
    tolerance), the number of periods in which cash was trapped (``trapped_usd`` > half a cent: the residual went
    to the cash-trap account instead of being distributed, whether by the DSCR trigger, the lock-up before the
    first repayments or acceleration), the first MDF inflow (> half a cent, as ``naef run``'s summary), and the
    MDF's loss against the base case, ``base - stressed`` (positive when the MDF receives less) in dollars and as
    a share of the base case. Dates are the first day of the period in which the event happens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from naef.analysis.stress_inputs import Episode, StressError, UserDeck, load_episodes, replay_usd_per_bbl
from naef.engine.credit import (
    finite_or_none,
    metric_arrays,
    period_end_date,
    period_start_date,
    tranche_credit,
    waterfall_metrics,
)
from naef.engine.mc_types import MonteCarloSetup, PathCollections
from naef.engine.metrics import (
    P_COLL,
    P_EOD_AT,
    P_GAP,
    P_HEDGE,
    P_MDF,
    P_MDF_PV,
    P_MIN_DSCR,
    T_MIN_DSCR,
)
from naef.engine.montecarlo import deterministic_setup_inputs, monte_carlo_collections
from naef.engine.prices import deck_prices
from naef.engine.results import TrancheRowHead, tranche_row
from naef.engine.waterfall import WaterfallResult, run_waterfall
from naef.scenario.load import scenario_identity
from naef.version import __version__

__all__ = [
    "CENT_HALF_USD",
    "MODES",
    "SHORTFALL_TOL",
    "Mode",
    "StressDocument",
    "StressPath",
    "StressPathSummary",
    "StressResult",
    "StressRun",
    "StressTranche",
    "base_path",
    "deck_path",
    "episode_path",
    "path_metrics",
    "run_stress",
    "scenario_deck_usd_per_bbl",
]

Array = NDArray[np.float64]
Mode = Literal["scaled", "levels"]
MODES: tuple[Mode, ...] = ("scaled", "levels")
PathKind = Literal["base", "episode", "deck"]

#: amounts at or below half a cent count as zero (trapped cash, the first MDF inflow), as in ``naef run``'s summary
CENT_HALF_USD = 0.005
#: relative tolerance of a shortfall (share of the tranche's size), the Monte Carlo's (``naef.engine.kernel``)
SHORTFALL_TOL = 1e-9


# ------------------------------------------------------------------------------------------------ paths


@dataclass(frozen=True)
class StressPath:
    """One benchmark price path to run: the base case, a replayed episode or a user deck.

    ``replay_periods`` counts the periods, from the first, whose price comes (wholly or partly) from the episode
    or the file's rows (for a deck: the periods it gives); ``scale_factor`` is ``spot / p_0`` of a scaled
    episode (1 for levels, ``None`` otherwise).
    """

    name: str
    kind: PathKind
    title: str
    source: str
    benchmark_usd_per_bbl: Array
    replay_periods: int = 0
    replay_start_period: int = 0
    mode: Mode | None = None
    scale_factor: float | None = None
    quarters: tuple[str, ...] = ()


def scenario_deck_usd_per_bbl(setup: MonteCarloSetup) -> Array:
    """The scenario's oil deck by period (read at each period's midpoint, as the deterministic run)."""
    return deck_prices(deck=setup.scenario.price.deck, decimal_years=setup.grid.mid_decimal_year)


def base_path(setup: MonteCarloSetup) -> StressPath:
    """The base case: the scenario's deck."""
    src = setup.scenario.price.source or "the scenario's [price] deck"
    return StressPath(name="base", kind="base", title="Base case (the scenario's deck)", source=src,
                      benchmark_usd_per_bbl=scenario_deck_usd_per_bbl(setup))


def episode_path(
    setup: MonteCarloSetup, episode: Episode, *, mode: Mode, source: str = "", at_year: int | None = None
) -> StressPath:
    """``episode`` replayed from the scenario's start (or from 1 January of ``at_year``, so that a shock can hit
    the repayment years), ``scaled`` to the price it starts from or at its ``levels``. Scaled from the start: the
    first quarter is the spot (the deck at the start date); scaled from ``at_year``: the deck's price of that
    period."""
    if mode not in MODES:
        raise StressError(f"mode: unknown mode {mode!r} (choose 'scaled' or 'levels')")
    grid = setup.grid
    start = 0
    if at_year is not None:
        if not grid.start.year <= at_year < grid.start.year + setup.scenario.scenario.years:
            raise StressError(f"--at-year: {at_year} is outside the horizon ({grid.start} to "
                              f"{setup.scenario.scenario.end})")
        start = grid.period_of(max(grid.start, dt.date(at_year, 1, 1)))
    deck = scenario_deck_usd_per_bbl(setup)
    q = episode.prices_usd_per_bbl(setup.scenario.price.benchmark)
    factor = 1.0
    if mode == "scaled":
        anchor = setup.spot_usd_per_bbl if start == 0 else float(deck[start])
        factor = anchor / float(q[0])
        q = anchor * (q / q[0])  # the first quarter is the anchor exactly
    bench, covered = replay_usd_per_bbl(quarterly_usd_per_bbl=q, deck_usd_per_bbl=deck,
                                        periods_per_year=grid.periods_per_year, start_period=start)
    return StressPath(name=episode.name, kind="episode", title=episode.title, source=source,
                      benchmark_usd_per_bbl=bench, replay_periods=covered, mode=mode, scale_factor=factor,
                      quarters=episode.quarters, replay_start_period=start)


def deck_path(setup: MonteCarloSetup, deck: UserDeck) -> StressPath:
    """A user deck: its prices where it gives them, the scenario's deck elsewhere."""
    if deck.period_usd_per_bbl.shape != (setup.grid.n,):
        raise StressError(f"--deck {deck.source}: read on another grid ({deck.period_usd_per_bbl.shape[0]} periods, "
                          f"the scenario has {setup.grid.n})")
    given = np.isfinite(deck.period_usd_per_bbl)
    bench = np.where(given, deck.period_usd_per_bbl, scenario_deck_usd_per_bbl(setup))
    return StressPath(name=deck.name, kind="deck", title=f"User deck {deck.source}", source=deck.source,
                      benchmark_usd_per_bbl=np.ascontiguousarray(bench, dtype=np.float64),
                      replay_periods=int(given.sum()))


# ------------------------------------------------------------------------------------------------ running


class StressTranche(TrancheRowHead):
    """A tranche on one stress path: default (and its date, ISO 8601: the start of the period), loss (a fraction
    of principal), shortfalls and what is unpaid at the legal final (US$), WAL (years), minimum DSCR (ratio)."""

    legal_final_date: str
    defaulted: bool
    default_date: str | None
    loss: float
    first_shortfall_date: str | None
    interest_shortfall_max_usd: float
    interest_shortfall_end_usd: float
    principal_shortfall_max_usd: float
    principal_unpaid_at_legal_final_usd: float
    interest_unpaid_at_legal_final_usd: float
    unpaid_at_legal_final_usd: float
    recovered_after_legal_final_usd: float
    wal_years: float | None
    min_dscr: float | None


class BenchmarkPrices(TypedDict):
    """The path's benchmark price (US$/bbl): first, lowest (and when), mean."""

    first: float
    min: float
    min_date: str
    mean: float


class StressMdf(TypedDict):
    """The MDF on one path: inflows (US$, nominal and in present value), the loss against the base case (US$ and
    as a share of the base's; ``None`` when the base has none) and its first inflow's date."""

    inflows_usd: float
    inflows_pv_usd: float
    loss_vs_base_usd: float
    loss_vs_base_share: float | None
    loss_vs_base_pv_usd: float
    loss_vs_base_pv_share: float | None
    first_inflow_date: str | None


class StressPathSummary(TypedDict):
    """One path of ``stress.json``'s ``paths`` (the base case first)."""

    name: str
    kind: str
    title: str
    source: str
    mode: str | None
    scale_factor: float | None
    quarters: list[str]
    replay_periods: int
    replay_start_date: str | None
    deck_resumes_date: str | None
    benchmark_usd_per_bbl: BenchmarkPrices
    tranches: list[StressTranche]
    event_of_default_date: str | None
    cash_trap_periods: int
    min_dscr: float | None
    collections_usd: float
    pemex_capex_funding_usd: float
    hedge_net_usd: float
    mdf: StressMdf


class StressRun(TypedDict):
    """How the stress ran: the episodes' modes, the spot (US$/bbl) episodes are scaled to, the discount rate, and
    what the paths hold besides the benchmark."""

    kind: str
    modes: list[str]
    spot_usd_per_bbl: float
    discount_rate: float
    after_episode: str
    inputs: str
    dates: str


class StressDocument(TypedDict):
    """``stress.json``: the scenario (its identity and benchmark), the run, the episodes' source, every path (the
    base case first) and the per-period table's name."""

    scenario: Mapping[str, object]
    naef_version: str
    run: StressRun
    episodes_source: dict[str, object]
    paths: list[StressPathSummary]
    paths_file: str


@dataclass(frozen=True)
class StressResult:
    """The stress run: the JSON document, the per-period table and the arrays behind them (row 0: base case)."""

    summary: StressDocument
    paths_table: pd.DataFrame
    paths: tuple[StressPath, ...]
    collections: PathCollections
    waterfall: WaterfallResult
    metrics_tranche: Array  # (paths, tranches, N_METRICS_TRANCHE)
    metrics_path: Array  # (paths, N_METRICS_PATH)


def path_metrics(setup: MonteCarloSetup, coll: PathCollections, wf: WaterfallResult) -> tuple[Array, Array]:
    """The Monte Carlo's per-path metrics (``naef.engine.kernel.tranche_and_path_metrics``) of each path of a
    waterfall result: (paths, tranches, N_METRICS_TRANCHE) and (paths, N_METRICS_PATH)."""
    arrays = metric_arrays(grid=setup.grid, spec=setup.spec, discount_rate=setup.scenario.scenario.discount_rate)
    mt, mp = waterfall_metrics(setup.spec, arrays, wf)
    mp[:, P_HEDGE] = coll.hedge_net_usd
    return mt, mp


def run_stress(setup: MonteCarloSetup, paths: Sequence[StressPath]) -> StressResult:
    """Run the base case and ``paths`` through the Monte Carlo's collections, the waterfall and its per-path
    metrics; summarise each (module docstring)."""
    base = base_path(setup)
    every = (base, *paths)
    names = [p.name for p in every]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise StressError(f"stress paths: the name {name!r} is used twice (rename a deck file)")
    for p in every:
        if p.benchmark_usd_per_bbl.shape != (setup.grid.n,):
            raise StressError(f"stress path {p.name!r}: {p.benchmark_usd_per_bbl.shape} prices, the scenario has "
                              f"{setup.grid.n} periods")
    bench = np.ascontiguousarray(np.stack([p.benchmark_usd_per_bbl for p in every]), dtype=np.float64)
    if not (np.isfinite(bench).all() and (bench >= 0.0).all()):
        raise StressError("stress paths: benchmark prices must be finite and >= 0")
    inputs = deterministic_setup_inputs(setup, bench)
    coll = monte_carlo_collections(setup, inputs)
    wf = run_waterfall(setup.spec, collections_usd=coll.collections_usd, capex_usd=coll.capex_usd,
                       pledged_exports_usd=coll.pledged_exports_usd)
    mt, mp = path_metrics(setup, coll, wf)
    rows = [_path_summary(setup, every[p], p, wf, mt[p], mp[p], mp[0]) for p in range(len(every))]
    summary = _document(setup, rows)
    return StressResult(summary=summary, paths_table=_paths_table(setup, every, coll, wf), paths=every,
                        collections=coll, waterfall=wf, metrics_tranche=mt, metrics_path=mp)


# ------------------------------------------------------------------------------------------------ summaries


def _first(mask: NDArray[np.bool_]) -> int:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else -1


def _share(loss: float, base: float) -> float | None:
    return loss / base if base > 0.0 else None


def _path_summary(
    setup: MonteCarloSetup, path: StressPath, p: int, wf: WaterfallResult, mt: Array, mp: Array,
    base_mp: Array,
) -> StressPathSummary:
    grid, spec = setup.grid, setup.spec
    tranches: list[StressTranche] = []
    for j, (sch, credit) in enumerate(zip(spec.tranches, tranche_credit(grid, spec, mt), strict=True)):
        tol = SHORTFALL_TOL * sch.size_usd
        ishort = wf.tranche["interest_shortfall_usd"][j, p]
        pshort = wf.tranche["principal_shortfall_usd"][j, p]
        owed = wf.tranche["principal_outstanding_usd"][j, p]
        lf = int(spec.legal_finals[j])
        tranches.append({
            **tranche_row(sch, periods_per_year=spec.periods_per_year),
            "legal_final_date": credit.legal_final_date,
            "defaulted": credit.defaulted,
            "default_date": credit.default_date,
            "loss": credit.loss,
            "first_shortfall_date": period_start_date(grid, _first((ishort > tol) | (pshort > tol))),
            "interest_shortfall_max_usd": float(ishort.max()),
            "interest_shortfall_end_usd": float(ishort[-1]),
            "principal_shortfall_max_usd": float(pshort.max()),
            "principal_unpaid_at_legal_final_usd": float(owed[lf]),
            "interest_unpaid_at_legal_final_usd": float(ishort[lf]),
            "unpaid_at_legal_final_usd": credit.unpaid_at_legal_final_usd,
            "recovered_after_legal_final_usd": credit.recovered_after_legal_final_usd,
            "wal_years": credit.wal_years,
            "min_dscr": finite_or_none(float(mt[j, T_MIN_DSCR])),
        })
    bench = path.benchmark_usd_per_bbl
    to_mdf = wf.path["to_mdf_usd"][p]
    loss, loss_pv = float(base_mp[P_MDF] - mp[P_MDF]), float(base_mp[P_MDF_PV] - mp[P_MDF_PV])
    lo = int(np.argmin(bench))
    return {
        "name": path.name,
        "kind": path.kind,
        "title": path.title,
        "source": path.source,
        "mode": path.mode,
        "scale_factor": path.scale_factor,
        "quarters": list(path.quarters),
        "replay_periods": path.replay_periods,
        "replay_start_date": grid.starts[path.replay_start_period].isoformat() if path.kind == "episode" else None,
        "deck_resumes_date": (period_end_date(grid, path.replay_start_period + path.replay_periods - 1)
                              if path.kind == "episode" and path.replay_periods else None),
        "benchmark_usd_per_bbl": {
            "first": float(bench[0]),
            "min": float(bench[lo]),
            "min_date": grid.starts[lo].isoformat(),
            "mean": float(bench.mean()),
        },
        "tranches": tranches,
        "event_of_default_date": period_start_date(grid, float(mp[P_EOD_AT])),
        "cash_trap_periods": int((wf.path["trapped_usd"][p] > CENT_HALF_USD).sum()),
        "min_dscr": finite_or_none(float(mp[P_MIN_DSCR])),
        "collections_usd": float(mp[P_COLL]),
        "pemex_capex_funding_usd": float(mp[P_GAP]),
        "hedge_net_usd": float(mp[P_HEDGE]),
        "mdf": {
            "inflows_usd": float(mp[P_MDF]),
            "inflows_pv_usd": float(mp[P_MDF_PV]),
            "loss_vs_base_usd": loss,
            "loss_vs_base_share": _share(loss, float(base_mp[P_MDF])),
            "loss_vs_base_pv_usd": loss_pv,
            "loss_vs_base_pv_share": _share(loss_pv, float(base_mp[P_MDF_PV])),
            "first_inflow_date": period_start_date(grid, _first(to_mdf > CENT_HALF_USD)),
        },
    }


def _document(setup: MonteCarloSetup, rows: list[StressPathSummary]) -> StressDocument:
    sc = setup.scenario
    lib = load_episodes()
    modes = sorted({r["mode"] for r in rows if r["mode"] is not None})
    return {
        "scenario": {**scenario_identity(sc), "benchmark": sc.price.benchmark},
        "naef_version": __version__,
        "run": {
            "kind": "stress",
            "modes": modes,
            "spot_usd_per_bbl": setup.spot_usd_per_bbl,
            "discount_rate": sc.scenario.discount_rate,
            "after_episode": "the scenario's deck resumes",
            "inputs": ("deterministic: the scenario's differential, gas deck, production, capex and costs; no field "
                       "uncertainty; hedges as in the scenario"),
            "dates": "the first day of the period in which the event happens",
        },
        "episodes_source": {k: lib.meta[k] for k in ("source", "source_url", "derivation", "unit") if k in lib.meta},
        "paths": rows,
        "paths_file": "stress_paths.csv",
    }


def _paths_table(setup: MonteCarloSetup, paths: Sequence[StressPath], coll: PathCollections,
                 wf: WaterfallResult) -> pd.DataFrame:
    """One row per path and period: benchmark, collections, DSCR, cash trapped, MDF inflows, event of default."""
    n = setup.grid.n
    starts = [d.isoformat() for d in setup.grid.starts]
    frames = []
    for p, path in enumerate(paths):
        frames.append(pd.DataFrame({
            "path": [path.name] * n,
            "period_start": starts,
            "benchmark_usd_per_bbl": path.benchmark_usd_per_bbl,
            "collections_usd": coll.collections_usd[p],
            "dscr": wf.path["dscr"][p],
            "trapped_usd": wf.path["trapped_usd"][p],
            "to_mdf_usd": wf.path["to_mdf_usd"][p],
            "event_of_default": wf.path["event_of_default"][p].astype(np.int64),
        }))
    return pd.concat(frames, ignore_index=True)
