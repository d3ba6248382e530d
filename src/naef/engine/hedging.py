"""Oil-price hedges: Black-76 prices of European puts, calls and collars on a forward, and their payoffs.

Prices (Black 1976)
    For a European option on a futures or forward price ``F`` with strike ``K``, volatility ``sigma`` (per
    year, of the log forward price), time to expiry ``T`` years and discount factor ``D`` to the payment date:

        d1 = (ln(F / K) + sigma^2 T / 2) / (sigma sqrt(T)),   d2 = d1 - sigma sqrt(T)
        call = D [F N(d1) - K N(d2)]
        put  = D [K N(-d2) - F N(-d1)]

    F. Black, "The pricing of commodity contracts", Journal of Financial Economics 3 (1976) 167-179.
    When ``sigma sqrt(T) = 0`` the price is the discounted intrinsic value ``D max(F - K, 0)`` (call) or
    ``D max(K - F, 0)`` (put). Put-call parity: ``call - put = D (F - K)``.

Collar
    Long a put at ``put_strike`` and short a call at ``call_strike`` (``put_strike <= call_strike``): the net
    premium the buyer pays is ``put - call`` (negative when the call sold is worth more than the put bought).
    The payoff at expiry is ``max(K_put - S, 0) - max(S - K_call, 0)``: it floors the hedged barrels' price
    at ``K_put`` and caps it at ``K_call``.

Payoffs on simulated prices
    ``prices_usd_per_bbl`` has shape ``(paths, periods)``; each period's hedged volume is
    ``notional_bbl_per_period`` (a scalar or one value per period), and the hedge settles on that period's
    price. Payoffs are in US dollars, same shape as the prices, positive when the hedge pays the fund.

All functions are pure and vectorised (NumPy broadcasting over every argument); no I/O.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from naef.errors import NaefError

__all__ = [
    "HedgingError",
    "black76_call",
    "black76_put",
    "call_payoff",
    "collar_payoff",
    "collar_payoff_usd",
    "collar_price",
    "put_payoff",
    "put_payoff_usd",
]

FloatArray = npt.NDArray[np.float64]


class HedgingError(NaefError):
    """Invalid input to a hedge price or payoff (negative volatility, non-positive price, ...)."""


def _array(name: str, value: npt.ArrayLike) -> FloatArray:
    a = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise HedgingError(f"{name}: must be finite")
    return a


def _positive(name: str, value: npt.ArrayLike) -> FloatArray:
    a = _array(name, value)
    if np.any(a <= 0.0):
        raise HedgingError(f"{name}: must be > 0")
    return a


def _non_negative(name: str, value: npt.ArrayLike) -> FloatArray:
    a = _array(name, value)
    if np.any(a < 0.0):
        raise HedgingError(f"{name}: must be >= 0")
    return a


def _black76(
    *,
    is_call: bool,
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    vol: npt.ArrayLike,
    time_years: npt.ArrayLike,
    discount_factor: npt.ArrayLike,
) -> FloatArray:
    f = _positive("forward", forward)
    k = _positive("strike", strike)
    sigma = _non_negative("vol", vol)
    t = _non_negative("time_years", time_years)
    d = _positive("discount_factor", discount_factor)
    f, k, sigma, t, d = np.broadcast_arrays(f, k, sigma, t, d)
    std = sigma * np.sqrt(t)
    live = std > 0.0
    safe_std = np.where(live, std, 1.0)
    with np.errstate(divide="ignore"):  # a forward so small that f / k underflows: ln -> -inf, the right limit
        d1 = (np.log(f / k) + 0.5 * std * std) / safe_std
    d2 = d1 - std
    if is_call:
        value = f * ndtr(d1) - k * ndtr(d2)
        intrinsic = np.maximum(f - k, 0.0)
    else:
        value = k * ndtr(-d2) - f * ndtr(-d1)
        intrinsic = np.maximum(k - f, 0.0)
    # rounding can leave a deep out-of-the-money price a hair below zero
    out: FloatArray = d * np.where(live, np.maximum(value, 0.0), intrinsic)
    return out


def black76_call(
    *,
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    vol: npt.ArrayLike,
    time_years: npt.ArrayLike,
    discount_factor: npt.ArrayLike,
) -> FloatArray:
    """Black-76 price of a European call on a forward: ``D [F N(d1) - K N(d2)]`` (module docstring)."""
    return _black76(
        is_call=True,
        forward=forward,
        strike=strike,
        vol=vol,
        time_years=time_years,
        discount_factor=discount_factor,
    )


def black76_put(
    *,
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    vol: npt.ArrayLike,
    time_years: npt.ArrayLike,
    discount_factor: npt.ArrayLike,
) -> FloatArray:
    """Black-76 price of a European put on a forward: ``D [K N(-d2) - F N(-d1)]`` (module docstring)."""
    return _black76(
        is_call=False,
        forward=forward,
        strike=strike,
        vol=vol,
        time_years=time_years,
        discount_factor=discount_factor,
    )


def _check_collar_strikes(put_strike: FloatArray, call_strike: FloatArray) -> None:
    if np.any(
        np.broadcast_to(put_strike, np.broadcast_shapes(put_strike.shape, call_strike.shape)) > call_strike
    ):
        raise HedgingError("put_strike: must be <= call_strike in a collar")


def collar_price(
    *,
    forward: npt.ArrayLike,
    put_strike: npt.ArrayLike,
    call_strike: npt.ArrayLike,
    put_vol: npt.ArrayLike,
    call_vol: npt.ArrayLike,
    time_years: npt.ArrayLike,
    discount_factor: npt.ArrayLike,
) -> FloatArray:
    """Net premium of a collar (long put, short call) per barrel: ``put(K_put) - call(K_call)``, Black-76.

    Separate volatilities allow for the smile; pass the same value twice for a flat one.
    """
    kp = _positive("put_strike", put_strike)
    kc = _positive("call_strike", call_strike)
    _check_collar_strikes(kp, kc)
    put = black76_put(
        forward=forward, strike=kp, vol=put_vol, time_years=time_years, discount_factor=discount_factor
    )
    call = black76_call(
        forward=forward, strike=kc, vol=call_vol, time_years=time_years, discount_factor=discount_factor
    )
    return put - call


def put_payoff(*, price: npt.ArrayLike, strike: npt.ArrayLike) -> FloatArray:
    """Payoff per barrel of a put at expiry: ``max(K - S, 0)``."""
    s = _non_negative("price", price)
    k = _positive("strike", strike)
    out: FloatArray = np.maximum(k - s, 0.0)
    return out


def call_payoff(*, price: npt.ArrayLike, strike: npt.ArrayLike) -> FloatArray:
    """Payoff per barrel of a call at expiry: ``max(S - K, 0)``."""
    s = _non_negative("price", price)
    k = _positive("strike", strike)
    out: FloatArray = np.maximum(s - k, 0.0)
    return out


def collar_payoff(
    *, price: npt.ArrayLike, put_strike: npt.ArrayLike, call_strike: npt.ArrayLike
) -> FloatArray:
    """Payoff per barrel of a collar at expiry: ``max(K_put - S, 0) - max(S - K_call, 0)``."""
    kp = _positive("put_strike", put_strike)
    kc = _positive("call_strike", call_strike)
    _check_collar_strikes(kp, kc)
    return put_payoff(price=price, strike=kp) - call_payoff(price=price, strike=kc)


def _notional(prices: FloatArray, notional_bbl_per_period: npt.ArrayLike) -> FloatArray:
    if prices.ndim != 2:
        raise HedgingError(f"prices_usd_per_bbl: must have shape (paths, periods), got {prices.shape}")
    q = _non_negative("notional_bbl_per_period", notional_bbl_per_period)
    if q.ndim > 1 or (q.ndim == 1 and q.shape[0] != prices.shape[1]):
        raise HedgingError(
            f"notional_bbl_per_period: must be a scalar or one value per period ({prices.shape[1]}), "
            f"got shape {q.shape}"
        )
    return q


def put_payoff_usd(
    *,
    prices_usd_per_bbl: npt.ArrayLike,
    strike_usd_per_bbl: npt.ArrayLike,
    notional_bbl_per_period: npt.ArrayLike,
) -> FloatArray:
    """US-dollar payoff of a strip of puts, one per period: ``q_t max(K - S_pt, 0)``, shape (paths, periods).

    ``strike_usd_per_bbl`` is a scalar or one strike per period.
    """
    s = _non_negative("prices_usd_per_bbl", prices_usd_per_bbl)
    q = _notional(s, notional_bbl_per_period)
    return q * put_payoff(price=s, strike=strike_usd_per_bbl)


def collar_payoff_usd(
    *,
    prices_usd_per_bbl: npt.ArrayLike,
    put_strike_usd_per_bbl: npt.ArrayLike,
    call_strike_usd_per_bbl: npt.ArrayLike,
    notional_bbl_per_period: npt.ArrayLike,
) -> FloatArray:
    """US-dollar payoff of a strip of collars, ``q_t [max(K_put - S, 0) - max(S - K_call, 0)]`` per cell.

    Negative where the price is above the call strike (the fund pays the upside away).
    """
    s = _non_negative("prices_usd_per_bbl", prices_usd_per_bbl)
    q = _notional(s, notional_bbl_per_period)
    return q * collar_payoff(price=s, put_strike=put_strike_usd_per_bbl, call_strike=call_strike_usd_per_bbl)
