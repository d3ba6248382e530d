"""Calibration: recovery of known parameters, standard errors against the spread over replications and
against a numerical Hessian, agreement with a generic optimiser (scipy) on the exact transition density, and
plausible values on EIA data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from naef.analysis.calibrate import CalibrationResult, calibrate, calibrate_csv, fit_gbm, fit_ou
from naef.scenario.history import parse_monthly_prices, read_monthly_prices
from naef.scenario.price_models import GBM, MeanRevertingOU, PriceModelError
from tests import data_paths

EIA = data_paths.EIA
DT = 1.0 / 12.0


def simulate_log_prices(model: GBM | MeanRevertingOU, *, months: int, reps: int, seed: int) -> np.ndarray:
    t = np.arange(1, months + 1) * DT
    prices = model.simulate(
        spot_usd_per_bbl=60.0, times_years=t, n_paths=reps, rng=np.random.default_rng(seed)
    )
    return np.log(np.column_stack([np.full(reps, 60.0), prices]))


# ----------------------------------------------------------------------------------------------------
# an independent likelihood, maximised by a generic optimiser


def ou_negloglik(params: np.ndarray, x: np.ndarray) -> float:
    """Exact OU transition density of the log-price (Gaussian AR(1)), written from the SDE's solution."""
    kappa, theta, sigma = params
    if kappa <= 0 or sigma <= 0:
        return 1e10
    mean = theta + (x[:-1] - theta) * math.exp(-kappa * DT)
    sd = sigma * math.sqrt((1 - math.exp(-2 * kappa * DT)) / (2 * kappa))
    return -float(np.sum(stats.norm.logpdf(x[1:], loc=mean, scale=sd)))


def gbm_negloglik(params: np.ndarray, x: np.ndarray) -> float:
    mu, sigma = params
    if sigma <= 0:
        return 1e10
    r = np.diff(x)
    return -float(np.sum(stats.norm.logpdf(r, loc=(mu - sigma**2 / 2) * DT, scale=sigma * math.sqrt(DT))))


def numerical_se(f, p: np.ndarray, x: np.ndarray, rel_step: float = 1e-4) -> np.ndarray:
    """Standard errors from the inverse of a central-difference Hessian of the negative log-likelihood."""
    k = p.size
    h = rel_step * np.maximum(np.abs(p), 1e-2)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (f(p + ei + ej, x) - f(p + ei - ej, x) - f(p - ei + ej, x) + f(p - ei - ej, x)) / (
                4 * h[i] * h[j]
            )
    return np.sqrt(np.diag(np.linalg.inv(hess)))


def test_ou_fit_matches_generic_optimiser_and_numerical_hessian() -> None:
    x = simulate_log_prices(
        MeanRevertingOU(kappa=0.8, long_run_usd_per_bbl=70.0, sigma=0.3), months=600, reps=1, seed=31
    )[0]
    fit = fit_ou(log_prices=x)
    res = optimize.minimize(
        ou_negloglik,
        x0=np.array([0.3, 4.0, 0.2]),
        args=(x,),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000, "maxfev": 40_000},
    )
    e = fit.estimates
    np.testing.assert_allclose([e["kappa"], e["theta"], e["sigma"]], res.x, rtol=1e-5)
    assert fit.log_likelihood == pytest.approx(-res.fun, abs=1e-6)
    assert fit.log_likelihood == pytest.approx(
        -ou_negloglik(np.array([e["kappa"], e["theta"], e["sigma"]]), x)
    )
    se = numerical_se(ou_negloglik, np.array([e["kappa"], e["theta"], e["sigma"]]), x)
    s = fit.standard_errors
    np.testing.assert_allclose([s["kappa"], s["theta"], s["sigma"]], se, rtol=0.02)
    assert s["long_run_usd_per_bbl"] == pytest.approx(e["long_run_usd_per_bbl"] * s["theta"])


def test_gbm_fit_matches_generic_optimiser_and_numerical_hessian() -> None:
    x = simulate_log_prices(GBM(mu=0.05, sigma=0.3), months=480, reps=1, seed=32)[0]
    fit = fit_gbm(log_prices=x)
    res = optimize.minimize(
        gbm_negloglik,
        x0=np.array([0.0, 0.5]),
        args=(x,),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000},
    )
    np.testing.assert_allclose([fit.estimates["mu"], fit.estimates["sigma"]], res.x, rtol=1e-5)
    assert fit.log_likelihood == pytest.approx(-res.fun, abs=1e-6)
    se = numerical_se(gbm_negloglik, res.x, x)
    np.testing.assert_allclose([fit.standard_errors["mu"], fit.standard_errors["sigma"]], se, rtol=0.02)


