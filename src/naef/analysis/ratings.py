"""Implied ratings from idealized tables, and Monte Carlo PD/EL with their standard errors.

A tranche's *implied rating* compares its simulated expected loss (EL, a share of the tranche's present value
lost) at its weighted average life (WAL) with Moody's idealized cumulative expected-loss rates by rating and
horizon. The tables ship as package data in ``naef/data/ratings/`` (see the README there for the source, the
licence note and how far the figures were checked).

Rule (``implied_rating``)
    The implied rating is the *best* rating ``r`` on the table's scale whose idealized cumulative EL at the
    tranche's WAL is greater than or equal to the tranche's EL: ``max{r : EL_r(WAL) >= EL}``. Equivalently a
    tranche gets rating ``r`` when ``EL_{r-1}(WAL) < EL <= EL_r(WAL)``; a tie goes to the better rating. An EL
    above the worst tabulated rating's idealized EL (B3) gives :data:`BELOW_SCALE`, ``"Caa-C"``. This is how
    Moody's expected-loss ratings are read: e.g. a PPP text on Moody's ratings quotes "A3 (notional expected
    loss of 0.19-0.297% over a four year horizon)", i.e. above A2's and up to A3's idealized 4-year EL.

Horizons other than the table's integer years (``idealized_value``)
    * 1 <= t <= 10 years: the cumulative rate is interpolated **linearly in its logarithm** between the two
      neighbouring integer years, ``ln EL(t) = (1-w) ln EL(n) + w ln EL(n+1)`` with ``n = floor(t)``,
      ``w = t - n``. This reproduces the table exactly at integer years and is increasing in ``t``.
    * 0 < t < 1: ``EL(t) = t * EL(1)`` (a constant loss rate within the first year, the small-rate limit of a
      constant hazard), continuous at ``t = 1`` and zero at ``t = 0``.
    * t > 10 (beyond the table): **constant hazard** equal to the table's last year's,
      ``h = ln((1 - EL(9)) / (1 - EL(10)))``, so ``EL(t) = 1 - (1 - EL(10)) exp(-h (t - 10))``.

Monte Carlo estimators (``default_probability``, ``expected_loss``)
    PD is the share of paths that default, with the binomial standard error ``sqrt(p (1 - p) / n)``; EL is
    the sample mean of the per-path loss fraction, with the sample standard error ``s / sqrt(n)`` where ``s``
    is the sample standard deviation with ``n - 1`` in the denominator.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from naef.errors import NaefError
from naef.resources import broken_install, read_data_text
from naef.scenario.models import MOODYS_SCALE, Scenario

__all__ = [
    "BELOW_SCALE",
    "DEFAULT_TABLE",
    "MOODYS_RATINGS",
    "TABLES",
    "IdealizedTable",
    "RatingCap",
    "RatingError",
    "cap_rating",
    "default_probability",
    "expected_loss",
    "idealized_value",
    "idealized_values",
    "implied_rating",
    "implied_ratings",
    "load_table",
    "notches_above",
    "rating_at_least",
    "rating_cap",
]


class RatingError(NaefError):
    """An unknown rating name, an unknown table, or an input outside what a rating function accepts."""


#: Moody's long-term scale as tabulated (best first), down to B3 (one home: ``naef.scenario.models``).
MOODYS_RATINGS: tuple[str, ...] = MOODYS_SCALE

#: Label for an EL (or PD) worse than the worst tabulated rating's figure (Moody's "Caa-C" category).
BELOW_SCALE = "Caa-C"

_ORDER: dict[str, int] = {name: i for i, name in enumerate((*MOODYS_RATINGS, BELOW_SCALE))}

#: Shipped tables: name -> (CSV file in naef/data/ratings, kind).
TABLES: dict[str, tuple[str, Literal["expected_loss", "default_probability"]]] = {
    "moodys_idealized_el": ("moodys_idealized_cumulative_expected_loss_rates.csv", "expected_loss"),
    "moodys_idealized_pd": ("moodys_idealized_cumulative_default_rates.csv", "default_probability"),
}

#: The table ``implied_rating`` uses unless told otherwise.
DEFAULT_TABLE = "moodys_idealized_el"


@dataclass(frozen=True, eq=False)
class IdealizedTable:
    """Idealized cumulative rates by rating (rows, best first) and integer horizon in years (columns).

    ``rates`` are fractions (the CSV holds percent), shape ``(len(ratings), len(horizons_years))``, increasing
    along both axes. ``kind`` says whether they are expected-loss or default-probability rates.
    """

    name: str
    kind: Literal["expected_loss", "default_probability"]
    ratings: tuple[str, ...]
    horizons_years: npt.NDArray[np.float64]
    rates: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        h = self.horizons_years
        if h.ndim != 1 or h.size < 2 or not np.array_equal(h, np.arange(1.0, h.size + 1.0)):
            raise RatingError(f"rating table {self.name!r}: horizons must be the years 1, 2, ..., N (N >= 2)")
        if self.rates.shape != (len(self.ratings), h.size):
            raise RatingError(f"rating table {self.name!r}: rates shape {self.rates.shape} does not match")
        if not (np.all(self.rates > 0.0) and np.all(self.rates < 1.0)):
            raise RatingError(f"rating table {self.name!r}: every rate must lie strictly between 0 and 1")
        if np.any(np.diff(self.rates, axis=0) <= 0.0) or np.any(np.diff(self.rates, axis=1) <= 0.0):
            raise RatingError(f"rating table {self.name!r}: rates must increase down the scale and in time")
        unknown = [r for r in self.ratings if r not in _ORDER or r == BELOW_SCALE]
        if unknown:
            raise RatingError(f"rating table {self.name!r}: unknown rating names {unknown}")
        if any(_ORDER[x] >= _ORDER[y] for x, y in zip(self.ratings, self.ratings[1:], strict=False)):
            raise RatingError(f"rating table {self.name!r}: ratings must run best first in Moody's order")

    def row(self, rating: str) -> npt.NDArray[np.float64]:
        """The rates of one rating across the table's horizons."""
        return np.asarray(
            self.rates[self.ratings.index(_check_rating(rating, self.ratings))], dtype=np.float64
        )


