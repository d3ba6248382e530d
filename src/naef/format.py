"""The one number formatter of naef: numbers for people, units from column names, and looking figures up in a
summary (pure: no I/O). The report, the workbook, the portal's pages and the commands' terminal output all format
through here, so one figure reads the same everywhere.

The unit convention for money (one for every page, sheet and terminal)
    The ISO 4217 code before the number and the scale word after it: "USD 75.00 bn", "USD 562.5 m" (never
    "US$", "$", "M" or "million"). Programme-sized amounts (issuance, sizes, totals over the horizon, the MDF's
    totals and their percentiles) are in USD bn with two decimals; per-period amounts (a quarter's collections
    or MDF inflows) and project-sized amounts (an MDF project, a disbursement) in USD m with one decimal. Table
    headers name the unit: "(USD bn)", "(USD m per quarter)".

Formats (every one returns "—" for a missing value: ``None`` or NaN; none ever shows a negative zero: "0.00",
never "-0.00")
    * money: ``usd_bn`` "USD 75.00 bn" (two decimals), ``usd_m`` "USD 562.5 m", ``usd_auto`` picks bn, m or
      plain dollars by size; ``usd`` whole dollars with cents "1,234,567.89";
    * shares: ``pct`` "29.33 %", ``pct_se`` "29.33 % ± 2.63 %" (one Monte Carlo standard error), ``rate``
      "7 %" (a coupon or discount rate as given);
    * ratios: ``times`` "1.66×" (a DSCR); prices: ``usd_per_bbl`` "USD 38.49/bbl"; rates: ``bpd``
      "855,146 bbl/d"; ``number`` "1,234.57", ``integer`` "1,234", ``years`` "6.25", ``sig4`` four significant
      digits, ``text`` a string as it is.

Units (``unit_of``)
    The unit of a column or key follows the project's naming rule (units in names: ``_usd``, ``_usd_per_bbl``,
    ``_bpd``, ``_years`` ...), so ``collections_usd`` is in US$, ``dscr_p50`` is a ratio (×) and
    ``interest_paid_usd_A1`` (a per-tranche column) is in US$.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = [
    "DASH",
    "bn",
    "bpd",
    "integer",
    "is_missing",
    "lookup",
    "number",
    "pct",
    "pct_se",
    "period_name",
    "plain",
    "rate",
    "scaled",
    "sig4",
    "suffixed",
    "text",
    "times",
    "unit_of",
    "usd",
    "usd_auto",
    "usd_bn",
    "usd_m",
    "usd_per_bbl",
    "value_json",
    "years",
]

DASH = "—"

_PERIOD_NAMES = {1: "year", 2: "half-year", 4: "quarter", 12: "month"}


def period_name(periods_per_year: int) -> str:
    """The name of a period of a grid with ``periods_per_year`` periods: 4 → "quarter" ("period" if unnamed)."""
    return _PERIOD_NAMES.get(periods_per_year, "period")


def is_missing(x: object) -> bool:
    """``None`` or a float NaN."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def _num(x: object) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise TypeError(f"not a number: {x!r}")
    return float(x)


def _fixed(v: float, spec: str) -> str:
    """``format(v, spec)`` without a negative zero: a value that rounds to zero shows as "0.00", not "-0.00"."""
    return _unsign(format(v, spec))


def usd_bn(x: object, *, unit: bool = True) -> str:
    """US dollars in billions, two decimals: "USD 75.00 bn" (``unit=False``: "75.00")."""
    if is_missing(x):
        return DASH
    s = _fixed(_num(x) / 1e9, ",.2f")
    return f"USD {s} bn" if unit else s


def usd_m(x: object, *, unit: bool = True) -> str:
    """US dollars in millions, one decimal: "USD 562.5 m" (``unit=False``: "562.5")."""
    if is_missing(x):
        return DASH
    s = _fixed(_num(x) / 1e6, ",.1f")
    return f"USD {s} m" if unit else s