# ----------------------------------------------------------------------------------------------------
# recovery and standard errors over repeated simulations


def coverage_and_spread(fits: list[CalibrationResult], truth: dict[str, float]) -> None:
    for name, true in truth.items():
        est = np.array([f.estimates[name] for f in fits])
        se = np.array([f.standard_errors[name] for f in fits])
        typical_se = float(np.median(se))
        # recovery: the average estimate is well within one standard error of the truth
        assert abs(est.mean() - true) < 0.5 * typical_se, name
        # the reported standard error matches the spread of the estimates (coarse: +-25 %)
        assert 0.8 < est.std(ddof=1) / typical_se < 1.25, name
        # and about 95 % of the 1.96-SE intervals cover the truth
        covered = np.mean(np.abs(est - true) < 1.96 * se)
        assert 0.88 < covered < 0.99, (name, covered)


def test_gbm_recovers_parameters_and_its_standard_errors_match_the_spread() -> None:
    truth = {"mu": 0.05, "sigma": 0.3}
    x = simulate_log_prices(GBM(**truth), months=480, reps=400, seed=41)
    fits = [fit_gbm(log_prices=row) for row in x]
    coverage_and_spread(fits, truth)
    one = fits[0]
    for name, true in truth.items():
        assert abs(one.estimates[name] - true) < 4 * one.standard_errors[name]


def test_ou_recovers_parameters_and_its_standard_errors_match_the_spread() -> None:
    truth = {"kappa": 1.0, "theta": math.log(70.0), "sigma": 0.3}
    model = MeanRevertingOU(kappa=1.0, long_run_usd_per_bbl=70.0, sigma=0.3)
    x = simulate_log_prices(model, months=1200, reps=300, seed=42)
    fits = [fit_ou(log_prices=row) for row in x]
    coverage_and_spread(fits, truth)
    one = fits[0]
    for name, true in truth.items():
        assert abs(one.estimates[name] - true) < 4 * one.standard_errors[name]
    assert one.estimates["half_life_years"] == pytest.approx(math.log(2) / one.estimates["kappa"])


# ----------------------------------------------------------------------------------------------------
# EIA data


def test_brent_monthly_gives_plausible_parameters() -> None:
    gbm = calibrate_csv(EIA / "brent-monthly.csv", model="gbm")
    ou = calibrate_csv(EIA / "brent-monthly.csv", model="ou")
    assert gbm.n_observations == 470
    assert (gbm.first_month, gbm.last_month) == ("1987-05", "2026-07")
    assert 0.25 < gbm.estimates["sigma"] < 0.45
    assert 0.25 < ou.estimates["sigma"] < 0.45
    assert 0.0 < ou.estimates["kappa"] < 1.0
    assert 20.0 < ou.estimates["long_run_usd_per_bbl"] < 150.0
    # nested models: the OU likelihood is at least the GBM one without drift ... and close to GBM's
    assert ou.log_likelihood > gbm.log_likelihood - 1.0
    for fit in (gbm, ou):
        assert all(se > 0 for se in fit.standard_errors.values())


def test_daily_file_calibrates_like_the_monthly_file() -> None:
    """Monthly averages of the daily file (negative WTI day included) give the same volatility."""
    daily = calibrate_csv(EIA / "wti-daily.csv", model="gbm", sampling="average")
    monthly = calibrate_csv(EIA / "wti-monthly.csv", model="gbm", sampling="average")
    assert daily.estimates["sigma"] == pytest.approx(monthly.estimates["sigma"], abs=0.005)


def test_to_dict_is_json_and_to_price_model_rebuilds_the_model() -> None:
    fit = calibrate(read_monthly_prices(EIA / "brent-monthly.csv"), model="ou")
    data = json.loads(json.dumps(fit.to_dict()))
    assert data["model"] == "ou"
    assert set(data["estimates"]) == set(data["standard_errors"])
    assert data["estimates"]["kappa"] == fit.estimates["kappa"]
    assert "observed information" in data["standard_error_method"]
    model = fit.to_price_model()
    assert isinstance(model, MeanRevertingOU)
    assert model.kappa == fit.estimates["kappa"]
    assert model.sigma == fit.estimates["sigma"]
    assert isinstance(calibrate_csv(EIA / "brent-monthly.csv", model="gbm").to_price_model(), GBM)


# ----------------------------------------------------------------------------------------------------
# bad input


