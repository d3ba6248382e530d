"""Named scenario inputs ("factors") for sensitivity analysis, and the outputs they are judged by.

A factor is one number that stands for a change of a scenario: a multiplier on every field's capex, a shift of the
senior coupon, the volatility of the price model. Each :class:`Factor` has a description, a unit, its base value
read from the scenario (1 for a multiplier, 0 for a shift, the scenario's own figure otherwise), a default range
(low, high) with its source (or marked ILLUSTRATIVE), and a pure ``apply(scenario, value) -> Scenario`` that
returns a new, re-validated scenario. Factors touch disjoint keys, so applying several gives the same scenario in
any order. An invalid value raises :class:`FactorError` naming the factor.

The outputs the factors are judged by and the tornado and Sobol' methods over them are in
:mod:`naef.analysis.factor_analysis`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
from pydantic import ValidationError

from naef.errors import NaefError
from naef.scenario.fiscal import duty_rates
from naef.scenario.models import Scenario

__all__ = [
    "FACTORS",
    "PEMEX_EXPORTS_2024_BPD",
    "VOLATILITY_RANGE",
    "Factor",
    "FactorError",
    "FactorRow",
    "apply_factors",
    "available_factors",
    "factor_table",
]

#: Lowest and highest annualised volatility of Brent's log-price over ten-year windows: a GBM fitted by maximum
#: likelihood (``naef.analysis.calibrate.fit_gbm``) to each window of 120 consecutive EIA Brent monthly averages
#: (``naef/data/eia/brent-monthly.csv``, shipped with naef, 1987-05 to 2026-07), windows starting every 12 months
#: from 1987-05: 0.2695 to 0.4349, rounded to 0.27 and 0.43 (tests recompute them).
VOLATILITY_RANGE = (0.27, 0.43)
#: PEMEX's crude exports in 2024, about 0.8 million bbl/d (PEMEX "Indicadores Petroleros", as cited in the
#: baseline scenario): more than that cannot be pledged.
PEMEX_EXPORTS_2024_BPD = 800_000.0


class FactorError(NaefError):
    """A factor value a scenario cannot take, or a factor that does not apply to the scenario."""


# --------------------------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Factor:
    """A named scenario input: what it changes, its unit, base value, default range and how to apply it.

    ``change(data, value, scenario)`` edits ``data``, a ``model_dump()`` of the scenario, in place;
    :meth:`apply` then re-validates it into a new :class:`Scenario`. ``unavailable`` returns why the factor does
    not apply to a scenario (``None`` when it does). ``integer`` factors take whole numbers only.
    """

    name: str
    description: str
    unit: str
    base: Callable[[Scenario], float]
    default_range: Callable[[Scenario], tuple[float, float]]
    range_source: str
    illustrative: bool
    change: Callable[[dict[str, Any], float, Scenario], None]
    unavailable: Callable[[Scenario], str | None] = lambda scenario: None
    integer: bool = False

    def check_applies(self, scenario: Scenario) -> None:
        """Raise :class:`FactorError` when the factor does not apply to ``scenario``."""
        why = self.unavailable(scenario)
        if why is not None:
            raise FactorError(f"{self.name}: does not apply to scenario {scenario.scenario.name!r}: {why}")

    def apply(self, scenario: Scenario, value: float) -> Scenario:
        """A new scenario with this factor at ``value`` (validated; :class:`FactorError` naming the factor)."""
        self.check_applies(scenario)
        if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
            raise FactorError(f"{self.name}: must be a number (got {value!r})")
        v = float(value)
        if not math.isfinite(v):
            raise FactorError(f"{self.name}: must be finite (got {value!r})")
        if self.integer and v != round(v):
            raise FactorError(f"{self.name}: must be a whole number of {self.unit} (got {value!r})")
        data = scenario.model_dump()
        try:
            self.change(data, v, scenario)
        except ValueError as exc:
            raise FactorError(f"{self.name}: {exc} (got {value!r})") from None
        try:
            return Scenario.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ""
            for p in err["loc"]:
                if isinstance(p, int):
                    loc += f"[{p}]"
                elif not p.startswith("function-"):
                    loc += ("." if loc else "") + p
            msg = str(err["msg"]).removeprefix("Value error, ")
            where = f"{loc}: {msg}" if loc else msg
            raise FactorError(f"{self.name}: the value {value!r} gives an invalid scenario ({where})") from None


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _stochastic_kind(scenario: Scenario) -> str | None:
    model = scenario.price.stochastic
    return None if model is None else model.model


# price level --------------------------------------------------------------------------------------------


def _price_level(data: dict[str, Any], m: float, scenario: Scenario) -> None:
    del scenario
    _need(m > 0.0, "must be a multiplier > 0")
    price = data["price"]
    price["deck"] = tuple((year, p * m) for year, p in price["deck"])
    # The Monte Carlo starts every model from the deck's price at the scenario's start, so scaling the deck scales
    # the spot; the OU model also reverts to a level, which moves with it (GBM, Schwartz-Smith and the bootstrap
    # have no level of their own: ln S moves by ln m on every path).
    model = price.get("stochastic")
    if model is not None and model["model"] == "ou":
        model["long_run_usd_per_bbl"] *= m


def _gas_price_level(data: dict[str, Any], m: float, scenario: Scenario) -> None:
    del scenario
    _need(m > 0.0, "must be a multiplier > 0")
    gas = data["gas_price"]
    gas["deck"] = tuple((year, p * m) for year, p in gas["deck"])


# price volatility and mean reversion -------------------------------------------------------------------


def _no_sigma(scenario: Scenario) -> str | None:
    kind = _stochastic_kind(scenario)
    if kind is None:
        return "the scenario has no stochastic price model ([price.stochastic])"
    if kind == "bootstrap":
        return "the bootstrap price model has no volatility parameter"
    return None


def _volatility_base(scenario: Scenario) -> float:
    """GBM and OU: ``sigma``; Schwartz-Smith: the instantaneous volatility of ln S,
    ``sqrt(sigma_chi^2 + sigma_xi^2 + 2 rho sigma_chi sigma_xi)``."""
    model = scenario.price.stochastic
    if model is None or model.model == "bootstrap":
        return math.nan
    if model.model == "schwartz_smith":
        return math.sqrt(max(model.sigma_chi**2 + model.sigma_xi**2 + 2.0 * model.rho * model.sigma_chi
                             * model.sigma_xi, 0.0))
    return float(model.sigma)


def _volatility(data: dict[str, Any], v: float, scenario: Scenario) -> None:
    _need(v > 0.0, "must be a volatility > 0")
    model = data["price"]["stochastic"]
    if model["model"] == "schwartz_smith":
        base = _volatility_base(scenario)
        _need(base > 0.0, "the Schwartz-Smith model's instantaneous volatility is 0 (rho = -1, equal sigmas)")
        model["sigma_chi"] *= v / base
        model["sigma_xi"] *= v / base
    else:
        model["sigma"] = v


def _no_kappa(scenario: Scenario) -> str | None:
    kind = _stochastic_kind(scenario)
    if kind in ("ou", "schwartz_smith"):
        return None
    return f"the price model ({kind or 'deck only'}) has no mean-reversion speed kappa"


def _kappa_base(scenario: Scenario) -> float:
    model = scenario.price.stochastic
    return float(model.kappa) if model is not None and model.model in ("ou", "schwartz_smith") else math.nan


def _kappa(data: dict[str, Any], k: float, scenario: Scenario) -> None:
    del scenario
    _need(k >= 0.0, "must be a mean-reversion speed >= 0")
    data["price"]["stochastic"]["kappa"] = k


def _kappa_range(scenario: Scenario) -> tuple[float, float]:
    k = _kappa_base(scenario)
    return (round(0.5 * k, 12), round(1.75 * k, 12)) if k > 0.0 else (0.0, 0.35)


# differential ------------------------------------------------------------------------------------------


def _differential(data: dict[str, Any], d: float, scenario: Scenario) -> None:
    delta = d - scenario.price.differential_usd_per_bbl
    price = data["price"]
    price["differential_usd_per_bbl"] = d
    model = price.get("stochastic_differential")
    if model is None:
        return
    if model["model"] == "fixed":
        deck = model["usd_per_bbl"]
        model["usd_per_bbl"] = tuple(x + delta for x in deck) if isinstance(deck, tuple | list) else deck + delta
    else:
        model["initial_usd_per_bbl"] += delta
        model["long_run_usd_per_bbl"] += delta


# fiscal, costs and production ---------------------------------------------------------------------------


def _oil_duty_rate(scenario: Scenario) -> float:
    f = scenario.fiscal
    return duty_rates(regime=f.regime, rate_on_value=f.rate_on_value, gas_rate_on_value=f.gas_rate_on_value)[0]


def _duty_rate(data: dict[str, Any], r: float, scenario: Scenario) -> None:
    _need(0.0 <= r < 1.0, "must be a rate on value in [0, 1)")
    f = scenario.fiscal
    _, gas = duty_rates(regime=f.regime, rate_on_value=f.rate_on_value, gas_rate_on_value=f.gas_rate_on_value)
    data["fiscal"] = {"regime": "custom", "rate_on_value": r, "gas_rate_on_value": gas}


def _field_multiplier(keys: tuple[str, ...], *, strictly_positive: bool) -> Callable[[dict[str, Any], float,
                                                                                       Scenario], None]:
    def change(data: dict[str, Any], m: float, scenario: Scenario) -> None:
        del scenario
        if strictly_positive:
            _need(m > 0.0, "must be a multiplier > 0")
        else:
            _need(m >= 0.0, "must be a multiplier >= 0")
        for f in data["fields"]:
            for key in keys:
                if f.get(key) is not None:
                    f[key] = f[key] * m

    return change


def _capex(data: dict[str, Any], m: float, scenario: Scenario) -> None:
    del scenario
    _need(m >= 0.0, "must be a multiplier >= 0")
    for f in data["fields"]:
        f["capex_usd"] = tuple(x * m for x in f["capex_usd"])


def _delay(data: dict[str, Any], years: float, scenario: Scenario) -> None:
    del scenario
    for f in data["fields"]:
        f["first_production_year"] = f["first_production_year"] + round(years)


# securities and collateral ------------------------------------------------------------------------------


def _most_senior(scenario: Scenario) -> int:
    return min(t.seniority for t in scenario.tranches)


def _senior_coupon(data: dict[str, Any], bp: float, scenario: Scenario) -> None:
    top = _most_senior(scenario)
    for t in data["tranches"]:
        if t["seniority"] == top:
            t["coupon_rate"] = t["coupon_rate"] + bp / 1e4


def _coupon_range(scenario: Scenario) -> tuple[float, float]:
    lowest_bp = min(t.coupon_rate for t in scenario.tranches if t.seniority == _most_senior(scenario)) * 1e4
    return (max(-75.0, -lowest_bp), 130.0)


def _pledged_base(scenario: Scenario) -> float:
    c = scenario.collateral
    return c.pledged_exports_bpd if c.source == "incremental_plus_exports" else 0.0


def _pledged(data: dict[str, Any], q: float, scenario: Scenario) -> None:
    del scenario
    _need(q >= 0.0, "must be >= 0 bbl/d")
    data["collateral"]["source"] = "incremental_plus_exports" if q > 0.0 else "incremental"
    data["collateral"]["pledged_exports_bpd"] = q


def _pledged_range(scenario: Scenario) -> tuple[float, float]:
    q = _pledged_base(scenario)
    if q <= 0.0:
        return (0.0, 0.5 * PEMEX_EXPORTS_2024_BPD)
    return (0.5 * q, max(min(1.5 * q, PEMEX_EXPORTS_2024_BPD), q))


def _one(scenario: Scenario) -> float:
    del scenario
    return 1.0


def _zero(scenario: Scenario) -> float:
    del scenario
    return 0.0


def _fixed(low: float, high: float) -> Callable[[Scenario], tuple[float, float]]:
    def rng(scenario: Scenario) -> tuple[float, float]:
        del scenario
        return (low, high)

    return rng


def _around(base: Callable[[Scenario], float], low: float, high: float) -> Callable[[Scenario], tuple[float, float]]:
    """The range (low, high), widened to contain the scenario's base value."""

    def rng(scenario: Scenario) -> tuple[float, float]:
        b = base(scenario)
        return (min(low, b), max(high, b))

    return rng


