"""Stochastic models of the benchmark crude price (Brent or WTI) and of the Mexican-mix differential.

One contract for every benchmark model (``GBM``, ``MeanRevertingOU``, ``SchwartzSmith``, ``BlockBootstrap``):

* a frozen, validated pydantic model (``extra="forbid"``) whose ``model`` field is the discriminator
  used in the scenario's ``[price]`` table;
* ``draw(*, times_years, n_paths, rng)`` returns the random numbers alone (a benchmark can time them);
* ``simulate_from_draws(*, spot_usd_per_bbl, times_years, draws)`` turns them into prices shaped
  ``(n_paths, len(times_years))``: the price *at* each time (times strictly increasing and > 0; the
  spot is the price at time 0);
* ``simulate(*, spot_usd_per_bbl, times_years, n_paths, rng)`` is ``draw`` then ``simulate_from_draws``.

The Gaussian models (GBM, OU, Schwartz–Smith) draw ``rng.standard_normal((n_periods, n_paths, k))``
(period by period, so that a longer horizon keeps every path's first periods) and return it transposed to
``(n_paths, n_periods, k)``, with ``k = normals_needed(n_periods)``, and also expose
``simulate_from_normals(..., z)``. In all three, ``z[..., 0]`` is the standardised innovation of the log-price
over the period, which a correlated differential (``simulate_differential``) leans on. Every path depends only on
its own draws: simulating paths in chunks, each chunk with its own generator from ``SeedSequence.spawn``, gives the
same paths as simulating the concatenated draws in one go.

The arithmetic is vectorised over paths (a loop over periods at most), in float64.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from naef.errors import NaefError

__all__ = [
    "GBM",
    "BlockBootstrap",
    "DifferentialModel",
    "FixedDifferential",
    "HistoricalReturns",
    "MeanRevertingOU",
    "OUDifferential",
    "PriceModel",
    "PriceModelError",
    "SchwartzSmith",
    "check_times",
    "format_validation_error",
    "parse_differential_model",
    "parse_price_model",
    "simulate_differential",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]

MONTHS_PER_YEAR = 12

# A number from TOML/JSON: int or float, never a string or a boolean.
Number: TypeAlias = Annotated[float, Field(strict=True)]


class PriceModelError(NaefError):
    """Bad price-model parameters, bad simulation arguments, or a bad price history."""


# ----------------------------------------------------------------------------------------------------------
# validation helpers


def _positive(value: float) -> float:
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError("must be > 0")
    return value


def _non_negative(value: float) -> float:
    if not math.isfinite(value) or value < 0.0:
        raise ValueError("must be >= 0")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _correlation(value: float) -> float:
    if not math.isfinite(value) or not -1.0 <= value <= 1.0:
        raise ValueError("must be a correlation in [-1, 1]")
    return value


def format_validation_error(error: ValidationError, *, key: str, tagged_union: bool = False) -> str:
    """Pydantic errors as ``key.field: reason`` (e.g. ``price.sigma: must be > 0``), joined by ``; ``.

    With ``tagged_union`` the first location element (the ``model`` tag pydantic inserts for a
    discriminated union) is dropped, so ``price.gbm.sigma`` reads ``price.sigma``.
    """
    parts: list[str] = []
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        kind = item["type"]
        msg = str(item["msg"])
        if kind == "union_tag_invalid":
            loc, msg = ["model"], f"must be one of {item.get('ctx', {}).get('expected_tags', '?')}"
        elif kind == "union_tag_not_found":
            loc, msg = ["model"], "required key is missing"
        elif tagged_union and loc:
            loc = loc[1:]
        msg = msg.removeprefix("Value error, ")
        if kind == "extra_forbidden":
            msg = "unknown key"
        elif kind == "missing":
            msg = "required key is missing"
        elif kind in ("float_type", "float_parsing"):
            msg = "must be a number"
        elif kind in ("int_type", "int_parsing", "int_from_float"):
            msg = "must be a whole number"
        elif kind == "literal_error":
            msg = f"must be {item.get('ctx', {}).get('expected', msg)}"
        parts.append(f"{'.'.join([key, *loc])}: {msg}")
    return "; ".join(parts)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def check_times(times_years: npt.ArrayLike, *, key: str = "times_years") -> FloatArray:
    """``times_years`` as a 1-D float64 array; raise if empty, not finite, not > 0 or not increasing."""
    t = np.asarray(times_years, dtype=np.float64)
    if t.ndim != 1 or t.size == 0:
        raise PriceModelError(f"{key}: must be a non-empty 1-D array of times in years")
    if not np.all(np.isfinite(t)) or t[0] <= 0.0 or np.any(np.diff(t) <= 0.0):
        raise PriceModelError(f"{key}: times must be finite, > 0 and strictly increasing")
    return t


def _check_spot(spot_usd_per_bbl: float) -> float:
    spot = float(spot_usd_per_bbl)
    if not math.isfinite(spot) or spot <= 0.0:
        raise PriceModelError(
            f"spot_usd_per_bbl: must be > 0 for a log-price model (got {spot_usd_per_bbl!r})"
        )
    return spot


def _check_n_paths(n_paths: int) -> int:
    if int(n_paths) != n_paths or n_paths < 1:
        raise PriceModelError(f"n_paths: must be a positive integer (got {n_paths!r})")
    return int(n_paths)


def _check_normals(z: npt.ArrayLike, *, n_periods: int, k: int) -> FloatArray:
    arr = np.asarray(z, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[1] != n_periods or arr.shape[2] != k:
        raise PriceModelError(f"z: expected shape (n_paths, {n_periods}, {k}), got {arr.shape}")
    return arr


def _steps(t: FloatArray) -> FloatArray:
    """Period lengths dt_i = t_i - t_{i-1} with t_0 = 0."""
    return np.diff(t, prepend=0.0)


def _decay_integral(rate: float, dt: FloatArray) -> FloatArray:
    """(1 - exp(-rate * dt)) / rate, which tends to dt as rate -> 0 (computed with expm1 for accuracy)."""
    if rate == 0.0:
        return dt.copy()
    return np.asarray(-np.expm1(-rate * dt) / rate, dtype=np.float64)


# ----------------------------------------------------------------------------------------------------------
# Gaussian benchmark models


class _GaussianModel(_Model):
    """Shared plumbing of the models driven by standard normals."""

    def normals_needed(self, n_periods: int) -> int:
        """Standard normals per path per period."""
        del n_periods
        return 1

    def draw(self, *, times_years: npt.ArrayLike, n_paths: int, rng: np.random.Generator) -> FloatArray:
        """The random numbers alone, shaped (n_paths, n_periods, k): drawn period by period
        (``rng.standard_normal((n_periods, n_paths, k))``, transposed), so that a longer horizon only adds
        numbers after those of a shorter one and every path's first periods stay the same."""
        n_periods = check_times(times_years).size
        k = self.normals_needed(n_periods)
        z = rng.standard_normal((n_periods, _check_n_paths(n_paths), k))
        return np.ascontiguousarray(z.transpose(1, 0, 2))

    def simulate_from_normals(
        self, *, spot_usd_per_bbl: float, times_years: npt.ArrayLike, z: npt.ArrayLike
    ) -> FloatArray:
        """Prices at ``times_years`` from standard normals ``z`` shaped (n_paths, n_periods, k)."""
        t = check_times(times_years)
        normals = _check_normals(z, n_periods=t.size, k=self.normals_needed(t.size))
        log_price = self._log_price_from_normals(math.log(_check_spot(spot_usd_per_bbl)), t, normals)
        np.exp(log_price, out=log_price)
        return log_price

    def simulate_from_draws(
        self, *, spot_usd_per_bbl: float, times_years: npt.ArrayLike, draws: npt.ArrayLike
    ) -> FloatArray:
        """Same as :meth:`simulate_from_normals` (the draws of a Gaussian model are its normals)."""
        return self.simulate_from_normals(spot_usd_per_bbl=spot_usd_per_bbl, times_years=times_years, z=draws)

    def simulate(
        self, *, spot_usd_per_bbl: float, times_years: npt.ArrayLike, n_paths: int, rng: np.random.Generator
    ) -> FloatArray:
        """Benchmark prices shaped (n_paths, len(times_years)): ``draw`` then ``simulate_from_normals``."""
        z = self.draw(times_years=times_years, n_paths=n_paths, rng=rng)
        return self.simulate_from_normals(spot_usd_per_bbl=spot_usd_per_bbl, times_years=times_years, z=z)

    @staticmethod
    def log_price_shocks(draws: npt.ArrayLike) -> FloatArray:
        """The standardised log-price innovation of each period, ``draws[..., 0]`` (n_paths, n_periods)."""
        return np.asarray(draws, dtype=np.float64)[..., 0]

    def log_price_moments(
        self, *, spot_usd_per_bbl: float, times_years: npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray]:
        """Closed-form mean and variance of ln S(t) at each time (real-world measure)."""
        t = check_times(times_years)
        return self._log_moments(math.log(_check_spot(spot_usd_per_bbl)), t)

    def _log_price_from_normals(self, x0: float, t: FloatArray, z: FloatArray) -> FloatArray:
        raise NotImplementedError

    def _log_moments(self, x0: float, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        raise NotImplementedError


class GBM(_GaussianModel):
    """Geometric Brownian motion dS = mu S dt + sigma S dW, simulated with exact log-normal steps.

    ln S(t_i) = ln S(t_{i-1}) + (mu - sigma^2/2) dt_i + sigma sqrt(dt_i) z_i (exact: Black & Scholes 1973;
    Glasserman, *Monte Carlo Methods in Financial Engineering*, 2003, §3.2). E[S(t)] = S0 exp(mu t).
    Rates are per year; ``mu`` is the real-world drift of the price (not of its logarithm).
    """

    model: Literal["gbm"] = "gbm"
    mu: Number = 0.0
    sigma: Number

    _v_mu = field_validator("mu")(_finite)
    _v_sigma = field_validator("sigma")(_positive)

    def _log_price_from_normals(self, x0: float, t: FloatArray, z: FloatArray) -> FloatArray:
        dt = _steps(t)
        drift = (self.mu - 0.5 * self.sigma**2) * dt
        scale = self.sigma * np.sqrt(dt)
        out = z[..., 0] * scale
        out += drift
        np.cumsum(out, axis=1, out=out)
        out += x0
        return out

    def _log_moments(self, x0: float, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        return x0 + (self.mu - 0.5 * self.sigma**2) * t, self.sigma**2 * t


class MeanRevertingOU(_GaussianModel):
    """Mean-reverting log-price: X = ln S follows dX = kappa (theta - X) dt + sigma dW (Ornstein–Uhlenbeck).

    ``theta = ln(long_run_usd_per_bbl)`` is the long-run **log**-price, so ``long_run_usd_per_bbl`` is
    the long-run *median* price; the stationary mean price is exp(theta + sigma^2 / (4 kappa)).
    Exact discretisation (Schwartz 1997, J. Finance 52(3), model 1; Glasserman 2003, §3.3):
    X_i = theta + (X_{i-1} - theta) e^{-kappa dt} + sigma sqrt((1 - e^{-2 kappa dt}) / (2 kappa)) z_i.
    ``kappa = 0`` is a driftless Brownian log-price. Half-life of a shock: ln 2 / kappa years.
    """

    model: Literal["ou"] = "ou"
    kappa: Number
    long_run_usd_per_bbl: Number
    sigma: Number

    _v_kappa = field_validator("kappa")(_non_negative)
    _v_long_run = field_validator("long_run_usd_per_bbl")(_positive)
    _v_sigma = field_validator("sigma")(_positive)

    @property
    def theta(self) -> float:
        """Long-run log-price ln(long_run_usd_per_bbl)."""
        return math.log(self.long_run_usd_per_bbl)

    def _coefficients(self, dt: FloatArray) -> tuple[FloatArray, FloatArray]:
        decay = np.exp(-self.kappa * dt)
        sd = self.sigma * np.sqrt(_decay_integral(2.0 * self.kappa, dt))
        return decay, sd

    def _log_price_from_normals(self, x0: float, t: FloatArray, z: FloatArray) -> FloatArray:
        decay, sd = self._coefficients(_steps(t))
        theta = self.theta
        out = z[..., 0] * sd
        prev = np.full(out.shape[0], x0 - theta)
        for i in range(t.size):
            col = out[:, i]
            col += prev * decay[i]
            prev = col
        out += theta
        return out

    def _log_moments(self, x0: float, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        mean = self.theta + (x0 - self.theta) * np.exp(-self.kappa * t)
        return mean, self.sigma**2 * _decay_integral(2.0 * self.kappa, t)


class SchwartzSmith(_GaussianModel):
    """Schwartz–Smith (2000) short-term/long-term two-factor model, real-world dynamics.

    ln S = chi + xi with dchi = -kappa chi dt + sigma_chi dW_chi, dxi = mu_xi dt + sigma_xi dW_xi and
    dW_chi dW_xi = rho dt (Schwartz & Smith, "Short-Term Variations and Long-Term Dynamics in Commodity
    Prices", Management Science 46(7):893–911, 2000, eqs. 1–2). The risk-neutral version subtracts the
    risk premia lambda_chi, lambda_xi from the drifts; they matter for futures prices, not for the
    real-world paths simulated here, so they are not parameters.

    Exact discretisation: over a step dt, chi decays by e^{-kappa dt} and (chi, xi) moves by a bivariate
    normal (e_chi, e_xi) with Var(e_chi) = sigma_chi^2 (1 - e^{-2 kappa dt}) / (2 kappa),
    Var(e_xi) = sigma_xi^2 dt and Cov = rho sigma_chi sigma_xi (1 - e^{-kappa dt}) / kappa. The pair is
    drawn as (e_x = e_chi + e_xi, e_xi) with a Cholesky factor, so that z[..., 0] is the standardised
    log-price innovation and z[..., 1] the independent part of the long-term shock.

    Initial split: chi0 = ``chi0`` (log units; 0, the default, puts the spot at its equilibrium level) and
    xi0 = ln(spot) - chi0.
    """

    model: Literal["schwartz_smith"] = "schwartz_smith"
    kappa: Number
    sigma_chi: Number
    mu_xi: Number = 0.0
    sigma_xi: Number
    rho: Number = 0.0
    chi0: Number = 0.0

    _v_kappa = field_validator("kappa")(_non_negative)
    _v_sigmas = field_validator("sigma_chi", "sigma_xi")(_positive)
    _v_mu = field_validator("mu_xi", "chi0")(_finite)
    _v_rho = field_validator("rho")(_correlation)

    def normals_needed(self, n_periods: int) -> int:
        del n_periods
        return 2

    def _step_covariance(self, dt: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        var_chi = self.sigma_chi**2 * _decay_integral(2.0 * self.kappa, dt)
        var_xi = self.sigma_xi**2 * dt
        cov = self.rho * self.sigma_chi * self.sigma_xi * _decay_integral(self.kappa, dt)
        return var_chi, var_xi, cov

    def _log_price_from_normals(self, x0: float, t: FloatArray, z: FloatArray) -> FloatArray:
        dt = _steps(t)
        decay = np.exp(-self.kappa * dt)
        var_chi, var_xi, cov = self._step_covariance(dt)
        var_x = var_chi + var_xi + 2.0 * cov  # variance of e_x = e_chi + e_xi
        sd_x = np.sqrt(np.maximum(var_x, 0.0))
        cov_x_xi = cov + var_xi
        c = np.divide(cov_x_xi, sd_x, out=np.zeros_like(sd_x), where=sd_x > 0.0)
        d = np.sqrt(np.maximum(var_xi - c * c, 0.0))
        drift_xi = self.mu_xi * dt
        n = z.shape[0]
        out = np.empty((n, t.size))
        chi = np.full(n, self.chi0)
        xi = np.full(n, x0 - self.chi0)
        for i in range(t.size):
            z0 = z[:, i, 0]
            e_x = z0 * sd_x[i]
            e_xi = z0 * c[i]
            e_xi += z[:, i, 1] * d[i]
            # chi_i = chi decay + e_chi, xi_i = xi + drift + e_xi; x_i = chi_i + xi_i
            chi *= decay[i]
            chi += e_x
            chi -= e_xi
            xi += e_xi
            xi += drift_xi[i]
            np.add(chi, xi, out=out[:, i])
        return out

    def _log_moments(self, x0: float, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        # Schwartz & Smith (2000), eq. (3): E[ln S_t] and Var[ln S_t] given chi0, xi0.
        xi0 = x0 - self.chi0
        mean = np.exp(-self.kappa * t) * self.chi0 + xi0 + self.mu_xi * t
        var_chi, var_xi, cov = self._step_covariance(t)
        return mean, var_chi + var_xi + 2.0 * cov


# ----------------------------------------------------------------------------------------------------------
# block bootstrap of history


class HistoricalReturns(_Model):
    """Consecutive monthly log-returns ln(P_m / P_{m-1}) of a price history (built by
    ``naef.scenario.history``)."""

    source: str
    first_month: str = Field(description="YYYY-MM of the first price (the returns start the month after)")
    last_month: str = Field(description="YYYY-MM of the last price")
    log_returns: tuple[float, ...]

    @field_validator("log_returns")
    @classmethod
    def _v_returns(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) < 1:
            raise ValueError("must hold at least one monthly log-return")
        if not all(math.isfinite(v) for v in value):
            raise ValueError("must be finite numbers")
        return value

    def as_array(self) -> FloatArray:
        return np.asarray(self.log_returns, dtype=np.float64)


def _months_of(t: FloatArray) -> npt.NDArray[np.int64]:
    """Month index round(12 t) of each time; raise if two times fall in the same month."""
    months = np.rint(t * MONTHS_PER_YEAR).astype(np.int64)
    if months[0] < 1 or np.any(np.diff(months) < 1):
        raise PriceModelError(
            "times_years: the bootstrap needs periods of at least one month "
            "(times are rounded to whole months)"
        )
    return months


class BlockBootstrap(_Model):
    """Block bootstrap of historical monthly log-returns, aggregated to the simulation's periods.

    Monthly log-returns are resampled in blocks of consecutive months of ``history``, wrapping around its
    end (circular), so every month is equally likely to be drawn and the expected monthly log-return is the
    historical mean:

    * ``scheme = "stationary"`` (default): the stationary bootstrap of Politis & Romano (1994), JASA
      89(428):1303–1313. Each month starts a new block with probability 1 / ``block_months`` (block
      lengths are geometric with mean ``block_months``); otherwise it takes the next month of history.
    * ``scheme = "circular"``: the circular block bootstrap of Politis & Romano (1992): blocks of exactly
      ``block_months`` months, starting at simulation months 0, L, 2L, ...

    A time t is mapped to month round(12 t); the log-return of a period is the sum of the bootstrapped
    monthly log-returns of the months it spans (a quarter = 3 months). Draws:
    ``rng.random((n_paths, 2, n_months))``; row 0 decides block starts (stationary scheme), row 1 picks
    the month of history a block starts at.
    """

    model: Literal["bootstrap"] = "bootstrap"
    block_months: Annotated[int, Field(strict=True)] = 12
    scheme: Literal["stationary", "circular"] = "stationary"
    history: HistoricalReturns

    @field_validator("block_months")
    @classmethod
    def _v_block(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be >= 1")
        return value

    def n_months(self, times_years: npt.ArrayLike) -> int:
        return int(_months_of(check_times(times_years))[-1])

    def draw(self, *, times_years: npt.ArrayLike, n_paths: int, rng: np.random.Generator) -> FloatArray:
        """The random numbers alone: uniforms shaped (n_paths, 2, n_months), drawn month by month
        (``rng.random((n_months, 2, n_paths))``, transposed: a longer horizon keeps the first months' numbers)."""
        u = rng.random((self.n_months(times_years), 2, _check_n_paths(n_paths)))
        return np.ascontiguousarray(u.transpose(2, 1, 0))

    def _unwrapped_indices(self, u: FloatArray) -> npt.NDArray[np.int32]:
        """Month indices into the history repeated end to end (< n_hist + n_months), (n_paths, n_months)."""
        n_hist = len(self.history.log_returns)
        n_paths, n_months = u.shape[0], u.shape[2]
        months = np.arange(n_months, dtype=np.int32)
        starts = (u[:, 1, :] * n_hist).astype(np.int32)
        np.minimum(starts, n_hist - 1, out=starts)
        if self.scheme == "circular":
            block_first = months - months % self.block_months
            return np.asarray(starts[:, block_first] + (months - block_first), dtype=np.int32)
        # Month m belongs to the block that started at the last month b <= m with a restart (month 0 always
        # starts one); its index is starts[b] + (m - b).
        block_first = np.where(u[:, 0, :] < 1.0 / self.block_months, months, np.int32(0))
        np.maximum.accumulate(block_first, axis=1, out=block_first)
        rows = (np.arange(n_paths, dtype=np.int32) * np.int32(n_months))[:, None]
        idx = starts.ravel()[(block_first + rows).ravel()].reshape(n_paths, n_months)
        idx += months
        idx -= block_first
        return idx

    def monthly_indices(self, draws: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Index into ``history.log_returns`` of each simulated month, shaped (n_paths, n_months)."""
        u = np.asarray(draws, dtype=np.float64)
        return self._unwrapped_indices(u).astype(np.int64) % len(self.history.log_returns)

    def simulate_from_draws(
        self, *, spot_usd_per_bbl: float, times_years: npt.ArrayLike, draws: npt.ArrayLike
    ) -> FloatArray:
        """Prices at ``times_years`` from the uniforms of :meth:`draw`."""
        t = check_times(times_years)
        months = _months_of(t)
        x0 = math.log(_check_spot(spot_usd_per_bbl))
        u = np.asarray(draws, dtype=np.float64)
        n_months = int(months[-1])
        if u.ndim != 3 or u.shape[1] != 2 or u.shape[2] != n_months:
            raise PriceModelError(f"draws: expected shape (n_paths, 2, {n_months}), got {u.shape}")
        hist = self.history.as_array()
        # the history repeated end to end, long enough for any block to run on without a modulo
        extended = np.tile(hist, n_months // hist.size + 2)
        monthly = extended[self._unwrapped_indices(u)]
        np.cumsum(monthly, axis=1, out=monthly)
        out = monthly[:, months - 1]
        out += x0
        np.exp(out, out=out)
        return out

    def simulate(
        self, *, spot_usd_per_bbl: float, times_years: npt.ArrayLike, n_paths: int, rng: np.random.Generator
    ) -> FloatArray:
        """Benchmark prices shaped (n_paths, len(times_years))."""
        draws = self.draw(times_years=times_years, n_paths=n_paths, rng=rng)
        return self.simulate_from_draws(
            spot_usd_per_bbl=spot_usd_per_bbl, times_years=times_years, draws=draws
        )


PriceModel: TypeAlias = Annotated[
    GBM | MeanRevertingOU | SchwartzSmith | BlockBootstrap, Field(discriminator="model")
]
_PRICE_ADAPTER: TypeAdapter[GBM | MeanRevertingOU | SchwartzSmith | BlockBootstrap] = TypeAdapter(PriceModel)


def parse_price_model(
    data: Mapping[str, Any], *, key: str = "price"
) -> GBM | MeanRevertingOU | SchwartzSmith | BlockBootstrap:
    """Validate a ``[price]`` table into a model.

    Raises :class:`PriceModelError` with one line per problem, e.g. ``price.sigma: must be > 0``.
    """
    try:
        return _PRICE_ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        raise PriceModelError(format_validation_error(exc, key=key, tagged_union=True)) from None


# ----------------------------------------------------------------------------------------------------------
# differential (Mexican export mix minus benchmark)


class FixedDifferential(_Model):
    """A deterministic differential deck in US$/bbl: one number for every period, or one per period."""

    model: Literal["fixed"] = "fixed"
    usd_per_bbl: float | tuple[float, ...]

    @field_validator("usd_per_bbl", mode="before")
    @classmethod
    def _v_deck(cls, value: object) -> float | tuple[float, ...]:
        def number(v: object) -> float:
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError("must be a finite number or a non-empty list of finite numbers")
            return float(v)

        if isinstance(value, list | tuple):
            if not value:
                raise ValueError("must be a finite number or a non-empty list of finite numbers")
            return tuple(number(v) for v in value)
        return number(value)

    def draw(self, *, times_years: npt.ArrayLike, n_paths: int, rng: np.random.Generator) -> FloatArray:
        """No randomness: an empty array shaped (n_paths, n_periods, 0) (consumes nothing from ``rng``)."""
        del rng
        return np.empty((_check_n_paths(n_paths), check_times(times_years).size, 0))

    def simulate_from_draws(
        self,
        *,
        times_years: npt.ArrayLike,
        draws: npt.ArrayLike,
        benchmark_shocks: npt.ArrayLike | None = None,
    ) -> FloatArray:
        del benchmark_shocks
        t = check_times(times_years)
        n_paths = np.asarray(draws).shape[0]
        deck = np.asarray(self.usd_per_bbl, dtype=np.float64)
        if deck.ndim == 1 and deck.size != t.size:
            raise PriceModelError(
                f"differential.usd_per_bbl: the deck has {deck.size} values "
                f"but the horizon has {t.size} periods"
            )
        return np.broadcast_to(deck, (n_paths, t.size)).copy()


class OUDifferential(_Model):
    """Differential in levels (US$/bbl): dD = kappa (theta - D) dt + sigma dW_D (Ornstein–Uhlenbeck).

    Exact steps (theta = ``long_run_usd_per_bbl``, sigma = ``sigma_usd_per_bbl``):
    D_i = theta + (D_{i-1} - theta) e^{-kappa dt} + sigma sqrt((1 - e^{-2 kappa dt}) / (2 kappa)) e_i,
    e_i = rho z_i + sqrt(1 - rho^2) w_i, where z_i is the benchmark's standardised log-price innovation in
    the same period (``benchmark_shocks``) and w_i the differential's own normal. ``rho`` is therefore the
    correlation of the per-period innovations (a discrete-time definition, exact for any step length).
    Levels can turn negative: the differential is a spread, not a price.
    """

    model: Literal["ou"] = "ou"
    initial_usd_per_bbl: Number
    long_run_usd_per_bbl: Number
    kappa: Number
    sigma_usd_per_bbl: Number
    rho: Number = 0.0

    _v_levels = field_validator("initial_usd_per_bbl", "long_run_usd_per_bbl")(_finite)
    _v_kappa = field_validator("kappa")(_non_negative)
    _v_sigma = field_validator("sigma_usd_per_bbl")(_positive)
    _v_rho = field_validator("rho")(_correlation)

    def draw(self, *, times_years: npt.ArrayLike, n_paths: int, rng: np.random.Generator) -> FloatArray:
        """The differential's own normals, shaped (n_paths, n_periods, 1), drawn period by period (as the
        Gaussian benchmark models draw theirs)."""
        z = rng.standard_normal((check_times(times_years).size, _check_n_paths(n_paths), 1))
        return np.ascontiguousarray(z.transpose(1, 0, 2))

    def simulate_from_draws(
        self,
        *,
        times_years: npt.ArrayLike,
        draws: npt.ArrayLike,
        benchmark_shocks: npt.ArrayLike | None = None,
    ) -> FloatArray:
        t = check_times(times_years)
        w = _check_normals(draws, n_periods=t.size, k=1)[..., 0]
        dt = _steps(t)
        decay = np.exp(-self.kappa * dt)
        sd = self.sigma_usd_per_bbl * np.sqrt(_decay_integral(2.0 * self.kappa, dt))
        if self.rho != 0.0:
            if benchmark_shocks is None:
                raise PriceModelError(
                    "differential.rho: a correlated differential needs the benchmark's shocks "
                    "(use a gbm, ou or schwartz_smith price model, or set rho = 0)"
                )
            zb = np.asarray(benchmark_shocks, dtype=np.float64)
            if zb.shape != w.shape:
                raise PriceModelError(f"benchmark_shocks: expected shape {w.shape}, got {zb.shape}")
            eps = zb * self.rho
            eps += w * math.sqrt(1.0 - self.rho**2)
        else:
            eps = w.copy()
        eps *= sd
        theta = self.long_run_usd_per_bbl
        prev = np.full(eps.shape[0], self.initial_usd_per_bbl - theta)
        for i in range(t.size):
            col = eps[:, i]
            col += prev * decay[i]
            prev = col
        eps += theta
        return eps

    def moments(self, *, times_years: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Closed-form mean and variance of D(t)."""
        t = check_times(times_years)
        theta = self.long_run_usd_per_bbl
        mean = theta + (self.initial_usd_per_bbl - theta) * np.exp(-self.kappa * t)
        return mean, self.sigma_usd_per_bbl**2 * _decay_integral(2.0 * self.kappa, t)


DifferentialModel: TypeAlias = Annotated[FixedDifferential | OUDifferential, Field(discriminator="model")]
_DIFF_ADAPTER: TypeAdapter[FixedDifferential | OUDifferential] = TypeAdapter(DifferentialModel)


def parse_differential_model(
    data: Mapping[str, Any], *, key: str = "differential"
) -> FixedDifferential | OUDifferential:
    """Validate a differential table; raise :class:`PriceModelError` naming the key."""
    try:
        return _DIFF_ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        raise PriceModelError(format_validation_error(exc, key=key, tagged_union=True)) from None


def simulate_differential(
    *,
    model: FixedDifferential | OUDifferential,
    times_years: npt.ArrayLike,
    n_paths: int,
    rng: np.random.Generator,
    benchmark_shocks: npt.ArrayLike | None = None,
) -> FloatArray:
    """Differential (Mexican mix minus benchmark, US$/bbl) shaped (n_paths, n_periods).

    ``benchmark_shocks`` is ``price_model.log_price_shocks(price_draws)`` of the same paths; it is needed
    only when the differential is correlated with the benchmark (``rho != 0``).
    """
    draws = model.draw(times_years=times_years, n_paths=n_paths, rng=rng)
    return model.simulate_from_draws(times_years=times_years, draws=draws, benchmark_shocks=benchmark_shocks)
