"""The Mexican Development Fund: project pipeline, appraisal, portfolio selection and outcomes (docs/portfolio.md).

- :mod:`naef.mdf.prices`: the one price basis (constant dollars of the pipeline's price year; inflows deflated);
- :mod:`naef.mdf.reference_classes`: overrun and benefit-shortfall classes, and which build physical capital;
- :mod:`naef.mdf.pipeline`: the project CSV, its validation, its price year and the shipped (illustrative) default;
- :mod:`naef.mdf.appraisal`: ENPV, EIRR and BCR at the real social discount rate with reference-class overruns;
- :mod:`naef.mdf.budget`: the budget at a confidence (per year or for the whole schedule), its joint probability;
- :mod:`naef.mdf.milp`: the selection programme's rows (``requires`` in time) and the HiGHS calls;
- :mod:`naef.mdf.selection`: the MILP that chooses projects and start years;
- :mod:`naef.mdf.explain`: shadow prices and rejection reasons, each confirmed by re-solving the MILP;
- :mod:`naef.mdf.outcomes`: the chosen portfolio run along the inflow paths (finished projects, jobs, GDP from
  planned physical capital).
"""

from __future__ import annotations

from naef.mdf.appraisal import DEFAULT_SOCIAL_DISCOUNT_RATE, ProjectAppraisal, appraise, appraise_pipeline
from naef.mdf.budget import budget_at_confidence, parse_budget
from naef.mdf.outcomes import GdpAssumptions, Outcomes, simulate_outcomes
from naef.mdf.pipeline import SECTORS, STATES, Pipeline, PipelineError, Project, load_pipeline, parse_pipeline
from naef.mdf.selection import Constraints, SectorFloor, Selection, SelectionError, select_portfolio

__all__ = [
    "DEFAULT_SOCIAL_DISCOUNT_RATE",
    "SECTORS",
    "STATES",
    "Constraints",
    "GdpAssumptions",
    "Outcomes",
    "Pipeline",
    "PipelineError",
    "Project",
    "ProjectAppraisal",
    "SectorFloor",
    "Selection",
    "SelectionError",
    "appraise",
    "appraise_pipeline",
    "budget_at_confidence",
    "load_pipeline",
    "parse_budget",
    "parse_pipeline",
    "select_portfolio",
    "simulate_outcomes",
]
