"""The scenario's hedges on the time grid: notional, strikes and premiums of each period.

Each ``[[hedges]]`` entry buys, for every period of the years ``first_year`` to ``last_year``, a European option
(a put, or a collar: a put bought and a call sold) on that period's benchmark price, for
``share_of_expected_production`` of the deterministic case's oil production in the period. Options are priced at
the scenario's start with Black-76 (``naef.engine.hedging``) on the deck read at the period's midpoint (the deck
stands in for the forward curve), expiry at the period's midpoint ``T`` and discount factor ``exp(-r T)``. The
premium is paid either at the first issuance from the proceeds (its price today), or from collections when each
option settles (its price compounded to the settlement: ``price / exp(-r T)``, a deferred premium).

Payoffs enter collections (``naef.engine.kernel.collections_path``): ``N (K_put - S)^+ - N (S - K_call)^+`` in
each hedged period, ``S`` the simulated benchmark price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from naef.engine.hedging import black76_call, black76_put
from naef.engine.prices import deck_prices
from naef.engine.timegrid import TimeGrid
from naef.scenario.models import Scenario

__all__ = ["HedgePlan", "build_hedge_plan", "no_hedge"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class HedgePlan:
    """Per-period hedge arrays (one entry per period) and the premium paid from the proceeds."""

    notional_bbl: Array
    put_strike_usd_per_bbl: Array
    call_strike_usd_per_bbl: Array
    premium_from_collections_usd: Array
    premium_from_proceeds_usd: float
    premium_value_usd: float
    rows: tuple[dict[str, Any], ...]

    @property
    def active(self) -> bool:
        """Whether any period is hedged."""
        return bool((self.notional_bbl > 0).any())

    def payoff_usd(self, benchmark_usd_per_bbl: Array) -> Array:
        """Payoff of the hedges on benchmark prices (paths, periods), before premiums."""
        s = benchmark_usd_per_bbl
        put = np.maximum(self.put_strike_usd_per_bbl[None, :] - s, 0.0)
        call = np.maximum(s - self.call_strike_usd_per_bbl[None, :], 0.0)
        out: Array = self.notional_bbl[None, :] * (put - call)
        return out


def no_hedge(n_periods: int) -> HedgePlan:
    """A plan with nothing hedged."""
    zeros = np.zeros(n_periods)
    return HedgePlan(zeros, zeros, np.full(n_periods, np.inf), zeros, 0.0, 0.0, ())


def build_hedge_plan(scenario: Scenario, grid: TimeGrid, *, expected_oil_bbl: Array) -> HedgePlan:
    """The hedges of ``scenario`` on ``grid``; ``expected_oil_bbl`` (periods,) is the deterministic production."""
    n = grid.n
    plan = no_hedge(n)
    if not scenario.hedges:
        return plan
    notional = plan.notional_bbl.copy()
    put_k = plan.put_strike_usd_per_bbl.copy()
    call_k = plan.call_strike_usd_per_bbl.copy()
    from_collections = np.zeros(n)
    from_proceeds = 0.0
    total_value = 0.0
    rows = []
    t_mid = 0.5 * (grid.t_start_years + grid.t_end_years)
    forward = deck_prices(deck=scenario.price.deck, decimal_years=grid.mid_decimal_year)
    years = np.array([d.year for d in grid.starts])
    for h in scenario.hedges:
        mask = (years >= h.first_year) & (years <= h.last_year)
        qty = np.where(mask, h.share_of_expected_production * expected_oil_bbl, 0.0)
        disc = np.exp(-h.risk_free_rate * t_mid)
        # a zero forward (a deck at zero) leaves only intrinsic value: the put pays its strike, the call nothing
        live = forward > 0.0
        f = np.where(live, forward, 1.0)
        unit = np.where(live, black76_put(forward=f, strike=h.put_strike_usd_per_bbl, vol=h.volatility,
                                          time_years=t_mid, discount_factor=disc),
                        disc * h.put_strike_usd_per_bbl)
        if h.kind == "collar":
            assert h.call_strike_usd_per_bbl is not None
            unit = unit - np.where(live, black76_call(forward=f, strike=h.call_strike_usd_per_bbl, vol=h.volatility,
                                                      time_years=t_mid, discount_factor=disc), 0.0)
            call_k = np.where(mask, h.call_strike_usd_per_bbl, call_k)
        value = float((qty * unit).sum())
        if h.premium == "proceeds":
            from_proceeds += value
        else:
            from_collections += qty * unit / disc
        total_value += value
        notional += qty
        put_k = np.where(mask, h.put_strike_usd_per_bbl, put_k)
        rows.append({
            "kind": h.kind,
            "years": [h.first_year, h.last_year],
            "put_strike_usd_per_bbl": h.put_strike_usd_per_bbl,
            "call_strike_usd_per_bbl": h.call_strike_usd_per_bbl,
            "notional_bbl": float(qty.sum()),
            "premium_value_usd": value,
            "premium_usd_per_bbl": value / float(qty.sum()) if qty.sum() > 0 else math.nan,
            "premium_paid_from": h.premium,
            "volatility": h.volatility,
            "risk_free_rate": h.risk_free_rate,
        })
    return HedgePlan(notional, put_k, call_k, from_collections, from_proceeds, total_value, tuple(rows))
