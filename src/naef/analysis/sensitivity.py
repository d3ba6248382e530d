"""Sensitivity analysis: one-at-a-time tornado swings, and Sobol' indices through SALib.

Problem (SALib's contract)
    A mapping with ``names`` (unique input names), ``bounds`` (one ``[a, b, ...]`` per name) and optionally
    ``dists`` (one SALib distribution name per input: ``unif`` (default; bounds = low, high), ``norm``
    (mean, sd), ``lognorm`` (ln-space mean, sd), ``truncnorm`` (low, high, mean, sd), ``triang`` (low, high,
    peak as a share of the width), ``logunif`` (low, high), ``weibull`` (shape, scale[, location])).
    ``num_vars`` is filled in. J. Herman and W. Usher, "SALib: An open-source Python library for Sensitivity
    Analysis", Journal of Open Source Software 2(9), 2017; T. Iwanaga, W. Usher and J. Herman, "Toward SALib
    2.0", Socio-Environmental Systems Modelling 4, 2022.

Sobol' indices
    ``sobol_sample`` draws Saltelli's scheme on a scrambled Sobol' sequence (``SALib.sample.sobol``):
    ``n * (d + 2)`` rows without second-order terms, ``n * (2 d + 2)`` with them; ``n`` must be a power of 2.
    ``sobol_analyze`` (``SALib.analyze.sobol``) returns first-order indices ``S1_i = V[E(Y | X_i)] / V(Y)``
    and total-order indices ``ST_i = E[V(Y | X_~i)] / V(Y)`` with bootstrap confidence half-widths
    (``*_conf``, at ``conf_level``). Estimators: A. Saltelli et al., "Variance based sensitivity analysis
    of model output. Design and estimator for the total sensitivity index", Computer Physics Communications
    181 (2010) 259-270; I. M. Sobol', "Global sensitivity indices for nonlinear mathematical models and their
    Monte Carlo estimates", Mathematics and Computers in Simulation 55 (2001) 271-280. This module is a thin,
    typed layer: it validates the problem, passes seeds, and turns SALib's errors into ``SensitivityError``.

Tornado
    For each input ``x_i`` with swing ``(low_i, high_i)``, evaluate ``f`` at the base case with only ``x_i``
    replaced by ``low_i``, then by ``high_i``; ``swing = |f(high) - f(low)|``. Rows are sorted by swing,
    largest first (ties keep the order of ``swings``).

SALib is imported only when a Sobol' function is called, so the rest of naef works without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypedDict

import numpy as np
import numpy.typing as npt

from naef.errors import NaefError

__all__ = [
    "DISTRIBUTIONS",
    "SensitivityError",
    "SobolIndices",
    "TornadoRow",
    "sobol_analyze",
    "sobol_sample",
    "tornado",
]

#: SALib's distribution names and how many bounds values each takes.
DISTRIBUTIONS: dict[str, tuple[int, ...]] = {
    "unif": (2,),
    "norm": (2,),
    "lognorm": (2,),
    "logunif": (2,),
    "truncnorm": (4,),
    "triang": (3,),
    "weibull": (2, 3),
}


class SensitivityError(NaefError):
    """A malformed sensitivity problem, sample size, output vector or tornado specification."""


class SobolIndices(TypedDict):
    """First- and total-order Sobol' indices, one entry per input in ``names`` order."""

    names: list[str]
    S1: npt.NDArray[np.float64]
    S1_conf: npt.NDArray[np.float64]
    ST: npt.NDArray[np.float64]
    ST_conf: npt.NDArray[np.float64]


class TornadoRow(NamedTuple):
    """One bar of a tornado chart."""

    name: str
    low_value: float
    high_value: float
    output_low: float
    output_high: float
    swing: float


