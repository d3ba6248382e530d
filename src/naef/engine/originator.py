"""The originator's default on a Monte Carlo path, and what it does to the deal's cash (``[originator]``).

Default time
    The originator defaults at a random time ``τ`` whose distribution is its rating's idealized cumulative
    default rate: ``P(τ <= t) = F_r(t)``, Moody's idealized cumulative default probabilities
    (``naef/data/ratings/moodys_idealized_cumulative_default_rates.csv``) read by the same rules as
    ``naef.analysis.ratings`` (log-linear between integer years, proportional below one year, constant hazard
    beyond ten years; the tests hold the two together). ``t`` runs from the scenario's start, where the rating
    is observed. Each path draws one uniform ``U`` from its own stream and defaults in the first period ``k``
    with ``F_r(t_end,k) >= U`` (inverse CDF), never within the horizon when ``U > F_r(t_end,n-1)``. A better
    rating has a lower ``F_r`` at every horizon, so on the same ``U`` it defaults later or not at all.

Effect (per-period multipliers, applied to collections before the waterfall)
    From the period of default on, the funded fields' volumes are ``operating_continuity`` times their plan
    (the volume lost is lost; decline continues on the plan's clock) and, with ``exports_stop_on_default``, the
    pledged export receivables are zero.
"""

from __future__ import annotations

import csv
import functools
import io

import numpy as np
from numpy.typing import NDArray

from naef.resources import read_data_text
from naef.scenario.models import Scenario

__all__ = ["cumulative_default_probability", "default_periods", "originator_multipliers", "originator_terms"]

Array = NDArray[np.float64]

#: the period index meaning "no default within the horizon" is the number of periods
_PD_FILE = ("ratings", "moodys_idealized_cumulative_default_rates.csv")


@functools.cache
def _pd_rows() -> dict[str, tuple[float, ...]]:
    rows = list(csv.reader(io.StringIO(read_data_text(*_PD_FILE))))
    return {r[0]: tuple(float(x) / 100.0 for x in r[1:]) for r in rows[1:] if r}


def cumulative_default_probability(rating: str, t_years: Array) -> Array:
    """Idealized cumulative default probability of ``rating`` at horizons ``t_years`` (>= 0)."""
    rates = np.asarray(_pd_rows()[rating])
    n = rates.size
    t = np.asarray(t_years, dtype=np.float64)
    out = np.empty_like(t)
    below = t < 1.0
    out[below] = rates[0] * t[below]
    inside = (t >= 1.0) & (t <= n)
    ti = t[inside]
    lo = np.minimum(np.floor(ti).astype(np.int64), n - 1)
    w = ti - lo
    logs = np.log(rates)
    between = np.exp((1.0 - w) * logs[lo - 1] + w * logs[lo])
    out[inside] = np.where(w == 0.0, rates[lo - 1], np.where(w == 1.0, rates[lo], between))
    beyond = t > n
    hazard = np.log((1.0 - rates[-2]) / (1.0 - rates[-1]))
    out[beyond] = 1.0 - (1.0 - rates[-1]) * np.exp(-hazard * (t[beyond] - n))
    return out


def default_periods(rating: str, t_end_years: Array, uniforms: Array) -> NDArray[np.int64]:
    """Each path's period of default (``len(t_end_years)`` for none) from its uniform draw (inverse CDF)."""
    cdf = cumulative_default_probability(rating, t_end_years)
    return np.searchsorted(cdf, np.asarray(uniforms), side="left").astype(np.int64)


def originator_terms(
    scenario: Scenario, default_period: NDArray[np.int64] | None, n_paths: int, n_periods: int
) -> tuple[NDArray[np.int64], float, float]:
    """What the originator's default does on each path, as the compiled kernel takes it: each path's period of
    default (``n_periods``: none; ``default_period`` None: no default on any path), the multiplier on the funded
    fields' volumes from that period on (``operating_continuity``) and the one on the pledged export receivables
    (0 when ``exports_stop_on_default``, else 1). Before the period of default both multipliers are 1."""
    o = scenario.originator
    at = (np.full(n_paths, n_periods, dtype=np.int64) if default_period is None
          else np.ascontiguousarray(default_period, dtype=np.int64))
    return at, float(o.operating_continuity), 0.0 if o.exports_stop_on_default else 1.0


def originator_multipliers(
    scenario: Scenario, default_period: NDArray[np.int64] | None, n_paths: int, n_periods: int
) -> tuple[Array, Array]:
    """Per-path, per-period multipliers (paths, periods) on the funded fields' volumes and on the pledged export
    receivables: 1 before the originator's default period, ``operating_continuity`` and 0 (or 1 when exports do
    not stop) from it on; ``default_period`` None: no default (ones). The :func:`originator_terms` laid out by
    period, as ``naef.engine.path_kernels.originator_rows`` lays out one path's in the compiled kernel."""
    at, continuity, exports_after = originator_terms(scenario, default_period, n_paths, n_periods)
    after = np.arange(n_periods)[None, :] >= at[:, None]
    prod = np.where(after, continuity, 1.0)
    exports = np.where(after, exports_after, 1.0)
    return prod, exports
