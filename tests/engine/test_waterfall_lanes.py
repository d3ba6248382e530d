"""The Monte Carlo's waterfall on ``LANES`` paths at once (``naef.engine.waterfall_lanes``) is, path by path and
bit for bit, the serial waterfall with every column kept (``waterfall_paths``, itself held to the pure-Python
oracle) followed by the per-path metrics computed from its whole buffers (``tranche_and_path_metrics``): the rows
the metrics and histograms read (funding gap, CFADS, DSCR, MDF inflows, event of default) and every tranche's and
path's metrics, taken in the lanes from the lanes' outputs and running accumulators
(``naef.engine.metric_lanes``).

Paths of different fortunes share a group — repaid early by the trap sweep and settled, in default with interest
in arrears, without collections, short of the trustee fee — so a rule applied to the wrong lane, or a lane's
select taken the wrong way, shows; so does a group short of paths (the spare lanes repeat its first path) and a
scratch state carried from one group to the next."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from naef.engine.credit import metric_arrays
from naef.engine.kernel import tranche_and_path_metrics, waterfall_paths
from naef.engine.metric_kernels import N_ACC
from naef.engine.metric_lanes import N_LANE_PATH, metrics_from_lanes, path_metrics_lanes
from naef.engine.metrics import N_METRICS_PATH, N_METRICS_TRANCHE
from naef.engine.path_kernels import debt_service_span
from naef.engine.simulate import build_waterfall_spec, deterministic_inputs, grid_of, operations
from naef.engine.timegrid import TimeGrid
from naef.engine.waterfall import WaterfallSpec, spec_arrays
from naef.engine.waterfall_kernel import (
    N_PATH_COLUMNS,
    N_TRANCHE_COLUMNS,
    SPEC_DEFAULT_GRACE,
    SPEC_ISSUE_PERIOD,
    SPEC_LEGAL_FINAL,
    SPEC_SIZE,
    waterfall_setup,
)
from naef.engine.waterfall_lanes import LANE_OUT_ROWS, LANES, N_LANE_OUT, lane_scratch, to_lanes, waterfall_lanes
from naef.scenario.load import load_scenario
from naef.scenario.models import Scenario
from tests.engine.strategies import scenarios
from tests.engine.test_waterfall_oracle import SETTINGS, _multi_path

Arrays = dict[str, np.ndarray]


def _inputs(arrays: Arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    coll, capex, ex = (np.ascontiguousarray(arrays[k], dtype=np.float64)
                       for k in ("collections_usd", "capex_usd", "pledged_exports_usd"))
    return coll, capex, ex


class _Run:
    """The rows and metrics of every path, the serial way and the lanes' way."""

    def __init__(self, spec: WaterfallSpec, grid: TimeGrid) -> None:
        self.ks = spec_arrays(spec)
        self.args = metric_arrays(grid=grid, spec=spec, discount_rate=0.1).as_kernel_args()
        self.n = grid.n
        self.nt = int(self.ks[SPEC_SIZE].shape[0])  # type: ignore[attr-defined]

    def serial(self, arrays: Arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``waterfall_paths`` and ``tranche_and_path_metrics`` path by path: the rows ``LANE_OUT_ROWS``, the
        tranches' and the paths' metrics."""
        coll, capex, ex = _inputs(arrays)
        k = coll.shape[0]
        pout = np.empty((k, N_PATH_COLUMNS, self.n))
        tout = np.empty((k, N_TRANCHE_COLUMNS, self.nt, self.n))
        waterfall_paths(self.ks, coll, capex, ex, pout, tout)
        mt, mp = np.zeros((k, self.nt, N_METRICS_TRANCHE)), np.zeros((k, N_METRICS_PATH))
        ks = self.ks
        for p in range(k):
            tranche_and_path_metrics(pout[p], tout[p], ks[SPEC_SIZE], ks[SPEC_ISSUE_PERIOD], ks[SPEC_LEGAL_FINAL],
                                     *self.args, ks[SPEC_DEFAULT_GRACE], mt[p], mp[p])
        return pout[:, LANE_OUT_ROWS], mt, mp

    def lanes(self, arrays: Arrays, scratch: tuple[np.ndarray, ...] | None = None,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every path through ``waterfall_lanes`` in groups of ``LANES``, padded as the kernel pads the last."""
        coll, capex, ex = _inputs(arrays)
        k, n, nt = coll.shape[0], self.n, self.nt
        wf = waterfall_setup(*self.ks)
        v, ts, lane_acc = lane_scratch(nt) if scratch is None else scratch
        lc, lk, lx = (np.full(n * LANES, np.nan) for _ in range(3))
        out = np.full(N_LANE_OUT * n * LANES, np.nan)
        lm = np.full((nt + N_LANE_PATH) * LANES, np.nan)  # stale from one group to the next, as in the kernel
        rows_out = np.full((k, N_LANE_OUT, n), -7.0)
        mt, mp = np.zeros((k, nt, N_METRICS_TRANCHE)), np.zeros((k, N_METRICS_PATH))
        own_ds, senior_ds, mdf_discount = self.args[3], self.args[4], self.args[5]
        span = debt_service_span(own_ds)
        for g in range(0, k, LANES):
            m = min(LANES, k - g)
            rows = np.array([g + i if i < m else g for i in range(LANES)])  # spare lanes: the first path again
            for paths, lanes in ((coll, lc), (capex, lk), (ex, lx)):
                to_lanes(np.ascontiguousarray(paths[rows]), lanes)
            waterfall_lanes(wf, lc, lk, lx, v, ts, lane_acc, out, *self.args[:3])
            path_metrics_lanes(out, lc, own_ds, senior_ds, span, mdf_discount, lm)
            rows_out[g:g + m] = out.reshape(N_LANE_OUT, n, LANES)[:, :, :m].transpose(2, 0, 1)
            for i in range(m):
                metrics_from_lanes(lm, lane_acc, i, self.ks[SPEC_SIZE], self.ks[SPEC_LEGAL_FINAL],
                                   self.args[1], self.args[2], np.full(N_ACC, np.nan), mt[g + i], mp[g + i])
        return rows_out, mt, mp


def _assert_same_bits(spec: WaterfallSpec, grid: TimeGrid, arrays: Arrays) -> tuple[np.ndarray, ...]:
    run = _Run(spec, grid)
    serial = run.serial(arrays)
    lanes = run.lanes(arrays)
    for i, row in enumerate(LANE_OUT_ROWS):
        a, b = serial[0][:, i], lanes[0][:, i]
        assert a.tobytes() == b.tobytes(), (row, np.argwhere(~((a == b) | (np.isnan(a) & np.isnan(b))))[:3])
    assert serial[1].tobytes() == lanes[1].tobytes(), "tranche metrics"
    assert serial[2].tobytes() == lanes[2].tobytes(), "path metrics"
    return serial


@SETTINGS
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_lanes_are_the_serial_waterfall_on_random_scenarios(scenario: Scenario, seed: int) -> None:
    """Random scenarios (trap sweep or trap, reinvestment at any sign, grace, several classes, events of
    default) and paths: a full group and one of 6 paths in spare lanes."""
    spec, arrays = _multi_path(scenario, LANES + 6, seed)
    _assert_same_bits(spec, grid_of(scenario), arrays)  # type: ignore[arg-type]


def _harsh_paths(scenario: Scenario, seed: int) -> tuple[WaterfallSpec, Arrays]:
    """65 to 127 paths far from the scenario's: collections scaled by a lognormal of spread 0.3 to 2 times 0.2 to
    30, dry spells, zero periods and whole paths without collections; capex 0 to 3 times, exports 0 to 2 times (so
    unspent proceeds are released and redeem notes, sweeps and traps fire in the same periods)."""
    grid = grid_of(scenario)
    ops = operations(scenario, grid, deterministic_inputs(scenario, grid))
    spec = build_waterfall_spec(scenario, grid, base_collections_usd=ops.collections_usd[0])
    rng = np.random.default_rng(seed)
    k = LANES + int(rng.integers(1, LANES))
    level = rng.choice([0.2, 1.0, 5.0, 30.0], size=(k, 1))
    scale = rng.lognormal(0.0, rng.choice([0.3, 1.0, 2.0]), size=(k, grid.n)) * level
    exports = ops.pledged_exports_usd * rng.uniform(0.0, 2.0, size=(k, 1))
    collections = np.maximum(ops.collections_usd - ops.pledged_exports_usd, 0.0) * scale + exports
    for p in range(k):
        if rng.random() < 0.4:
            start = int(rng.integers(0, grid.n))
            collections[p, start:start + int(rng.integers(1, 12))] = 0.0
        if rng.random() < 0.3:
            collections[p, rng.integers(0, grid.n, size=5)] = 0.0
        if rng.random() < 0.1:
            collections[p] = 0.0
    capex = ops.capex_usd * rng.uniform(0.0, 3.0, size=(k, 1))
    return spec, {"collections_usd": collections, "capex_usd": capex, "pledged_exports_usd": exports}


@SETTINGS
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_lanes_are_the_serial_waterfall_on_harsh_paths(scenario: Scenario, seed: int) -> None:
    spec, arrays = _harsh_paths(scenario, seed)
    _assert_same_bits(spec, grid_of(scenario), arrays)


def _baseline_paths(scenario: Scenario | None = None) -> tuple[WaterfallSpec, TimeGrid, Arrays]:
    """The baseline's collections × 20 and × 5 (repaid early by the trap sweep, then settled; the second with a
    period without collections after settling: the fee in arrears), × 0.3 and × 0.05 (in default), without
    collections, with four periods without them (interest in arrears beyond the grace), running dry, two with a
    drought after cash was trapped (the trap account drawn for debt service and for the fee, then released), and
    others."""
    scenario = load_scenario("baseline") if scenario is None else scenario
    grid = grid_of(scenario)
    ops = operations(scenario, grid, deterministic_inputs(scenario, grid))
    spec = build_waterfall_spec(scenario, grid, base_collections_usd=ops.collections_usd[0])
    scale = np.array([20.0, 5.0, 0.3, 1.0, 0.0, 0.9, 1.1, 0.6, 2.0, 0.05, 0.6, 0.6, 0.7])
    collections = ops.collections_usd * scale[:, None]
    collections[1, 40] = 0.0
    collections[5, 30:34] = 0.0
    collections[6, 25:] *= np.linspace(1.0, 0.0, grid.n - 25)
    # droughts after cash was trapped (without the sweep): the trap account pays debt service, then the fee, and
    # what is left of it is released once the test passes again
    collections[10, 45:50] *= 0.1
    collections[11, 45:50] = spec.trustee_fee_usd[45:50] * np.array([0.0, 0.3, 0.5, 0.71, 0.9])
    collections[12, 30:60:3] = 0.0  # single periods short of interest, each within the grace: no default
    k = collections.shape[0]
    arrays = {"collections_usd": collections, "capex_usd": np.repeat(ops.capex_usd, k, axis=0),
              "pledged_exports_usd": np.repeat(ops.pledged_exports_usd, k, axis=0)}
    return spec, grid, arrays


def test_lanes_are_the_serial_waterfall_on_paths_that_settle_default_or_run_dry() -> None:
    spec, grid, arrays = _baseline_paths()
    rows, mt, _ = _assert_same_bits(spec, grid, arrays)
    assert np.all(np.any(rows[[2, 5, 9], 4] > 0, axis=1))  # paths in default are in the group
    assert mt[[2, 9], :, 0].any()  # tranches in default on them
    assert (rows[0, 3, 60:] > 0).all()  # the settled path pays the MDF to the end
    for sweep, release_periods, reinvest in ((False, 1, 0.0), (False, 1, 0.04), (False, 3, 0.0), (True, 1, 0.0),
                                             (True, 1, 0.04)):
        variant = dataclasses.replace(spec, trap_sweep=sweep, release_periods=release_periods,
                                      reinvestment_rate=reinvest)
        for order in (arrays, {k: a[::-1] for k, a in arrays.items()}):  # each path in other lanes
            _assert_same_bits(variant, grid, order)


def test_a_junior_class_short_of_interest_is_no_default_while_the_senior_class_owes() -> None:
    """The senior class's last-listed tranche (A3) matures after three years, long before A1 and A2: from then on
    the class still owes through its earlier tranches, so a junior class (B) short of interest is no event of
    default (the most senior class with debt decides) — a lane that took "the class owes" from its last tranche
    alone would declare one. Some of the paths do leave B short while A1 and A2 are paid."""
    data = load_scenario("baseline").model_dump()
    data["tranches"][2].update(maturity_years=3, grace_years=0)
    spec, grid, arrays = _baseline_paths(Scenario.model_validate(data))
    rows, mt, _ = _assert_same_bits(spec, grid, arrays)
    b_short = mt[:, 3, 0] > 0  # tranche B in default on some paths ...
    assert b_short.any()
    assert (rows[b_short, 4].sum(axis=1) < rows.shape[2]).any()  # ... without a path event of default all along


def test_a_senior_tranche_in_grace_does_not_hide_a_class_mate_short_of_interest() -> None:
    """A1, listed first in the senior class, in grace for five years (its coupon paid from the capitalised interest
    account) while A2, after one year of grace, is short of interest in a drought: the senior class is short, an
    event of default — a lane that stopped looking through a class at its first tranche with debt would miss it."""
    data = load_scenario("baseline").model_dump()
    data["tranches"][0].update(grace_years=5)
    data["tranches"][1].update(grace_years=1)
    spec, grid, arrays = _baseline_paths(Scenario.model_validate(data))
    arrays["collections_usd"][:, 6:16] = 0.0
    rows, _, _ = _assert_same_bits(spec, grid, arrays)
    assert (rows[:, 4, 6:20] > 0).any()  # the drought is an event of default on some paths


def test_a_path_gets_the_same_bits_in_any_lane_beside_any_paths_after_any_group() -> None:
    """One path alone in a group (the spare lanes repeat it), then in several lanes of a group of other paths,
    with the scratch state left by a group of paths in default, repaid early or short of the fee."""
    spec, grid, arrays = _baseline_paths()
    run = _Run(spec, grid)
    one = {k: a[5:6] for k, a in arrays.items()}
    rows_one, mt_one, mp_one = run.lanes(one)
    others = {k: np.repeat(a, 7, axis=0)[:LANES] for k, a in arrays.items()}
    scratch = lane_scratch(run.nt)
    for lane in (0, 1, 17, LANES - 1):
        mixed = {k: a.copy() for k, a in others.items()}
        for k in mixed:
            mixed[k][lane] = one[k][0]
        rows, mt, mp = run.lanes(mixed, scratch)
        assert rows[lane].tobytes() == rows_one[0].tobytes()
        assert mt[lane].tobytes() == mt_one[0].tobytes()
        assert mp[lane].tobytes() == mp_one[0].tobytes()
    assert len({r.tobytes() for r in rows}) > 5  # the paths differ, so a leaked state or lane would show
