"""Pydantic models of a scenario: one complete, validated, immutable set of inputs.

Every key is documented in ``docs/scenario.md`` with its unit. Unknown keys are errors (``extra="forbid"``);
models are frozen once validated (DESIGN.md §3: "a scenario is immutable once validated").

The study's conditions (seed text, "Using Energy Resources to Leverage Development") are validation rules here:

* the securities are "backed by oil revenues (not by the oil itself)" — a scenario may pledge revenues only, never
  reserves or barrels, and never transfer ownership of production;
* the plan must "be carried out by PEMEX" and be "consistent with Mexico's current political constitution" — every
  field is operated by PEMEX.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from naef.ledger.governance import Governance
from naef.scenario.changes import WithChanges
from naef.scenario.credit import MOODYS_SCALE, Originator, Sovereign
from naef.scenario.differentials import DifferentialModel
from naef.scenario.fields import FieldSpec, Uncertainty
from naef.scenario.price_models import PriceModel
from naef.scenario.section_base import CONDITION_REVENUES, NonNegFloat, PosFloat, Rate, SectionModel

__all__ = [
    "MOODYS_SCALE",
    "Collateral",
    "Fees",
    "Fiscal",
    "GasPrice",
    "Hedge",
    "Price",
    "Reserve",
    "Scenario",
    "ScenarioHeader",
    "Tranche",
    "Triggers",
]

class ScenarioHeader(SectionModel):
    """``[scenario]``: name and time grid."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str = ""
    start: dt.date
    years: Annotated[int, Field(ge=1, le=100)]
    periods_per_year: Literal[1, 4, 12] = 4
    discount_rate: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.10

    @field_validator("start")
    @classmethod
    def _first_day_of_quarter(cls, value: dt.date) -> dt.date:
        if value.day != 1 or value.month not in (1, 4, 7, 10):
            raise ValueError(f"must be the first day of a quarter (YYYY-01-01, -04-01, -07-01 or -10-01), got {value}")
        return value

    @property
    def end(self) -> dt.date:
        """First day after the horizon."""
        return dt.date(self.start.year + self.years, self.start.month, 1)


DeckPoint = tuple[Annotated[float, Field(ge=1900, le=2300)], Annotated[float, Field(ge=0.0, allow_inf_nan=False)]]


def _check_deck(deck: tuple[DeckPoint, ...]) -> tuple[DeckPoint, ...]:
    years = [p[0] for p in deck]
    if any(b <= a for a, b in pairwise(years)):
        raise ValueError("years must be strictly increasing")
    return deck


class Price(SectionModel):
    """``[price]``: the oil benchmark and the Mexican export mix differential.

    ``deck`` drives the deterministic run (and sculpting, hedge volumes and forwards). ``stochastic`` is the price
    model of a Monte Carlo run (``naef run --paths N``), started from the deck's price at the scenario's start;
    ``stochastic_differential`` the differential's model there (default: the fixed ``differential_usd_per_bbl``).
    """

    model: Literal["deck"] = "deck"
    benchmark: Literal["brent", "wti"] = "brent"
    deck: Annotated[tuple[DeckPoint, ...], Field(min_length=1)]
    differential_usd_per_bbl: Annotated[float, Field(ge=-200.0, le=200.0, allow_inf_nan=False)] = 0.0
    source: str = ""
    stochastic: PriceModel | None = None
    stochastic_differential: DifferentialModel | None = None
    stochastic_source: str = ""

    _deck_sorted = field_validator("deck")(_check_deck)


class GasPrice(SectionModel):
    """``[gas_price]``: the natural-gas deck (Henry Hub, USD/MMBtu) for non-associated gas fields."""

    model: Literal["deck"] = "deck"
    benchmark: Literal["henry_hub"] = "henry_hub"
    deck: Annotated[tuple[DeckPoint, ...], Field(min_length=1)]
    differential_usd_per_mmbtu: Annotated[float, Field(ge=-50.0, le=50.0, allow_inf_nan=False)] = 0.0
    heat_content_mmbtu_per_mcf: Annotated[float, Field(gt=0.5, lt=2.0)] = 1.036
    source: str = ""

    _deck_sorted = field_validator("deck")(_check_deck)


