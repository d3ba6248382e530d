"""Streamed per-path statistics (``naef.engine.path_stats``) against the exact ones: counts and the period of
default exact, means and the EL's standard error to rounding, quantiles within the sketch's stated bound
(``alpha`` times the exact quantile plus ``SKETCH_MIN`` for figures that are never negative), on synthetic figures
and on a run of the baseline; merging in any grouping gives the same counts."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naef.analysis.montecarlo import run_monte_carlo
from naef.engine.metrics import (
    N_METRICS_PATH,
    N_METRICS_TRANCHE,
    P_MDF,
    P_MDF_PV,
    T_AFTER_LF,
    T_DEFAULT,
    T_DEFAULT_AT,
    T_LOSS,
    T_MIN_DSCR,
    T_UNPAID_LF,
    T_WAL,
)
from naef.engine.path_stats import SKETCH_ALPHA, SKETCH_MIN, ExactPaths, QuantileSketch, StreamedPaths
from naef.scenario.load import load_scenario

QS = (0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 100)


def _within_bound(est: float | None, exact: float | None) -> bool:
    assert est is not None
    assert exact is not None
    return abs(est - exact) <= SKETCH_ALPHA * abs(exact) + SKETCH_MIN + 1e-12 * abs(exact)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3000), zeros=st.floats(0.0, 0.5),
       scale=st.floats(-6.0, 12.0))
def test_sketch_quantiles_within_the_stated_bound_of_numpy(seed: int, n: int, zeros: float, scale: float) -> None:
    rng = np.random.default_rng(seed)
    x = np.exp(rng.normal(scale, 2.0, n))
    x[rng.random(n) < zeros] = 0.0
    x[rng.random(n) < 0.02] = np.inf  # left out of quantiles, as the exact summary leaves them out
    sk = QuantileSketch()
    sk.add(x)
    exact = np.quantile(x[np.isfinite(x)], [q / 100 for q in QS]) if np.isfinite(x).any() else None
    got = sk.quantiles(QS)
    if exact is None:
        assert all(v is None for v in got.values())
        return
    for q, e in zip(QS, exact, strict=True):
        assert _within_bound(got[f"p{q}"], float(e)), (q, got[f"p{q}"], e)


def test_sketch_of_negative_and_mixed_values_and_its_merge_and_pickle() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(0.0, 1e6, 5000)
    whole = QuantileSketch()
    whole.add(x)
    parts = [QuantileSketch() for _ in range(3)]
    for p, chunk in zip(parts, np.array_split(x, 3), strict=True):
        p.add(chunk)
    merged = pickle.loads(pickle.dumps(parts[2]))
    merged.merge(parts[0])
    merged.merge(parts[1])
    assert np.array_equal(merged.counts, whole.counts)
    exact = np.sort(x)
    got = whole.quantiles(QS)
    for q in QS:
        h = q / 100 * (x.size - 1)
        k = math.floor(h)
        f = h - k
        hi = exact[min(k + 1, x.size - 1)]
        bound = SKETCH_ALPHA * ((1 - f) * abs(exact[k]) + f * abs(hi)) + SKETCH_MIN
        assert abs(got[f"p{q}"] - np.quantile(x, q / 100)) <= bound * (1 + 1e-9), q  # type: ignore[operator]


def _synthetic(rng: np.random.Generator, n: int, nt: int, periods: int) -> tuple[np.ndarray, np.ndarray]:
    mt = np.zeros((n, nt, N_METRICS_TRANCHE))
    hit = rng.random((n, nt)) < 0.3
    mt[:, :, T_DEFAULT] = hit
    mt[:, :, T_DEFAULT_AT] = np.where(hit, rng.integers(0, periods, (n, nt)), -1)
    mt[:, :, T_LOSS] = np.where(hit, rng.random((n, nt)), 0.0)
    mt[:, :, T_WAL] = np.where(rng.random((n, nt)) < 0.05, np.nan, rng.uniform(1, 10, (n, nt)))
    mt[:, :, T_MIN_DSCR] = np.where(rng.random((n, nt)) < 0.05, np.inf, rng.lognormal(0, 1, (n, nt)))
    mt[:, :, T_UNPAID_LF] = np.where(hit, rng.lognormal(20, 1, (n, nt)), 0.0)
    mt[:, :, T_AFTER_LF] = rng.lognormal(18, 1, (n, nt))
    mp = rng.lognormal(22, 1.5, (n, N_METRICS_PATH))
    mp[rng.random(n) < 0.1, P_MDF] = 0.0
    mp[:, 2] = rng.random(n) < 0.2
    return mt, mp


@pytest.mark.parametrize("chunk", [1, 7, 256, 1000, 5000])
def test_streamed_statistics_equal_the_exact_ones(chunk: int) -> None:
    rng = np.random.default_rng(chunk)
    n, nt, periods = 5000, 3, 40
    mt, mp = _synthetic(rng, n, nt, periods)
    exact = ExactPaths(mt, mp)
    streamed = StreamedPaths(nt, periods)
    # chunks arrive out of order (as on a cluster)
    firsts = list(range(0, n, chunk))
    for first in firsts[1::2] + firsts[::2]:
        streamed.add_chunk(mt[first : first + chunk], mp[first : first + chunk], first)
    assert streamed.n_paths == n
    assert streamed.eod_count() == exact.eod_count()
    assert streamed.nothing_to_mdf_count() == exact.nothing_to_mdf_count()
    for j in range(nt):
        assert streamed.default_count(j) == exact.default_count(j)
        assert streamed.default_period_quantiles(j, (0.1, 0.5, 0.9)) == exact.default_period_quantiles(
            j, (0.1, 0.5, 0.9))
        for a, b in zip(streamed.loss_mean_se(j), exact.loss_mean_se(j), strict=True):
            assert a == pytest.approx(b, rel=1e-12)
        assert streamed.wal_mean(j) == pytest.approx(exact.wal_mean(j), rel=1e-12)
        for metric in (T_UNPAID_LF, T_AFTER_LF):
            assert streamed.tranche_mean(j, metric) == pytest.approx(exact.tranche_mean(j, metric), rel=1e-12)
        assert streamed.tranche_mean(j, T_UNPAID_LF, given_default=True) == pytest.approx(
            exact.tranche_mean(j, T_UNPAID_LF, given_default=True), rel=1e-12)
        for metric in (T_MIN_DSCR, T_UNPAID_LF):
            s, e = streamed.tranche_quantiles(j, metric, QS), exact.tranche_quantiles(j, metric, QS)
            assert all(_within_bound(s[k], e[k]) for k in e), (metric, s, e)
    for metric in (P_MDF, P_MDF_PV):
        assert streamed.path_mean(metric) == pytest.approx(exact.path_mean(metric), rel=1e-12)
        s, e = streamed.path_quantiles(metric, QS), exact.path_quantiles(metric, QS)
        assert all(_within_bound(s[k], e[k]) for k in e), (metric, s, e)
    head = streamed.head_mdf_pv
    assert np.array_equal(head, mp[: head.size, P_MDF_PV])


def _flatten(x: object, path: str = "") -> dict[str, object]:
    if isinstance(x, dict):
        out: dict[str, object] = {}
        for k, v in x.items():
            out.update(_flatten(v, f"{path}/{k}"))
        return out
    if isinstance(x, list):
        out = {}
        for i, v in enumerate(x):
            out.update(_flatten(v, f"{path}[{i}]"))
        return out
    return {path: x}


def test_a_streamed_run_gives_the_kept_runs_summary() -> None:
    sc = load_scenario("baseline")
    kept = run_monte_carlo(sc, n_paths=900, seed=8, chunk_size=300, keep_paths=True)
    streamed = run_monte_carlo(sc, n_paths=900, seed=8, chunk_size=250, keep_paths=False)
    assert streamed.metrics_path is None
    assert streamed.metrics_tranche is None
    assert streamed.summary["run"].pop("per_path_results") == "streamed"
    assert streamed.percentiles.equals(kept.percentiles)
    a, b = _flatten(kept.summary), _flatten(streamed.summary)
    assert a.keys() == b.keys()
    quantile_keys = ("/min_dscr/", "/p90", "/nominal_usd/p", "/pv_usd/p")
    for k, v in a.items():
        w = b[k]
        if k == "/run/chunk_size":
            continue
        if isinstance(v, float) and any(s in k for s in quantile_keys):
            assert _within_bound(w, v), (k, v, w)  # type: ignore[arg-type]
        elif isinstance(v, float):
            assert w == pytest.approx(v, rel=1e-12, abs=1e-12), k
        else:
            assert w == v, k
    assert 0 <= streamed.p50_path() < 900
