"""The price models computed in blocks of paths (``naef.scenario.path_blocks``) give, bit for bit, the
straightforward whole-array formulas written out here (each model's recursion over periods on the whole
(paths, periods) array, numpy's ``cumsum`` / ``maximum.accumulate`` along the periods, one ``exp`` over the whole
array), whatever the block size, including blocks that end mid-array."""

from __future__ import annotations

import math

import numpy as np
import pytest

from naef.scenario import bootstrap, path_blocks, recursions
from naef.scenario.bootstrap import HistoricalReturns
from naef.scenario.differentials import OUDifferential
from naef.scenario.price_checks import decay_integral, period_steps
from naef.scenario.price_models import GBM, BlockBootstrap, MeanRevertingOU, SchwartzSmith

SPOT = 80.0
QUARTERS = np.arange(1, 41) / 4.0
UNEVEN = np.array([0.1, 0.25, 1.0, 2.5, 5.0, 10.0])
#: small blocks (many of them, the last one partial), one of whole tiles of ``recursions.TILE`` paths and a partial
#: one, and the shipped sizes
BLOCKS = [1, 7, 64, 300, None]
N_PATHS = 4100
N_BOOTSTRAP_PATHS = 2100


@pytest.fixture(params=BLOCKS, ids=lambda b: f"block-{b}")
def block(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param is not None:
        monkeypatch.setattr(path_blocks, "PATHS_PER_BLOCK", request.param)
        monkeypatch.setattr(bootstrap, "BOOTSTRAP_BLOCK_PATHS", request.param)


def normals(n_paths: int, n_periods: int, k: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n_paths, n_periods, k))


def test_a_small_block_holds_whole_tiles_and_a_partial_one() -> None:
    """Block 300 runs the compiled recursion on whole tiles of paths and a partial one in the same call."""
    assert 300 // recursions.TILE >= 1
    assert 300 % recursions.TILE != 0


@pytest.mark.parametrize("n_paths", [1, recursions.TILE - 1, recursions.TILE, 2 * recursions.TILE + 3])
def test_ou_recursion_stays_within_its_arrays(n_paths: int) -> None:
    """The compiled recursion checks no bounds (a partial tile run as a whole one would write past the block's
    end, silently); its own Python function, whose NumPy indexing does check, gives the same bits on whole and
    partial tiles — in place and from another array."""
    rng = np.random.default_rng(7)
    n = 9
    src = rng.standard_normal((n_paths, n))
    scale, decay = rng.uniform(0.1, 1.0, n), rng.uniform(0.5, 1.0, n)
    compiled, python = np.empty((n_paths, n)), np.empty((n_paths, n))
    recursions.ou_recursion.py_func(src, scale, decay, 0.3, 4.0, python)  # first: an overrun raises IndexError
    recursions.ou_recursion(src, scale, decay, 0.3, 4.0, compiled)
    assert compiled.tobytes() == python.tobytes()
    in_place, compiled_in_place = src.copy(), src.copy()
    recursions.ou_recursion.py_func(in_place, scale, decay, 0.3, 4.0, in_place)
    recursions.ou_recursion(compiled_in_place, scale, decay, 0.3, 4.0, compiled_in_place)
    assert in_place.tobytes() == python.tobytes()
    assert compiled_in_place.tobytes() == python.tobytes()


def test_inputs_cross_the_shipped_block_bounds() -> None:
    """With the shipped sizes (``block-None``) the inputs below still span two blocks, the second partial."""
    assert N_PATHS // path_blocks.PATHS_PER_BLOCK == 1
    assert N_BOOTSTRAP_PATHS // bootstrap.BOOTSTRAP_BLOCK_PATHS == 1


