"""The sensitivity study: one-at-a-time (tornado) swings and Sobol' indices of senior EL and the MDF's inflows
(``naef sensitivity``).

The numbers come from :mod:`naef.analysis.factors` (the named inputs, their ranges and the Monte Carlo outputs)
and :mod:`naef.analysis.sensitivity` (tornado ordering; SALib's Saltelli sample and Sobol' estimators). Every
evaluation is a Monte Carlo of ``settings.paths`` paths with the same ``settings.seed`` (common random numbers).
"""

from __future__ import annotations

import csv
import importlib.util
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

import pandas as pd

from naef.analysis.factor_analysis import (
    OUTPUTS,
    SobolOutput,
    SobolSample,
    TornadoRow,
    model_outputs,
    model_outputs_of_json,
    sobol_analysis,
    tornado_analysis,
)
from naef.analysis.factors import FACTORS, FactorRow, available_factors, factor_table
from naef.errors import CliError
from naef.parallel.runner import Runner
from naef.scenario.load import content_hash, scenario_identity
from naef.scenario.models import Scenario
from naef.studies.common import Files, json_text
from naef.studies.settings import RunSettings
from naef.version import __version__

__all__ = [
    "DEFAULT_PATHS",
    "DEFAULT_SAMPLES",
    "METHODS",
    "Method",
    "SensitivityOptionError",
    "SensitivityStudy",
    "parse_inputs",
    "parse_method",
    "run_sensitivity",
    "sensitivity",
    "sensitivity_units",
    "to_csv",
]

Method = Literal["tornado", "sobol"]
METHODS: tuple[Method, ...] = ("tornado", "sobol")
#: Monte Carlo paths per evaluation (a Sobol' run of 12 factors at 64 samples is 896 evaluations)
DEFAULT_PATHS = 1000
#: Sobol' base sample size (a power of 2)
DEFAULT_SAMPLES = 64


class SensitivityOptionError(CliError):
    """A bad option value of ``naef sensitivity`` (or of :func:`sensitivity`)."""


def parse_method(text: str) -> Method:
    """``--method`` as ``"tornado"`` or ``"sobol"``; anything else raises naming the option."""
    for method in METHODS:
        if text == method:
            return method
    raise SensitivityOptionError(f"--method: unknown method {text!r} (choose 'tornado' or 'sobol')")


