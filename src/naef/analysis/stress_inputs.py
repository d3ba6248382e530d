"""Stress inputs: the shipped historical oil-price episodes and a user's price deck, laid on the scenario's grid.

:mod:`naef.analysis.stress` turns them into price paths and runs them; this module reads and checks them.

Episodes (``naef/data/stress_episodes.toml``)
    Quarterly averages of the U.S. EIA monthly spot prices (Brent RBRTE and WTI RWTC; the file gives the source,
    the derivation and every figure; ``tests/analysis/test_history.py`` re-derives them from the EIA series). The
    series matching the scenario's ``[price] benchmark`` is replayed. An episode's first quarter is laid on the
    scenario's first quarter (the start is always the first day of a calendar quarter), its second on the second,
    and so on: only the shape and the levels are replayed, not the calendar.

Grids other than quarterly
    Each episode quarter covers three months at the quarter's average price. A monthly period takes the price of
    the quarter it falls in (the quarterly average repeated over its three months: no interpolation). An annual
    period takes the mean of the prices of its four quarters (equal weights, since each quarter is three
    months); when the episode ends inside a year, the quarters after its end count at that year's deck price.

After the episode
    When the episode is shorter than the horizon, the scenario's deck resumes: periods after the episode's last
    quarter get the deck's price (read at the period's midpoint, as in the base case), not the episode's last
    price. In ``scaled`` mode that can be a jump; the replay is a shock followed by a return to the planning
    deck, not a new price regime. An episode longer than the horizon is cut at the horizon.

Modes


User decks (``read_deck_csv``)
    A CSV with the header ``Date,Price`` or ``period_start,price`` (any case), then rows ``YYYY-MM-DD`` (or
    ``YYYY-MM``) and a price in US$/bbl (≥ 0), dates strictly increasing and inside the scenario's horizon. A row
    applies to the period that contains its date; several rows in one period are averaged (so a monthly deck on
    a quarterly scenario gives quarterly averages of the rows given); periods without a row keep the scenario's
    deck. The prices are used as given (never scaled).
"""

from __future__ import annotations

import bisect
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from naef.engine.credit import horizon_end_date
from naef.engine.timegrid import TimeGrid
from naef.errors import NaefError
from naef.resources import read_data_text
from naef.scenario.history import date_price_rows

__all__ = [
    "Episode",
    "EpisodeLibrary",
    "StressError",
    "UserDeck",
    "load_episodes",
    "parse_deck_csv",
    "read_deck_csv",
    "replay_usd_per_bbl",
    "select_episodes",
]

Array = NDArray[np.float64]
_DECK_HEADERS = (("date", "price"), ("period_start", "price"))


class StressError(NaefError):
    """Bad stress input: an unknown episode, a malformed deck file, a price out of range or outside the horizon."""


# ------------------------------------------------------------------------------------------------ episodes


@dataclass(frozen=True)
class Episode:
    """One historical episode: consecutive calendar quarters and their average spot prices (US$/bbl, nominal)."""

    name: str
    title: str
    note: str
    quarters: tuple[str, ...]
    brent_usd_per_bbl: tuple[float, ...]
    wti_usd_per_bbl: tuple[float, ...]

    def prices_usd_per_bbl(self, benchmark: str) -> Array:
        """The quarterly prices of ``benchmark`` (``"brent"`` or ``"wti"``)."""
        if benchmark == "brent":
            return np.array(self.brent_usd_per_bbl, dtype=np.float64)
        if benchmark == "wti":
            return np.array(self.wti_usd_per_bbl, dtype=np.float64)
        raise StressError(f"price.benchmark: no episode series for {benchmark!r} (episodes have brent and wti)")


@dataclass(frozen=True)
class EpisodeLibrary:
    """The shipped episodes and their source (the file's ``[meta]`` table)."""

    meta: dict[str, Any]
    episodes: tuple[Episode, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.episodes)

    def get(self, name: str) -> Episode:
        """The episode called ``name``; raise naming ``--episode`` if there is none."""
        for e in self.episodes:
            if e.name == name:
                return e
        raise StressError(f"--episode: unknown episode {name!r} (shipped: {', '.join(self.names)})")


