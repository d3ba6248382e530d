"""Read a user-given ``Date,Price`` CSV of crude prices into monthly prices and monthly log-returns.

This is the I/O edge of the price models: it reads a file, checks it line by line and hands pure arrays to the
engine (``naef.scenario.price_models``) and to calibration (``naef.analysis.calibrate``).

Format: a header ``Date,Price`` (any case), then one row per observation, dates ``YYYY-MM-DD`` (or
``YYYY-MM``) strictly increasing, prices in US$/bbl. Daily or monthly files both work: when a month has
several rows, the month's price is their simple average, which is how the U.S. EIA builds its monthly spot
series (checked on WTI, April 2020: the average of the 21 daily prices, including -36.98 on 2020-04-20, is
EIA's monthly 16.55).
Months must follow each other without gaps. Errors are :class:`~naef.scenario.price_models.PriceModelError`
with one line naming the file and line, e.g. ``prices.csv:12: bad price 'n/a' (expected a number)``.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from naef.errors import NaefError
from naef.scenario.bootstrap import HistoricalReturns
from naef.scenario.price_models import (
    GBM,
    BlockBootstrap,
    MeanRevertingOU,
    PriceModelError,
    SchwartzSmith,
    parse_price_model,
)

__all__ = [
    "DailyPrices",
    "DatedPrice",
    "MonthlyPrices",
    "date_price_rows",
    "historical_returns",
    "load_historical_returns",
    "log_prices",
    "parse_date",
    "parse_monthly_prices",
    "parse_price_table",
    "read_daily_prices",
    "read_monthly_prices",
]


@dataclass(frozen=True, eq=False)
class MonthlyPrices:
    """Monthly average prices, one per consecutive month.

    ``lines[i]`` is the (first, last) line number in the source file of the rows averaged into month ``i``.
    """

    source: str
    months: tuple[str, ...]
    prices_usd_per_bbl: npt.NDArray[np.float64]
    lines: tuple[tuple[int, int], ...]

    @property
    def first_month(self) -> str:
        return self.months[0]

    @property
    def last_month(self) -> str:
        return self.months[-1]

    def where(self, i: int) -> str:
        """``source:line`` (or ``source:lines a-b``) of month ``i``, for error messages."""
        first, last = self.lines[i]
        return f"{self.source}:{first}" if first == last else f"{self.source}:lines {first}-{last}"


class DatedPrice(NamedTuple):
    """One row of a ``Date,Price`` CSV: its line number, date and price (US$/bbl)."""

    line: int
    date: dt.date
    price: float


def parse_date(text: str) -> dt.date | None:
    """``YYYY-MM-DD`` or ``YYYY-MM`` (the first of the month) as a date; ``None`` if it is neither."""
    text = text.strip()
    try:
        if len(text) == 7:  # YYYY-MM
            return dt.date.fromisoformat(text + "-01")
        if len(text) == 10:
            return dt.date.fromisoformat(text)
    except ValueError:
        return None
    return None


def date_price_rows(
    text: str, *, where: str, error: type[NaefError], headers: tuple[tuple[str, str], ...] = (("date", "price"),),
    allow_negative: bool = True,
) -> list[DatedPrice]:
    """The rows of a ``Date,Price`` CSV's text — the one reader of such files (price histories, stress decks).

    Checked line by line: a header among ``headers`` (any case), two fields per row, a date ``YYYY-MM-DD`` or
    ``YYYY-MM``, a finite price (and ``>= 0`` unless ``allow_negative``), dates strictly increasing; blank lines
    are skipped. Any failure raises ``error`` with one line ``{where}:{line}: reason``.
    """
    wanted = " or ".join(f"'{a.capitalize() if a == 'date' else a},{b.capitalize() if a == 'date' else b}'"
                         for a, b in headers)
    out: list[DatedPrice] = []
    header_seen = False
    last: dt.date | None = None
    reader = csv.reader(text.splitlines())
    try:
        for line_no, row in enumerate(reader, start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if not header_seen:
                cells = tuple(c.strip().lower() for c in row)
                if cells not in headers:
                    raise error(f"{where}:{line_no}: expected the header {wanted}, got {','.join(row)!r}")
                header_seen = True
                continue
            if len(row) != 2:
                raise error(f"{where}:{line_no}: expected 2 fields 'date,price', got {len(row)}: {','.join(row)!r}")
            date = parse_date(row[0])
            if date is None:
                raise error(f"{where}:{line_no}: bad date {row[0].strip()!r} (expected YYYY-MM-DD or YYYY-MM)")
            try:
                price = float(row[1])
            except ValueError:
                price = math.nan
            if not math.isfinite(price):
                raise error(f"{where}:{line_no}: bad price {row[1].strip()!r} (expected a number)")
            if price < 0.0 and not allow_negative:
                raise error(f"{where}:{line_no}: negative price {price:g} US$/bbl (a benchmark deck must be >= 0)")
            if last is not None and date <= last:
                raise error(f"{where}:{line_no}: date {date.isoformat()} is not after the previous row's "
                            f"{last.isoformat()} (dates must be strictly increasing)")
            last = date
            out.append(DatedPrice(line_no, date, price))
    except csv.Error as exc:
        raise error(f"{where}:{reader.line_num}: malformed CSV ({exc})") from None
    if not header_seen:
        raise error(f"{where}: empty file (expected a header {wanted} and price rows)")
    if not out:
        raise error(f"{where}: no price rows after the header")
    return out


def parse_monthly_prices(
    text: str, *, source: str, sampling: Literal["average", "month-end"] = "average"
) -> MonthlyPrices:
    """Parse the text of a ``Date,Price`` CSV (``source`` names it in errors) into monthly prices: each month's
    average (``sampling="average"``, EIA's monthly series) or its last observation (``"month-end"``, a point
    price)."""
    months: list[tuple[int, int]] = []
    sums: list[float] = []
    ends: list[float] = []
    counts: list[int] = []
    lines: list[tuple[int, int]] = []
    for line_no, date, price in date_price_rows(text, where=source, error=PriceModelError):
        key = (date.year, date.month)
        if months and months[-1] == key:
            sums[-1] += price
            ends[-1] = price
            counts[-1] += 1
            lines[-1] = (lines[-1][0], line_no)
            continue
        if months:
            y, m = months[-1]
            expected = (y + (m == 12), m % 12 + 1)
            if key != expected:
                raise PriceModelError(
                    f"{source}:{line_no}: month {expected[0]:04d}-{expected[1]:02d} is missing "
                    f"(the history must cover every month without gaps)"
                )
        months.append(key)
        sums.append(price)
        ends.append(price)
        counts.append(1)
        lines.append((line_no, line_no))
    prices = (np.asarray(ends, dtype=np.float64) if sampling == "month-end"
              else np.asarray(sums, dtype=np.float64) / np.asarray(counts, dtype=np.float64))
    return MonthlyPrices(
        source=source,
        months=tuple(f"{y:04d}-{m:02d}" for y, m in months),
        prices_usd_per_bbl=prices,
        lines=tuple(lines),
    )


@dataclass(frozen=True, eq=False)
class DailyPrices:
    """Every observation of a daily ``Date,Price`` file (trading days), with its line number."""

    source: str
    dates: tuple[str, ...]
    prices_usd_per_bbl: npt.NDArray[np.float64]
    lines: tuple[int, ...]


def read_daily_prices(path: str | Path) -> DailyPrices:
    """Every row of a ``Date,Price`` CSV file, unaggregated."""
    p = Path(path)
    rows = date_price_rows(_read_text(p), where=str(p), error=PriceModelError)
    return DailyPrices(
        source=str(p),
        dates=tuple(d.isoformat() for _, d, _ in rows),
        prices_usd_per_bbl=np.asarray([x for _, _, x in rows], dtype=np.float64),
        lines=tuple(n for n, _, _ in rows),
    )


def _read_text(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PriceModelError(f"{p}: not UTF-8 text (expected a 'Date,Price' CSV)") from None
    except OSError as exc:
        raise PriceModelError(f"{p}: cannot read the price history ({exc.strerror or exc})") from None


def read_monthly_prices(path: str | Path, *, sampling: Literal["average", "month-end"] = "average") -> MonthlyPrices:
    """Read a ``Date,Price`` CSV file into monthly prices (averages, or month-end observations)."""
    p = Path(path)
    return parse_monthly_prices(_read_text(p), source=str(p), sampling=sampling)


def log_prices(prices: MonthlyPrices) -> npt.NDArray[np.float64]:
    """Natural logarithms of the monthly prices; raise naming the line if a price is not positive."""
    bad = np.flatnonzero(~(prices.prices_usd_per_bbl > 0.0))
    if bad.size:
        i = int(bad[0])
        raise PriceModelError(
            f"{prices.where(i)}: price {prices.prices_usd_per_bbl[i]:g} US$/bbl for {prices.months[i]} "
            f"is not positive; log-price models (gbm, ou, schwartz_smith, bootstrap) need prices > 0"
        )
    return np.log(prices.prices_usd_per_bbl)


def historical_returns(prices: MonthlyPrices) -> HistoricalReturns:
    """Monthly log-returns ln(P_m / P_{m-1}) for the block bootstrap."""
    x = log_prices(prices)
    if x.size < 2:
        raise PriceModelError(
            f"{prices.source}: at least 2 months are needed for a monthly return, got {x.size}"
        )
    return HistoricalReturns(
        source=prices.source,
        first_month=prices.first_month,
        last_month=prices.last_month,
        log_returns=tuple(float(r) for r in np.diff(x)),
    )


def load_historical_returns(path: str | Path) -> HistoricalReturns:
    """Read a ``Date,Price`` CSV and return its monthly log-returns (for ``[price] model = "bootstrap"``)."""
    return historical_returns(read_monthly_prices(path))


def parse_price_table(
    table: Mapping[str, Any], *, base_dir: str | Path, key: str = "price"
) -> GBM | MeanRevertingOU | SchwartzSmith | BlockBootstrap:
    """Validate a scenario's ``[price]`` table, reading ``history_csv`` for ``model = "bootstrap"``.

    ``history_csv`` is resolved against ``base_dir`` (the scenario file's folder) and replaced by the
    monthly log-returns it holds; every other model goes straight to
    :func:`naef.scenario.price_models.parse_price_model`. Errors name the key, e.g.
    ``price.history_csv: required key is missing`` or ``price.sigma: must be > 0``.
    """
    data = dict(table)
    if data.get("model") == "bootstrap":
        if "history" in data:
            raise PriceModelError(f'{key}.history: unknown key (give the history as history_csv = "FILE")')
        csv_name = data.pop("history_csv", None)
        if csv_name is None:
            raise PriceModelError(f"{key}.history_csv: required key is missing")
        if not isinstance(csv_name, str) or not csv_name.strip():
            raise PriceModelError(f"{key}.history_csv: must be the path of a 'Date,Price' CSV file")
        path = Path(csv_name)
        if not path.is_absolute():
            path = Path(base_dir) / path
        data["history"] = load_historical_returns(path)
    return parse_price_model(data, key=key)