def parse_inputs(text: str | Sequence[str] | None, scenario: Scenario) -> list[str]:
    """``--inputs a,b,...`` (or a list of names) as factor names (all that apply to ``scenario`` when ``None``)."""
    if text is None:
        return available_factors(scenario)
    raw = text.split(",") if isinstance(text, str) else list(text)
    names = [n.strip() for n in raw if n.strip()]
    if not names:
        raise SensitivityOptionError("--inputs: name at least one input")
    for name in names:
        if name not in FACTORS:
            raise SensitivityOptionError(f"--inputs: unknown input {name!r} (valid: {', '.join(FACTORS)})")
        why = FACTORS[name].unavailable(scenario)
        if why is not None:
            raise SensitivityOptionError(f"--inputs: {name} does not apply to scenario "
                                         f"{scenario.scenario.name!r}: {why}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SensitivityOptionError(f"--inputs: named more than once: {', '.join(dupes)}")
    return names


def check_method_options(method: Method, samples: int | None) -> int:
    """The Sobol' sample size to use (``--samples`` only with sobol, a power of 2; SALib installed)."""
    if samples is not None and method == "tornado":
        raise SensitivityOptionError("--samples: only used with --method sobol")
    n = DEFAULT_SAMPLES if samples is None else samples
    if n < 2 or n & (n - 1):
        raise SensitivityOptionError(f"--samples: must be a power of 2 (>= 2), got {n}")
    if method == "sobol" and importlib.util.find_spec("SALib") is None:
        raise SensitivityOptionError("--method sobol: needs SALib, which is not installed (pip install 'naef[risk]')")
    return n


def sensitivity_units(method: Method, n_inputs: int, samples: int) -> int:
    """Monte Carlo evaluations of a study (the total of its ``progress`` callbacks): 2 d + 1 for a tornado,
    N (d + 2) for Sobol'."""
    return 2 * n_inputs + 1 if method == "tornado" else samples * (n_inputs + 2)


class SensitivityScenario(TypedDict):
    name: str
    content_hash: str
    changes: NotRequired[object]


class SensitivityRun(TypedDict):
    """How the study ran: ``evaluations`` Monte Carlos of ``paths`` paths with ``seed`` (``samples`` base points
    for Sobol')."""

    method: str
    paths: int
    seed: int
    evaluations: int
    common_random_numbers: bool
    samples: NotRequired[int]


class OutputRow(TypedDict):
    name: str
    unit: str
    description: str


class SensitivityDocument(TypedDict):
    """``sensitivity.json``: a tornado's ``base`` and ``tornado``, or Sobol's ``sample`` and ``sobol``
    (``naef.analysis.factor_analysis``)."""

    naef_version: str
    scenario: SensitivityScenario
    run: SensitivityRun
    outputs: list[OutputRow]
    factors: list[FactorRow]
    base: NotRequired[dict[str, float]]
    tornado: NotRequired[dict[str, list[TornadoRow]]]
    sample: NotRequired[SobolSample]
    sobol: NotRequired[dict[str, SobolOutput]]


def run_sensitivity(
    scenario: Scenario,
    *,
    method: Method,
    names: list[str],
    paths: int,
    seed: int,
    samples: int = DEFAULT_SAMPLES,
    progress: Callable[[int], None] | None = None,
    runner: Runner | None = None,
) -> SensitivityDocument:
    """The JSON-ready result (``sensitivity.json``). With a ``runner`` (``naef.parallel``) the evaluations are
    made as a batch there (on Dask: one task each)."""

    def evaluate(variant: Scenario) -> dict[str, float]:
        return model_outputs(variant, n_paths=paths, seed=seed)

    def evaluate_many(variants: Sequence[Scenario], progress: Callable[[int], None] | None) -> list[dict[str, float]]:
        assert runner is not None
        return runner.map_scenarios(model_outputs_of_json, list(variants), paths, seed, progress=progress)

    batch = evaluate_many if runner is not None else None
    advance = progress if progress is not None else (lambda n: None)
    tornado = sobol = None
    if method == "tornado":
        tornado = tornado_analysis(scenario, names, evaluate, progress=advance, evaluate_many=batch)
    else:
        sobol = sobol_analysis(scenario, names, evaluate, samples=samples, seed=seed, progress=advance,
                               evaluate_many=batch)
    run: SensitivityRun = {"method": method, "paths": paths, "seed": seed,
                           "evaluations": sensitivity_units(method, len(names), samples),
                           "common_random_numbers": True}
    if method == "sobol":
        run["samples"] = samples
    identity: SensitivityScenario = {"name": scenario.scenario.name, "content_hash": content_hash(scenario)}
    if changes := scenario_identity(scenario).get("changes"):
        identity["changes"] = changes
    doc: SensitivityDocument = {
        "naef_version": __version__,
        "scenario": identity,
        "run": run,
        "outputs": [{"name": o.name, "unit": o.unit, "description": o.description} for o in OUTPUTS],
        "factors": factor_table(scenario, names),
    }
    if tornado is not None:
        doc["base"], doc["tornado"] = tornado["base"], tornado["tornado"]
    if sobol is not None:
        doc["sample"], doc["sobol"] = sobol["sample"], sobol["sobol"]
    return doc


def to_csv(result: SensitivityDocument) -> str:
    """One row per output and factor: the tornado's swings, or the Sobol' indices."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if result["run"]["method"] == "tornado":
        cols = ["factor", "low_value", "high_value", "output_low", "output_high", "swing"]
        w.writerow(["output", "base_output", *cols])
        for o in OUTPUTS:
            for row in result["tornado"][o.name]:
                cells = (row["factor"], row["low_value"], row["high_value"], row["output_low"], row["output_high"],
                         row["swing"])
                w.writerow([o.name, repr(result["base"][o.name]), *(_cell(c) for c in cells)])
    else:
        cols = ["factor", "S1", "S1_conf", "ST", "ST_conf"]
        w.writerow(["output", *cols])
        for o in OUTPUTS:
            for ix in result["sobol"][o.name]["indices"]:
                w.writerow([o.name, *(_cell(c) for c in (ix["factor"], ix["S1"], ix["S1_conf"], ix["ST"],
                                                          ix["ST_conf"]))])
    return buf.getvalue()


def _cell(x: object) -> str:
    if x is None:
        return ""
    return repr(float(x)) if isinstance(x, float | int) and not isinstance(x, bool) else str(x)


@dataclass(frozen=True)
class SensitivityStudy:
    """A tornado or Sobol' study: ``sensitivity.json`` and ``sensitivity.csv``."""

    scenario: Scenario
    settings: RunSettings
    summary: SensitivityDocument

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"sensitivity": pd.read_csv(io.StringIO(to_csv(self.summary)))}

    def files(self) -> Files:
        return {"sensitivity.json": json_text(self.summary), "sensitivity.csv": to_csv(self.summary)}


def sensitivity(scenario: Scenario, settings: RunSettings | None = None, *, method: str = "tornado",
                inputs: str | Sequence[str] | None = None, samples: int | None = None,
                progress: Callable[[int], None] | None = None) -> SensitivityStudy:
    """Tornado (``method="tornado"``) or Sobol' (``"sobol"``, ``samples`` base points) sensitivity of
    ``scenario``'s senior EL and MDF inflows to ``inputs`` (default: every input that applies), each evaluation
    a Monte Carlo of ``settings.paths`` paths (default :data:`DEFAULT_PATHS`) with ``settings.seed``."""
    m = parse_method(method)
    n = check_method_options(m, samples)
    chosen = settings if settings is not None else RunSettings(paths=DEFAULT_PATHS)
    names = parse_inputs(inputs, scenario)
    if chosen.distributed:
        with chosen.runner() as runner:
            doc = run_sensitivity(scenario, method=m, names=names, paths=chosen.paths, seed=chosen.seed, samples=n,
                                  progress=progress, runner=runner)
    else:
        doc = run_sensitivity(scenario, method=m, names=names, paths=chosen.paths, seed=chosen.seed, samples=n,
                              progress=progress)
    return SensitivityStudy(scenario=scenario, settings=chosen, summary=doc)