def usd_auto(x: object) -> str:
    """US dollars in bn (two decimals) from USD 1 bn, in m (one decimal) from USD 1 m, else whole dollars."""
    if is_missing(x):
        return DASH
    v = _num(x)
    if abs(v) >= 1e9:
        return usd_bn(v)
    if abs(v) >= 1e6:
        return usd_m(v)
    return f"USD {_fixed(v, ',.0f')}"


def pct(x: object, decimals: int = 2) -> str:
    """A share as a percentage: 0.2933 → "29.33 %"."""
    if is_missing(x):
        return DASH
    return f"{_fixed(_num(x) * 100, f'.{decimals}f')} %"


def pct_se(x: object, se: object, decimals: int = 2) -> str:
    """A share and its standard error: "29.33 % ± 2.63 %"."""
    if is_missing(x):
        return DASH
    if is_missing(se):
        return pct(x, decimals)
    return f"{pct(x, decimals)} ± {pct(se, decimals)}"


def times(x: object, decimals: int = 2) -> str:
    """A ratio: 1.6554 → "1.66×"."""
    if is_missing(x):
        return DASH
    return f"{_fixed(_num(x), f'.{decimals}f')}×"


def usd_per_bbl(x: object) -> str:
    """A price: "USD 38.49/bbl"."""
    if is_missing(x):
        return DASH
    return f"USD {_fixed(_num(x), ',.2f')}/bbl"


def bpd(x: object, unit: str = "bbl/d") -> str:
    """A rate in whole units a day: "855,146 bbl/d"."""
    if is_missing(x):
        return DASH
    return f"{_fixed(_num(x), ',.0f')} {unit}"


def plain(x: object, fmt: str = "{:,.2f}") -> str:
    """A number in ``fmt``, a string as it is, "—" for none; booleans as yes/no."""
    if is_missing(x):
        return DASH
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int | float):
        return _unsign(fmt.format(x))
    return str(x)


def _unsign(s: str) -> str:
    """A formatted number without the sign of a negative zero ("-0.00" → "0.00", "-1.00" stays)."""
    head = s.lstrip(" ")
    if head.startswith("-") and not any(c in "123456789" for c in re.split(r"[eE]", head)[0]):
        return s.replace("-", "", 1)
    return s


def usd(x: object) -> str:
    """US dollars with cents, no unit (a ledger amount, exact when given as a ``Decimal``): 1234567.891 →
    "1,234,567.89"."""
    if is_missing(x):
        return DASH
    if isinstance(x, Decimal):
        return DASH if not x.is_finite() else _unsign(format(x, ",.2f"))
    return _fixed(_num(x), ",.2f")


def number(x: object, decimals: int = 2) -> str:
    """A number with thousands separators: 1234.5678 → "1,234.57"."""
    if is_missing(x):
        return DASH
    return _fixed(_num(x), f",.{decimals}f")


def bn(x: object) -> str:
    """US dollars in billions without the unit (for a column headed "(USD bn)"): "75.00"."""
    return usd_bn(x, unit=False)


def rate(x: object) -> str:
    """A rate as given, in per cent with no trailing zeros: 0.07 → "7 %", 0.0525 → "5.25 %"."""
    if is_missing(x):
        return DASH
    return f"{_unsign(format(_num(x) * 100, 'g'))} %"


def years(x: object) -> str:
    """Years with two decimals: "6.25"."""
    return plain(x, "{:.2f}")


def integer(x: object) -> str:
    """A whole number with thousands separators: "1,234"."""
    return plain(x, "{:,}")


def sig4(x: object) -> str:
    """Four significant digits: "0.3451", "1.235e+05"."""
    return plain(x, "{:,.4g}")


def text(x: object) -> str:
    """A value as text, "—" for none."""
    return DASH if is_missing(x) else str(x)


def suffixed(fmt: Callable[[Any], str], suffix: str) -> Callable[[Any], str]:
    """``fmt`` followed by ``suffix`` (e.g. a standard error), "—" alone for a missing value."""
    def f(x: Any) -> str:
        return fmt(x) + suffix if not is_missing(x) else DASH

    return f