class Fiscal(SectionModel):
    """``[fiscal]``: the duty PEMEX pays on the added production (a preset or ``custom`` rates)."""

    regime: str = "mx_dpb_2025"
    rate_on_value: Rate | None = None
    gas_rate_on_value: Rate | None = None

    @model_validator(mode="after")
    def _custom_needs_rates(self) -> Fiscal:
        from naef.scenario.fiscal import PRESETS

        if self.regime == "custom":
            if self.rate_on_value is None:
                raise ValueError("rate_on_value: required when regime = 'custom'")
        else:
            if self.regime not in PRESETS:
                names = ", ".join(sorted([*PRESETS, "custom"]))
                raise ValueError(f"regime: unknown preset {self.regime!r} (choose one of: {names})")
            if self.rate_on_value is not None:
                raise ValueError("rate_on_value: only allowed with regime = 'custom'")
            if self.gas_rate_on_value is not None:
                raise ValueError("gas_rate_on_value: only allowed with regime = 'custom'")
        return self


_FORBIDDEN_COLLATERAL = {
    "reserves": "pledges reserves",
    "oil": "pledges the oil itself",
    "barrels": "pledges the oil itself",
    "production": "pledges the production itself",
    "production_in_kind": "pledges the production itself",
    "oil_in_kind": "pledges the oil itself",
}


PledgePoint = tuple[Annotated[int, Field(ge=1900, le=2300)], NonNegFloat]


class Collateral(SectionModel):
    """``[collateral]``: which revenues are pledged to the NAEF collection account.

    The pledged export receivables are ``pledged_exports_bpd`` barrels a day in every year, or a profile by year,
    ``pledged_exports_profile = [[year, bbl_per_day], ...]`` (years strictly increasing): each figure holds from
    its year until the next listed year, the last one to the horizon's end, and nothing is pledged before the
    first listed year. Either is checked against PEMEX's crude exports (``naef.scenario.exports``).
    """

    source: str = "incremental"
    pledged_exports_bpd: NonNegFloat = 0.0
    pledged_exports_profile: tuple[PledgePoint, ...] = ()
    transfers_ownership: bool = False

    @field_validator("pledged_exports_profile")
    @classmethod
    def _years_increase(cls, value: tuple[PledgePoint, ...]) -> tuple[PledgePoint, ...]:
        years = [p[0] for p in value]
        if any(b <= a for a, b in pairwise(years)):
            raise ValueError("years must be strictly increasing")
        return value

    def pledged_bpd_in_year(self, year: int) -> float:
        """Barrels a day of export receivables pledged in calendar ``year`` (0 without an export pledge)."""
        if self.source != "incremental_plus_exports":
            return 0.0
        if not self.pledged_exports_profile:
            return self.pledged_exports_bpd
        value = 0.0
        for y, bpd in self.pledged_exports_profile:
            if y <= year:
                value = bpd
        return value

    @field_validator("source")
    @classmethod
    def _revenues_only(cls, value: str) -> str:
        if value in _FORBIDDEN_COLLATERAL:
            raise ValueError(f"{value!r} {_FORBIDDEN_COLLATERAL[value]}, which is not allowed: {CONDITION_REVENUES}")
        if value not in ("incremental", "incremental_plus_exports"):
            raise ValueError(f"unknown source {value!r} (choose 'incremental' or 'incremental_plus_exports')")
        return value

    @field_validator("transfers_ownership")
    @classmethod
    def _no_transfer(cls, value: bool) -> bool:
        if value:
            raise ValueError(f"a transfer of ownership of production is not allowed: {CONDITION_REVENUES}")
        return value

    @model_validator(mode="after")
    def _exports_only_when_pledged(self) -> Collateral:
        if self.source == "incremental" and self.pledged_exports_bpd > 0:
            raise ValueError("pledged_exports_bpd: only allowed with source = 'incremental_plus_exports'")
        if self.source == "incremental" and self.pledged_exports_profile:
            raise ValueError("pledged_exports_profile: only allowed with source = 'incremental_plus_exports'")
        if self.pledged_exports_profile and self.pledged_exports_bpd > 0:
            raise ValueError("pledged_exports_profile: give either pledged_exports_bpd (every year) or a profile "
                             "by year, not both")
        if self.source == "incremental_plus_exports" and self.pledged_exports_bpd <= 0 and not any(
                bpd > 0 for _, bpd in self.pledged_exports_profile):
            raise ValueError("pledged_exports_bpd: must be > 0 with source = 'incremental_plus_exports' (or give "
                             "pledged_exports_profile)")
        return self


