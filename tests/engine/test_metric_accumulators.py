"""The Monte Carlo's per-path metrics accumulated inside the waterfall (``waterfall_path`` with ``full`` false,
``naef.engine.metric_kernels``) are bit for bit those computed afterwards from the whole buffers
(``tranche_and_path_metrics``, itself held to the oracle by the Monte Carlo tests), on random scenarios and paths
and on paths that settle early (the quiet periods the waterfall skips)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from naef.engine.credit import metric_arrays
from naef.engine.kernel import tranche_and_path_metrics, waterfall_path, waterfall_paths
from naef.engine.metric_kernels import N_ACC
from naef.engine.metrics import N_METRICS_PATH, N_METRICS_TRANCHE
from naef.engine.path_kernels import debt_service_span, metrics_from_accumulators
from naef.engine.simulate import build_waterfall_spec, deterministic_inputs, grid_of, operations
from naef.engine.timegrid import TimeGrid
from naef.engine.waterfall import spec_arrays
from naef.engine.waterfall_kernel import waterfall_setup
from naef.scenario.models import Scenario
from tests.engine.strategies import scenarios
from tests.engine.test_waterfall_oracle import SETTINGS, _multi_path

_SPEC_SIZE, _SPEC_ISSUE, _SPEC_LEGAL_FINAL, _SPEC_DEFAULT_GRACE = 1, 0, 5, 24


def _both_ways(spec: object, grid: TimeGrid, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Per-path metrics (tranche rows, path row) of every path, computed inside the waterfall and afterwards."""
    ks = spec_arrays(spec)  # type: ignore[arg-type]
    grid_n = grid.n
    args = metric_arrays(grid=grid, spec=spec, discount_rate=0.1).as_kernel_args()  # type: ignore[arg-type]
    coll, capex, ex = (np.ascontiguousarray(arrays[k]) for k in ("collections_usd", "capex_usd",
                                                                 "pledged_exports_usd"))
    n_paths, nt = coll.shape[0], ks[_SPEC_SIZE].shape[0]  # type: ignore[attr-defined]
    pout = np.empty((n_paths, 29, grid_n))
    tout = np.zeros((n_paths, 5, nt, grid_n))
    waterfall_paths(ks, coll, capex, ex, pout, tout)
    after = (np.zeros((n_paths, nt, N_METRICS_TRANCHE)), np.zeros((n_paths, N_METRICS_PATH)))
    inside = (np.zeros((n_paths, nt, N_METRICS_TRANCHE)), np.zeros((n_paths, N_METRICS_PATH)))
    acc = np.empty((nt, N_ACC))
    one_pout, one_tout = np.empty((29, grid_n)), np.empty((5, 0, 0))
    wf = waterfall_setup(*ks)
    span = debt_service_span(args[3])
    for p in range(n_paths):
        tranche_and_path_metrics(pout[p], tout[p], ks[_SPEC_SIZE], ks[_SPEC_ISSUE], ks[_SPEC_LEGAL_FINAL], *args,
                                 ks[_SPEC_DEFAULT_GRACE], after[0][p], after[1][p])
        waterfall_path(wf, coll[p], capex[p], ex[p], one_pout, one_tout, False, acc, *args[:3])
        metrics_from_accumulators(acc, one_pout, ks[_SPEC_SIZE], ks[_SPEC_LEGAL_FINAL], *args[1:5], span,
                                  args[5], inside[0][p], inside[1][p], np.empty((nt, one_pout.shape[1])))
    return after[0], after[1], inside[0], inside[1], tout


def _assert_bit_identical(out: tuple[np.ndarray, ...]) -> None:
    mt_after, mp_after, mt_inside, mp_inside, _ = out
    assert mt_after.tobytes() == mt_inside.tobytes()
    assert mp_after.tobytes() == mp_inside.tobytes()


