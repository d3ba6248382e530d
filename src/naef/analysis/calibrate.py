"""Maximum-likelihood calibration of the GBM and mean-reverting (OU) log-price models to monthly or daily prices.

Sampling: ``daily`` (every row of a daily file, dt = 1/252 year), ``month-end`` (each month's last observation,
dt = 1/12: a point price) or ``average`` (each month's average, dt = 1/12, as EIA's monthly series). Averaging
smooths returns (lag-1 autocorrelation about 0.25) and understates volatility, so the result carries the lag-1
autocorrelation of the returns and a warning above 0.15.

Both models have an exact Gaussian transition density for the log-price x = ln P observed every dt years,
so the likelihood is exact (no Euler approximation). It is conditioned on the first observation x_0.

* GBM: r_i = x_i - x_{i-1} ~ N(m, s^2) i.i.d. with m = (mu - sigma^2/2) dt, s^2 = sigma^2 dt.
  MLE: m = mean(r), s^2 = mean((r - m)^2); sigma = s / sqrt(dt), mu = m / dt + sigma^2 / 2.
* OU: x_i = a + b x_{i-1} + e_i, e_i ~ N(0, v): an AR(1) with b = e^{-kappa dt}, a = theta (1 - b),
  v = sigma^2 (1 - b^2) / (2 kappa). The conditional MLE of (a, b) is least squares, v = mean(e^2); then
  kappa = -ln(b) / dt, theta = a / (1 - b), sigma = sqrt(2 kappa v / (1 - b^2))
  (e.g. Brigo, Dalessandro, Neugebauer & Triki, "A Stochastic Processes Toolkit for Risk Management", 2007,
  §3.2; Tang & Chen, J. Econometrics 149, 2009, on the estimator).

Standard errors: the inverse of the observed information (the Hessian of the negative log-likelihood at the
MLE), which for these Gaussian likelihoods is closed form — [[n/s^2, 0], [0, n/(2 s^4)]] for (m, s^2) and
[[X'X / v, 0], [0, n/(2 v^2)]] for ((a, b), v) — carried to the reported parameters by the delta method.
They are asymptotic: in samples of a few hundred months kappa is biased upwards (the AR(1) coefficient
is biased towards 0) and its standard error understates the uncertainty when kappa dt is small.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from naef.scenario.history import DailyPrices, MonthlyPrices, log_prices, read_daily_prices, read_monthly_prices
from naef.scenario.price_models import GBM, MeanRevertingOU, PriceModelError

__all__ = ["SAMPLINGS", "CalibrationResult", "calibrate", "calibrate_csv", "fit_gbm", "fit_ou", "lag1_autocorrelation"]

MONTH_YEARS = 1.0 / 12.0
#: a trading day in years: the EIA daily spot series have one row per trading day, about 252 a year (the usual
#: convention for annualising daily volatility; Hull, *Options, Futures, and Other Derivatives*, ch. 15)
TRADING_DAY_YEARS = 1.0 / 252.0
#: lag-1 autocorrelation of returns above which the volatility is flagged as understated: averaging prices over a
#: month makes returns positively autocorrelated (an average of a random walk has lag-1 autocorrelation 0.25 in
#: the limit; Working, "Note on the correlation of first differences of averages in a random chain",
#: Econometrica 28(4), 1960) and shrinks their variance by about a third
AUTOCORRELATION_WARNING = 0.15
Sampling = Literal["daily", "month-end", "average"]
SAMPLINGS: tuple[Sampling, ...] = ("daily", "month-end", "average")
SE_METHOD = "inverse observed information (closed form for the Gaussian likelihood) + delta method"


@dataclass(frozen=True)
class CalibrationResult:
    """Estimates, standard errors and maximised log-likelihood of one fit."""

    model: Literal["gbm", "ou"]
    estimates: Mapping[str, float]
    standard_errors: Mapping[str, float]
    log_likelihood: float
    n_observations: int
    dt_years: float
    source: str | None = None
    first_month: str | None = None
    last_month: str | None = None
    notes: tuple[str, ...] = field(default=())
    sampling: str | None = None
    lag1_autocorrelation: float | None = None
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (for ``naef calibrate --json``)."""
        return {
            "model": self.model,
            "estimates": dict(self.estimates),
            "standard_errors": dict(self.standard_errors),
            "log_likelihood": self.log_likelihood,
            "n_observations": self.n_observations,
            "dt_years": self.dt_years,
            "source": self.source,
            "first_month": self.first_month,
            "last_month": self.last_month,
            "standard_error_method": SE_METHOD,
            "notes": list(self.notes),
            "sampling": self.sampling,
            "lag1_autocorrelation": self.lag1_autocorrelation,
            "warnings": list(self.warnings),
        }

    def to_price_model(self) -> GBM | MeanRevertingOU:
        """The fitted model, ready to simulate."""
        e = self.estimates
        if self.model == "gbm":
            return GBM(mu=e["mu"], sigma=e["sigma"])
        return MeanRevertingOU(
            kappa=e["kappa"], long_run_usd_per_bbl=e["long_run_usd_per_bbl"], sigma=e["sigma"]
        )