def _salib_problem(problem: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a problem mapping and return the dict SALib expects (with ``num_vars``)."""
    names = problem.get("names")
    bounds = problem.get("bounds")
    if not isinstance(names, Sequence) or isinstance(names, str) or len(names) == 0:
        raise SensitivityError("problem.names: must be a non-empty list of input names")
    if not all(isinstance(n, str) and n for n in names):
        raise SensitivityError("problem.names: every name must be a non-empty string")
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if list(names).count(n) > 1})
        raise SensitivityError(f"problem.names: duplicated names {dupes}")
    if not isinstance(bounds, Sequence) or len(bounds) != len(names):
        raise SensitivityError(f"problem.bounds: must have one entry per name ({len(names)})")
    dists = problem.get("dists")
    if dists is None:
        dists = ["unif"] * len(names)
    elif not isinstance(dists, Sequence) or isinstance(dists, str) or len(dists) != len(names):
        raise SensitivityError(f"problem.dists: must have one distribution per name ({len(names)})")
    clean_bounds: list[list[float]] = []
    for name, b, dist in zip(names, bounds, dists, strict=True):
        if dist not in DISTRIBUTIONS:
            raise SensitivityError(
                f"problem.dists[{name}]: unknown distribution {dist!r}; valid are {', '.join(DISTRIBUTIONS)}"
            )
        try:
            values = [float(x) for x in b]
        except (TypeError, ValueError):
            raise SensitivityError(f"problem.bounds[{name}]: must be a list of numbers") from None
        if len(values) not in DISTRIBUTIONS[dist]:
            sizes = " or ".join(str(k) for k in DISTRIBUTIONS[dist])
            raise SensitivityError(f"problem.bounds[{name}]: {dist} takes {sizes} values, got {len(values)}")
        if not all(math.isfinite(v) for v in values):
            raise SensitivityError(f"problem.bounds[{name}]: values must be finite")
        if dist in ("unif", "logunif") and not values[0] < values[1]:
            raise SensitivityError(f"problem.bounds[{name}]: low must be < high")
        clean_bounds.append(values)
    out: dict[str, Any] = {"num_vars": len(names), "names": list(names), "bounds": clean_bounds}
    if problem.get("dists") is not None:
        out["dists"] = list(dists)
    return out


def sobol_sample(
    problem: Mapping[str, Any], n: int, seed: int, *, calc_second_order: bool = False
) -> npt.NDArray[np.float64]:
    """Saltelli sample for Sobol' analysis, shape ``(n (d + 2), d)`` (``(n (2 d + 2), d)`` with second order).

    ``n`` (base sample size) must be a power of 2; the same ``seed`` gives the same sample. Evaluate the model
    on every row, in order, and pass the outputs to :func:`sobol_analyze` with the same ``calc_second_order``.
    """
    from SALib.sample import sobol as salib_sample  # type: ignore[import-untyped, import-not-found, unused-ignore]

    p = _salib_problem(problem)
    if isinstance(n, bool) or not isinstance(n, int) or n < 2 or n & (n - 1):
        raise SensitivityError(f"n: must be a power of 2 (>= 2) for a balanced Sobol' sequence, got {n!r}")
    try:
        x = salib_sample.sample(p, n, calc_second_order=calc_second_order, scramble=True, seed=seed)
    except ValueError as exc:
        raise SensitivityError(f"problem: {' '.join(str(exc).split())}") from exc
    result: npt.NDArray[np.float64] = np.asarray(x, dtype=np.float64)
    return result


def sobol_analyze(
    problem: Mapping[str, Any],
    y: npt.ArrayLike,
    *,
    calc_second_order: bool = False,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    seed: int = 0,
) -> SobolIndices:
    """First- and total-order Sobol' indices of outputs ``y`` computed on a :func:`sobol_sample` sample.

    ``y`` has one value per sample row. Confidence half-widths come from ``num_resamples`` bootstrap
    resamples (seeded by ``seed``) at ``conf_level``.
    """
    from SALib.analyze import sobol as salib_analyze  # type: ignore[import-untyped, import-not-found, unused-ignore]

    p = _salib_problem(problem)
    d = p["num_vars"]
    out = np.asarray(y, dtype=np.float64)
    if out.ndim != 1:
        raise SensitivityError(f"y: must be one output per sample row (1-D), got shape {out.shape}")
    per_block = 2 * d + 2 if calc_second_order else d + 2
    if out.size == 0 or out.size % per_block:
        raise SensitivityError(
            f"y: length {out.size} is not a multiple of {per_block} (rows sobol_sample draws per base point)"
        )
    if not np.all(np.isfinite(out)):
        raise SensitivityError("y: every output must be finite")
    if not 0.0 < conf_level < 1.0:
        raise SensitivityError("conf_level: must lie strictly between 0 and 1")
    try:
        res = salib_analyze.analyze(
            p,
            out,
            calc_second_order=calc_second_order,
            num_resamples=num_resamples,
            conf_level=conf_level,
            print_to_console=False,
            seed=seed,
        )
    except (ValueError, RuntimeError) as exc:
        raise SensitivityError(f"y: {' '.join(str(exc).split())}") from exc
    return SobolIndices(
        names=list(p["names"]),
        S1=np.asarray(res["S1"], dtype=np.float64),
        S1_conf=np.asarray(res["S1_conf"], dtype=np.float64),
        ST=np.asarray(res["ST"], dtype=np.float64),
        ST_conf=np.asarray(res["ST_conf"], dtype=np.float64),
    )


def tornado(
    func: Callable[[dict[str, float]], float],
    base: Mapping[str, float],
    swings: Mapping[str, tuple[float, float]],
) -> list[TornadoRow]:
    """One-at-a-time swings of ``func`` around ``base``, sorted by ``|f(high) - f(low)|``, largest first.

    ``func`` receives a fresh dict (``base`` with one input replaced) and returns a number.
    """
    if not swings:
        raise SensitivityError("swings: needs at least one input")
    unknown = [k for k in swings if k not in base]
    if unknown:
        raise SensitivityError(f"swings: inputs {unknown} are not in the base case ({', '.join(base)})")
    rows: list[TornadoRow] = []
    for name, pair in swings.items():
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise SensitivityError(f"swings[{name}]: must be a (low, high) pair of numbers") from None
        out_low = float(func({**base, name: low}))
        out_high = float(func({**base, name: high}))
        if not (math.isfinite(out_low) and math.isfinite(out_high)):
            raise SensitivityError(f"swings[{name}]: the model returned a non-finite output")
        rows.append(TornadoRow(name, low, high, out_low, out_high, abs(out_high - out_low)))
    rows.sort(key=lambda r: -r.swing)  # stable: ties keep the order of ``swings``
    return rows