class Tranche(SectionModel):
    """``[[tranches]]``: one class of NAEF securities."""

    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
    size_usd: PosFloat
    coupon_rate: Annotated[float, Field(ge=0.0, le=0.5, allow_inf_nan=False)]
    amortization: Literal["bullet", "level", "straight", "sculpted"]
    target_dscr: Annotated[float | None, Field(default=None, gt=1.0, le=10.0)] = None
    issue_year: Annotated[int, Field(ge=1900, le=2300)]
    maturity_years: Annotated[int, Field(ge=1, le=100)]
    grace_years: Annotated[int, Field(ge=0, le=50)] = 0
    seniority: Annotated[int, Field(ge=1, le=20)] = 1
    legal_final_years: Annotated[int | None, Field(default=None, ge=1, le=100)] = None

    @property
    def legal_final_years_or_maturity(self) -> int:
        """Years from issue to the legal final maturity (``maturity_years`` unless a later one is set)."""
        return self.legal_final_years if self.legal_final_years is not None else self.maturity_years

    @model_validator(mode="after")
    def _consistent(self) -> Tranche:
        if self.legal_final_years is not None and self.legal_final_years < self.maturity_years:
            raise ValueError("legal_final_years: must be at least maturity_years (the scheduled final payment)")
        if self.grace_years >= self.maturity_years:
            raise ValueError("grace_years: must be shorter than maturity_years (principal is due after the grace)")
        if self.amortization == "sculpted" and self.target_dscr is None:
            raise ValueError("target_dscr: required for amortization = 'sculpted' (e.g. 1.35)")
        if self.amortization != "sculpted" and self.target_dscr is not None:
            raise ValueError("target_dscr: only used with amortization = 'sculpted'")
        return self


class Fees(SectionModel):
    """``[fees]``: issuance costs (share of the size, paid from proceeds) and the trustee's annual fee."""

    issuance_pct: Annotated[float, Field(ge=0.0, le=0.2, allow_inf_nan=False)] = 0.01
    trustee_usd_per_year: NonNegFloat = 0.0


class Reserve(SectionModel):
    """``[reserve]``: the debt-service reserve account (DSRA)."""

    dsra_target_periods: Annotated[int, Field(ge=0, le=48)] = 2
    # annual rate earned on the accounts' balances (construction, capitalised interest, DSRA, trap), credited to
    # each account. ILLUSTRATIVE default 3 %: trust accounts hold short-term eligible investments (US Treasury
    # bills); their yields were about 4 % in 2025 (the same basis as hedges' risk_free_rate) and are taken a
    # point lower for the life of the deal, as rating agencies stress reinvestment income downwards
    reinvestment_rate: Annotated[float, Field(ge=-0.05, le=0.5, allow_inf_nan=False)] = 0.03


class Triggers(SectionModel):
    """``[triggers]``: the cash trap, events of default and default interest."""

    cash_trap_dscr: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 1.2
    lookback_periods: Annotated[int, Field(ge=1, le=48)] = 4
    distributions_before_first_repayment: bool = False  # lock-up until every tranche has started repaying
    # an event of default: interest of the most senior class with debt outstanding still unpaid (the DSRA and the
    # trap account being empty) for more than this many consecutive periods; the debt is then accelerated
    # ILLUSTRATIVE default: a shortfall cured in the next period is not an event of default (bond indentures give
    # about 30 days, less than one quarter; a quarterly grid cannot express less than one period)
    default_grace_periods: Annotated[int, Field(ge=0, le=48)] = 1
    # default interest: overdue interest and principal bear the coupon plus this margin a year, compounded each
    # period. Default 1 %: the Loan Market Association's investment-grade facility agreement, clause 8.3 "Default
    # interest" ("one per cent. higher than the rate which would have been payable"; e.g. the Gold Fields and
    # Sibanye credit facility agreements, as collected at https://www.markettransfer.info/clause/default-interest)
    default_interest_margin: Annotated[float, Field(ge=0.0, le=0.2, allow_inf_nan=False)] = 0.01
    # cash trapped by the lock-up, the DSCR trigger or an acceleration prepays the most senior class with principal
    # outstanding (a mandatory prepayment, the early-amortisation rule of future-flow deals) instead of waiting
    # in the trap account
    trap_sweep: bool = True
    # without the sweep: a held trap balance is released only after the trap test has passed this many consecutive
    # periods, and only above the next reserve.dsra_target_periods of scheduled debt service. ILLUSTRATIVE default
    # 2: lock-up cures commonly require two consecutive test dates
    release_periods: Annotated[int, Field(ge=1, le=48)] = 2