def scaled(scale: float, unit: str) -> Callable[[Any], str]:
    """A formatter of ``x / scale`` with three decimals and ``unit`` after it: ``scaled(1e9, "USD bn")``."""
    def f(x: Any) -> str:
        return DASH if is_missing(x) else f"{_fixed(_num(x) / scale, ',.3f')} {unit}".rstrip()

    return f


def value_json(x: object) -> str:
    """The exact value for a ``data-value`` attribute: JSON (floats as their shortest round-trip repr, NaN as
    null)."""
    if isinstance(x, float) and not math.isfinite(x):
        return "null"
    return json.dumps(x, allow_nan=False)


_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def lookup(doc: Any, path: str) -> Any:
    """The value at ``path`` ("mdf.nominal_usd.p50", "tranches[0].pd") in a JSON-like document; ``KeyError``
    naming the path when it is not there."""
    cur = doc
    for m in _PATH_TOKEN.finditer(path):
        key, index = m.group(1), m.group(2)
        try:
            if index is not None:
                if not isinstance(cur, Sequence) or isinstance(cur, str):
                    raise KeyError(path)
                cur = cur[int(index)]
            else:
                if not isinstance(cur, Mapping):
                    raise KeyError(path)
                cur = cur[key]
        except (IndexError, KeyError):
            raise KeyError(path) from None
    return cur


# ------------------------------------------------------------------------------------------------ units

#: (pattern on the column or key name, unit), the first match wins; names follow the project's rule of units in
#: names (README, cashflows.csv and summary.json)
_UNIT_RULES: tuple[tuple[str, str], ...] = (
    (r"^period_start$|_date$|_date_p\d+$|^date$|^start$", "date"),
    (r"^period_days$", "days"),
    (r"_usd_per_bbl", "US$/bbl"),
    (r"_usd_per_mmbtu", "US$/MMBtu"),
    (r"_usd_per_mcf", "US$/Mcf"),
    (r"_usd_per_year", "US$/year"),
    (r"periods_per_year", "periods/year"),
    (r"_mmbtu_per_mcf", "MMBtu/Mcf"),
    (r"_boe_per_day", "boe/d"),
    (r"_bpd", "bbl/d"),
    (r"_mmcfd", "MMcf/d"),
    (r"_mmbbl", "MMbbl"),
    (r"_bcf", "Bcf"),
    (r"(^|_)usd($|_)", "US$"),
    (r"(^|_)paths$|^chunk_size$", "paths"),
    (r"(^|_)dscr($|_)", "×"),
    (r"^event_of_default$", "0/1"),
    (r"job_years", "job-years"),
    (r"(^|_)e?irr$", "fraction/year"),
    (r"(^|_)bcr$", "×"),
    (r"_years$|^years$", "years"),
    (r"_year$|^year$", "calendar year"),
    (r"_rate$|yield", "fraction/year"),
    (r"_binds$|cap_set_by$", DASH),
    (r"implied_rating|structural_rating|originator_rating|country_ceiling|originator_plus_uplift|^cap$",
     "Moody's scale"),
    (r"max_uplift_notches", "notches"),
    (r"operating_continuity", "share of plan"),
    (r"^(pd|pd_se)$|(^|_)pd$|probability", "probability"),
    (r"expected_loss", "share of size"),
    (r"^seniority$", "rank (1 = most senior)"),
    (r"_pct$|^share_", "fraction"),
    (r"kappa$|(^|_)di$", "1/year"),
    (r"volatility$", "1/√year"),
    (r"_periods$", "periods"),
    (r"^(scale)$", "× base size"),
    (r"^passes$|^defaulted$|^balanced$", "yes/no"),
    (r"jobs", "jobs"),
    (r"^(seed|projects|projects_finished|count)$|_count$", "count"),
    (r"loss$|_share$", "share"),
)


def unit_of(name: str) -> str:
    """The unit of a column or key named by the project's rule (``"—"`` for text and dimensionless values)."""
    for pattern, unit in _UNIT_RULES:
        if re.search(pattern, name):
            return unit
    return DASH
