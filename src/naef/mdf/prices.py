"""The MDF's one price basis: constant US dollars of the pipeline's price year.

The pipeline's costs and benefits are in constant dollars of its ``cost_price_year`` and the social discount rate
is real; the Monte Carlo gives the MDF's inflows in *nominal* US$ of each calendar year. Before anything is
compared, the inflows are deflated to the pipeline's price year at the scenario's ``mdf.inflation_rate`` π:

    constant_y = nominal_y / (1 + π)^(y - price_year)

so the budget, the selection, the outcomes and the ENPV are all in constant price-year dollars, discounted (where
discounted) at the real social discount rate. Historical conversions (the 2009 jobs coefficient, the 2023 GDP)
use the US CPI-U annual averages below; years after the last published average are extrapolated at π.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from naef.errors import NaefError

__all__ = [
    "DEFAULT_INFLATION_RATE",
    "INFLATION_RATE_MAX",
    "INFLATION_RATE_MIN",
    "INFLATION_RATE_SOURCE",
    "US_CPI_SOURCE",
    "US_CPI_U_ANNUAL_AVERAGE",
    "PriceBasis",
    "PriceError",
    "check_inflation_rate",
    "cpi_ratio",
    "deflators",
]

Array = NDArray[np.float64]


class PriceError(NaefError):
    """A bad price setting (inflation rate, price year)."""


#: US inflation a year used to deflate the MDF's nominal US$ inflows to the pipeline's price year
DEFAULT_INFLATION_RATE = 0.02
INFLATION_RATE_SOURCE = (
    "Federal Reserve, FOMC 'Statement on Longer-Run Goals and Monetary Policy Strategy' (adopted January 2012, "
    "reaffirmed since): inflation of 2 % a year, measured by the PCE price index, is most consistent over the "
    "longer run with the Federal Reserve's mandate. Chosen because the MDF's inflows are US dollars from oil sold "
    "in dollars, so their purchasing power follows US, not Mexican, prices, and the Fed's target anchors long-run "
    "dollar inflation expectations over the 2030-2056 horizon. The CPI has run about 0.3-0.5 points a year above "
    "the PCE index, so 2 % is at the low end for a CPI deflator (set mdf.inflation_rate = 0.025 to test it); "
    "peso costs that follow Mexican inflation and the real exchange rate are not modelled"
)
INFLATION_RATE_MIN, INFLATION_RATE_MAX = -0.05, 0.50

#: US CPI-U (all items, US city average, 1982-84 = 100), annual averages
US_CPI_U_ANNUAL_AVERAGE: dict[int, float] = {2009: 214.537, 2019: 255.657, 2023: 304.702, 2024: 313.689}
US_CPI_SOURCE = ("US Bureau of Labor Statistics, CPI for All Urban Consumers (CPI-U), US city average, all items, "
                 "series CUUR0000SA0, annual averages: 2009 214.537, 2019 255.657, 2023 304.702, 2024 313.689")


def check_inflation_rate(rate: float, *, where: str = "mdf.inflation_rate") -> None:
    """Raise :class:`PriceError` unless -5 % <= ``rate`` <= 50 %."""
    if not (math.isfinite(rate) and INFLATION_RATE_MIN <= rate <= INFLATION_RATE_MAX):
        raise PriceError(f"{where}: must be between -5 % and 50 % a year (got {rate})")


def cpi_ratio(*, from_year: int, to_year: int, inflation_rate: float) -> float:
    """P(to_year) / P(from_year): the CPI-U table where it has both years; a year after the table's last is
    extrapolated from the last published average at ``inflation_rate``; a year before it needs the table."""
    last = max(US_CPI_U_ANNUAL_AVERAGE)

    def level(y: int) -> float:
        if y in US_CPI_U_ANNUAL_AVERAGE:
            return US_CPI_U_ANNUAL_AVERAGE[y]
        if y > last:
            return US_CPI_U_ANNUAL_AVERAGE[last] * (1.0 + inflation_rate) ** (y - last)
        raise PriceError(f"price year {y}: no US CPI-U average is shipped for it (known: "
                         f"{', '.join(map(str, sorted(US_CPI_U_ANNUAL_AVERAGE)))}, or any year after {last})")

    return level(to_year) / level(from_year)


def deflators(years: Sequence[int], *, price_year: int, inflation_rate: float) -> Array:
    """(1 + π)^(y - price_year) for each year: divide nominal US$ of year y by it to get constant US$."""
    check_inflation_rate(inflation_rate)
    y = np.asarray(years, dtype=float)
    return np.asarray((1.0 + inflation_rate) ** (y - price_year), dtype=float)


@dataclass(frozen=True)
class PriceBasis:
    """Constant US$ of ``price_year``; nominal inflows deflated at ``inflation_rate``; discounting real."""

    price_year: int
    inflation_rate: float

    @property
    def label(self) -> str:
        """'constant 2024 US$'."""
        return f"constant {self.price_year} US$"

    def describe(self) -> str:
        """The basis in one sentence, for every output."""
        return (f"{self.label}: the pipeline's costs and benefits are in {self.price_year} dollars; the MDF's "
                f"nominal inflows are deflated to {self.price_year} at {self.inflation_rate:.1%} a year (US "
                "inflation); the discount rate is real")

    def to_constant(self, nominal_usd: Array, years: Sequence[int]) -> Array:
        """Nominal US$ (…, years) to constant price-year US$."""
        return np.asarray(nominal_usd, dtype=float) / deflators(years, price_year=self.price_year,
                                                                 inflation_rate=self.inflation_rate)
