"""Price models: moments against closed forms, determinism under chunking, the bootstrap, bad input.

Closed forms (written out here independently of the code under test):
- GBM: ln S_t ~ N(ln S0 + (mu - sigma^2/2) t, sigma^2 t) (Black & Scholes 1973).
- OU on ln S: mean theta + (x0 - theta) e^{-kappa t}, variance sigma^2 (1 - e^{-2 kappa t}) / (2 kappa)
  (Schwartz 1997, J. Finance 52(3), eq. 3 ff.).
- Schwartz & Smith (2000), Management Science 46(7), eq. (3): mean e^{-kappa t} chi0 + xi0 + mu_xi t,
  variance (1 - e^{-2 kappa t}) sigma_chi^2 / (2 kappa) + sigma_xi^2 t
  + 2 (1 - e^{-kappa t}) rho sigma_chi sigma_xi / kappa.
Tolerances: 4 Monte Carlo standard errors (SE of a sample mean sqrt(v/n); of a sample variance
v sqrt(2/(n-1))).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naef.scenario.bootstrap import HistoricalReturns
from naef.scenario.differentials import (
    FixedDifferential,
    OUDifferential,
    parse_differential_model,
    simulate_differential,
)
from naef.scenario.price_models import (
    GBM,
    BlockBootstrap,
    MeanRevertingOU,
    PriceModelError,
    SchwartzSmith,
    parse_price_model,
)

N_PATHS = 40_000
SPOT = 80.0
# An uneven grid: exactness of the discretisation means the step sizes must not matter.
TIMES = np.array([0.1, 0.25, 1.0, 2.5, 5.0, 10.0])
QUARTERS = np.arange(1, 41) / 4.0

# Schwartz & Smith (2000) estimates on crude-oil futures (illustrative parameters for tests).
SS = SchwartzSmith(kappa=1.49, sigma_chi=0.286, mu_xi=-0.0125, sigma_xi=0.145, rho=0.3, chi0=0.2)


def gbm_moments(mu: float, sigma: float, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return math.log(SPOT) + (mu - sigma**2 / 2) * t, sigma**2 * t


def ou_moments(kappa: float, long_run: float, sigma: float, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    theta = math.log(long_run)
    mean = theta + (math.log(SPOT) - theta) * np.exp(-kappa * t)
    return mean, sigma**2 * (1 - np.exp(-2 * kappa * t)) / (2 * kappa)


def ss_moments(m: SchwartzSmith, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k, sc, sx, r = m.kappa, m.sigma_chi, m.sigma_xi, m.rho
    xi0 = math.log(SPOT) - m.chi0
    mean = np.exp(-k * t) * m.chi0 + xi0 + m.mu_xi * t
    var = (1 - np.exp(-2 * k * t)) * sc**2 / (2 * k) + sx**2 * t + 2 * (1 - np.exp(-k * t)) * r * sc * sx / k
    return mean, var


def assert_moments(log_prices: np.ndarray, mean: np.ndarray, var: np.ndarray) -> None:
    n = log_prices.shape[0]
    m_hat = log_prices.mean(axis=0)
    v_hat = log_prices.var(axis=0, ddof=1)
    se_mean = np.sqrt(var / n)
    se_var = var * math.sqrt(2.0 / (n - 1))
    assert np.all(np.abs(m_hat - mean) < 4 * se_mean), (m_hat - mean) / se_mean
    assert np.all(np.abs(v_hat - var) < 4 * se_var), (v_hat - var) / se_var


CASES = [
    ("gbm", GBM(mu=0.03, sigma=0.35), lambda t: gbm_moments(0.03, 0.35, t)),
    (
        "ou",
        MeanRevertingOU(kappa=0.6, long_run_usd_per_bbl=60.0, sigma=0.3),
        lambda t: ou_moments(0.6, 60, 0.3, t),
    ),
    (
        "ou-slow",
        MeanRevertingOU(kappa=0.05, long_run_usd_per_bbl=120.0, sigma=0.4),
        lambda t: ou_moments(0.05, 120, 0.4, t),
    ),
    ("schwartz-smith", SS, lambda t: ss_moments(SS, t)),
]


@pytest.mark.parametrize(("name", "model", "closed_form"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("times", [TIMES, QUARTERS], ids=["uneven", "quarterly"])
def test_log_price_moments_match_closed_form(name, model, closed_form, times) -> None:
    rng = np.random.default_rng(20240501)
    prices = model.simulate(spot_usd_per_bbl=SPOT, times_years=times, n_paths=N_PATHS, rng=rng)
    assert prices.shape == (N_PATHS, times.size)
    assert prices.dtype == np.float64
    assert np.all(np.isfinite(prices))
    assert np.all(prices > 0)
    mean, var = closed_form(times)
    assert_moments(np.log(prices), mean, var)


@pytest.mark.parametrize(("name", "model", "closed_form"), CASES, ids=[c[0] for c in CASES])
def test_log_price_moments_method_equals_closed_form(name, model, closed_form) -> None:
    mean, var = model.log_price_moments(spot_usd_per_bbl=SPOT, times_years=TIMES)
    ref_mean, ref_var = closed_form(TIMES)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-12)
    np.testing.assert_allclose(var, ref_var, rtol=1e-12)


def test_gbm_price_mean_grows_at_mu() -> None:
    """E[S_t] = S0 e^{mu t}: mu is the drift of the price, not of its logarithm."""
    model = GBM(mu=0.05, sigma=0.3)
    t = np.array([1.0, 3.0])
    prices = model.simulate(
        spot_usd_per_bbl=SPOT, times_years=t, n_paths=200_000, rng=np.random.default_rng(7)
    )
    se = prices.std(axis=0, ddof=1) / math.sqrt(prices.shape[0])
    assert np.all(np.abs(prices.mean(axis=0) - SPOT * np.exp(0.05 * t)) < 4 * se)


def test_ou_with_zero_kappa_is_a_driftless_brownian_log_price() -> None:
    model = MeanRevertingOU(kappa=0.0, long_run_usd_per_bbl=50.0, sigma=0.3)
    mean, var = model.log_price_moments(spot_usd_per_bbl=SPOT, times_years=TIMES)
    np.testing.assert_allclose(mean, math.log(SPOT))
    np.testing.assert_allclose(var, 0.09 * TIMES, rtol=1e-12)
    rng = np.random.default_rng(3)
    prices = model.simulate(spot_usd_per_bbl=SPOT, times_years=TIMES, n_paths=N_PATHS, rng=rng)
    assert_moments(np.log(prices), mean, var)


def test_schwartz_smith_joint_covariance_across_horizons() -> None:
    """Cov(ln S_s, ln S_t), s < t, from the exact transition.

    X_t = e^{-k(t-s)} chi_s + xi_s + (independent increments), so
    Cov(X_s, X_t) = e^{-k(t-s)} (Var chi_s + Cov) + Cov + Var xi_s.
    """
    m = SS
    s_t = np.array([1.0, 3.0])
    rng = np.random.default_rng(11)
    lp = np.log(m.simulate(spot_usd_per_bbl=SPOT, times_years=s_t, n_paths=200_000, rng=rng))
    k, sc, sx, r = m.kappa, m.sigma_chi, m.sigma_xi, m.rho
    s, t = s_t
    var_chi_s = sc**2 * (1 - math.exp(-2 * k * s)) / (2 * k)
    var_xi_s = sx**2 * s
    cov_cx_s = r * sc * sx * (1 - math.exp(-k * s)) / k
    decay = math.exp(-k * (t - s))
    expected = decay * var_chi_s + decay * cov_cx_s + cov_cx_s + var_xi_s
    sample = np.cov(lp[:, 0], lp[:, 1])[0, 1]
    se = math.sqrt((np.var(lp[:, 0]) * np.var(lp[:, 1]) + sample**2) / lp.shape[0])
    assert abs(sample - expected) < 4 * se


def test_first_normal_is_the_standardised_log_price_innovation() -> None:
    """z[..., 0] drives the log-price: its correlation with the first-period log-return is exactly 1."""
    t = np.array([0.25, 0.5])
    for model in (GBM(sigma=0.3), MeanRevertingOU(kappa=1.0, long_run_usd_per_bbl=70.0, sigma=0.3), SS):
        z = model.draw(times_years=t, n_paths=1000, rng=np.random.default_rng(5))
        lp = np.log(model.simulate_from_normals(spot_usd_per_bbl=SPOT, times_years=t, z=z))
        assert np.corrcoef(lp[:, 0], model.log_price_shocks(z)[:, 0])[0, 1] == pytest.approx(1.0, abs=1e-12)


# ---------------------------------------------------------------------------------------------------------
# determinism and chunking


def history(values: list[float] | np.ndarray) -> HistoricalReturns:
    return HistoricalReturns(
        source="synthetic",
        first_month="2000-01",
        last_month="2000-12",
        log_returns=tuple(float(v) for v in values),
    )


HIST = history(np.random.default_rng(99).normal(0.003, 0.09, size=200))
ALL_MODELS = [
    GBM(mu=0.02, sigma=0.3),
    MeanRevertingOU(kappa=0.5, long_run_usd_per_bbl=70.0, sigma=0.3),
    SS,
    BlockBootstrap(block_months=12, scheme="stationary", history=HIST),
    BlockBootstrap(block_months=6, scheme="circular", history=HIST),
]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: f"{m.model}")
def test_chunks_from_spawned_seeds_equal_the_concatenated_draws(model) -> None:
    n = 500
    children = np.random.SeedSequence(2024).spawn(2)
    chunks = [
        model.simulate(spot_usd_per_bbl=SPOT, times_years=QUARTERS, n_paths=n, rng=np.random.default_rng(c))
        for c in children
    ]
    draws = np.concatenate(
        [model.draw(times_years=QUARTERS, n_paths=n, rng=np.random.default_rng(c)) for c in children]
    )
    kept = draws.copy()
    whole = model.simulate_from_draws(spot_usd_per_bbl=SPOT, times_years=QUARTERS, draws=draws)
    np.testing.assert_array_equal(draws, kept)  # the draws are not modified in place
    np.testing.assert_array_equal(whole, np.concatenate(chunks))
    # ... and each path depends on its own draws only: any split of the draws gives the same paths.
    parts = [
        model.simulate_from_draws(spot_usd_per_bbl=SPOT, times_years=QUARTERS, draws=draws[a:b])
        for a, b in ((0, 1), (1, 333), (333, 2 * n))
    ]
    np.testing.assert_array_equal(whole, np.concatenate(parts))


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: f"{m.model}")
def test_same_seed_same_paths(model) -> None:
    a = model.simulate(spot_usd_per_bbl=SPOT, times_years=QUARTERS, n_paths=300, rng=np.random.default_rng(1))
    b = model.simulate(spot_usd_per_bbl=SPOT, times_years=QUARTERS, n_paths=300, rng=np.random.default_rng(1))
    c = model.simulate(spot_usd_per_bbl=SPOT, times_years=QUARTERS, n_paths=300, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# ---------------------------------------------------------------------------------------------------------
# block bootstrap


def test_bootstrap_preserves_the_mean_monthly_log_return() -> None:
    """Every history month is equally likely, so E[ln(S_T/S_0)] = n_months x historical mean."""
    t = np.arange(1, 41) / 4.0  # 10 years of quarters = 120 months
    for scheme in ("stationary", "circular"):
        model = BlockBootstrap(block_months=12, scheme=scheme, history=HIST)
        prices = model.simulate(
            spot_usd_per_bbl=SPOT, times_years=t, n_paths=20_000, rng=np.random.default_rng(4)
        )
        total = np.log(prices[:, -1] / SPOT)  # independent across paths
        expected = 120 * float(np.mean(HIST.log_returns))
        se = total.std(ddof=1) / math.sqrt(total.size)
        assert abs(total.mean() - expected) < 4 * se, scheme


def test_bootstrap_draws_every_history_month_equally_often() -> None:
    model = BlockBootstrap(block_months=5, scheme="stationary", history=history(np.arange(20) * 1e-3))
    draws = model.draw(times_years=np.arange(1, 41) / 4.0, n_paths=5000, rng=np.random.default_rng(8))
    counts = np.bincount(model.monthly_indices(draws).ravel(), minlength=20)
    expected = counts.sum() / 20
    # coarse: blocks make the counts over-dispersed, so allow 5 % (the Poisson SE is ~0.6 %)
    assert np.all(np.abs(counts / expected - 1) < 0.05)


def test_circular_blocks_are_consecutive_months_of_history() -> None:
    n_hist, block = 30, 7
    model = BlockBootstrap(block_months=block, scheme="circular", history=history(np.arange(n_hist) * 1e-3))
    draws = model.draw(times_years=np.arange(1, 21) / 4.0, n_paths=400, rng=np.random.default_rng(9))
    idx = model.monthly_indices(draws)
    assert idx.shape == (400, 60)
    step = (np.diff(idx, axis=1)) % n_hist
    inside = (np.arange(1, 60) % block) != 0  # month m continues the block unless m is a multiple of L
    assert np.all(step[:, inside] == 1)
    # new blocks start anywhere: not all block starts continue the previous block
    assert np.mean(step[:, ~inside] == 1) < 0.2


def test_stationary_blocks_have_geometric_lengths_with_mean_block_months() -> None:
    n_hist, block = 500, 6
    model = BlockBootstrap(block_months=block, scheme="stationary", history=history(np.zeros(n_hist)))
    draws = model.draw(times_years=np.arange(1, 41) / 4.0, n_paths=2000, rng=np.random.default_rng(10))
    idx = model.monthly_indices(draws)
    continues = (np.diff(idx, axis=1) % n_hist) == 1
    restarts = draws[:, 0, 1:] < 1 / block
    # a month continues its block exactly when no restart was drawn (or a restart landed on the next month)
    assert np.all(continues[~restarts])
    p_restart = 1 - continues.mean()
    assert abs(p_restart - (1 / block) * (1 - 1 / n_hist)) < 4 * math.sqrt(p_restart / continues.size) + 1e-3


def test_bootstrap_aggregates_months_into_periods() -> None:
    """The price at a quarter is spot x exp(sum of the bootstrapped monthly returns up to that month)."""
    rets = np.random.default_rng(12).normal(0, 0.05, size=50)
    model = BlockBootstrap(block_months=4, scheme="stationary", history=history(rets))
    t = np.array([0.25, 0.5, 1.0, 2.0])  # months 3, 6, 12, 24
    draws = model.draw(times_years=t, n_paths=50, rng=np.random.default_rng(13))
    assert draws.shape == (50, 2, 24)
    prices = model.simulate_from_draws(spot_usd_per_bbl=SPOT, times_years=t, draws=draws)
    monthly = rets[model.monthly_indices(draws)]
    for j, month in enumerate([3, 6, 12, 24]):
        np.testing.assert_allclose(prices[:, j], SPOT * np.exp(monthly[:, :month].sum(axis=1)), rtol=1e-12)


def test_bootstrap_rejects_periods_shorter_than_a_month() -> None:
    model = BlockBootstrap(block_months=3, history=HIST)
    with pytest.raises(PriceModelError, match="times_years"):
        model.simulate(
            spot_usd_per_bbl=SPOT, times_years=np.array([0.25, 0.26]), n_paths=2, rng=np.random.default_rng()
        )


# ---------------------------------------------------------------------------------------------------------
# differential


def test_ou_differential_moments_and_correlation_with_benchmark() -> None:
    diff = OUDifferential(
        initial_usd_per_bbl=-8.0, long_run_usd_per_bbl=-5.0, kappa=1.2, sigma_usd_per_bbl=3.0, rho=0.6
    )
    bench = GBM(mu=0.0, sigma=0.3)
    t = QUARTERS
    n = 50_000
    rng = np.random.default_rng(21)
    z = bench.draw(times_years=t, n_paths=n, rng=rng)
    d = simulate_differential(
        model=diff, times_years=t, n_paths=n, rng=rng, benchmark_shocks=bench.log_price_shocks(z)
    )
    assert d.shape == (n, t.size)
    theta = -5.0
    mean = theta + (-8.0 - theta) * np.exp(-1.2 * t)
    var = 9.0 * (1 - np.exp(-2.4 * t)) / 2.4
    assert np.all(np.abs(d.mean(axis=0) - mean) < 4 * np.sqrt(var / n))
    v_hat = d.var(axis=0, ddof=1)
    assert np.all(np.abs(v_hat - var) < 4 * var * math.sqrt(2 / (n - 1)))
    m_ref, v_ref = diff.moments(times_years=t)
    np.testing.assert_allclose(m_ref, mean, rtol=1e-12)
    np.testing.assert_allclose(v_ref, var, rtol=1e-12)
    # per-period innovations are correlated rho with the benchmark's log-price innovations
    innov = d[:, 1:] - theta - (d[:, :-1] - theta) * math.exp(-1.2 * 0.25)
    r = np.corrcoef(innov[:, 10], z[:, 11, 0])[0, 1]
    assert abs(r - 0.6) < 4 * (1 - 0.36) / math.sqrt(n)


def test_correlated_differential_needs_benchmark_shocks() -> None:
    diff = OUDifferential(
        initial_usd_per_bbl=-8, long_run_usd_per_bbl=-5, kappa=1, sigma_usd_per_bbl=3, rho=0.5
    )
    with pytest.raises(PriceModelError, match=r"differential\.rho"):
        simulate_differential(model=diff, times_years=QUARTERS, n_paths=3, rng=np.random.default_rng())


def test_fixed_differential_deck() -> None:
    const = FixedDifferential(usd_per_bbl=-7.5)
    d = simulate_differential(model=const, times_years=QUARTERS, n_paths=3, rng=np.random.default_rng())
    assert d.shape == (3, QUARTERS.size)
    assert np.all(d == -7.5)
    deck = FixedDifferential(usd_per_bbl=tuple(-float(i) for i in range(QUARTERS.size)))
    d = simulate_differential(model=deck, times_years=QUARTERS, n_paths=2, rng=np.random.default_rng())
    np.testing.assert_array_equal(d[1], -np.arange(QUARTERS.size))
    with pytest.raises(PriceModelError, match=r"differential\.usd_per_bbl"):
        simulate_differential(model=deck, times_years=TIMES, n_paths=2, rng=np.random.default_rng())


# ---------------------------------------------------------------------------------------------------------
# bad input


@given(sigma=st.floats(max_value=0.0) | st.just(float("nan")) | st.just(float("inf")))
def test_non_positive_volatility_is_rejected_naming_the_key(sigma: float) -> None:
    for table in (
        {"model": "gbm", "sigma": sigma},
        {"model": "ou", "kappa": 1, "long_run_usd_per_bbl": 70, "sigma": sigma},
    ):
        with pytest.raises(PriceModelError, match=r"^price\.sigma: must be > 0$"):
            parse_price_model(table)
    with pytest.raises(PriceModelError, match=r"^price\.sigma_xi: must be > 0$"):
        parse_price_model({"model": "schwartz_smith", "kappa": 1, "sigma_chi": 0.3, "sigma_xi": sigma})


@given(rho=st.floats(allow_nan=False).filter(lambda r: abs(r) > 1.0))
def test_correlation_outside_unit_interval_is_rejected(rho: float) -> None:
    with pytest.raises(PriceModelError, match=r"^price\.rho: must be a correlation in \[-1, 1\]$"):
        parse_price_model(
            {"model": "schwartz_smith", "kappa": 1, "sigma_chi": 0.3, "sigma_xi": 0.1, "rho": rho}
        )
    with pytest.raises(PriceModelError, match=r"^differential\.rho:"):
        parse_differential_model(
            {
                "model": "ou",
                "initial_usd_per_bbl": 0,
                "long_run_usd_per_bbl": 0,
                "kappa": 1,
                "sigma_usd_per_bbl": 1,
                "rho": rho,
            }
        )


@given(kappa=st.floats(max_value=0.0, exclude_max=True))
def test_negative_mean_reversion_is_rejected(kappa: float) -> None:
    with pytest.raises(PriceModelError, match=r"^price\.kappa: must be >= 0$"):
        parse_price_model({"model": "ou", "kappa": kappa, "long_run_usd_per_bbl": 70, "sigma": 0.3})


@given(
    kappa=st.floats(0.0, 20.0),
    sigma_chi=st.floats(1e-4, 2.0),
    sigma_xi=st.floats(1e-4, 2.0),
    rho=st.floats(-1.0, 1.0),
    mu=st.floats(-0.5, 0.5),
)
@settings(max_examples=60, deadline=None)
def test_any_valid_schwartz_smith_gives_positive_finite_prices(kappa, sigma_chi, sigma_xi, rho, mu) -> None:
    model = parse_price_model(
        {
            "model": "schwartz_smith",
            "kappa": kappa,
            "sigma_chi": sigma_chi,
            "sigma_xi": sigma_xi,
            "rho": rho,
            "mu_xi": mu,
        }
    )
    prices = model.simulate(
        spot_usd_per_bbl=SPOT, times_years=QUARTERS, n_paths=8, rng=np.random.default_rng(0)
    )
    assert prices.shape == (8, QUARTERS.size)
    assert np.all(np.isfinite(prices))
    assert np.all(prices > 0)
    _, var = model.log_price_moments(spot_usd_per_bbl=SPOT, times_years=QUARTERS)
    assert np.all(var >= -1e-12)


def test_unknown_and_missing_keys_and_models() -> None:
    with pytest.raises(PriceModelError, match=r"^price\.vol: unknown key"):
        parse_price_model({"model": "gbm", "sigma": 0.3, "vol": 0.3})
    with pytest.raises(PriceModelError, match=r"^price\.sigma: required key is missing$"):
        parse_price_model({"model": "gbm"})
    with pytest.raises(PriceModelError, match=r"^price\.model: must be one of"):
        parse_price_model({"model": "heston", "sigma": 0.3})
    with pytest.raises(PriceModelError, match=r"^price\.model: required key is missing$"):
        parse_price_model({"sigma": 0.3})
    with pytest.raises(PriceModelError, match=r"^price\.long_run_usd_per_bbl: must be > 0$"):
        parse_price_model({"model": "ou", "kappa": 1, "long_run_usd_per_bbl": -3, "sigma": 0.3})
    with pytest.raises(PriceModelError, match=r"^price\.block_months: must be >= 1$"):
        parse_price_model({"model": "bootstrap", "block_months": 0, "history": HIST.model_dump()})


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"model": "gbm", "sigma": "0.3"}, r"^price\.sigma: must be a number$"),
        ({"model": "gbm", "sigma": True}, r"^price\.sigma: must be a number$"),
        (
            {"model": "bootstrap", "block_months": 2.5, "history": HIST.model_dump()},
            r"^price\.block_months: must be a whole number$",
        ),
        (
            {"model": "bootstrap", "scheme": "moving", "history": HIST.model_dump()},
            r"^price\.scheme: must be 'stationary' or 'circular'$",
        ),
        (
            {"model": "gbm", "mu": 0.1, "sigma": -1, "extra": 1},
            r"^price\.sigma: must be > 0; price\.extra: unknown key$",
        ),
    ],
)
def test_wrong_types_are_named(table: dict[str, object], message: str) -> None:
    with pytest.raises(PriceModelError, match=message):
        parse_price_model(table)


@pytest.mark.parametrize("deck", ["abc", [], [1.0, float("nan")], [1.0, True]])
def test_bad_differential_deck_is_named(deck: object) -> None:
    with pytest.raises(PriceModelError, match=r"^differential\.usd_per_bbl: must be a finite number"):
        parse_differential_model({"model": "fixed", "usd_per_bbl": deck})
    assert parse_differential_model({"model": "fixed", "usd_per_bbl": [-5, -6.5]}).usd_per_bbl == (-5.0, -6.5)


def test_models_are_frozen() -> None:
    model = GBM(sigma=0.3)
    with pytest.raises(ValueError, match="frozen"):
        model.sigma = 0.1  # type: ignore[misc]


@pytest.mark.parametrize("spot", [0.0, -36.98, float("nan")])
def test_non_positive_spot_is_rejected(spot: float) -> None:
    for model in ALL_MODELS:
        with pytest.raises(PriceModelError, match="spot_usd_per_bbl"):
            model.simulate(
                spot_usd_per_bbl=spot, times_years=QUARTERS, n_paths=2, rng=np.random.default_rng()
            )


@pytest.mark.parametrize(
    "times",
    [np.array([]), np.array([0.0, 0.25]), np.array([0.5, 0.25]), np.array([0.25, 0.25]), np.array([np.nan])],
)
def test_bad_times_are_rejected(times: np.ndarray) -> None:
    for model in ALL_MODELS:
        with pytest.raises(PriceModelError, match="times_years"):
            model.simulate(spot_usd_per_bbl=SPOT, times_years=times, n_paths=2, rng=np.random.default_rng())


def test_wrong_shape_of_normals_is_rejected() -> None:
    with pytest.raises(PriceModelError, match=r"z: expected shape \(n_paths, 40, 2\)"):
        SS.simulate_from_normals(spot_usd_per_bbl=SPOT, times_years=QUARTERS, z=np.zeros((5, 40, 1)))
    with pytest.raises(PriceModelError, match="n_paths"):
        SS.simulate(spot_usd_per_bbl=SPOT, times_years=QUARTERS, n_paths=0, rng=np.random.default_rng())


def test_empty_history_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one monthly log-return"):
        history([])