def _check_rating(rating: str, valid: tuple[str, ...] = MOODYS_RATINGS) -> str:
    if rating not in valid:
        raise RatingError(f"rating {rating!r}: unknown; valid ratings are {', '.join(valid)}")
    return rating


@functools.cache
def load_table(name: str = DEFAULT_TABLE) -> IdealizedTable:
    """Load a shipped idealized table by name (see :data:`TABLES`); the CSV's percent become fractions."""
    if name not in TABLES:
        raise RatingError(f"rating table {name!r}: unknown; valid tables are {', '.join(TABLES)}")
    filename, kind = TABLES[name]
    text = read_data_text("ratings", filename)
    try:
        rows = list(csv.reader(io.StringIO(text)))
        header, body = rows[0], [r for r in rows[1:] if r]
        horizons = np.array([float(h) for h in header[1:]], dtype=np.float64)
        ratings = tuple(r[0] for r in body)
        rates = np.array([[float(x) for x in r[1:]] for r in body], dtype=np.float64) / 100.0
        if not ratings or rates.shape != (len(ratings), horizons.size) or not np.all(np.isfinite(rates)):
            raise ValueError("not a table of ratings by horizon")
    except (IndexError, ValueError) as exc:
        raise broken_install(f"data/ratings/{filename}", f"cannot be parsed ({exc})") from None
    table = IdealizedTable(name=name, kind=kind, ratings=ratings, horizons_years=horizons, rates=rates)
    table.rates.setflags(write=False)
    table.horizons_years.setflags(write=False)
    return table


def _resolve(table: IdealizedTable | str) -> IdealizedTable:
    return load_table(table) if isinstance(table, str) else table