class Hedge(SectionModel):
    """``[[hedges]]``: European puts or collars on the benchmark, settled each period on that period's price.

    The notional is ``share_of_expected_production`` of the deterministic case's oil production of each period
    from ``first_year`` to ``last_year``; premiums are Black-76 prices on the deck (as the forward curve) with
    ``volatility`` and ``risk_free_rate``, paid up front from the proceeds or, compounded to each settlement
    date, from collections.
    """

    kind: Literal["put", "collar"]
    share_of_expected_production: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    put_strike_usd_per_bbl: Annotated[float, Field(gt=0.0, le=1000.0, allow_inf_nan=False)]
    call_strike_usd_per_bbl: Annotated[float | None, Field(default=None, gt=0.0, le=1000.0)] = None
    first_year: Annotated[int, Field(ge=1900, le=2300)]
    last_year: Annotated[int, Field(ge=1900, le=2300)]
    # ILLUSTRATIVE: a round implied volatility a little below the historical one (naef calibrate on EIA Brent
    # monthly, 2000-2026: sigma 0.363 +/- 0.014; docs/baseline.md) — give a quoted implied volatility for real work
    volatility: Annotated[float, Field(gt=0.0, le=3.0, allow_inf_nan=False)] = 0.30
    # ILLUSTRATIVE: a round US dollar rate (US Treasury yields were about 4 % in 2025)
    risk_free_rate: Annotated[float, Field(ge=-0.05, le=0.5, allow_inf_nan=False)] = 0.04
    premium: Literal["proceeds", "collections"] = "proceeds"
    # "model": each expiry's premium uses the variance of the log price at that expiry under the scenario's own
    # price model ([price.stochastic]: gbm, ou or schwartz_smith; closed forms), the flat-volatility premium shown
    # beside it; "flat": the flat `volatility` (also what a deck-only or bootstrap scenario uses)
    volatility_from: Literal["model", "flat"] = "model"
    source: str = ""

    @model_validator(mode="after")
    def _strikes(self) -> Hedge:
        if self.last_year < self.first_year:
            raise ValueError("last_year: must not be before first_year")
        if self.kind == "collar":
            if self.call_strike_usd_per_bbl is None:
                raise ValueError("call_strike_usd_per_bbl: required for a collar")
            if self.call_strike_usd_per_bbl < self.put_strike_usd_per_bbl:
                raise ValueError("call_strike_usd_per_bbl: must be at least put_strike_usd_per_bbl")
        elif self.call_strike_usd_per_bbl is not None:
            raise ValueError("call_strike_usd_per_bbl: only used with kind = 'collar'")
        return self


class Mdf(SectionModel):
    """``[mdf]``: the Mexican Development Fund's price basis (docs/portfolio.md §1).

    ``inflation_rate``: US inflation a year that deflates the MDF's nominal US$ inflows to the pipeline's price
    year (default 2 %: the Federal Reserve's longer-run PCE target; source and reasons in
    ``naef.mdf.prices.INFLATION_RATE_SOURCE``), between -5 % and 50 %."""

    inflation_rate: Annotated[float, Field(ge=-0.05, le=0.50, allow_inf_nan=False)] = 0.02


