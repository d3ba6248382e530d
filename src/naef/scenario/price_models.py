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

The arithmetic is vectorised over paths (a loop over periods at most), in float64, and runs on cache-sized blocks
of paths (``naef.scenario.path_blocks``; bit-identical to the whole-array formulas).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import Field, TypeAdapter, ValidationError, field_validator

from naef.scenario.bootstrap import BlockBootstrap
from naef.scenario.path_blocks import accumulate_periods, in_path_blocks, mean_revert, paths_first
from naef.scenario.price_checks import (
    Number,
    PriceModelError,
    SpecModel,
    check_n_paths,
    check_normals,
    check_spot,
    check_times,
    correlation,
    decay_integral,
    finite,
    format_validation_error,
    non_negative,
    period_steps,
    positive,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray: TypeAlias = npt.NDArray[np.float64]

__all__ = [
    "GBM",
    "BlockBootstrap",
    "MeanRevertingOU",
    "PriceModel",
    "PriceModelError",
    "SchwartzSmith",
    "parse_price_model",
]


# ----------------------------------------------------------------------------------------------------------
# Gaussian benchmark models


class _GaussianModel(SpecModel):
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
        z = rng.standard_normal((n_periods, check_n_paths(n_paths), k))
        return paths_first(z, kept_axis=2)

    def simulate_from_normals(
        self, *, spot_usd_per_bbl: float, times_years: npt.ArrayLike, z: npt.ArrayLike
    ) -> FloatArray:
        """Prices at ``times_years`` from standard normals ``z`` shaped (n_paths, n_periods, k)."""
        import numpy as np
        t = check_times(times_years)
        normals = check_normals(z, n_periods=t.size, k=self.normals_needed(t.size))
        log_price = self._log_price_writer(math.log(check_spot(spot_usd_per_bbl)), t)

        def fill(rows: slice, out: FloatArray) -> None:
            log_price(normals[rows], out)
            np.exp(out, out=out)

        return in_path_blocks(n_paths=normals.shape[0], n_periods=t.size, fill=fill)

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
        import numpy as np
        return np.asarray(draws, dtype=np.float64)[..., 0]

    def log_price_moments(
        self, *, spot_usd_per_bbl: float, times_years: npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray]:
        """Closed-form mean and variance of ln S(t) at each time (real-world measure)."""
        t = check_times(times_years)
        return self._log_moments(math.log(check_spot(spot_usd_per_bbl)), t)

    def _log_price_writer(self, x0: float, t: FloatArray) -> Callable[[FloatArray, FloatArray], None]:
        """A function ``write(z, out)`` that writes into ``out`` (paths, periods) the log-prices of the paths whose
        normals are ``z`` (paths, periods, k), from ln S(0) = ``x0`` (called on blocks of paths)."""
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

    _v_mu = field_validator("mu")(finite)
    _v_sigma = field_validator("sigma")(positive)

    def _log_price_writer(self, x0: float, t: FloatArray) -> Callable[[FloatArray, FloatArray], None]:
        import numpy as np
        dt = period_steps(t)
        drift = (self.mu - 0.5 * self.sigma**2) * dt
        scale = self.sigma * np.sqrt(dt)

        def write(z: FloatArray, out: FloatArray) -> None:
            np.multiply(z[..., 0], scale, out=out)
            out += drift
            accumulate_periods(out, np.add)
            out += x0

        return write

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

    _v_kappa = field_validator("kappa")(non_negative)
    _v_long_run = field_validator("long_run_usd_per_bbl")(positive)
    _v_sigma = field_validator("sigma")(positive)

    @property
    def theta(self) -> float:
        """Long-run log-price ln(long_run_usd_per_bbl)."""
        return math.log(self.long_run_usd_per_bbl)

    def _coefficients(self, dt: FloatArray) -> tuple[FloatArray, FloatArray]:
        import numpy as np
        decay = np.exp(-self.kappa * dt)
        sd = self.sigma * np.sqrt(decay_integral(2.0 * self.kappa, dt))
        return decay, sd

    def _log_price_writer(self, x0: float, t: FloatArray) -> Callable[[FloatArray, FloatArray], None]:
        decay, sd = self._coefficients(period_steps(t))
        theta = self.theta

        def write(z: FloatArray, out: FloatArray) -> None:  # X_i - theta = sd_i z_i + (X_{i-1} - theta) decay_i
            mean_revert(out, decay=decay, start=x0 - theta, theta=theta, normals=z[..., 0], scale=sd)

        return write

    def _log_moments(self, x0: float, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        import numpy as np
        mean = self.theta + (x0 - self.theta) * np.exp(-self.kappa * t)
        return mean, self.sigma**2 * decay_integral(2.0 * self.kappa, t)


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

    _v_kappa = field_validator("kappa")(non_negative)
    _v_sigmas = field_validator("sigma_chi", "sigma_xi")(positive)
    _v_mu = field_validator("mu_xi", "chi0")(finite)
    _v_rho = field_validator("rho")(correlation)

    def normals_needed(self, n_periods: int) -> int:
        del n_periods
        return 2

    def _step_covariance(self, dt: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        var_chi = self.sigma_chi**2 * decay_integral(2.0 * self.kappa, dt)
        var_xi = self.sigma_xi**2 * dt
        cov = self.rho * self.sigma_chi * self.sigma_xi * decay_integral(self.kappa, dt)
        return var_chi, var_xi, cov

    def _log_price_writer(self, x0: float, t: FloatArray) -> Callable[[FloatArray, FloatArray], None]:
        import numpy as np
        dt = period_steps(t)
        decay = np.exp(-self.kappa * dt)
        var_chi, var_xi, cov = self._step_covariance(dt)
        var_x = var_chi + var_xi + 2.0 * cov  # variance of e_x = e_chi + e_xi
        sd_x = np.sqrt(np.maximum(var_x, 0.0))
        cov_x_xi = cov + var_xi
        c = np.divide(cov_x_xi, sd_x, out=np.zeros_like(sd_x), where=sd_x > 0.0)
        d = np.sqrt(np.maximum(var_xi - c * c, 0.0))
        drift_xi = self.mu_xi * dt

        def write(z: FloatArray, out: FloatArray) -> None:
            n = z.shape[0]
            chi = np.full(n, self.chi0)
            xi = np.full(n, x0 - self.chi0)
            e_x, e_xi, own = np.empty(n), np.empty(n), np.empty(n)
            for i in range(t.size):
                z0 = z[:, i, 0]
                np.multiply(z0, sd_x[i], out=e_x)
                np.multiply(z0, c[i], out=e_xi)
                np.multiply(z[:, i, 1], d[i], out=own)
                e_xi += own
                # chi_i = chi decay + e_chi, xi_i = xi + drift + e_xi; x_i = chi_i + xi_i
                chi *= decay[i]
                chi += e_x
                chi -= e_xi
                xi += e_xi
                xi += drift_xi[i]
                np.add(chi, xi, out=out[:, i])

        return write

    def _log_moments(self, x0: float, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        # Schwartz & Smith (2000), eq. (3): E[ln S_t] and Var[ln S_t] given chi0, xi0.
        import numpy as np
        xi0 = x0 - self.chi0
        mean = np.exp(-self.kappa * t) * self.chi0 + xi0 + self.mu_xi * t
        var_chi, var_xi, cov = self._step_covariance(t)
        return mean, var_chi + var_xi + 2.0 * cov


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