def _interpolate(rates: npt.NDArray[np.float64], t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Cumulative rates at horizons ``t`` for every row of ``rates``: result shape ``(rows, *t.shape)``.

    Log-linear between integer years, proportional to ``t`` below one year, constant hazard beyond the table.
    """
    n_years = rates.shape[1]
    log_rates = np.log(rates)
    flat = t.reshape(-1)
    out = np.empty((rates.shape[0], flat.size), dtype=np.float64)

    inside = (flat >= 1.0) & (flat <= n_years)
    if np.any(inside):
        ti = flat[inside]
        # t == N uses the last segment with w == 1
        lo = np.minimum(np.floor(ti).astype(np.int64), n_years - 1)
        w = ti - lo
        between = np.exp((1.0 - w) * log_rates[:, lo - 1] + w * log_rates[:, lo])
        # exactly the table at integer years (exp(log(x)) may differ from x in the last bit)
        out[:, inside] = np.where(w == 0.0, rates[:, lo - 1], np.where(w == 1.0, rates[:, lo], between))

    below = flat < 1.0
    if np.any(below):
        out[:, below] = rates[:, :1] * flat[below]

    beyond = flat > n_years
    if np.any(beyond):
        last, before = rates[:, -1:], rates[:, -2:-1]
        hazard = np.log((1.0 - before) / (1.0 - last))
        out[:, beyond] = 1.0 - (1.0 - last) * np.exp(-hazard * (flat[beyond] - n_years))

    return out.reshape((rates.shape[0], *t.shape))


def _as_horizons(horizon_years: npt.ArrayLike, what: str) -> npt.NDArray[np.float64]:
    t = np.asarray(horizon_years, dtype=np.float64)
    if not np.all(np.isfinite(t)) or np.any(t < 0.0):
        raise RatingError(f"{what}: must be finite and >= 0 years")
    return t


def idealized_value(
    *, rating: str, horizon_years: float, table: IdealizedTable | str = DEFAULT_TABLE
) -> float:
    """Idealized cumulative rate (a fraction) of ``rating`` at ``horizon_years`` (module docstring)."""
    tab = _resolve(table)
    row = tab.row(rating)[np.newaxis, :]
    t = _as_horizons(horizon_years, "horizon_years")
    return float(_interpolate(row, t)[0])


def idealized_values(
    *, horizon_years: npt.ArrayLike, table: IdealizedTable | str = DEFAULT_TABLE
) -> npt.NDArray[np.float64]:
    """Idealized cumulative rates of all the table's ratings, shape ``(n_ratings, *horizon_years.shape)``."""
    tab = _resolve(table)
    return _interpolate(tab.rates, _as_horizons(horizon_years, "horizon_years"))


def implied_ratings(
    *, expected_loss: npt.ArrayLike, wal_years: npt.ArrayLike, table: IdealizedTable | str = DEFAULT_TABLE
) -> npt.NDArray[np.str_]:
    """Vectorised :func:`implied_rating`: broadcast ``expected_loss`` against ``wal_years``; returns names.

    With a default-probability table pass PDs as ``expected_loss``: the rule is the same.
    """
    tab = _resolve(table)
    el = np.asarray(expected_loss, dtype=np.float64)
    wal = np.asarray(wal_years, dtype=np.float64)
    if not np.all(np.isfinite(el)) or np.any(el < 0.0) or np.any(el > 1.0):
        raise RatingError("expected_loss: must be a fraction between 0 and 1")
    if not np.all(np.isfinite(wal)) or np.any(wal <= 0.0):
        raise RatingError("wal_years: must be finite and > 0 years")
    el, wal = np.broadcast_arrays(el, wal)
    ideal = _interpolate(tab.rates, wal)  # (n_ratings, *shape)
    # Rates increase down the scale: the best rating with ideal >= el comes after all with ideal < el.
    index = np.sum(ideal < el[np.newaxis, ...], axis=0)
    names = np.array([*tab.ratings, BELOW_SCALE])
    result: npt.NDArray[np.str_] = np.asarray(names[index])
    return result


def implied_rating(
    *, expected_loss: float, wal_years: float, table: IdealizedTable | str = DEFAULT_TABLE
) -> str:
    """The best rating whose idealized cumulative EL at ``wal_years`` is >= ``expected_loss``.

    ``expected_loss`` is a fraction (0.01 = 1 %); ``wal_years`` > 0. Returns :data:`BELOW_SCALE` when the EL
    exceeds the worst tabulated rating's idealized EL. Rule, interpolation, extrapolation: module docstring.
    """
    return str(implied_ratings(expected_loss=expected_loss, wal_years=wal_years, table=table).reshape(-1)[0])


def rating_at_least(r1: str, r2: str) -> bool:
    """True when ``r1`` is at least as good as ``r2`` on Moody's scale (``Aaa`` best, ``Caa-C`` worst)."""
    valid = (*MOODYS_RATINGS, BELOW_SCALE)
    return _ORDER[_check_rating(r1, valid)] <= _ORDER[_check_rating(r2, valid)]


def default_probability(defaulted: npt.ArrayLike) -> tuple[float, float]:
    """Monte Carlo PD and its standard error from one boolean per path.

    ``pd = k / n`` (k defaulted paths out of n); binomial standard error ``se = sqrt(pd (1 - pd) / n)``.
    """
    d = np.asarray(defaulted)
    if d.dtype != np.bool_:
        raise RatingError(f"defaulted: must be a boolean array, got dtype {d.dtype}")
    n = d.size
    if n == 0:
        raise RatingError("defaulted: needs at least one path")
    p = float(np.count_nonzero(d)) / n
    return p, math.sqrt(p * (1.0 - p) / n)


def expected_loss(loss_fraction: npt.ArrayLike) -> tuple[float, float]:
    """Monte Carlo EL and its standard error from the loss fraction of each path.

    ``el = mean(x)``; sample standard error ``se = s / sqrt(n)`` with ``s`` the sample standard deviation
    (``n - 1`` in the denominator; ``se = 0`` when ``n == 1``). Loss fractions must lie in [0, 1].
    """
    x = np.asarray(loss_fraction, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise RatingError("loss_fraction: needs at least one path")
    if not np.all(np.isfinite(x)) or np.any(x < 0.0) or np.any(x > 1.0):
        raise RatingError("loss_fraction: every value must be a fraction between 0 and 1")
    el = float(np.mean(x))
    se = float(np.std(x, ddof=1)) / math.sqrt(x.size) if x.size > 1 else 0.0
    return el, se


def notches_above(rating: str, notches: int) -> str:
    """``rating`` raised by ``notches`` on Moody's scale (at most Aaa)."""
    i = MOODYS_RATINGS.index(_check_rating(rating))
    return MOODYS_RATINGS[max(i - notches, 0)]


@dataclass(frozen=True)
class RatingCap:
    """The ceiling on every tranche's implied rating (``[originator]``, ``[sovereign]``): the lower of the
    originator's rating plus its uplift and the country ceiling."""

    originator: str
    originator_rating: str
    uplift_notches: int
    originator_plus_uplift: str
    country: str
    country_ceiling: str
    cap: str
    binds: str  # "originator" or "country_ceiling" (the originator on a tie)

    def to_dict(self) -> dict[str, object]:
        return {"originator": self.originator, "originator_rating": self.originator_rating,
                "max_uplift_notches": self.uplift_notches, "originator_plus_uplift": self.originator_plus_uplift,
                "country": self.country, "country_ceiling": self.country_ceiling, "cap": self.cap,
                "cap_set_by": self.binds}


def rating_cap(scenario: Scenario) -> RatingCap:
    """The scenario's rating cap: ``min(originator + uplift, country ceiling)`` on Moody's scale.

    Future-flow criteria rate a transaction above its originator by a limited number of notches and never above
    the country ceiling (Fitch, *Future Flow Securitization Rating Criteria*, 2012: PEMEX Finance Ltd. 'A+' over
    PEMEX's 'A-' and under Mexico's 'A' ceiling; sources in ``naef.scenario.models.Originator``)."""
    o, s = scenario.originator, scenario.sovereign
    up = notches_above(o.rating, o.max_uplift_notches)
    by_originator = _ORDER[up] >= _ORDER[s.country_ceiling]
    cap = up if by_originator else s.country_ceiling
    return RatingCap(o.name, o.rating, o.max_uplift_notches, up, s.name, s.country_ceiling, cap,
                     "originator" if by_originator else "country_ceiling")


def cap_rating(structural: str, cap: RatingCap) -> tuple[str, str]:
    """The implied rating ``min(structural, cap)`` and what sets it: ``"structure"`` when the structural
    rating is at or below the cap, else the cap's ``originator`` or ``country_ceiling``."""
    if _ORDER[structural] >= _ORDER[cap.cap]:
        return structural, "structure"
    return cap.cap, cap.binds