def _no_gas(scenario: Scenario) -> str | None:
    return "the scenario has no [gas_price] section" if scenario.gas_price is None else None


_FACTOR_LIST = (
    Factor(
        name="price_level", unit="x",
        description="multiplier on the oil benchmark deck (and so on the Monte Carlo's starting price) and on the "
                    "OU model's long-run price; hedge strikes are not moved",
        base=_one, default_range=_fixed(0.7, 1.3), illustrative=True,
        range_source="ILLUSTRATIVE: ±30 % (EIA's Brent forecast for 2026 moved from about 57 to 78.84 US$/bbl "
                     "between the Jan and Mar 2026 STEOs; docs/baseline.md)",
        change=_price_level,
    ),
    Factor(
        name="price_volatility", unit="1/√yr",
        description="annualised volatility of the log-price model: sigma of GBM or OU; for Schwartz-Smith the "
                    "instantaneous volatility of ln S, both sigmas scaled together",
        base=_volatility_base, default_range=_around(_volatility_base, *VOLATILITY_RANGE), illustrative=False,
        range_source="lowest and highest GBM volatility fitted to 10-year windows of EIA Brent monthly averages "
                     "1987-2026 (0.27-0.43; naef.analysis.calibrate), widened to contain the base",
        change=_volatility, unavailable=_no_sigma,
    ),
    Factor(
        name="price_kappa", unit="1/yr",
        description="mean-reversion speed kappa of the OU or Schwartz-Smith price model (half-life ln 2 / kappa)",
        base=_kappa_base, default_range=_kappa_range, illustrative=True,
        range_source="ILLUSTRATIVE: 0.5x to 1.75x the base (0 to 0.35 when the base is 0); for the baseline "
                     "0.10-0.35, whose top is the uncorrected MLE 0.349 on Brent 2000-2026 (baseline.toml)",
        change=_kappa, unavailable=_no_kappa,
    ),
    Factor(
        name="differential_usd_per_bbl", unit="US$/bbl",
        description="Mexican export mix minus benchmark; a stochastic differential model is shifted by the same "
                    "amount (its initial and long-run levels, or its fixed deck)",
        base=lambda s: s.price.differential_usd_per_bbl,
        default_range=lambda s: (s.price.differential_usd_per_bbl - 4.0, s.price.differential_usd_per_bbl + 4.0),
        illustrative=True, range_source="ILLUSTRATIVE: base ± 4 US$/bbl",
        change=_differential,
    ),
    Factor(
        name="duty_rate", unit="share of value",
        description="duty on the value of oil (regime switched to 'custom'; the gas rate is kept)",
        base=_oil_duty_rate, default_range=_around(_oil_duty_rate, 0.26, 0.33), illustrative=False,
        range_source="IMCO's 26-33 % range of the Derecho Petrolero para el Bienestar's oil rate by fiscal region "
                     "and price (naef.scenario.fiscal), widened to contain the base",
        change=_duty_rate,
    ),
    Factor(
        name="opex_multiplier", unit="x",
        description="multiplier on every field's operating cost per barrel or per Mcf",
        base=_one, default_range=_fixed(0.8, 1.3), illustrative=True,
        range_source="ILLUSTRATIVE: -20 % to +30 % (PEMEX's reported production cost, 13.73-14.06 US$/bbl in its "
                     "2018-19 20-F, is above most of the baseline's figures)",
        change=_field_multiplier(("opex_usd_per_bbl", "opex_usd_per_mcf"), strictly_positive=False),
    ),
    Factor(
        name="capex_multiplier", unit="x",
        description="multiplier on every field's capex_usd, on top of the Monte Carlo's per-field overrun draws",
        base=_one, default_range=_fixed(0.8, 1.3), illustrative=True,
        range_source="ILLUSTRATIVE: -20 % to +30 %, a systematic error common to all fields (the per-field "
                     "overruns of naef/data/uncertainty.toml, medians 1.10-1.27, are already drawn on each path)",
        change=_capex,
    ),
    Factor(
        name="initial_rate_multiplier", unit="x",
        description="multiplier on every field's initial rate (bbl/d or MMcf/d)",
        base=_one, default_range=_fixed(0.6, 1.2), illustrative=True,
        range_source="ILLUSTRATIVE, skewed down: operators' plans are optimistic (PEMEX's 2019-20 priority fields "
                     "delivered 41 % of the committed oil rate, CNH; uncertainty.toml bias_warning)",
        change=_field_multiplier(("initial_rate_bpd", "initial_rate_mmcfd"), strictly_positive=True),
    ),
    Factor(
        name="reserves_multiplier", unit="x",
        description="multiplier on every field's recoverable reserves (MMbbl or Bcf)",
        base=_one, default_range=_fixed(0.7, 1.3), illustrative=True,
        range_source="ILLUSTRATIVE: ±30 %, a systematic error common to all fields (per-field spreads are drawn "
                     "on each path)",
        change=_field_multiplier(("reserves_mmbbl", "reserves_bcf"), strictly_positive=True),
    ),
    Factor(
        name="first_production_delay_years", unit="years", integer=True,
        description="whole years added to every field's first_production_year (capex is not moved), on top of "
                    "the Monte Carlo's per-field delay draws",
        base=_zero, default_range=_fixed(0.0, 2.0), illustrative=True,
        range_source="ILLUSTRATIVE: 0 to 2 years common to all fields (mean per-field slips in uncertainty.toml "
                     "are 0.6-1.5 years)",
        change=_delay,
    ),
    Factor(
        name="senior_coupon_bp", unit="bp",
        description="basis points added to the coupon of every tranche of the most senior class (lowest "
                    "seniority number)",
        base=_zero, default_range=_coupon_range, illustrative=False,
        range_source="the baseline's coupon anchors against its 6.25 % senior coupon: Mexico's pre-capitalised "
                     "notes for PEMEX at 5.50 % (-75 bp) and PEMEX 2030 bonds at 7.55 % (+130 bp), Jul 2025",
        change=_senior_coupon,
    ),
    Factor(
        name="pledged_exports_bpd", unit="bbl/d",
        description="PEMEX export receivables pledged besides the added production (0 pledges none)",
        base=_pledged_base, default_range=_pledged_range, illustrative=True,
        range_source="ILLUSTRATIVE: 0.5x to 1.5x the base, capped at PEMEX's 2024 crude exports (~800,000 bbl/d, "
                     "PEMEX Indicadores Petroleros); 0 to 400,000 when none is pledged",
        change=_pledged,
    ),
    Factor(
        name="gas_price_level", unit="x",
        description="multiplier on the natural-gas (Henry Hub) deck",
        base=_one, default_range=_fixed(0.7, 1.3), illustrative=True,
        range_source="ILLUSTRATIVE: ±30 %",
        change=_gas_price_level, unavailable=_no_gas,
    ),
)