def _episode(raw: dict[str, Any], i: int) -> Episode:
    where = f"stress_episodes.toml: episode[{i}]"
    try:
        ep = Episode(
            name=str(raw["name"]), title=str(raw["title"]), note=str(raw.get("note", "")),
            quarters=tuple(str(q) for q in raw["quarters"]),
            brent_usd_per_bbl=tuple(float(x) for x in raw["brent_usd_per_bbl"]),
            wti_usd_per_bbl=tuple(float(x) for x in raw["wti_usd_per_bbl"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StressError(f"{where}: malformed ({exc})") from None
    if not (len(ep.quarters) == len(ep.brent_usd_per_bbl) == len(ep.wti_usd_per_bbl) >= 1):
        raise StressError(f"{where} ({ep.name}): quarters and prices must have the same, non-zero length")
    if not all(x > 0.0 and math.isfinite(x) for x in (*ep.brent_usd_per_bbl, *ep.wti_usd_per_bbl)):
        raise StressError(f"{where} ({ep.name}): prices must be positive numbers")
    return ep


def load_episodes() -> EpisodeLibrary:
    """Read the shipped episodes (``naef/data/stress_episodes.toml``, package data)."""
    text = read_data_text("stress_episodes.toml")
    data = tomllib.loads(text)
    episodes = tuple(_episode(raw, i) for i, raw in enumerate(data.get("episode", [])))
    return EpisodeLibrary(meta=dict(data.get("meta", {})), episodes=episodes)


def select_episodes(names: Sequence[str], library: EpisodeLibrary) -> tuple[Episode, ...]:
    """The episodes called ``names``, in that order; raise naming ``--episode`` for an unknown or repeated name."""
    seen: set[str] = set()
    out = []
    for name in names:
        if name in seen:
            raise StressError(f"--episode: {name!r} is given twice")
        seen.add(name)
        out.append(library.get(name))
    return tuple(out)


def replay_usd_per_bbl(
    *, quarterly_usd_per_bbl: Array, deck_usd_per_bbl: Array, periods_per_year: int, start_period: int = 0
) -> tuple[Array, int]:
    """The benchmark by period when quarterly prices are replayed from the grid's first quarter.

    ``deck_usd_per_bbl`` (periods,) is the scenario's deck by period. Quarterly grid: period ``q`` is quarter
    ``q``. Monthly: months ``3q, 3q + 1, 3q + 2`` take quarter ``q``'s price. Annual: the mean of the year's four
    quarters, a quarter after the episode's end counting at the year's deck price. After the episode, the deck.
    Returns the path and the number of periods (from ``start_period``, where the replay begins; 0 = the grid's
    first period) that hold episode prices, wholly or partly.
    """
    n = deck_usd_per_bbl.shape[0] - start_period
    if not 0 <= start_period < deck_usd_per_bbl.shape[0]:
        raise StressError(f"--at-year: the replay would start in period {start_period}, outside the horizon")
    out = np.array(deck_usd_per_bbl, dtype=np.float64, copy=True)
    q = np.asarray(quarterly_usd_per_bbl, dtype=np.float64)
    if periods_per_year == 12:
        sub, per = np.repeat(q, 3), 1
    elif periods_per_year in (4, 1):
        sub, per = q, 4 // periods_per_year
    else:
        raise StressError(f"scenario.periods_per_year: stress replays need 1, 4 or 12 (got {periods_per_year})")
    sub = sub[: n * per]
    covered = -(-sub.size // per)
    for i in range(covered):
        chunk = sub[i * per : (i + 1) * per]
        k = start_period + i
        if per == 1:
            out[k] = chunk[0]
        else:
            out[k] = (float(chunk.sum()) + (per - chunk.size) * float(deck_usd_per_bbl[k])) / per
    return out, covered


# ------------------------------------------------------------------------------------------------ user decks


@dataclass(frozen=True)
class UserDeck:
    """A user's benchmark prices by period (``nan`` where the file gives none), read from ``source``."""

    name: str
    source: str
    period_usd_per_bbl: Array
    rows: int

    @property
    def periods_given(self) -> int:
        return int(np.isfinite(self.period_usd_per_bbl).sum())


def parse_deck_csv(text: str, *, source: str, grid: TimeGrid, name: str | None = None) -> UserDeck:
    """Parse a deck CSV's text (format in the module docstring); errors name ``--deck source:line``."""
    where = f"--deck {source}"
    starts = grid.starts
    end = horizon_end_date(grid)
    sums = np.zeros(grid.n)
    counts = np.zeros(grid.n)
    rows = date_price_rows(text, where=where, error=StressError, headers=_DECK_HEADERS, allow_negative=False)
    for line_no, date, price in rows:
        if not starts[0] <= date < end:
            raise StressError(f"{where}:{line_no}: date {date.isoformat()} is outside the scenario's horizon "
                              f"({starts[0].isoformat()} to {end.isoformat()}, end excluded)")
        i = bisect.bisect_right(starts, date) - 1
        sums[i] += price
        counts[i] += 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        by_period = np.where(counts > 0, sums / np.maximum(counts, 1.0), np.nan)
    return UserDeck(name=name or Path(source).name, source=source, period_usd_per_bbl=by_period, rows=len(rows))


def read_deck_csv(path: str | Path, *, grid: TimeGrid, name: str | None = None) -> UserDeck:
    """Read a deck CSV file (the I/O edge of :func:`parse_deck_csv`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise StressError(f"--deck {p}: not UTF-8 text (expected a 'Date,Price' CSV)") from None
    except OSError as exc:
        raise StressError(f"--deck {p}: cannot read the file ({exc.strerror or exc})") from None
    return parse_deck_csv(text, source=str(p), grid=grid, name=name)

