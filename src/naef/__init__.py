"""naef — design, stress-test and transparently run an energy-for-infrastructure swap.

The public Python API for notebooks::

    import naef
    scenario = naef.load_scenario("baseline")       # a path, TOML text, or a shipped scenario's name
    result = naef.simulate(scenario)                # the deterministic run
    result.table                                    # pandas DataFrame, one row per period
    result.summary                                  # dict, as written to summary.json
"""

from __future__ import annotations

from naef.engine.simulate import SimulationResult, simulate
from naef.errors import NaefError
from naef.scenario import Scenario, ScenarioError, load_scenario
from naef.version import __version__

__all__ = [
    "NaefError",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "__version__",
    "load_scenario",
    "simulate",
]
