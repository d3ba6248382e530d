"""Monte Carlo over prices, production and costs: the whole chain on many paths, in chunks.

Random streams
    Paths are grouped in fixed blocks of :data:`BLOCK_PATHS` paths. Block ``b`` draws each component from its own
    generator, ``numpy.random.Generator(PCG64(SeedSequence(seed, spawn_key=(b, c))))`` with ``c`` = 0 for the
    price model, 1 for the differential and 2 for the fields (three standard normals and one uniform per field);
    the price and differential models draw period by period, so a longer horizon leaves every path's numbers of
    the first periods unchanged (and with them every tranche's figures up to its legal final). A chunk of any
    size draws the blocks it covers and keeps its rows, so every path sees the same numbers whatever
    ``chunk_size`` is, and since each path's arithmetic depends only on its own numbers, results are bit-identical
    for any chunk size (and any number of threads or workers).

Per-field uncertainty (``[uncertainty]``)
    For field ``f`` of reference class ``k`` (its ``kind``) on each path: initial rate × ``exp(σq,k Z1)``,
    reserves × ``exp(σR,k Z2)``, capex × ``m_k exp(σc,k Z3)`` (a log-normal overrun with median ``m_k``), and
    first production delayed by ``d`` whole years with probability ``p_k,d`` (inverse-CDF of one uniform).
    Defaults by class ship in ``naef/data/uncertainty.toml`` with their sources; a scenario overrides any key.

Per-path results (definitions)
    Each tranche's risk horizon ends at its legal final period ``L`` (as rating agencies' cash-flow models end):
    * a tranche **defaults** when its interest stays unpaid for more than ``triggers.default_grace_periods``
      consecutive periods up to ``L``, or when principal or interest is still owed at the end of ``L``;
    * its **loss** is the present value at its coupon of what was promised and not received by ``L``, as a share
      of its size: ``1 - Σ_{t <= L} (interest_t + principal_t) v^(t + 1 - t_issue) / size`` with
      ``v = 1 / (1 + coupon / ppy)`` (promised flows are worth ``size`` at the coupon; default interest received
      by ``L`` counts, so a loss below 0 is 0);
    * **unpaid at the legal final**: principal and interest still owed at the end of ``L`` (US$), and
      **recovered after the legal final**: what is paid after ``L`` (US$, nominal), reported, never netted;
    * **WAL**: years from issue to each principal payment up to ``L``, weighted by principal paid, with the
      principal unpaid at ``L`` counted at ``L``;
    * **minimum DSCR**: the smallest CFADS over the scheduled debt service of the tranche's class and every more
      senior class, over the periods the tranche has debt service due;
    * MDF inflows nominal and at the scenario's discount rate.

Statistics (``naef.analysis``)
    PD and EL are means over paths with Monte Carlo standard errors (``naef.analysis.ratings``); quantiles of
    per-path results are exact (order statistics of all paths, ``numpy.quantile``, linear) when every path's
    metrics are kept, and within 0.1 % of them when they are streamed (``naef.engine.path_stats``). Percentiles
    by period (``percentiles.csv``) come from fixed-bin histograms merged by adding integer counts (exact merge,
    resolution one bin: see :data:`N_BINS` and ``hist_ranges``).
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from naef.engine.credit import metric_arrays
from naef.engine.kernel import collections_path, monte_carlo_kernel, originator_rows
from naef.engine.mc_types import ChunkResult, FieldUncertainty, MonteCarloSetup, PathCollections
from naef.engine.metrics import (
    BLOCK_PATHS,
    HIST_VARIABLES,
    N_BINS,
    N_METRICS_PATH,
    N_METRICS_TRANCHE,
    P_MDF_PV,
)
from naef.engine.montecarlo_reference import run_chunk_reference
from naef.engine.originator import default_periods, originator_terms
from naef.engine.prices import deck_prices
from naef.engine.production import arps_cumulative
from naef.engine.results import build_table
from naef.engine.run_arguments import MonteCarloError, check_run_arguments
from naef.engine.simulate import (
    PathInputs,
    _jan1,
    build_waterfall_spec,
    deterministic_inputs,
    field_capex_usd,
    grid_of,
    hedge_plan_of,
    operations,
    pledged_bbl,
)
from naef.engine.timegrid import TimeGrid
from naef.engine.waterfall import run_waterfall, spec_arrays
from naef.resources import read_data_text
from naef.scenario.fiscal import duty_rates
from naef.scenario.models import Scenario
from naef.scenario.price_models import BlockBootstrap

__all__ = [
    "EngineName",
    "deterministic_setup_inputs",
    "draw_inputs",
    "draw_random_numbers",
    "inputs_from_draws",
    "lane_histograms",
    "mdf_inflows_by_year",
    "median_path",
    "monte_carlo_collections",
    "path_table",
    "prepare",
    "replace_hedges",
    "resolve_uncertainty",
    "run_chunk",
]

Array = NDArray[np.float64]
EngineName = Literal["vector", "reference"]

_KINDS = ("deepwater", "shallow_water", "onshore", "gas", "other")
_UNCERTAINTY_KEYS = ("qi_sigma", "reserves_sigma", "capex_overrun_median", "capex_overrun_sigma",
                     "delay_year_probabilities")


def default_uncertainty() -> dict[str, dict[str, Any]]:
    """The shipped per-class defaults (``naef/data/uncertainty.toml``)."""
    text = read_data_text("uncertainty.toml")
    classes: dict[str, dict[str, Any]] = tomllib.loads(text)["classes"]
    return classes


def resolve_uncertainty(scenario: Scenario) -> FieldUncertainty:
    """Each field's uncertainty: its class's shipped defaults overridden by the scenario's ``[uncertainty]``."""
    nf = len(scenario.fields)
    if not scenario.uncertainty.fields:
        return FieldUncertainty(np.zeros(nf), np.zeros(nf), np.ones(nf), np.zeros(nf), np.ones((nf, 1)))
    defaults = default_uncertainty()
    rows = []
    for f in scenario.fields:
        merged = dict(defaults[f.kind])
        override = scenario.uncertainty.classes.get(f.kind)
        if override is not None:
            merged.update({k: v for k, v in override.model_dump().items() if v is not None})
        rows.append(merged)
    width = max(len(r["delay_year_probabilities"]) for r in rows)
    cdf = np.ones((nf, width))
    for i, r in enumerate(rows):
        c = np.cumsum(np.asarray(r["delay_year_probabilities"], dtype=np.float64))
        cdf[i, : c.size] = c
        cdf[i, c.size - 1 :] = 1.0
    return FieldUncertainty(
        qi_sigma=np.array([r["qi_sigma"] for r in rows], dtype=np.float64),
        reserves_sigma=np.array([r["reserves_sigma"] for r in rows], dtype=np.float64),
        capex_median=np.array([r["capex_overrun_median"] for r in rows], dtype=np.float64),
        capex_sigma=np.array([r["capex_overrun_sigma"] for r in rows], dtype=np.float64),
        delay_cdf=cdf,
    )


