"""Benchmarking of disbursements: a contract's unit cost against reference ranges by project type.

The study asks that "all operations [be] subjected to benchmarking" (DESIGN.md §5). The reference ranges ship
in ``naef/data/unit_costs.toml``, each with its source (and marked ``illustrative`` where it is a
placeholder). The rule:

    unit_cost_usd = contract_cost_usd / quantity
    flagged  ⇔  unit_cost_usd < low_usd  or  unit_cost_usd > high_usd

A proposal without unit-cost figures cannot be benchmarked and is flagged too. A flagged disbursement needs
the independent controller's approval with a justification before it can execute (see
:mod:`naef.ledger.approvals`).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from naef.ledger.entries import Usd
from naef.ledger.errors import LedgerError
from naef.resources import data_path

__all__ = [
    "BenchmarkError",
    "BenchmarkResult",
    "UnitCostClaim",
    "UnitCostReference",
    "check_unit_cost",
    "load_unit_costs",
]


class BenchmarkError(LedgerError):
    """The reference table or a unit-cost claim is invalid (unknown project type, wrong unit, ...)."""


class UnitCostReference(BaseModel):
    """One reference range from ``unit_costs.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_type: str
    description: str
    unit: str
    low_usd: float = Field(gt=0)
    high_usd: float = Field(gt=0)
    price_year: int
    illustrative: bool
    source: str = Field(min_length=1)
    replace_with: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> UnitCostReference:
        if self.low_usd > self.high_usd:
            raise ValueError(f"low_usd {self.low_usd} is above high_usd {self.high_usd}")
        return self


class UnitCostClaim(BaseModel):
    """Unit-cost figures a proposal states: the project type, the quantity delivered and the contract cost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_type: str = Field(min_length=1, description="Key of unit_costs.toml, e.g. road_new_two_lane.")
    unit: str = Field(min_length=1, description="Unit of `quantity`; must equal the reference's unit.")
    quantity: float = Field(gt=0, description="Quantity delivered by the contract, in `unit`.")
    contract_cost_usd: Usd = Field(description="Total contract cost in USD (exact to the cent).")

    @field_validator("quantity")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be finite")
        return value

    @field_validator("contract_cost_usd")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value

    @property
    def unit_cost_usd(self) -> float:
        """contract_cost_usd / quantity."""
        return float(self.contract_cost_usd) / self.quantity


class BenchmarkResult(BaseModel):
    """Outcome of a benchmark check; ``flagged`` results become ``benchmark_flag`` entries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    flagged: bool
    reason: Literal["within_range", "above_range", "below_range", "no_unit_cost"]
    project_type: str | None = None
    unit: str | None = None
    unit_cost_usd: float | None = None
    low_usd: float | None = None
    high_usd: float | None = None
    source: str | None = None
    illustrative: bool | None = None

    def describe(self) -> str:
        """One line for messages."""
        if self.reason == "no_unit_cost":
            return "no unit-cost figures given, so the disbursement cannot be benchmarked"
        return (
            f"unit cost {self.unit_cost_usd:,.2f} USD/{self.unit} for {self.project_type} is "
            f"{self.reason.replace('_', ' ')} [{self.low_usd:,.0f}, {self.high_usd:,.0f}]"
        )


def _default_path() -> Path:
    return data_path("unit_costs.toml")


def load_unit_costs(path: Path | None = None) -> Mapping[str, UnitCostReference]:
    """Read the reference table (default: the shipped ``naef/data/unit_costs.toml``) → project type →
    range."""
    target = path or _default_path()
    try:
        raw: dict[str, Any] = tomllib.loads(target.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BenchmarkError(f"{target}: cannot read unit-cost table ({exc})") from None
    table: dict[str, UnitCostReference] = {}
    for key, value in raw.items():
        if not isinstance(value, dict):
            raise BenchmarkError(f"{target}: {key}: expected a table")
        try:
            table[key] = UnitCostReference.model_validate({"project_type": key, **value})
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise BenchmarkError(f"{target}: {key}.{loc}: {err['msg']}".rstrip(".")) from None
    return table


def check_unit_cost(
    claim: UnitCostClaim | None, references: Mapping[str, UnitCostReference]
) -> BenchmarkResult:
    """Compare a claim with its reference range (inclusive bounds); raise BenchmarkError on unknown type or
    unit."""
    if claim is None:
        return BenchmarkResult(flagged=True, reason="no_unit_cost")
    ref = references.get(claim.project_type)
    if ref is None:
        known = ", ".join(sorted(references))
        raise BenchmarkError(
            f"unit_cost.project_type: unknown project type {claim.project_type!r} (known: {known})"
        )
    if claim.unit != ref.unit:
        raise BenchmarkError(
            f"unit_cost.unit: {claim.unit!r} does not match the reference unit {ref.unit!r} "
            f"for {ref.project_type}"
        )
    cost = claim.unit_cost_usd
    reason: Literal["within_range", "above_range", "below_range"]
    if cost > ref.high_usd:
        reason = "above_range"
    elif cost < ref.low_usd:
        reason = "below_range"
    else:
        reason = "within_range"
    return BenchmarkResult(
        flagged=reason != "within_range",
        reason=reason,
        project_type=ref.project_type,
        unit=ref.unit,
        unit_cost_usd=cost,
        low_usd=ref.low_usd,
        high_usd=ref.high_usd,
        source=ref.source,
        illustrative=ref.illustrative,
    )