@SETTINGS
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_metrics_inside_the_waterfall_equal_the_metrics_after_it(scenario: Scenario, seed: int) -> None:
    spec, arrays = _multi_path(scenario, 6, seed)
    _assert_bit_identical(_both_ways(spec, grid_of(scenario), arrays))


def test_settled_and_defaulting_paths_give_the_same_metrics_both_ways() -> None:
    """The baseline with collections × 20 and × 5 (repaid early by the trap sweep: settled periods, skipped
    inside the waterfall), one with a period without collections after settling, and × 0.3 (tranches in default:
    the run of unpaid interest and the amounts owed at the legal final)."""
    from naef import load_scenario

    scenario = load_scenario("baseline")
    grid = grid_of(scenario)
    ops = operations(scenario, grid, deterministic_inputs(scenario, grid))
    spec = build_waterfall_spec(scenario, grid, base_collections_usd=ops.collections_usd[0])
    collections = ops.collections_usd * np.array([[20.0], [5.0], [0.3], [1.0]])
    collections[1, 40] = 0.0
    k = collections.shape[0]
    arrays = {"collections_usd": collections, "capex_usd": np.repeat(ops.capex_usd, k, axis=0),
              "pledged_exports_usd": np.repeat(ops.pledged_exports_usd, k, axis=0)}
    out = _both_ways(spec, grid, arrays)
    _assert_bit_identical(out)
    mt, tout = out[0], out[4]
    assert (tout[:2, 4].sum(axis=1)[:, 60:] == 0.0).all()  # the first two paths settle before period 60
    assert mt[2, :, 0].any()  # the third path's tranches default


def test_the_scratch_state_starts_afresh_on_every_path() -> None:
    """``waterfall_path`` reuses one scratch state (``waterfall_setup``) and one accumulator array for every path
    of a lane: each path's metrics are those it gets with a fresh setup, whatever paths ran before it (a path in
    default with interest in arrears, one repaid early, one short of its fee), in either order."""
    from naef import load_scenario

    scenario = load_scenario("baseline")
    grid = grid_of(scenario)
    ops = operations(scenario, grid, deterministic_inputs(scenario, grid))
    spec = build_waterfall_spec(scenario, grid, base_collections_usd=ops.collections_usd[0])
    ks = spec_arrays(spec)
    args = metric_arrays(grid=grid, spec=spec, discount_rate=0.1).as_kernel_args()
    nt = ks[_SPEC_SIZE].shape[0]  # type: ignore[union-attr]
    collections = ops.collections_usd * np.array([[0.3], [20.0], [1.0], [0.0], [5.0], [1.0]])
    collections[4, 40] = 0.0

    def metrics(order: list[int], fresh: bool) -> list[bytes]:
        wf = waterfall_setup(*ks)
        acc = np.empty((nt, N_ACC))
        pout = np.empty((29, grid.n))
        out = []
        for p in order:
            if fresh:
                wf = waterfall_setup(*ks)
                acc = np.full((nt, N_ACC), np.nan)
            waterfall_path(wf, np.ascontiguousarray(collections[p]), np.ascontiguousarray(ops.capex_usd[0]),
                           np.ascontiguousarray(ops.pledged_exports_usd[0]), pout, np.empty((5, 0, 0)), False,
                           acc, *args[:3])
            mt, mp = np.zeros((nt, N_METRICS_TRANCHE)), np.zeros(N_METRICS_PATH)
            metrics_from_accumulators(acc, pout, ks[_SPEC_SIZE], ks[_SPEC_LEGAL_FINAL], *args[1:5],
                                      debt_service_span(args[3]), args[5], mt, mp, np.empty((nt, pout.shape[1])))
            out.append(mt.tobytes() + mp.tobytes())
        return out

    order = [0, 1, 2, 3, 4, 5]
    alone = metrics(order, fresh=True)
    assert metrics(order, fresh=False) == alone
    assert metrics(order[::-1], fresh=False) == alone[::-1]
    assert len(set(alone)) == 5  # the paths differ (the two at x 1.0 alike), so a leaked state would show