def _as_log_prices(log_prices_: npt.ArrayLike, *, minimum: int, source: str) -> npt.NDArray[np.float64]:
    x = np.asarray(log_prices_, dtype=np.float64)
    if x.ndim != 1 or x.size < minimum:
        raise PriceModelError(f"{source}: at least {minimum} monthly prices are needed, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise PriceModelError(f"{source}: log-prices must be finite")
    return x


def _check_dt(dt_years: float) -> float:
    if not math.isfinite(dt_years) or dt_years <= 0.0:
        raise PriceModelError(f"dt_years: must be > 0 (got {dt_years!r})")
    return float(dt_years)


def fit_gbm(
    *, log_prices: npt.ArrayLike, dt_years: float = MONTH_YEARS, source: str = "history"
) -> CalibrationResult:
    """Exact maximum-likelihood GBM fit to equally spaced log-prices (see the module docstring)."""
    dt = _check_dt(dt_years)
    x = _as_log_prices(log_prices, minimum=3, source=source)
    r = np.diff(x)
    n = r.size
    m = float(r.mean())
    s2 = float(np.mean((r - m) ** 2))
    if s2 <= 0.0:
        raise PriceModelError(f"{source}: the log-returns do not vary; volatility cannot be estimated")
    sigma = math.sqrt(s2 / dt)
    mu = m / dt + 0.5 * sigma**2
    # Cov(m) = s^2/n, Cov(s^2) = 2 s^4/n, independent. sigma = sqrt(s^2/dt) -> se = sigma / sqrt(2n).
    var_m = s2 / n
    var_s2 = 2.0 * s2**2 / n
    se_sigma = math.sqrt(var_s2) / (2.0 * math.sqrt(s2 * dt))
    # mu = m/dt + s^2/(2 dt)
    se_mu = math.sqrt(var_m / dt**2 + var_s2 / (4.0 * dt**2))
    loglik = -0.5 * n * (math.log(2.0 * math.pi * s2) + 1.0)
    return CalibrationResult(
        model="gbm",
        estimates={"mu": mu, "sigma": sigma, "log_drift": m / dt},
        standard_errors={"mu": se_mu, "sigma": se_sigma, "log_drift": math.sqrt(var_m) / dt},
        log_likelihood=loglik,
        n_observations=n,
        dt_years=dt,
        source=source,
        notes=("mu is the drift of the price (E[P_t] = P_0 e^{mu t}); log_drift = mu - sigma^2/2",),
    )


def fit_ou(
    *, log_prices: npt.ArrayLike, dt_years: float = MONTH_YEARS, source: str = "history"
) -> CalibrationResult:
    """Exact maximum-likelihood fit of a mean-reverting log-price (AR(1) on log-prices, module docstring)."""
    dt = _check_dt(dt_years)
    x = _as_log_prices(log_prices, minimum=4, source=source)
    y, xl = x[1:], x[:-1]
    n = y.size
    xm = float(xl.mean())
    sxx = float(np.sum((xl - xm) ** 2))
    if sxx <= 0.0 or float(np.ptp(xl)) == 0.0:
        raise PriceModelError(f"{source}: the prices do not vary; the model cannot be estimated")
    b = float(np.sum((xl - xm) * (y - y.mean())) / sxx)
    a = float(y.mean() - b * xm)
    resid = y - a - b * xl
    v = float(np.mean(resid**2))
    if v <= 0.0:
        raise PriceModelError(
            f"{source}: the log-prices follow an exact line; volatility cannot be estimated"
        )
    if not 0.0 < b < 1.0:
        raise PriceModelError(
            f"{source}: no mean reversion in this history (AR(1) coefficient {b:.4f} is not in (0, 1)); "
            f"the OU likelihood peaks at kappa = 0 - use model gbm"
        )
    kappa = -math.log(b) / dt
    theta = a / (1.0 - b)
    g = 2.0 * kappa / (1.0 - b * b)
    sigma = math.sqrt(v * g)
    # Inverse observed information: Cov(a, b) = v (X'X)^{-1}, Var(v) = 2 v^2 / n, independent of (a, b).
    sum_x = float(xl.sum())
    sum_x2 = float(np.sum(xl * xl))
    det = n * sum_x2 - sum_x**2
    cov_ab = (v / det) * np.array([[sum_x2, -sum_x], [-sum_x, float(n)]])
    var_v = 2.0 * v * v / n
    cov = np.zeros((3, 3))
    cov[:2, :2] = cov_ab
    cov[2, 2] = var_v
    # Jacobians of (kappa, theta, sigma) with respect to (a, b, v).
    dk_db = -1.0 / (b * dt)
    dg_db = (2.0 / (1.0 - b * b)) * dk_db + 2.0 * kappa * 2.0 * b / (1.0 - b * b) ** 2
    jac = np.array(
        [
            [0.0, dk_db, 0.0],
            [1.0 / (1.0 - b), a / (1.0 - b) ** 2, 0.0],
            [0.0, sigma / (2.0 * g) * dg_db, sigma / (2.0 * v)],
        ]
    )
    cov_p = jac @ cov @ jac.T
    se_kappa, se_theta, se_sigma = (math.sqrt(max(float(c), 0.0)) for c in np.diag(cov_p))
    long_run = math.exp(theta)
    half_life = math.log(2.0) / kappa
    loglik = -0.5 * n * (math.log(2.0 * math.pi * v) + 1.0)
    return CalibrationResult(
        model="ou",
        estimates={
            "kappa": kappa,
            "theta": theta,
            "long_run_usd_per_bbl": long_run,
            "sigma": sigma,
            "half_life_years": half_life,
        },
        standard_errors={
            "kappa": se_kappa,
            "theta": se_theta,
            "long_run_usd_per_bbl": long_run * se_theta,
            "sigma": se_sigma,
            "half_life_years": half_life / kappa * se_kappa,
        },
        log_likelihood=loglik,
        n_observations=n,
        dt_years=dt,
        source=source,
        notes=(
            "theta is the long-run log-price; long_run_usd_per_bbl = exp(theta) is the long-run median price",
            "kappa is biased upwards in short samples; its standard error is asymptotic",
        ),
    )


def lag1_autocorrelation(log_prices_: npt.ArrayLike) -> float:
    """The lag-1 sample autocorrelation of the log-returns, ``Σ (r_t - r̄)(r_{t-1} - r̄) / Σ (r_t - r̄)²``."""
    r = np.diff(np.asarray(log_prices_, dtype=np.float64))
    d = r - r.mean()
    den = float(np.sum(d * d))
    return float(np.sum(d[1:] * d[:-1]) / den) if den > 0.0 else 0.0


def calibrate(
    prices: MonthlyPrices | DailyPrices, *, model: Literal["gbm", "ou"], sampling: Sampling = "month-end"
) -> CalibrationResult:
    """Fit ``model`` to monthly (dt = 1/12 year) or daily (dt = 1/252 year) prices; non-positive prices raise
    naming the line. ``sampling`` records how ``prices`` were sampled; a lag-1 autocorrelation of the returns
    above :data:`AUTOCORRELATION_WARNING` adds a warning that the volatility is understated."""
    if isinstance(prices, DailyPrices):
        bad = np.flatnonzero(~(prices.prices_usd_per_bbl > 0.0))
        if bad.size:
            i = int(bad[0])
            raise PriceModelError(f"{prices.source}:{prices.lines[i]}: price {prices.prices_usd_per_bbl[i]} is not "
                                  "positive (a log-price model needs prices > 0)")
        x = np.log(prices.prices_usd_per_bbl)
        dt, first, last = TRADING_DAY_YEARS, prices.dates[0], prices.dates[-1]
    else:
        x = log_prices(prices)
        dt, first, last = MONTH_YEARS, prices.first_month, prices.last_month
    if model == "gbm":
        fit = fit_gbm(log_prices=x, dt_years=dt, source=prices.source)
    elif model == "ou":
        fit = fit_ou(log_prices=x, dt_years=dt, source=prices.source)
    else:
        raise PriceModelError(f"model: must be 'gbm' or 'ou' (got {model!r})")
    rho = lag1_autocorrelation(x)
    warnings: tuple[str, ...] = ()
    if rho > AUTOCORRELATION_WARNING:
        warnings = (f"the returns' lag-1 autocorrelation is {rho:.2f} (> {AUTOCORRELATION_WARNING}): the prices look "
                    "averaged (monthly averages smooth returns), so sigma is understated; calibrate on point "
                    "prices (--sampling daily or month-end of a daily file)",)
    return CalibrationResult(
        model=fit.model,
        estimates=fit.estimates,
        standard_errors=fit.standard_errors,
        log_likelihood=fit.log_likelihood,
        n_observations=fit.n_observations,
        dt_years=fit.dt_years,
        source=prices.source,
        first_month=first,
        last_month=last,
        notes=fit.notes,
        sampling=sampling,
        lag1_autocorrelation=rho,
        warnings=warnings,
    )


def calibrate_csv(
    path: str | Path, *, model: Literal["gbm", "ou"], sampling: Sampling = "month-end"
) -> CalibrationResult:
    """Read a ``Date,Price`` CSV (daily or monthly) and fit ``model`` to its daily rows (``"daily"``), its
    month-end observations (``"month-end"``, the default: point prices) or its monthly averages (``"average"``)."""
    if sampling == "daily":
        return calibrate(read_daily_prices(path), model=model, sampling=sampling)
    if sampling not in ("month-end", "average"):
        raise PriceModelError(f"--sampling: must be one of {', '.join(SAMPLINGS)} (got {sampling!r})")
    return calibrate(read_monthly_prices(path, sampling=sampling), model=model, sampling=sampling)