def ou_reference(x0: float, theta: float, decay: np.ndarray, sd: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The OU recursion on the whole array, period by period: x_i - theta = sd_i e_i + (x_{i-1} - theta) decay_i."""
    out = e * sd
    prev = np.full(out.shape[0], x0 - theta)
    for i in range(out.shape[1]):
        out[:, i] = out[:, i] + prev * decay[i]
        prev = out[:, i]
    levels: np.ndarray = out + theta
    return levels


@pytest.mark.parametrize("t", [QUARTERS, UNEVEN], ids=["quarterly", "uneven"])
@pytest.mark.usefixtures("block")
def test_ou_equals_the_whole_array_recursion(t: np.ndarray) -> None:
    m = MeanRevertingOU(kappa=0.7, long_run_usd_per_bbl=66.8, sigma=0.47)
    z = normals(N_PATHS, t.size, 1, 1)
    dt = period_steps(t)
    theta = math.log(66.8)
    decay = np.exp(-0.7 * dt)
    sd = 0.47 * np.sqrt(decay_integral(1.4, dt))
    expected = np.exp(ou_reference(math.log(SPOT), theta, decay, sd, z[..., 0]))
    got = m.simulate_from_draws(spot_usd_per_bbl=SPOT, times_years=t, draws=z)
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("rho", [0.0, -0.6])
@pytest.mark.usefixtures("block")
def test_ou_differential_equals_the_whole_array_recursion(rho: float) -> None:
    m = OUDifferential(initial_usd_per_bbl=-8.0, long_run_usd_per_bbl=-5.0, kappa=1.2, sigma_usd_per_bbl=3.0,
                       rho=rho)
    w = normals(N_PATHS, QUARTERS.size, 1, 2)
    zb = normals(N_PATHS, QUARTERS.size, 2, 3)[..., 0]  # a strided view, as Schwartz–Smith's shocks are
    dt = period_steps(QUARTERS)
    e = zb * rho + w[..., 0] * math.sqrt(1.0 - rho**2) if rho != 0.0 else w[..., 0]
    expected = ou_reference(-8.0, -5.0, np.exp(-1.2 * dt), 3.0 * np.sqrt(decay_integral(2.4, dt)), e)
    got = m.simulate_from_draws(times_years=QUARTERS, draws=w, benchmark_shocks=zb if rho != 0.0 else None)
    assert got.tobytes() == expected.tobytes()


@pytest.mark.usefixtures("block")
def test_gbm_equals_numpy_cumsum_of_the_steps() -> None:
    m = GBM(mu=0.03, sigma=0.35)
    z = normals(N_PATHS, QUARTERS.size, 1, 4)
    dt = period_steps(QUARTERS)
    steps = z[..., 0] * (0.35 * np.sqrt(dt)) + (0.03 - 0.5 * 0.35**2) * dt
    expected = np.exp(np.cumsum(steps, axis=1) + math.log(SPOT))
    got = m.simulate_from_draws(spot_usd_per_bbl=SPOT, times_years=QUARTERS, draws=z)
    assert got.tobytes() == expected.tobytes()


@pytest.mark.usefixtures("block")
def test_schwartz_smith_equals_the_whole_array_recursion() -> None:
    m = SchwartzSmith(kappa=1.49, sigma_chi=0.286, mu_xi=-0.0125, sigma_xi=0.145, rho=0.3, chi0=0.2)
    z = normals(N_PATHS, UNEVEN.size, 2, 5)
    dt = period_steps(UNEVEN)
    var_chi = 0.286**2 * decay_integral(2 * 1.49, dt)
    var_xi = 0.145**2 * dt
    cov = 0.3 * 0.286 * 0.145 * decay_integral(1.49, dt)
    sd_x = np.sqrt(var_chi + var_xi + 2.0 * cov)
    c = (cov + var_xi) / sd_x
    d = np.sqrt(np.maximum(var_xi - c * c, 0.0))
    chi, xi = np.full(z.shape[0], 0.2), np.full(z.shape[0], math.log(SPOT) - 0.2)
    expected = np.empty(z.shape[:2])
    for i in range(UNEVEN.size):
        e_x = z[:, i, 0] * sd_x[i]
        e_xi = z[:, i, 0] * c[i] + z[:, i, 1] * d[i]
        chi = chi * np.exp(-1.49 * dt[i]) + e_x - e_xi
        xi = xi + e_xi + (-0.0125 * dt[i])
        expected[:, i] = chi + xi
    got = m.simulate_from_draws(spot_usd_per_bbl=SPOT, times_years=UNEVEN, draws=z)
    assert got.tobytes() == np.exp(expected).tobytes()


@pytest.mark.parametrize("scheme", ["stationary", "circular"])
@pytest.mark.usefixtures("block")
def test_bootstrap_equals_the_whole_array_formula(scheme: str) -> None:
    returns = np.random.default_rng(6).normal(0.003, 0.09, size=50)
    m = BlockBootstrap(block_months=5, scheme=scheme, history=HistoricalReturns(
        source="synthetic", first_month="2000-01", last_month="2004-03", log_returns=tuple(returns.tolist())))
    u = np.random.default_rng(7).random((N_BOOTSTRAP_PATHS, 2, 120))
    months = np.arange(120)
    starts = np.minimum((u[:, 1, :] * 50).astype(np.int64), 49)
    if scheme == "circular":
        first = np.broadcast_to(months - months % 5, u.shape[::2])
    else:
        first = np.maximum.accumulate(np.where(u[:, 0, :] < 1 / 5, months, 0), axis=1)
    index = (np.take_along_axis(starts, first, axis=1) + months - first) % 50
    expected = np.exp(np.cumsum(returns[index], axis=1)[:, 2::3] + math.log(SPOT))
    got = m.simulate_from_draws(spot_usd_per_bbl=SPOT, times_years=QUARTERS, draws=u)
    np.testing.assert_array_equal(m.monthly_indices(u), index)
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize(("ufunc", "dtype"), [(np.add, np.float64), (np.maximum, np.float64), (np.maximum, np.int32)])
def test_accumulate_periods_equals_numpy_accumulate(ufunc: np.ufunc, dtype: type) -> None:
    values: np.ndarray = (np.random.default_rng(8).standard_normal((301, 97)) * 1e3).astype(dtype)
    if dtype is np.float64:  # ties whose result numpy picks by operand order: signed zeros, NaNs of two payloads
        values[0, :6] = [0.0, -0.0, 0.0, -0.0, -0.0, 0.0]
        values[1, :4] = [np.nan, -np.nan, np.nan, 1.0]
    got = values.copy()
    path_blocks.accumulate_periods(got, ufunc)
    assert got.tobytes() == ufunc.accumulate(values, axis=1, dtype=values.dtype).tobytes()


def test_exp_in_blocks_of_rows_equals_exp_of_the_whole_array() -> None:
    """numpy's exp is evaluated with SIMD instructions on contiguous memory; a block of rows starts anywhere in
    the array (any alignment) and may end mid-vector, so check it gives the same bits as one call on the whole
    array, over log-prices and the extremes (underflow to subnormals and zero, overflow, 0, -0)."""
    rng = np.random.default_rng(9)
    x = rng.normal(4.0, 1.5, size=(1001, 37))
    x.flat[::97] = rng.uniform(-745.0, 710.0, size=x.flat[::97].size)
    x.flat[:6] = [-750.0, -708.5, 0.0, -0.0, 709.78, 710.0]
    with np.errstate(over="ignore"):  # 710 overflows to inf, on purpose
        whole = np.exp(x)
        for rows in (1, 3, 7, 64, 1000):
            blocks = x.copy()
            for lo in range(0, x.shape[0], rows):
                part = blocks[lo : lo + rows]
                np.exp(part, out=part)
            assert blocks.tobytes() == whole.tobytes()


@pytest.mark.parametrize(("shape", "kept_axis", "axes"), [
    ((120, 256, 1), 2, (1, 0, 2)),  # a Gaussian model's block: (periods, paths, normals)
    ((37, 5, 2), 2, (1, 0, 2)),  # periods not a multiple of the tile
    ((1, 3, 1), 2, (1, 0, 2)),  # one period: a lone, partial tile
    ((17, 4, 2), 2, (1, 0, 2)),  # one period past a whole tile
    ((361, 2, 9), 1, (2, 1, 0)),  # the bootstrap's: (months, 2, paths)
])
def test_paths_first_is_the_contiguous_transpose(shape: tuple[int, ...], kept_axis: int,
                                                 axes: tuple[int, ...]) -> None:
    values = np.random.default_rng(10).standard_normal(shape)
    got = path_blocks.paths_first(values, kept_axis=kept_axis)
    assert got.flags.c_contiguous
    assert got.shape == tuple(shape[a] for a in axes)
    assert got.tobytes() == np.ascontiguousarray(values.transpose(axes)).tobytes()


def test_mean_revert_refuses_what_its_compiled_loop_would_read_past_or_misread() -> None:
    """The recursion runs without bounds checks: a short ``decay`` or ``scale``, normals of another shape, levels
    that are not float64, or normals without their scale are refused before it runs."""
    levels = np.zeros((3, 4))
    ok = {"decay": np.ones(4), "start": 0.0, "theta": 0.0}
    for bad in ({**ok, "decay": np.ones(3)},
                {**ok, "normals": np.zeros((3, 4)), "scale": np.ones(2)},
                {**ok, "normals": np.zeros((2, 4)), "scale": np.ones(4)},
                {**ok, "normals": np.zeros((3, 4))}):
        with pytest.raises(ValueError, match="mean_revert"):
            path_blocks.mean_revert(levels, **bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="float64"):
        path_blocks.mean_revert(np.zeros((3, 4), dtype=np.float32), **ok)  # type: ignore[arg-type]
    path_blocks.mean_revert(levels, **ok)  # type: ignore[arg-type]
    assert (levels == 0.0).all()
