"""What every section of a scenario shares: the model base (unknown keys refused, frozen once validated), the
number types of its keys, and the study's two conditions that the sections enforce (``naef.scenario.models``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CONDITION_OPERATOR", "CONDITION_REVENUES", "NonNegFloat", "PosFloat", "Rate", "SectionModel"]

CONDITION_REVENUES = (
    "the study's condition: NAEF securities are 'backed by oil revenues (not by the oil itself)'"
)
CONDITION_OPERATOR = (
    "the study's condition: the plan must 'be carried out by PEMEX' and be 'consistent with Mexico's current "
    "political constitution' (no privatization)"
)

NonNegFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
PosFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)]


class SectionModel(BaseModel):
    """A section of a scenario: unknown keys are errors, frozen once validated, defaults validated too."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, validate_default=True)
