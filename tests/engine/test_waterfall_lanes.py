"""The Monte Carlo's waterfall on ``LANES`` paths at once (``naef.engine.waterfall_lanes``) is, path by path and
bit for bit, the serial one (``waterfall_path``, not ``full``: itself held to the pure-Python oracle and its metric
accumulators to the metrics computed afterwards): the rows the per-path metrics and histograms read (funding gap,
collections, CFADS, DSCR, MDF inflows, event of default) and every tranche's accumulators. Paths of different
fortunes share a group — one repaid early by the trap sweep and settled, one in default with interest in
arrears, one without collections, one short of its fee — so a rule applied to the wrong lane, or a lane's select
taken the wrong way, shows; a group short of paths (the spare lanes repeat its first path) shows as well."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from naef.engine.credit import metric_arrays
from naef.engine.metric_kernels import N_ACC
from naef.engine.simulate import build_waterfall_spec, deterministic_inputs, grid_of, operations
from naef.engine.timegrid import TimeGrid
from naef.engine.waterfall import WaterfallSpec, spec_arrays
from naef.engine.waterfall_kernel import N_PATH_COLUMNS, N_TRANCHE_COLUMNS, waterfall_path, waterfall_setup
from naef.engine.waterfall_lanes import LANES, N_LANE_OUT, from_lanes, lane_scratch, to_lanes, waterfall_lanes
from naef.scenario.load import load_scenario
from naef.scenario.models import Scenario
from tests.engine.strategies import scenarios
from tests.engine.test_waterfall_oracle import SETTINGS, _multi_path

_ROWS = (3, 9, 10, 12, 24, 25)  # the rows waterfall_path writes when not ``full``


def _serial(spec: WaterfallSpec, grid: TimeGrid, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    ks = spec_arrays(spec)
    args = metric_arrays(grid=grid, spec=spec, discount_rate=0.1).as_kernel_args()
    grid_n = grid.n
    coll, capex, ex = _inputs(arrays)
    nt = ks[1].shape[0]  # type: ignore[attr-defined]
    wf = waterfall_setup(*ks)
    pouts = np.full((coll.shape[0], N_PATH_COLUMNS, grid_n), -7.0)
    accs = np.empty((coll.shape[0], nt, N_ACC))
    for p in range(coll.shape[0]):
        waterfall_path(wf, coll[p], capex[p], ex[p], pouts[p], np.empty((N_TRANCHE_COLUMNS, 0, 0)), False, accs[p],
                       *args[:3])
    return pouts[:, _ROWS], accs


def _lanes(spec: WaterfallSpec, grid: TimeGrid, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Every path through ``waterfall_lanes`` in groups of ``LANES`` (the last one padded as the kernel pads it)."""
    ks = spec_arrays(spec)
    args = metric_arrays(grid=grid, spec=spec, discount_rate=0.1).as_kernel_args()
    grid_n = grid.n
    coll, capex, ex = _inputs(arrays)
    n_paths, nt = coll.shape[0], ks[1].shape[0]  # type: ignore[attr-defined]
    wf = waterfall_setup(*ks)
    v, ts, lane_acc = lane_scratch(nt)
    lc, lk, lx = (np.full(grid_n * LANES, np.nan) for _ in range(3))
    out = np.full(N_LANE_OUT * grid_n * LANES, np.nan)
    pouts = np.full((n_paths, N_PATH_COLUMNS, grid_n), -7.0)
    accs = np.empty((n_paths, nt, N_ACC))
    for g in range(0, n_paths, LANES):
        m = min(LANES, n_paths - g)
        rows = np.array([g + k if k < m else g for k in range(LANES)])  # spare lanes: the first path again
        for paths, lanes in ((coll, lc), (capex, lk), (ex, lx)):
            to_lanes(np.ascontiguousarray(paths[rows]), lanes)
        waterfall_lanes(wf, lc, lk, lx, v, ts, lane_acc, out, *args[:3])
        for k in range(m):
            from_lanes(out, lane_acc, k, coll[g + k], pouts[g + k], accs[g + k])
    return pouts[:, _ROWS], accs