def _unit_cumulative(scenario: Scenario, grid: TimeGrid, max_delay_years: int) -> Array:
    """Arps cumulative for a unit initial rate at the end of each period (fields, delay years + 1, periods)."""
    n, ppy = grid.n, grid.periods_per_year
    cum_end = np.cumsum(grid.days)
    cum_start = cum_end - grid.days
    out = np.zeros((len(scenario.fields), max_delay_years + 1, n))
    for i, f in enumerate(scenario.fields):
        first0 = grid.period_of(max(grid.start, _jan1(f.first_production_year)))
        for d in range(max_delay_years + 1):
            first = first0 + d * ppy
            if first >= n:
                continue
            elapsed = np.maximum(cum_end - cum_start[first], 0.0)
            out[i, d] = arps_cumulative(qi=1.0, di_per_year=f.decline.di, b=f.decline.b_exponent, t_days=elapsed)
    return out


def prepare(scenario: Scenario) -> MonteCarloSetup:
    """Build the path-independent part of a Monte Carlo run of ``scenario``."""
    grid = grid_of(scenario)
    n = grid.n
    hedge = hedge_plan_of(scenario, grid)
    det = operations(scenario, grid, deterministic_inputs(scenario, grid), hedge)
    spec = build_waterfall_spec(scenario, grid, base_collections_usd=det.collections_usd[0],
                                hedge_premium_from_proceeds_usd=hedge.premium_from_proceeds_usd)
    unc = resolve_uncertainty(scenario)
    oil_rate, gas_rate = duty_rates(regime=scenario.fiscal.regime, rate_on_value=scenario.fiscal.rate_on_value,
                                    gas_rate_on_value=scenario.fiscal.gas_rate_on_value)
    gp = scenario.gas_price
    gas = (deck_prices(deck=gp.deck, decimal_years=grid.mid_decimal_year) if gp is not None else np.zeros(n))
    pledged = pledged_bbl(scenario, grid)
    fields = scenario.fields
    kernel_fields = (
        np.ascontiguousarray(gas),
        _unit_cumulative(scenario, grid, unc.max_delay_years),
        np.array([f.initial_rate_per_day for f in fields]),
        np.array([f.reserves_units for f in fields]),
        np.array([f.product == "oil" for f in fields]),
        np.array([f.opex_usd_per_unit for f in fields]),
        np.array([f.shut_in for f in fields], dtype=np.bool_),
        np.ascontiguousarray(field_capex_usd(scenario, grid)),
        float(gp.heat_content_mmbtu_per_mcf if gp is not None else 1.0),
        float(gp.differential_usd_per_mmbtu if gp is not None else 0.0),
        float(oil_rate),
        float(gas_rate),
        np.ascontiguousarray(pledged),
        hedge.notional_bbl,
        hedge.put_strike_usd_per_bbl,
        hedge.call_strike_usd_per_bbl,
        hedge.premium_from_collections_usd,
        np.ascontiguousarray(grid.days, dtype=np.float64),
    )
    kernel_metrics = metric_arrays(grid=grid, spec=spec,
                                   discount_rate=scenario.scenario.discount_rate).as_kernel_args()
    top = max(float(det.collections_usd.max()), 1.0) * 10.0
    boe = det.oil_bbl[0] + det.gas_mcf[0] / 6.0
    top_boe = max(float((boe / grid.days).max()), 1.0) * 5.0
    hist_hi = np.array([500.0, top, 10.0, top, top_boe])
    hist_lo = np.zeros(len(HIST_VARIABLES))
    start = scenario.scenario.start
    spot = float(deck_prices(deck=scenario.price.deck,
                             decimal_years=np.array([start.year + (start.month - 1) / 12.0]))[0])
    model = scenario.price.stochastic
    if model is not None and not spot > 0.0:
        raise MonteCarloError(
            f"price.stochastic: a log-price model starts from the deck's price at the start, which is {spot} "
            "(it must be > 0)"
        )
    if model is not None and model.model == "bootstrap":
        times = grid.t_end_years.copy()
    else:
        times = 0.5 * (grid.t_start_years + grid.t_end_years)
    return MonteCarloSetup(
        scenario=scenario, grid=grid, spec=spec, hedge=hedge, deterministic=det, uncertainty=unc,
        price_times_years=times, spot_usd_per_bbl=spot, kernel_fields=kernel_fields,
        kernel_spec=spec_arrays(spec), kernel_metrics=kernel_metrics, hist_lo=hist_lo,
        hist_width=(hist_hi - hist_lo) / N_BINS,
    )


