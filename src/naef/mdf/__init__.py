"""The Mexican Development Fund: project pipeline, appraisal, portfolio selection and outcomes (docs/portfolio.md).

- :mod:`naef.mdf.pipeline`: the project CSV, its validation and the shipped (illustrative) default pipeline;
- :mod:`naef.mdf.appraisal`: ENPV, EIRR and BCR at the social discount rate with reference-class overruns;
- :mod:`naef.mdf.budget`: the budget at a confidence from the Monte Carlo's MDF inflows;
- :mod:`naef.mdf.selection`: the MILP (HiGHS) that chooses projects and start years, with duals and reasons;
- :mod:`naef.mdf.outcomes`: the chosen portfolio run along the inflow paths (finished projects, jobs, GDP).
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