def csv_text(prices: list[float]) -> str:
    rows = [f"{2000 + (i // 12)}-{i % 12 + 1:02d}-15,{p}" for i, p in enumerate(prices)]
    return "Date,Price\n" + "\n".join(rows) + "\n"


def test_non_positive_price_is_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(csv_text([50.0, 51.0, 0.0, 49.0, 48.0]))
    for model in ("gbm", "ou"):
        with pytest.raises(
            PriceModelError, match=r"prices\.csv:4: price 0 US\$/bbl for 2000-03 is not positive"
        ):
            calibrate_csv(path, model=model)  # type: ignore[arg-type]


def test_random_walk_without_reversion_is_refused_for_ou() -> None:
    # an explosive AR(1) in log-prices: x_i = 1.05 x_{i-1} + small noise
    noise = np.random.default_rng(5).normal(0, 0.01, size=30)
    x = [1.0]
    for e in noise:
        x.append(1.05 * x[-1] + e)
    prices = parse_monthly_prices(csv_text([math.exp(v) for v in x]), source="trend.csv")
    with pytest.raises(PriceModelError, match=r"^trend\.csv: no mean reversion .* use model gbm$"):
        calibrate(prices, model="ou")


def test_constant_prices_and_too_short_histories_are_refused() -> None:
    with pytest.raises(PriceModelError, match="do not vary"):
        calibrate(parse_monthly_prices(csv_text([50.0] * 10), source="flat.csv"), model="gbm")
    with pytest.raises(PriceModelError, match="do not vary"):
        calibrate(parse_monthly_prices(csv_text([50.0] * 10), source="flat.csv"), model="ou")
    with pytest.raises(PriceModelError, match=r"^short\.csv: at least 3 monthly prices"):
        calibrate(parse_monthly_prices(csv_text([50.0, 51.0]), source="short.csv"), model="gbm")
    with pytest.raises(PriceModelError, match=r"^model: must be 'gbm' or 'ou'"):
        calibrate(parse_monthly_prices(csv_text([50.0, 51.0, 52.0]), source="x.csv"), model="heston")  # type: ignore[arg-type]
    with pytest.raises(PriceModelError, match=r"^dt_years: must be > 0"):
        fit_gbm(log_prices=np.log([50.0, 51.0, 49.0]), dt_years=0.0)


def test_point_prices_against_monthly_averages_on_the_shipped_brent_series() -> None:
    """Daily Brent returns give a volatility near 0.4 with no autocorrelation; month-end point prices about the
    same; monthly averages understate it and carry the averaging's autocorrelation (about 0.25), which warns."""
    from naef.resources import resolve_history

    daily = calibrate_csv(resolve_history("brent-daily"), model="gbm", sampling="daily")
    month_end = calibrate_csv(resolve_history("brent-daily"), model="gbm", sampling="month-end")
    average = calibrate_csv(resolve_history("brent-daily"), model="gbm", sampling="average")
    monthly_file = calibrate_csv(resolve_history("brent-monthly"), model="gbm", sampling="average")
    assert daily.dt_years == pytest.approx(1 / 252)
    assert 0.35 < daily.estimates["sigma"] < 0.45
    assert abs(daily.lag1_autocorrelation or 0.0) < 0.05
    assert not daily.warnings
    assert not month_end.warnings
    assert month_end.estimates["sigma"] > average.estimates["sigma"] * 1.15
    for avg in (average, monthly_file):
        assert (avg.lag1_autocorrelation or 0.0) > 0.15
        assert avg.warnings
        assert "understated" in avg.warnings[0]
    d = monthly_file.to_dict()
    assert d["sampling"] == "average"
    assert d["lag1_autocorrelation"] == monthly_file.lag1_autocorrelation
    # a month-end price is the month's last observation of the daily file
    last = read_monthly_prices(resolve_history("brent-daily"), sampling="month-end")
    text = resolve_history("brent-daily").read_text()
    jan_2020 = [line for line in text.splitlines() if line.startswith("2020-01-")]
    assert last.prices_usd_per_bbl[last.months.index("2020-01")] == float(jan_2020[-1].split(",")[1])


def test_lag1_autocorrelation_of_an_averaged_random_walk_is_about_a_quarter() -> None:
    """Working (1960): first differences of averages of a random walk have lag-1 autocorrelation → 0.25."""
    from naef.analysis.calibrate import lag1_autocorrelation

    walk = np.cumsum(np.random.default_rng(4).standard_normal(21 * 4000))
    assert abs(lag1_autocorrelation(walk)) < 0.02
    assert lag1_autocorrelation(walk.reshape(4000, 21).mean(axis=1)) == pytest.approx(0.25, abs=0.04)