# ------------------------------------------------------------------------------------------------ random inputs


@dataclass(frozen=True)
class _BlockDraws:
    price: Array | None
    differential: Array | None
    normals: Array  # (3, fields, paths)
    uniforms: Array  # (fields, paths)
    originator: Array  # (paths,): the uniform of the originator's default time


#: the random streams of a block: one child generator per component, so that no component's draws depend on
#: another's size (a longer horizon draws more prices, and leaves the fields' numbers unchanged)
_STREAM_PRICE, _STREAM_DIFFERENTIAL, _STREAM_FIELDS, _STREAM_ORIGINATOR = range(4)


def _block_generator(seed: int, block: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block, stream))))


def _draw_block(setup: MonteCarloSetup, seed: int, block: int) -> _BlockDraws:
    price = setup.scenario.price
    t = setup.price_times_years
    nf = len(setup.scenario.fields)
    p = (price.stochastic.draw(times_years=t, n_paths=BLOCK_PATHS, rng=_block_generator(seed, block, _STREAM_PRICE))
         if price.stochastic is not None else None)
    d = (price.stochastic_differential.draw(times_years=t, n_paths=BLOCK_PATHS,
                                            rng=_block_generator(seed, block, _STREAM_DIFFERENTIAL))
         if price.stochastic_differential is not None else None)
    if setup.scenario.uncertainty.fields:
        rng = _block_generator(seed, block, _STREAM_FIELDS)
        normals = rng.standard_normal((3, nf, BLOCK_PATHS))
        uniforms = rng.random((nf, BLOCK_PATHS))
    else:
        normals = np.zeros((3, nf, BLOCK_PATHS))
        uniforms = np.zeros((nf, BLOCK_PATHS))
    originator = _block_generator(seed, block, _STREAM_ORIGINATOR).random(BLOCK_PATHS)
    return _BlockDraws(p, d, normals, uniforms, originator)


