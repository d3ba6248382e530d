"""What every price and differential model shares: its error, its number type and field validators, the one-line
wording of a pydantic error, and the checks and step arithmetic of a simulation's arguments.

NumPy is imported inside the functions that compute, so that reading and validating a scenario (``naef validate``,
``naef --help``) loads none of it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from naef.errors import NaefError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray: TypeAlias = npt.NDArray[np.float64]

__all__ = [
    "Number",
    "PriceModelError",
    "SpecModel",
    "check_n_paths",
    "check_normals",
    "check_spot",
    "check_times",
    "correlation",
    "decay_integral",
    "finite",
    "format_validation_error",
    "non_negative",
    "period_steps",
    "positive",
]

# A number from TOML/JSON: int or float, never a string or a boolean.
Number: TypeAlias = Annotated[float, Field(strict=True)]


class PriceModelError(NaefError):
    """Bad price-model parameters, bad simulation arguments, or a bad price history."""


# ----------------------------------------------------------------------------------------------------------
# validation helpers


def positive(value: float) -> float:
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError("must be > 0")
    return value


def non_negative(value: float) -> float:
    if not math.isfinite(value) or value < 0.0:
        raise ValueError("must be >= 0")
    return value


def finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def correlation(value: float) -> float:
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


class SpecModel(BaseModel):
    """A price or differential model's parameters: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def check_times(times_years: npt.ArrayLike, *, key: str = "times_years") -> FloatArray:
    """``times_years`` as a 1-D float64 array; raise if empty, not finite, not > 0 or not increasing."""
    import numpy as np
    t = np.asarray(times_years, dtype=np.float64)
    if t.ndim != 1 or t.size == 0:
        raise PriceModelError(f"{key}: must be a non-empty 1-D array of times in years")
    if not np.all(np.isfinite(t)) or t[0] <= 0.0 or np.any(np.diff(t) <= 0.0):
        raise PriceModelError(f"{key}: times must be finite, > 0 and strictly increasing")
    return t


def check_spot(spot_usd_per_bbl: float) -> float:
    spot = float(spot_usd_per_bbl)
    if not math.isfinite(spot) or spot <= 0.0:
        raise PriceModelError(
            f"spot_usd_per_bbl: must be > 0 for a log-price model (got {spot_usd_per_bbl!r})"
        )
    return spot


def check_n_paths(n_paths: int) -> int:
    if int(n_paths) != n_paths or n_paths < 1:
        raise PriceModelError(f"n_paths: must be a positive integer (got {n_paths!r})")
    return int(n_paths)


def check_normals(z: npt.ArrayLike, *, n_periods: int, k: int) -> FloatArray:
    import numpy as np
    arr = np.asarray(z, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[1] != n_periods or arr.shape[2] != k:
        raise PriceModelError(f"z: expected shape (n_paths, {n_periods}, {k}), got {arr.shape}")
    return arr


def period_steps(t: FloatArray) -> FloatArray:
    """Period lengths dt_i = t_i - t_{i-1} with t_0 = 0."""
    import numpy as np
    return np.diff(t, prepend=0.0)


def decay_integral(rate: float, dt: FloatArray) -> FloatArray:
    """(1 - exp(-rate * dt)) / rate, which tends to dt as rate -> 0 (computed with expm1 for accuracy)."""
    import numpy as np
    if rate == 0.0:
        return dt.copy()
    return np.asarray(-np.expm1(-rate * dt) / rate, dtype=np.float64)
