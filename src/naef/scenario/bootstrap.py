"""The block bootstrap of a price history's monthly log-returns (Politis & Romano 1992, 1994): the history
(:class:`HistoricalReturns`, built by ``naef.scenario.history``) and the model (:class:`BlockBootstrap`), which
follows the contract of ``naef.scenario.price_models``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias

from pydantic import Field, field_validator

from naef.scenario.path_blocks import accumulate_periods, in_path_blocks, paths_first
from naef.scenario.price_checks import PriceModelError, SpecModel, check_n_paths, check_spot, check_times

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray: TypeAlias = npt.NDArray[np.float64]

__all__ = ["MONTHS_PER_YEAR", "BlockBootstrap", "HistoricalReturns"]

MONTHS_PER_YEAR = 12
#: paths simulated together (``naef.scenario.path_blocks``); a path's 360 months take about 15 KiB of uniforms,
#: indices and returns. Chosen by measurement (20,000 paths x 360 months, CPU time): 2,048 a block 4.6 µs a path,
#: 1,024 4.6, 512 5.2, 4,096 4.9, all in one block 6.6
BOOTSTRAP_BLOCK_PATHS = 2048



class HistoricalReturns(SpecModel):
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
        import numpy as np
        return np.asarray(self.log_returns, dtype=np.float64)


def _months_of(t: FloatArray) -> npt.NDArray[np.int64]:
    """Month index round(12 t) of each time; raise if two times fall in the same month."""
    import numpy as np
    months = np.rint(t * MONTHS_PER_YEAR).astype(np.int64)
    if months[0] < 1 or np.any(np.diff(months) < 1):
        raise PriceModelError(
            "times_years: the bootstrap needs periods of at least one month "
            "(times are rounded to whole months)"
        )
    return months


class BlockBootstrap(SpecModel):
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
        u = rng.random((self.n_months(times_years), 2, check_n_paths(n_paths)))
        return paths_first(u, kept_axis=1)

    def _unwrapped_indices(self, u: FloatArray) -> npt.NDArray[np.int32]:
        """Month indices into the history repeated end to end (< n_hist + n_months), (n_paths, n_months)."""
        import numpy as np
        n_hist = len(self.history.log_returns)
        n_months = u.shape[2]
        months = np.arange(n_months, dtype=np.int32)
        starts = (u[:, 1, :] * n_hist).astype(np.int32)
        np.minimum(starts, n_hist - 1, out=starts)
        if self.scheme == "circular":
            block_first = months - months % self.block_months
            return np.asarray(starts[:, block_first] + (months - block_first), dtype=np.int32)
        # Month m belongs to the block that started at the last month b <= m with a restart (month 0 always
        # starts one); its index is starts[b] + (m - b) = (starts[b] - b) + m: carry starts[b] - b forward over
        # the months that continue a block (one vectorised copy per month over the paths), then add m.
        idx = starts
        idx -= months
        continues = u[:, 0, :] < 1.0 / self.block_months  # a restart this month ...
        np.logical_not(continues, out=continues)  # ... or not (written so, NaN counts as before: no restart)
        for m in range(1, n_months):
            np.copyto(idx[:, m], idx[:, m - 1], where=continues[:, m])
        idx += months
        return idx

    def monthly_indices(self, draws: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Index into ``history.log_returns`` of each simulated month, shaped (n_paths, n_months)."""
        import numpy as np
        u = np.asarray(draws, dtype=np.float64)
        return self._unwrapped_indices(u).astype(np.int64) % len(self.history.log_returns)

    def simulate_from_draws(
        self, *, spot_usd_per_bbl: float, times_years: npt.ArrayLike, draws: npt.ArrayLike
    ) -> FloatArray:
        """Prices at ``times_years`` from the uniforms of :meth:`draw`."""
        import numpy as np
        t = check_times(times_years)
        months = _months_of(t)
        x0 = math.log(check_spot(spot_usd_per_bbl))
        u = np.asarray(draws, dtype=np.float64)
        n_months = int(months[-1])
        if u.ndim != 3 or u.shape[1] != 2 or u.shape[2] != n_months:
            raise PriceModelError(f"draws: expected shape (n_paths, 2, {n_months}), got {u.shape}")
        hist = self.history.as_array()
        # the history repeated end to end, long enough for any block to run on without a modulo
        extended = np.tile(hist, n_months // hist.size + 2)
        last_month = months - 1

        def fill(rows: slice, out: FloatArray) -> None:  # ln S(t) = x0 + the sum of the months up to t's
            monthly = extended[self._unwrapped_indices(u[rows])]
            accumulate_periods(monthly, np.add)
            np.take(monthly, last_month, axis=1, out=out)
            out += x0
            np.exp(out, out=out)

        return in_path_blocks(n_paths=u.shape[0], n_periods=t.size, fill=fill, paths_per_block=BOOTSTRAP_BLOCK_PATHS)

    def simulate(
        self, *, spot_usd_per_bbl: float, times_years: npt.ArrayLike, n_paths: int, rng: np.random.Generator
    ) -> FloatArray:
        """Benchmark prices shaped (n_paths, len(times_years))."""
        draws = self.draw(times_years=times_years, n_paths=n_paths, rng=rng)
        return self.simulate_from_draws(
            spot_usd_per_bbl=spot_usd_per_bbl, times_years=times_years, draws=draws
        )
