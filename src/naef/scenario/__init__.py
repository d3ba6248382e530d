"""Scenarios: pydantic models, TOML loading, validation rules (incl. the study's conditions), shipped scenarios."""

from naef.scenario.load import ScenarioError, content_hash, load_scenario, shipped_scenarios
from naef.scenario.models import Scenario

__all__ = ["Scenario", "ScenarioError", "content_hash", "load_scenario", "shipped_scenarios"]