#: The registry: factor name -> :class:`Factor`, in the order tables list them.
FACTORS: dict[str, Factor] = {f.name: f for f in _FACTOR_LIST}


def available_factors(scenario: Scenario, registry: Mapping[str, Factor] | None = None) -> list[str]:
    """Names of the factors that apply to ``scenario``, in registry order."""
    reg = FACTORS if registry is None else registry
    return [name for name, f in reg.items() if f.unavailable(scenario) is None]


def apply_factors(scenario: Scenario, values: Mapping[str, float],
                  registry: Mapping[str, Factor] | None = None) -> Scenario:
    """``scenario`` with every factor in ``values`` applied (a factor at exactly its base value is skipped, so the
    base case is the scenario itself)."""
    reg = FACTORS if registry is None else registry
    out = scenario
    for name, value in values.items():
        factor = reg.get(name)
        if factor is None:
            raise FactorError(f"{name}: unknown factor (valid: {', '.join(reg)})")
        if float(value) == factor.base(scenario):
            continue
        out = factor.apply(out, value)
    return out


class FactorRow(TypedDict):
    """A factor as ``sensitivity.json`` lists it: its base value and default range (in ``unit``), the range's
    source, and whether it is ILLUSTRATIVE (no published range)."""

    name: str
    description: str
    unit: str
    base: float
    low: float
    high: float
    integer: bool
    range_source: str
    illustrative: bool


def factor_table(scenario: Scenario, names: Iterable[str],
                 registry: Mapping[str, Factor] | None = None) -> list[FactorRow]:
    """Name, description, unit, base, default range and its source of each factor (JSON-ready)."""
    reg = FACTORS if registry is None else registry
    rows: list[FactorRow] = []
    for name in names:
        f = reg[name]
        low, high = f.default_range(scenario)
        rows.append({"name": name, "description": f.description, "unit": f.unit, "base": f.base(scenario),
                     "low": low, "high": high, "integer": f.integer, "range_source": f.range_source,
                     "illustrative": f.illustrative})
    return rows
