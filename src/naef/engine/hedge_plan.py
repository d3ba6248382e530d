"""The scenario's hedges on the time grid: notional, strikes and premiums of each period.

Each ``[[hedges]]`` entry buys, for every period of the years ``first_year`` to ``last_year``, a European option
(a put, or a collar: a put bought and a call sold) on that period's benchmark price, for
``share_of_expected_production`` of the deterministic case's oil production in the period. Options are priced at
the scenario's start with Black-76 (``naef.engine.hedging``) on the deck read at the period's midpoint (the deck
stands in for the forward curve), expiry at the period's midpoint ``T`` and discount factor ``exp(-r T)``. The
premium is paid either at the first issuance from the proceeds (its price today), or from collections when each
option settles (its price compounded to the settlement: ``price / exp(-r T)``, a deferred premium).

Volatility (``volatility_from``)
    With ``"model"`` and a Gaussian price model in ``[price.stochastic]`` (GBM, OU, Schwartz-Smith), each
    expiry's Black-76 volatility is the model's own: ``sigma(T) = sqrt(Var[ln S_T] / T)``, the closed-form
    variance of the log price at ``T`` from the scenario's start (``log_price_moments``: GBM ``sigma^2 T``; OU
    ``sigma^2 (1 - e^(-2 kappa T)) / (2 kappa)``; Schwartz-Smith ``(1 - e^(-2 kappa T)) sigma_chi^2 / (2 kappa) +
    sigma_xi^2 T + 2 (1 - e^(-kappa T)) rho sigma_chi sigma_xi / kappa``, Schwartz & Smith 2000, eq. 3), so a
    mean-reverting model prices long-dated options cheaper than a flat volatility. The flat-volatility premium
    (``volatility``) is computed beside it (``premium_value_flat_usd``). Without such a model (a deck, or the
    bootstrap, whose variance has no closed form) or with ``"flat"``, the flat volatility is the premium's.
    The model's variance is under the real-world measure (naef has no risk-neutral calibration): it stands for
    the market's implied variance, as the deck stands for the forward curve.

Who bears the premium
    From the proceeds: it is an issuance cost, so less of the proceeds reaches capex and PEMEX funds the capex
    the premium displaces; from collections: it is paid ahead of debt service at each settlement.

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
from naef.scenario.price_models import BlockBootstrap

__all__ = ["HedgePlan", "build_hedge_plan", "model_volatility", "no_hedge"]

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


def model_volatility(scenario: Scenario, expiry_years: Array) -> Array | None:
    """The scenario's price model's Black volatility to each expiry, ``sqrt(Var[ln S_T] / T)`` (module
    docstring); None without a Gaussian price model. An expiry at 0 takes the instantaneous volatility."""
    model = scenario.price.stochastic
    if model is None or isinstance(model, BlockBootstrap):
        return None
    t = np.asarray(expiry_years, dtype=np.float64)
    tiny = 1e-9
    _, var = model.log_price_moments(spot_usd_per_bbl=1.0, times_years=np.maximum(t, tiny))
    out: Array = np.sqrt(np.asarray(var) / np.maximum(t, tiny))
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
    model_vol = model_volatility(scenario, t_mid)
    years = np.array([d.year for d in grid.starts])
    for h in scenario.hedges:
        mask = (years >= h.first_year) & (years <= h.last_year)
        qty = np.where(mask, h.share_of_expected_production * expected_oil_bbl, 0.0)
        disc = np.exp(-h.risk_free_rate * t_mid)
        # a zero forward (a deck at zero) leaves only intrinsic value: the put pays its strike, the call nothing
        live = forward > 0.0
        f = np.where(live, forward, 1.0)

        def unit_price(vol: float | Array, h: Any = h, f: Array = f, live: NDArray[np.bool_] = live,
                       disc: Array = disc) -> Array:
            u: Array = np.where(live, black76_put(forward=f, strike=h.put_strike_usd_per_bbl, vol=vol,
                                                  time_years=t_mid, discount_factor=disc),
                                disc * h.put_strike_usd_per_bbl)
            if h.kind == "collar":
                u = u - np.where(live, black76_call(forward=f, strike=h.call_strike_usd_per_bbl, vol=vol,
                                                    time_years=t_mid, discount_factor=disc), 0.0)
            return u

        if h.kind == "collar":
            assert h.call_strike_usd_per_bbl is not None
            call_k = np.where(mask, h.call_strike_usd_per_bbl, call_k)
        flat_unit = unit_price(h.volatility)
        use_model = h.volatility_from == "model" and model_vol is not None
        unit = unit_price(model_vol) if use_model and model_vol is not None else flat_unit
        value = float((qty * unit).sum())
        flat_value = float((qty * flat_unit).sum())
        hedged_vols = model_vol[mask] if model_vol is not None and mask.any() else None
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
            "premium_borne_by": (
                "the proceeds (an issuance cost: PEMEX funds the capex it displaces)" if h.premium == "proceeds"
                else "collections, at each settlement ahead of debt service"),
            "volatility_basis": "price model" if use_model else "flat",
            "premium_value_flat_usd": flat_value,
            "model_volatility_first_last": (None if hedged_vols is None
                                            else [float(hedged_vols[0]), float(hedged_vols[-1])]),
            "volatility": h.volatility,
            "risk_free_rate": h.risk_free_rate,
        })
    return HedgePlan(notional, put_k, call_k, from_collections, from_proceeds, total_value, tuple(rows))
