"""The scenario's fields (``[[fields]]``: Arps decline, reserves, capex, costs; every field operated by PEMEX) and
their uncertainty in a Monte Carlo run (``[uncertainty]``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from naef.scenario.section_base import CONDITION_OPERATOR, NonNegFloat, PosFloat, SectionModel

__all__ = ["Decline", "FieldKind", "FieldSpec", "Uncertainty", "UncertaintyClass"]


class Decline(SectionModel):
    """Arps decline: ``model``, nominal initial annual decline ``di`` (1/year) and hyperbolic exponent ``b``."""

    model: Literal["exponential", "hyperbolic", "harmonic"]
    di: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)]
    b: Annotated[float | None, Field(default=None, ge=0.0, le=2.0)] = None

    @model_validator(mode="after")
    def _b_matches_model(self) -> Decline:
        if self.model == "hyperbolic" and (self.b is None or self.b == 0.0):
            raise ValueError("b: required for a hyperbolic decline (0 < b <= 2)")
        if self.model == "exponential" and self.b not in (None, 0.0):
            raise ValueError("b: an exponential decline has no b (remove it or use model = 'hyperbolic')")
        if self.model == "harmonic" and self.b not in (None, 1.0):
            raise ValueError("b: a harmonic decline has b = 1")
        return self

    @property
    def b_exponent(self) -> float:
        """The Arps exponent: 0 exponential, 1 harmonic, ``b`` hyperbolic."""
        if self.model == "exponential":
            return 0.0
        if self.model == "harmonic":
            return 1.0
        assert self.b is not None
        return self.b


FieldKind = Literal["deepwater", "shallow_water", "onshore", "gas", "other"]


class FieldSpec(SectionModel):
    """``[[fields]]``: one PEMEX development funded by the NAEF."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: FieldKind = "other"
    operator: str = "PEMEX"
    product: Literal["oil", "gas"] = "oil"
    capex_usd: Annotated[tuple[NonNegFloat, ...], Field(min_length=1)]
    first_production_year: Annotated[int, Field(ge=1900, le=2300)]
    initial_rate_bpd: PosFloat | None = None
    initial_rate_mmcfd: PosFloat | None = None
    decline: Decline
    reserves_mmbbl: PosFloat | None = None
    reserves_bcf: PosFloat | None = None
    opex_usd_per_bbl: NonNegFloat | None = None
    opex_usd_per_mcf: NonNegFloat | None = None
    # a field whose realised price, net of the duty, is below its opex per unit is shut in for the period (its
    # volume is lost) rather than producing at a loss; with false it produces and PEMEX bears the loss
    shut_in: bool = True
    source: str = ""

    @field_validator("operator")
    @classmethod
    def _pemex_operates(cls, value: str) -> str:
        if value.strip().upper() != "PEMEX":
            raise ValueError(f"{value!r} is not allowed: {CONDITION_OPERATOR}")
        return "PEMEX"

    @model_validator(mode="after")
    def _units_match_product(self) -> FieldSpec:
        if self.product == "oil":
            required = {"initial_rate_bpd": self.initial_rate_bpd, "reserves_mmbbl": self.reserves_mmbbl,
                        "opex_usd_per_bbl": self.opex_usd_per_bbl}
            foreign = {"initial_rate_mmcfd": self.initial_rate_mmcfd, "reserves_bcf": self.reserves_bcf,
                       "opex_usd_per_mcf": self.opex_usd_per_mcf}
        else:
            required = {"initial_rate_mmcfd": self.initial_rate_mmcfd, "reserves_bcf": self.reserves_bcf,
                        "opex_usd_per_mcf": self.opex_usd_per_mcf}
            foreign = {"initial_rate_bpd": self.initial_rate_bpd, "reserves_mmbbl": self.reserves_mmbbl,
                       "opex_usd_per_bbl": self.opex_usd_per_bbl}
        for key, value in required.items():
            if value is None:
                raise ValueError(f"{key}: required for product = {self.product!r}")
        for key, value in foreign.items():
            if value is not None:
                raise ValueError(f"{key}: not allowed for product = {self.product!r}")
        return self

    @property
    def initial_rate_per_day(self) -> float:
        """Initial rate in the field's own unit per day (bbl/d for oil, Mcf/d for gas)."""
        if self.product == "oil":
            assert self.initial_rate_bpd is not None
            return self.initial_rate_bpd
        assert self.initial_rate_mmcfd is not None
        return self.initial_rate_mmcfd * 1000.0

    @property
    def reserves_units(self) -> float:
        """Recoverable volume in the field's own unit (bbl for oil, Mcf for gas)."""
        if self.product == "oil":
            assert self.reserves_mmbbl is not None
            return self.reserves_mmbbl * 1e6
        assert self.reserves_bcf is not None
        return self.reserves_bcf * 1e6

    @property
    def opex_usd_per_unit(self) -> float:
        """Operating cost per barrel (oil) or per thousand cubic feet (gas)."""
        value = self.opex_usd_per_bbl if self.product == "oil" else self.opex_usd_per_mcf
        assert value is not None
        return value


class UncertaintyClass(SectionModel):
    """``[uncertainty.classes.<kind>]``: per-field uncertainty of one reference class (a field ``kind``).

    Every key is optional; a missing key takes the shipped default of the class (``naef/data/uncertainty.toml``).
    """

    qi_sigma: Annotated[float | None, Field(default=None, ge=0.0, le=3.0, allow_inf_nan=False)] = None
    reserves_sigma: Annotated[float | None, Field(default=None, ge=0.0, le=3.0, allow_inf_nan=False)] = None
    capex_overrun_median: Annotated[float | None, Field(default=None, gt=0.0, le=10.0, allow_inf_nan=False)] = None
    capex_overrun_sigma: Annotated[float | None, Field(default=None, ge=0.0, le=3.0, allow_inf_nan=False)] = None
    delay_year_probabilities: Annotated[
        tuple[Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)], ...] | None,
        Field(default=None, min_length=1, max_length=11),
    ] = None

    @field_validator("delay_year_probabilities")
    @classmethod
    def _sums_to_one(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is not None and abs(sum(value) - 1.0) > 1e-6:
            raise ValueError(f"probabilities of 0, 1, 2, ... years of delay must sum to 1 (they sum to {sum(value)})")
        return value


class Uncertainty(SectionModel):
    """``[uncertainty]``: per-field uncertainty in a Monte Carlo run (independent across fields and paths).

    On each path, each field draws log-normal multipliers (median 1) on its initial rate and its reserves, a
    log-normal capex multiplier, and a whole-year delay of first production (capex is not delayed: it is spent
    as planned, production comes later).
    """

    fields: bool = True
    classes: dict[FieldKind, UncertaintyClass] = {}  # noqa: RUF012 (a pydantic field: copied per instance)
    # the originator's default ([originator]) on each path: its rating's idealized default rates
    originator: bool = True
