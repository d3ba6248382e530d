"""Models of the differential (Mexican export mix minus the benchmark, US$/bbl): a fixed deck or an
Ornstein–Uhlenbeck process correlated with the benchmark's log-price innovations
(``[price.stochastic_differential]``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import Field, TypeAdapter, ValidationError, field_validator

from naef.scenario.path_blocks import in_path_blocks, mean_revert, paths_first
from naef.scenario.price_checks import (
    Number,
    PriceModelError,
    SpecModel,
    check_n_paths,
    check_normals,
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
    "DifferentialModel",
    "FixedDifferential",
    "OUDifferential",
    "parse_differential_model",
    "simulate_differential",
]



class FixedDifferential(SpecModel):
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
        import numpy as np
        del rng
        return np.empty((check_n_paths(n_paths), check_times(times_years).size, 0))

    def simulate_from_draws(
        self,
        *,
        times_years: npt.ArrayLike,
        draws: npt.ArrayLike,
        benchmark_shocks: npt.ArrayLike | None = None,
    ) -> FloatArray:
        import numpy as np
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


class OUDifferential(SpecModel):
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

    _v_levels = field_validator("initial_usd_per_bbl", "long_run_usd_per_bbl")(finite)
    _v_kappa = field_validator("kappa")(non_negative)
    _v_sigma = field_validator("sigma_usd_per_bbl")(positive)
    _v_rho = field_validator("rho")(correlation)

    def draw(self, *, times_years: npt.ArrayLike, n_paths: int, rng: np.random.Generator) -> FloatArray:
        """The differential's own normals, shaped (n_paths, n_periods, 1), drawn period by period (as the
        Gaussian benchmark models draw theirs)."""
        z = rng.standard_normal((check_times(times_years).size, check_n_paths(n_paths), 1))
        return paths_first(z, kept_axis=2)

    def simulate_from_draws(
        self,
        *,
        times_years: npt.ArrayLike,
        draws: npt.ArrayLike,
        benchmark_shocks: npt.ArrayLike | None = None,
    ) -> FloatArray:
        import numpy as np
        t = check_times(times_years)
        w = check_normals(draws, n_periods=t.size, k=1)[..., 0]
        dt = period_steps(t)
        decay = np.exp(-self.kappa * dt)
        sd = self.sigma_usd_per_bbl * np.sqrt(decay_integral(2.0 * self.kappa, dt))
        if self.rho != 0.0:
            if benchmark_shocks is None:
                raise PriceModelError(
                    "differential.rho: a correlated differential needs the benchmark's shocks "
                    "(use a gbm, ou or schwartz_smith price model, or set rho = 0)"
                )
            zb = np.asarray(benchmark_shocks, dtype=np.float64)
            if zb.shape != w.shape:
                raise PriceModelError(f"benchmark_shocks: expected shape {w.shape}, got {zb.shape}")
            own = math.sqrt(1.0 - self.rho**2)

            def innovations(rows: slice, out: FloatArray) -> None:  # e = (rho zb + sqrt(1 - rho^2) w) sd
                np.multiply(zb[rows], self.rho, out=out)
                out += w[rows] * own
                out *= sd
        else:

            def innovations(rows: slice, out: FloatArray) -> None:  # e = w sd
                np.multiply(w[rows], sd, out=out)

        theta = self.long_run_usd_per_bbl

        def fill(rows: slice, out: FloatArray) -> None:
            innovations(rows, out)
            mean_revert(out, decay=decay, start=self.initial_usd_per_bbl - theta, theta=theta)

        return in_path_blocks(n_paths=w.shape[0], n_periods=t.size, fill=fill)

    def moments(self, *, times_years: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Closed-form mean and variance of D(t)."""
        import numpy as np
        t = check_times(times_years)
        theta = self.long_run_usd_per_bbl
        mean = theta + (self.initial_usd_per_bbl - theta) * np.exp(-self.kappa * t)
        return mean, self.sigma_usd_per_bbl**2 * decay_integral(2.0 * self.kappa, t)


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
