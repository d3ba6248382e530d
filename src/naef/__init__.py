"""naef — design, stress-test and transparently run an energy-for-infrastructure swap.

The public Python API for notebooks: each study takes a validated scenario and one :class:`RunSettings` and
returns a typed result that knows its summary, its tables and its files::

    import naef
    scenario = naef.load_scenario("baseline")               # a path, TOML text, or a shipped scenario's name
    variant = scenario.with_changes({"tranches[0].coupon_rate": 0.07})
    settings = naef.RunSettings(seed=1, paths=4000)         # validated once, here
    det = naef.run(scenario)                                # the deterministic run: det.cashflows, det.summary
    mc = naef.monte_carlo(variant, settings)                # mc.summary (summary.json), mc.percentiles
    best = naef.size(scenario, settings, target_rating="Ba2")  # .best (None if no size reaches it)
    naef.stress(scenario), naef.sensitivity(scenario, settings, method="tornado")
    mdf = naef.portfolio(scenario, naef.RunSettings(paths=2000))  # mdf.selection, mdf.horizon, mdf.summary
    mc.files()                                              # {"summary.json": ..., "percentiles.csv": ...}

Importing ``naef`` loads none of NumPy, Numba, SciPy or pandas: the names below are loaded on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from naef.errors import NaefError
from naef.version import __version__

if TYPE_CHECKING:
    from naef.engine.simulate import SimulationResult, simulate
    from naef.scenario import Scenario, ScenarioError, load_scenario
    from naef.studies.monte_carlo import MonteCarloStudy, monte_carlo
    from naef.studies.portfolio import PortfolioStudy, portfolio
    from naef.studies.run import RunResult, run
    from naef.studies.sensitivity import SensitivityStudy, sensitivity
    from naef.studies.settings import RunSettings
    from naef.studies.size import SizeStudy, size
    from naef.studies.stress import StressStudy, stress

#: public name → the module that defines it (loaded on first access)
_LAZY: dict[str, str] = {
    "Scenario": "naef.scenario.models",
    "ScenarioError": "naef.scenario.errors",
    "load_scenario": "naef.scenario.load",
    "RunSettings": "naef.studies.settings",
    "run": "naef.studies.run",
    "RunResult": "naef.studies.run",
    "monte_carlo": "naef.studies.monte_carlo",
    "MonteCarloStudy": "naef.studies.monte_carlo",
    "size": "naef.studies.size",
    "SizeStudy": "naef.studies.size",
    "stress": "naef.studies.stress",
    "StressStudy": "naef.studies.stress",
    "sensitivity": "naef.studies.sensitivity",
    "SensitivityStudy": "naef.studies.sensitivity",
    "portfolio": "naef.studies.portfolio",
    "PortfolioStudy": "naef.studies.portfolio",
    "simulate": "naef.engine.simulate",
    "SimulationResult": "naef.engine.simulate",
}

__all__ = [
    "MonteCarloStudy",
    "NaefError",
    "PortfolioStudy",
    "RunResult",
    "RunSettings",
    "Scenario",
    "ScenarioError",
    "SensitivityStudy",
    "SimulationResult",
    "SizeStudy",
    "StressStudy",
    "__version__",
    "load_scenario",
    "monte_carlo",
    "portfolio",
    "run",
    "sensitivity",
    "simulate",
    "size",
    "stress",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'naef' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