def _inputs(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.ascontiguousarray(arrays[k], dtype=np.float64)  # type: ignore[return-value]
                 for k in ("collections_usd", "capex_usd", "pledged_exports_usd"))


def _assert_same_bits(scenario: Scenario, spec: WaterfallSpec, arrays: dict[str, np.ndarray]) -> None:
    grid = grid_of(scenario)
    rows_s, acc_s = _serial(spec, grid, arrays)
    rows_l, acc_l = _lanes(spec, grid, arrays)
    for i, row in enumerate(_ROWS):
        same = rows_s[:, i].tobytes() == rows_l[:, i].tobytes()
        assert same, (row, np.argwhere(~((rows_s[:, i] == rows_l[:, i]) | np.isnan(rows_s[:, i])))[:3])
    assert acc_s.tobytes() == acc_l.tobytes()


@SETTINGS
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_lanes_are_the_serial_waterfall_on_random_scenarios(scenario: Scenario, seed: int) -> None:
    """Random scenarios (trap sweep or trap, reinvestment at any sign, grace, several classes, events of
    default) and paths: a full group and one of 6 paths in spare lanes."""
    spec, arrays = _multi_path(scenario, LANES + 6, seed)
    _assert_same_bits(scenario, spec, arrays)  # type: ignore[arg-type]


def _baseline_paths() -> tuple[Scenario, WaterfallSpec, dict[str, np.ndarray]]:
    scenario = load_scenario("baseline")
    grid = grid_of(scenario)
    ops = operations(scenario, grid, deterministic_inputs(scenario, grid))
    spec = build_waterfall_spec(scenario, grid, base_collections_usd=ops.collections_usd[0])
    scale = np.array([20.0, 5.0, 0.3, 1.0, 0.0, 0.9, 1.1, 0.6, 2.0, 0.05])
    collections = ops.collections_usd * scale[:, None]
    collections[1, 40] = 0.0  # settled, then a period without collections (the fee in arrears)
    collections[5, 30:34] = 0.0  # interest in arrears for more than the grace: an event of default
    collections[6, 25:] *= np.linspace(1.0, 0.0, grid.n - 25)  # running out
    k = collections.shape[0]
    arrays = {"collections_usd": collections, "capex_usd": np.repeat(ops.capex_usd, k, axis=0),
              "pledged_exports_usd": np.repeat(ops.pledged_exports_usd, k, axis=0)}
    return scenario, spec, arrays


def test_lanes_are_the_serial_waterfall_on_paths_that_settle_default_or_run_dry() -> None:
    scenario, spec, arrays = _baseline_paths()
    rows, _ = _serial(spec, grid_of(scenario), arrays)
    assert (rows[:, 5] > 0).any(axis=1)[[2, 5]].all()  # paths in default are in the group
    assert (rows[0, 4, 60:] > 0).all()  # the settled path pays the MDF to the end
    for sweep in (False, True):
        for reinvest in (0.0, 0.04):
            for rows_arrays in (arrays, {k: a[::-1] for k, a in arrays.items()}):  # each path in other lanes
                variant = dataclasses.replace(spec, trap_sweep=sweep, reinvestment_rate=reinvest)
                _assert_same_bits(scenario, variant, rows_arrays)


def test_a_path_gets_the_same_bits_in_any_lane_and_beside_any_paths() -> None:
    """One path alone in a group (the spare lanes repeat it), then in every lane of a group of other paths."""
    scenario, spec, arrays = _baseline_paths()
    grid = grid_of(scenario)
    one = {k: a[5:6] for k, a in arrays.items()}
    rows_one, acc_one = _lanes(spec, grid, one)
    others = {k: np.repeat(a, 7, axis=0)[:LANES] for k, a in arrays.items()}
    for lane in (0, 1, 17, LANES - 1):
        mixed = {k: a.copy() for k, a in others.items()}
        for k in mixed:
            mixed[k][lane] = one[k][0]
        rows, acc = _lanes(spec, grid, mixed)
        assert rows[lane].tobytes() == rows_one[0].tobytes()
        assert acc[lane].tobytes() == acc_one[0].tobytes()