#: the axis along paths of each of ``_BlockDraws``'s arrays, in field order
_PATH_AXES = (0, 0, 2, 1, 0)


def draw_random_numbers(setup: MonteCarloSetup, *, seed: int, first_path: int, n_paths: int) -> _BlockDraws:
    """The random numbers of paths ``first_path .. first_path + n_paths - 1`` (the Monte Carlo's floor): each
    block's rows copied into the chunk's arrays as soon as it is drawn, so one block's draws are in memory at a
    time (and its freed buffers are reused, still in cache, by the next block's)."""
    if n_paths < 1 or first_path < 0:
        raise MonteCarloError(f"draw_random_numbers: n_paths must be at least 1 and first_path not negative (got "
                              f"{n_paths} and {first_path})")
    last = first_path + n_paths
    out: list[Array | None] = []
    for b in range(first_path // BLOCK_PATHS, (last - 1) // BLOCK_PATHS + 1):
        lo = max(first_path - b * BLOCK_PATHS, 0)
        hi = min(last - b * BLOCK_PATHS, BLOCK_PATHS)
        at = b * BLOCK_PATHS + lo - first_path
        blk = _draw_block(setup, seed, b)
        parts = (blk.price, blk.differential, blk.normals, blk.uniforms, blk.originator)
        if not out:
            out = [None if x is None else np.empty((*x.shape[:axis], n_paths, *x.shape[axis + 1:]))
                   for x, axis in zip(parts, _PATH_AXES, strict=True)]
        for x, axis, dest in zip(parts, _PATH_AXES, out, strict=True):
            if x is not None and dest is not None:
                dest[(slice(None),) * axis + (slice(at, at + hi - lo),)] = x[(slice(None),) * axis + (slice(lo, hi),)]
        del blk, parts
    price, differential, normals, uniforms, originator = out
    assert normals is not None
    assert uniforms is not None
    assert originator is not None
    return _BlockDraws(price, differential, normals, uniforms, originator)


def _delay_years(delay_cdf: Array, uniforms: Array) -> NDArray[np.int64]:
    """Inverse CDF of each field's delay (fields, paths): the number of the field's CDF values <= its uniform.

    That count is ``searchsorted(cdf, u, side="right")`` whenever the values <= u come before the others (each row
    is a cumulative sum of probabilities >= 0, with its tail set to 1 > u); counted with one vectorised comparison
    per CDF column over every field and path at once, instead of one binary search per field."""
    counts = np.zeros(uniforms.shape, dtype=np.int64)
    at_or_below = np.empty(uniforms.shape, dtype=np.bool_)
    for j in range(delay_cdf.shape[1]):
        np.greater_equal(uniforms, delay_cdf[:, j : j + 1], out=at_or_below)
        counts += at_or_below
    return counts


def inputs_from_draws(setup: MonteCarloSetup, draws: _BlockDraws, n_paths: int) -> PathInputs:
    """Prices and field multipliers of a chunk of paths from its random numbers."""
    sc, grid = setup.scenario, setup.grid
    t = setup.price_times_years
    model = sc.price.stochastic
    if model is not None:
        assert draws.price is not None
        bench = model.simulate_from_draws(spot_usd_per_bbl=setup.spot_usd_per_bbl, times_years=t,
                                          draws=draws.price)
    else:
        bench = np.broadcast_to(deck_prices(deck=sc.price.deck, decimal_years=grid.mid_decimal_year),
                                (n_paths, grid.n)).copy()
    dmodel = sc.price.stochastic_differential
    if dmodel is not None:
        assert draws.differential is not None
        shocks = None
        if getattr(dmodel, "rho", 0.0) != 0.0 and model is not None and not isinstance(model, BlockBootstrap):
            assert draws.price is not None
            shocks = model.log_price_shocks(draws.price)
        diff = dmodel.simulate_from_draws(times_years=t, draws=draws.differential, benchmark_shocks=shocks)
    else:  # the same for every path: a read-only view, no (paths, periods) copy
        diff = np.broadcast_to(np.full(grid.n, sc.price.differential_usd_per_bbl), (n_paths, grid.n))
    gas = setup.kernel_fields[0]
    u = setup.uncertainty
    z = draws.normals
    delay_years = _delay_years(u.delay_cdf, draws.uniforms)
    np.minimum(delay_years, u.max_delay_years, out=delay_years)
    return PathInputs(
        benchmark_usd_per_bbl=np.ascontiguousarray(bench),
        differential_usd_per_bbl=diff,
        gas_usd_per_mmbtu=np.broadcast_to(gas, (n_paths, grid.n)),
        qi_multiplier=np.exp(u.qi_sigma[:, None] * z[0]),
        reserves_multiplier=np.exp(u.reserves_sigma[:, None] * z[1]),
        delay_periods=delay_years * grid.periods_per_year,
        capex_multiplier=u.capex_median[:, None] * np.exp(u.capex_sigma[:, None] * z[2]),
        originator_default_period=(default_periods(sc.originator.rating, grid.t_end_years, draws.originator)
                                   if sc.uncertainty.originator else None),
    )


def draw_inputs(setup: MonteCarloSetup, *, seed: int, first_path: int, n_paths: int) -> PathInputs:
    """The inputs of paths ``first_path .. first_path + n_paths - 1`` (independent of how paths are chunked)."""
    return inputs_from_draws(setup, draw_random_numbers(setup, seed=seed, first_path=first_path,
                                                        n_paths=n_paths), n_paths)


# ------------------------------------------------------------------------------------------------ running chunks


def lane_histograms(setup: MonteCarloSetup, threads: int | None = None) -> NDArray[np.int32]:
    """Zeroed per-lane histogram counts for :func:`run_chunk` to add into: (lanes, 5, periods, N_BINS + 2), the
    variables of ``HIST_VARIABLES``."""
    import numba

    lanes = max(1, threads or numba.get_num_threads())
    return np.zeros((lanes, len(HIST_VARIABLES), setup.grid.n, N_BINS + 2), dtype=np.int32)


#: held around the kernel's parallel region while Numba's threading layer may be ``workqueue`` (the one Numba falls
#: back to where neither TBB nor OpenMP loads, or when asked to): it is not thread-safe, and two Python threads
#: entering a parallel region at once abort the whole process ("Concurrent access has been detected"). OpenMP and
#: TBB take concurrent launches, so once the layer is known to be one of them nothing is held.
_WORKQUEUE_LOCK = threading.Lock()


def _launch_guard() -> AbstractContextManager[object]:
    """The lock while the threading layer is ``workqueue`` or not yet chosen (it is chosen at the process's first
    parallel launch), else nothing (Numba, "The Threading Layers": only ``tbb`` and ``omp`` are thread-safe)."""
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel region has run in this process yet
        return _WORKQUEUE_LOCK
    return _WORKQUEUE_LOCK if layer == "workqueue" else nullcontext()


@contextmanager
def _kernel_threads(lanes: int) -> Iterator[None]:
    """The kernel's parallel region on at most ``lanes`` threads (and no more than this thread's Numba setting):
    with one lane, one thread runs it and no other is woken to wait at its barrier (measured on a loaded 2-core
    machine: 8 % less wall time for a one-thread run). Numba's setting is per calling thread; restored after. Under
    :func:`_launch_guard`, so that threads calling :func:`run_chunk` at once cannot abort the process."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(lanes, before)))
    try:
        with _launch_guard():
            yield
    finally:
        numba.set_num_threads(before)


def _path_rows(a: Array) -> Array:
    """A (paths, periods) input as the kernel reads it: one row when every path has the same (a broadcast view,
    stride 0 over paths: no (paths, periods) copy is made), else the paths' rows, C-contiguous."""
    return np.ascontiguousarray(a[:1] if a.strides[0] == 0 else a)


def _field_multipliers(setup: MonteCarloSetup, inputs: PathInputs) -> tuple[Array, Array, NDArray[np.int64], Array]:
    """The per-field draws as the kernel reads them, C-contiguous (fields, paths): initial-rate and reserves
    multipliers, delay in whole years, capex multiplier."""
    return (np.ascontiguousarray(inputs.qi_multiplier), np.ascontiguousarray(inputs.reserves_multiplier),
            np.ascontiguousarray(inputs.delay_periods // setup.grid.periods_per_year),
            np.ascontiguousarray(inputs.capex_multiplier))


def _check_out(out: tuple[Array, Array], n_paths: int, n_tranches: int) -> None:
    """``run_chunk``'s ``out``: float64, writable, C-contiguous, the chunk's shapes, the two arrays apart (an
    int or float32 array would truncate the metrics, overlapping views would overwrite each other's rows)."""
    mt, mp = out
    if (mt.dtype != np.float64 or mp.dtype != np.float64
            or mt.shape != (n_paths, n_tranches, N_METRICS_TRANCHE) or mp.shape != (n_paths, N_METRICS_PATH)
            or not (mt.flags.c_contiguous and mp.flags.c_contiguous)
            or not (mt.flags.writeable and mp.flags.writeable) or np.shares_memory(mt, mp)):
        raise MonteCarloError("run_chunk: out must be writable, C-contiguous, separate float64 arrays of the "
                              "chunk's per-path metrics")


def _check_inputs(setup: MonteCarloSetup, inputs: PathInputs) -> None:
    """``run_chunk``'s ``inputs``: the shapes the setup's scenario gives (the compiled kernel does not check bounds,
    so a short array would be read past its end) and delays within the setup's table of unit cumulatives."""
    n, nf = setup.grid.n, len(setup.scenario.fields)
    bench_shape = np.shape(inputs.benchmark_usd_per_bbl)
    if len(bench_shape) != 2 or bench_shape[1] != n:
        raise MonteCarloError(f"run_chunk: inputs.benchmark_usd_per_bbl has shape {bench_shape}, expected (paths, {n}) "
                              "(the setup's periods)")
    n_paths = bench_shape[0]
    shapes: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = [
        ("differential_usd_per_bbl", np.shape(inputs.differential_usd_per_bbl), (n_paths, n)),
        ("qi_multiplier", np.shape(inputs.qi_multiplier), (nf, n_paths)),
        ("reserves_multiplier", np.shape(inputs.reserves_multiplier), (nf, n_paths)),
        ("delay_periods", np.shape(inputs.delay_periods), (nf, n_paths)),
        ("capex_multiplier", np.shape(inputs.capex_multiplier), (nf, n_paths)),
    ]
    if inputs.originator_default_period is not None:
        shapes.append(("originator_default_period", np.shape(inputs.originator_default_period), (n_paths,)))
    for name, got, want in shapes:
        if got != want:
            raise MonteCarloError(f"run_chunk: inputs.{name} has shape {got}, expected {want} (paths, periods and "
                                  "fields of the setup)")
    delays = np.asarray(inputs.delay_periods) // setup.grid.periods_per_year
    if delays.size and (delays.min() < 0 or delays.max() > setup.uncertainty.max_delay_years):
        raise MonteCarloError(f"run_chunk: inputs.delay_periods must be 0 to {setup.uncertainty.max_delay_years} "
                              f"years of periods, got {int(delays.min())} to {int(delays.max())} years")


def run_chunk(setup: MonteCarloSetup, inputs: PathInputs, *, engine: EngineName = "vector",
              threads: int | None = None, lanes_hist: NDArray[np.int32] | None = None,
              out: tuple[Array, Array] | None = None) -> ChunkResult:
    """The whole chain on a chunk of paths: the compiled kernel, or the pure-Python oracle.

    ``lanes_hist`` (from :func:`lane_histograms`) accumulates the histogram counts across chunks without a new
    allocation per chunk; the result's ``hist`` is then empty and the caller sums the lanes at the end.
    ``out``: writable, C-contiguous, non-overlapping float64 (paths, tranches, N_METRICS_TRANCHE) and (paths,
    N_METRICS_PATH) arrays the per-path metrics are written into (a run's rows of this chunk: no chunk-sized
    arrays, no copy into the run's); the result holds them (:func:`_check_out`).
    """
    _check_inputs(setup, inputs)
    n_paths, n = inputs.benchmark_usd_per_bbl.shape
    if out is not None:
        _check_out(out, n_paths, setup.n_tranches)
    if engine == "reference":
        res = run_chunk_reference(setup, inputs)
        if lanes_hist is not None:
            lanes_hist[0] += res.hist.astype(np.int32)
        if out is not None:
            out[0][...] = res.metrics_tranche
            out[1][...] = res.metrics_path
            res = ChunkResult(out[0], out[1], res.hist)
        return res
    own = lanes_hist is None
    hist = lane_histograms(setup, threads) if lanes_hist is None else lanes_hist
    lanes = int(hist.shape[0])
    if out is None:
        mt = np.empty((n_paths, setup.n_tranches, N_METRICS_TRANCHE))
        mp = np.empty((n_paths, N_METRICS_PATH))
    else:
        mt, mp = out
    default_at, continuity, exports_after = originator_terms(setup.scenario, inputs.originator_default_period,
                                                             n_paths, n)
    with _kernel_threads(lanes):
        monte_carlo_kernel(
            np.ascontiguousarray(inputs.benchmark_usd_per_bbl), _path_rows(inputs.differential_usd_per_bbl),
            *_field_multipliers(setup, inputs), default_at, continuity, exports_after, setup.kernel_fields,
            setup.kernel_spec, setup.kernel_metrics, setup.hist_lo, 1.0 / setup.hist_width, N_BINS, lanes, mt, mp,
            hist,
        )
    summed = (hist.sum(axis=0, dtype=np.int64) if own
              else np.zeros((len(HIST_VARIABLES), n, N_BINS + 2), dtype=np.int64))
    return ChunkResult(mt, mp, summed)


def monte_carlo_collections(setup: MonteCarloSetup, inputs: PathInputs) -> PathCollections:
    """Collections as the Monte Carlo computes them (``naef.engine.kernel.collections_path``, the same compiled
    function, arguments and order of arithmetic as ``naef.engine.montecarlo.run_chunk``)."""
    f = setup.kernel_fields
    k, n = inputs.benchmark_usd_per_bbl.shape
    bench = np.ascontiguousarray(inputs.benchmark_usd_per_bbl)
    diff = _path_rows(inputs.differential_usd_per_bbl)
    qi_mult, res_mult, delay_years, capex_mult = _field_multipliers(setup, inputs)
    default_at, continuity, exports_after = originator_terms(setup.scenario, inputs.originator_default_period, k, n)
    coll, capex, exports = np.empty((k, n)), np.empty((k, n)), np.empty((k, n))
    boe = np.empty((k, n))
    hedge = np.empty(k)
    prod_mult, export_mult = np.empty(n), np.empty(n)
    for p in range(k):
        originator_rows(int(default_at[p]), continuity, exports_after, prod_mult, export_mult)
        hedge[p] = collections_path(
            f, bench[p], diff[p if diff.shape[0] > 1 else 0], qi_mult[:, p], res_mult[:, p], delay_years[:, p],
            capex_mult[:, p], prod_mult, export_mult, coll[p], capex[p], exports[p], boe[p],
        )
    return PathCollections(collections_usd=coll, capex_usd=capex, pledged_exports_usd=exports, hedge_net_usd=hedge,
                           production_boe_per_day=boe)


def mdf_inflows_by_year(
    setup: MonteCarloSetup, *, n_paths: int, seed: int, chunk_size: int = 2_000
) -> tuple[list[int], Array]:
    """Each path's MDF inflows summed by calendar year: (years, array (paths, years)), US$. The same paths as a
    Monte Carlo run with this seed (the kernel's collections and the same compiled waterfall), kept whole."""
    check_run_arguments(n_paths=n_paths, seed=seed, chunk_size=chunk_size)
    years = sorted({d.year for d in setup.grid.starts})
    col = np.array([years.index(d.year) for d in setup.grid.starts])
    out = np.zeros((n_paths, len(years)))
    for first in range(0, n_paths, chunk_size):
        m = min(chunk_size, n_paths - first)
        inputs = draw_inputs(setup, seed=seed, first_path=first, n_paths=m)
        coll = monte_carlo_collections(setup, inputs)
        wf = run_waterfall(setup.spec, collections_usd=coll.collections_usd, capex_usd=coll.capex_usd,
                           pledged_exports_usd=coll.pledged_exports_usd)
        to_mdf = wf.path["to_mdf_usd"]
        for y in range(len(years)):
            out[first : first + m, y] = to_mdf[:, col == y].sum(axis=1)
    return years, out


# ------------------------------------------------------------------------------------- run arguments, single paths


def median_path(metrics_path: Array) -> int:
    """Index of the path whose MDF inflows (present value) are the median of the run's (the "P50 path"; the lower
    middle one for an even number of paths, ties by path index)."""
    order = np.argsort(metrics_path[:, P_MDF_PV], kind="stable")
    return int(order[(order.size - 1) // 2])


def path_table(setup: MonteCarloSetup, *, seed: int, path: int) -> pd.DataFrame:
    """The per-period cash flows of one Monte Carlo path (the columns of the deterministic ``cashflows.csv``),
    recomputed from its random numbers: the same inputs as in the run with ``seed``."""
    inputs = draw_inputs(setup, seed=seed, first_path=path, n_paths=1)
    ops = operations(setup.scenario, setup.grid, inputs, setup.hedge)
    wf = run_waterfall(setup.spec, collections_usd=ops.collections_usd, capex_usd=ops.capex_usd,
                       pledged_exports_usd=ops.pledged_exports_usd)
    return build_table(setup.scenario, setup.grid, setup.spec, ops, wf, inputs)


def replace_hedges(scenario: Scenario) -> Scenario:
    """The scenario without its hedges."""
    return scenario.model_copy(update={"hedges": ()})


def deterministic_setup_inputs(setup: MonteCarloSetup, benchmark_usd_per_bbl: Array) -> PathInputs:
    """Inputs with the given benchmark paths (paths, periods), the scenario's differential and gas deck (read-only
    views, the same row for every path) and no field uncertainty (stress replays, breakevens)."""
    base = deterministic_inputs(setup.scenario, setup.grid)
    k = benchmark_usd_per_bbl.shape[0]
    nf = len(setup.scenario.fields)
    return replace(
        base,
        benchmark_usd_per_bbl=np.ascontiguousarray(benchmark_usd_per_bbl, dtype=np.float64),
        differential_usd_per_bbl=np.broadcast_to(base.differential_usd_per_bbl, (k, setup.grid.n)),
        gas_usd_per_mmbtu=np.broadcast_to(base.gas_usd_per_mmbtu, (k, setup.grid.n)),
        qi_multiplier=np.ones((nf, k)),
        reserves_multiplier=np.ones((nf, k)),
        delay_periods=np.zeros((nf, k), dtype=np.int64),
        capex_multiplier=np.ones((nf, k)),
    )
