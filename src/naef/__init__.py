"""naef — design, stress-test and transparently run an energy-for-infrastructure swap.

The public Python API for notebooks::

    import naef
    scenario = naef.load_scenario("baseline")       # a path, TOML text, or a shipped scenario's name
    result = naef.simulate(scenario)                # the deterministic run
    result.table                                    # pandas DataFrame, one row per period
    result.summary                                  # dict, as written to summary.json
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from naef.errors import NaefError
from naef.version import __version__

if TYPE_CHECKING:
    from naef.engine.simulate import SimulationResult, simulate
    from naef.scenario import Scenario, ScenarioError, load_scenario

# Loaded on first use (PEP 562), so that ``import naef.ledger`` (or any light subpackage) does not load the
# engine, NumPy, SciPy or pandas.
_LAZY = {
    "SimulationResult": "naef.engine.simulate",
    "simulate": "naef.engine.simulate",
    "Scenario": "naef.scenario",
    "ScenarioError": "naef.scenario",
    "load_scenario": "naef.scenario",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'naef' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

__all__ = [
    "NaefError",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "__version__",
    "load_scenario",
    "simulate",
]