class Scenario(WithChanges, SectionModel):
    """One complete, validated set of inputs: the single input of every computation."""

    scenario: ScenarioHeader
    price: Price
    gas_price: GasPrice | None = None
    fields: Annotated[tuple[FieldSpec, ...], Field(min_length=1)]
    fiscal: Fiscal = Fiscal()
    collateral: Collateral = Collateral()
    tranches: Annotated[tuple[Tranche, ...], Field(min_length=1)]
    fees: Fees = Fees()
    reserve: Reserve = Reserve()
    triggers: Triggers = Triggers()
    uncertainty: Uncertainty = Uncertainty()
    hedges: tuple[Hedge, ...] = ()
    governance: Governance = Governance()
    mdf: Mdf = Mdf()
    originator: Originator = Originator()
    sovereign: Sovereign = Sovereign()
    #: the key paths and values this scenario was derived with (``with_changes``, ``--set``); not an input
    _changes: tuple[tuple[str, object], ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        head = self.scenario
        first_year, end = head.start.year, head.end
        names = [f.name for f in self.fields]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"fields[{i}].name: duplicate field name {name!r}")
        for i, f in enumerate(self.fields):
            if len(f.capex_usd) > head.years:
                raise ValueError(f"fields[{i}].capex_usd: {len(f.capex_usd)} years of capex, horizon is {head.years}")
            first_day = max(dt.date(f.first_production_year, 1, 1), head.start)
            if f.first_production_year < first_year or first_day >= end:
                raise ValueError(
                    f"fields[{i}].first_production_year: {f.first_production_year} is outside the horizon "
                    f"{head.start} to {end}"
                )
            if f.product == "gas" and self.gas_price is None:
                raise ValueError(f"fields[{i}].product: a gas field needs a [gas_price] section")
        tnames = [t.name for t in self.tranches]
        for i, t in enumerate(self.tranches):
            if t.name in tnames[:i]:
                raise ValueError(f"tranches[{i}].name: duplicate tranche name {t.name!r}")
            if t.issue_year < first_year:
                raise ValueError(f"tranches[{i}].issue_year: {t.issue_year} is before the scenario start {head.start}")
            issue = max(dt.date(t.issue_year, 1, 1), head.start)
            maturity = dt.date(issue.year + t.maturity_years, issue.month, 1)
            if maturity > end:
                raise ValueError(
                    f"tranches[{i}].maturity_years: tranche {t.name} matures on {maturity}, after the horizon ends on "
                    f"{end}; lengthen scenario.years"
                )
            legal = dt.date(issue.year + t.legal_final_years_or_maturity, issue.month, 1)
            if legal > end:
                raise ValueError(
                    f"tranches[{i}].legal_final_years: tranche {t.name}'s legal final maturity {legal} is after the "
                    f"horizon ends on {end} (its risk horizon ends at its legal final); lengthen scenario.years"
                )
        for i, (year, _) in enumerate(self.collateral.pledged_exports_profile):
            if year < first_year or year >= end.year + (1 if end.month > 1 else 0):
                raise ValueError(f"collateral.pledged_exports_profile[{i}]: year {year} is outside the horizon "
                                 f"{head.start} to {end}")
        if self.collateral.source == "incremental_plus_exports":
            from naef.scenario.exports import check_pledge_limit

            check_pledge_limit(self.collateral, first_year=first_year, last_year=end.year)
        diff = self.price.stochastic_differential
        n_periods = head.years * head.periods_per_year
        if diff is not None and diff.model == "fixed" and isinstance(diff.usd_per_bbl, tuple) \
                and len(diff.usd_per_bbl) != n_periods:
            raise ValueError(f"price.stochastic_differential.usd_per_bbl: {len(diff.usd_per_bbl)} values, the horizon "
                             f"has {n_periods} periods")
        if diff is not None and diff.model == "ou" and diff.rho != 0.0 and (
                self.price.stochastic is None or self.price.stochastic.model == "bootstrap"):
            raise ValueError("price.stochastic_differential.rho: a correlated differential needs a gbm, ou or "
                             "schwartz_smith price model in [price.stochastic] (or rho = 0)")
        for i, h in enumerate(self.hedges):
            for k, other in enumerate(self.hedges[:i]):
                if h.first_year <= other.last_year and other.first_year <= h.last_year:
                    raise ValueError(f"hedges[{i}].first_year: the years overlap those of hedges[{k}] (one hedge "
                                     "per period)")
            last_ok = end.year + (1 if end.month > 1 else 0)
            for key, year in (("first_year", h.first_year), ("last_year", h.last_year)):
                if year < first_year or year >= last_ok:
                    raise ValueError(f"hedges[{i}].{key}: {year} is outside the horizon {head.start} to {end}")
        return self
