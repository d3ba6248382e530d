"""Judging factors (:mod:`naef.analysis.factors`): the outputs and the tornado and Sobol' methods over factors.

The outputs of a factor study (:data:`OUTPUTS`), from a Monte Carlo of ``n_paths`` paths with the same ``seed``
for every evaluation (common random numbers: the variants draw exactly the same random numbers, since no factor
changes the number of fields or the kind of price model, so differences between evaluations are due to the inputs,
not to sampling):

* ``senior_el``: expected loss of the most senior class (the tranches with the lowest ``seniority`` number),
  ``Σ_j size_j EL_j / Σ_j size_j`` with ``EL_j = mean over paths of clip(loss_j, 0, 1)`` — the loss being the
  share of the tranche's size not recovered in present value at its coupon (``naef.engine.montecarlo``);
* ``mdf_pv_mean_usd``: mean over paths of the present value of the Mexican Development Fund's inflows at the
  scenario's ``discount_rate``;
* ``mdf_p50_usd``: median over paths of the nominal MDF inflows.

Methods (``naef.analysis.sensitivity``): :func:`tornado_analysis` evaluates the base case and each factor at the
low and the high end of its range, the others at base (``2 d + 1`` Monte Carlos for ``d`` factors);
:func:`sobol_analysis` evaluates Saltelli's sample of the factors' ranges (uniform; ``n (d + 2)`` Monte Carlos)
and returns first- and total-order Sobol' indices of each output. A whole-year factor (``integer``) is sampled
on ``[low, high + 1)`` and floored, so each whole year in ``[low, high]`` is equally likely.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
from numpy.typing import NDArray

from naef.analysis.factors import FACTORS, Factor, FactorError, apply_factors
from naef.scenario.models import Scenario

__all__ = ["OUTPUTS", "OutputSpec", "SobolAnalysis", "SobolIndex", "SobolOutput", "SobolSample", "TornadoAnalysis",
           "TornadoRow", "model_outputs", "model_outputs_of_json", "senior_el", "sobol_analysis",
           "tornado_analysis"]

# --------------------------------------------------------------------------------------------- the outputs


@dataclass(frozen=True)
class OutputSpec:
    """One output of the sensitivity analysis."""

    name: str
    unit: str
    description: str


OUTPUTS = (
    OutputSpec("senior_el", "share of size", "size-weighted mean expected loss of the most senior class (lowest "
               "seniority number)"),
    OutputSpec("mdf_pv_mean_usd", "US$", "mean present value of the MDF's inflows at the scenario's discount rate"),
    OutputSpec("mdf_p50_usd", "US$", "median (P50) nominal MDF inflows"),
)


def senior_el(sizes_usd: Sequence[float], seniorities: Sequence[int], loss: NDArray[np.float64]) -> float:
    """``Σ_j size_j mean(clip(loss[:, j], 0, 1)) / Σ_j size_j`` over the tranches ``j`` of the lowest seniority
    number; ``loss`` is (paths, tranches)."""
    top = min(seniorities)
    cols = [j for j, s in enumerate(seniorities) if s == top]
    el = np.clip(loss[:, cols], 0.0, 1.0).mean(axis=0)
    w = np.asarray([sizes_usd[j] for j in cols], dtype=np.float64)
    return float(np.dot(w, el) / w.sum())


def model_outputs_of_json(scenario_json: str, n_paths: int, seed: int) -> dict[str, float]:
    """:func:`model_outputs` of a scenario sent as JSON (a task on a worker: one kernel thread)."""
    return model_outputs(Scenario.model_validate_json(scenario_json), n_paths=n_paths, seed=seed, threads=1)


def model_outputs(scenario: Scenario, *, n_paths: int, seed: int, chunk_size: int = 20_000,
                  threads: int | None = None) -> dict[str, float]:
    """The :data:`OUTPUTS` of ``scenario`` from a Monte Carlo of ``n_paths`` paths seeded with ``seed``."""
    from naef.analysis.montecarlo import simulate_paths
    from naef.engine.metrics import P_MDF, P_MDF_PV, T_LOSS
    from naef.engine.montecarlo import prepare

    setup = prepare(scenario)
    mt, mp, _, _ = simulate_paths(setup, n_paths=n_paths, seed=seed, chunk_size=chunk_size, threads=threads)
    trs = setup.spec.tranches
    return {
        "senior_el": senior_el([t.size_usd for t in trs], [t.seniority for t in trs], mt[:, :, T_LOSS]),
        "mdf_pv_mean_usd": float(mp[:, P_MDF_PV].mean()),
        "mdf_p50_usd": float(np.median(mp[:, P_MDF])),
    }


# --------------------------------------------------------------------------------------------- the methods

Evaluator = Callable[[Scenario], dict[str, float]]
#: evaluates many scenarios (e.g. as tasks on a Dask cluster); calls ``progress(1)`` per evaluation done
BatchEvaluator = Callable[[Sequence[Scenario], Callable[[int], None] | None], list[dict[str, float]]]


def _batch(evaluate: Evaluator, evaluate_many: BatchEvaluator | None) -> BatchEvaluator:
    if evaluate_many is not None:
        return evaluate_many

    def one_by_one(variants: Sequence[Scenario], progress: Callable[[int], None] | None) -> list[dict[str, float]]:
        out = []
        for v in variants:
            out.append(evaluate(v))
            if progress is not None:
                progress(1)
        return out

    return one_by_one


def _check_names(scenario: Scenario, names: Sequence[str], reg: Mapping[str, Factor]) -> None:
    if not names:
        raise FactorError("inputs: choose at least one factor")
    for name in names:
        if name not in reg:
            raise FactorError(f"{name}: unknown factor (valid: {', '.join(reg)})")
        reg[name].check_applies(scenario)
    if len(set(names)) != len(names):
        raise FactorError(f"inputs: a factor is named twice ({', '.join(names)})")


class TornadoRow(TypedDict):
    """One factor's swing of an output: the factor at the low and high end of its range (its unit) and the output
    there (the output's unit); ``swing = |output_high - output_low|``."""

    factor: str
    low_value: float
    high_value: float
    output_low: float
    output_high: float
    swing: float


class TornadoAnalysis(TypedDict):
    """The base case's outputs and each output's rows, largest swing first."""

    base: dict[str, float]
    tornado: dict[str, list[TornadoRow]]


class SobolIndex(TypedDict):
    """First- and total-order Sobol' indices of one factor (shares of the output's variance) with their 95 %
    confidence half-widths; ``None`` for an output that does not vary."""

    factor: str
    S1: float | None
    S1_conf: float | None
    ST: float | None
    ST_conf: float | None


class SobolOutput(TypedDict):
    constant: bool
    indices: list[SobolIndex]


class SobolSample(TypedDict):
    """The sample's size and each output's mean and standard deviation over it."""

    rows: int
    output_mean: dict[str, float]
    output_sd: dict[str, float]


class SobolAnalysis(TypedDict):
    sample: SobolSample
    sobol: dict[str, SobolOutput]


def tornado_analysis(
    scenario: Scenario,
    names: Sequence[str],
    evaluate: Evaluator,
    *,
    registry: Mapping[str, Factor] | None = None,
    progress: Callable[[int], None] | None = None,
    evaluate_many: BatchEvaluator | None = None,
) -> TornadoAnalysis:
    """Base case and each factor at the low and high end of its default range (``2 d + 1`` evaluations, made
    as one batch: ``evaluate_many`` if given, else ``evaluate`` one by one).

    Returns ``{"base": {output: value}, "tornado": {output: [row, ...]}}``, each output's rows sorted by swing
    ``|f(high) - f(low)|``, largest first (``naef.analysis.sensitivity.tornado``).
    """
    from naef.analysis.sensitivity import tornado

    reg = FACTORS if registry is None else registry
    _check_names(scenario, names, reg)
    base = {n: reg[n].base(scenario) for n in names}
    swings = {n: reg[n].default_range(scenario) for n in names}
    points: list[dict[str, float]] = [dict(base)]
    for n in names:
        for v in swings[n]:
            points.append({**base, n: float(v)})
    keys: list[tuple[float, ...]] = []
    variants = []
    for values in points:
        key = tuple(float(values[n]) for n in names)
        if key not in keys:
            keys.append(key)
            variants.append(apply_factors(scenario, values, reg))
    cache = dict(zip(keys, _batch(evaluate, evaluate_many)(variants, progress), strict=True))

    def run(values: Mapping[str, float]) -> dict[str, float]:
        return cache[tuple(float(values[n]) for n in names)]

    def output_of(name: str) -> Callable[[dict[str, float]], float]:
        return lambda values: run(values)[name]

    base_out = run(base)
    table: dict[str, list[TornadoRow]] = {}
    for out in OUTPUTS:
        rows = tornado(output_of(out.name), base, swings)
        table[out.name] = [{"factor": r.name, "low_value": r.low_value, "high_value": r.high_value,
                            "output_low": r.output_low, "output_high": r.output_high, "swing": r.swing}
                           for r in rows]
    return {"base": base_out, "tornado": table}


def sobol_analysis(
    scenario: Scenario,
    names: Sequence[str],
    evaluate: Evaluator,
    *,
    samples: int,
    seed: int,
    registry: Mapping[str, Factor] | None = None,
    progress: Callable[[int], None] | None = None,
    evaluate_many: BatchEvaluator | None = None,
) -> SobolAnalysis:
    """First- and total-order Sobol' indices of each output over the factors' default ranges (uniform).

    ``samples`` (a power of 2) base points give ``samples (d + 2)`` evaluations. An output that does not vary
    over the sample has no indices (``None``: ``0 / 0``). Returns ``{"sample": {"rows", "output_mean",
    "output_sd"}, "sobol": {output: {"constant": bool, "indices": [{"factor", "S1", "S1_conf", "ST",
    "ST_conf"}]}}}``.
    """
    from naef.analysis.sensitivity import sobol_analyze, sobol_sample

    reg = FACTORS if registry is None else registry
    _check_names(scenario, names, reg)
    bounds = []
    for n in names:
        low, high = reg[n].default_range(scenario)
        bounds.append([low, high + 1.0] if reg[n].integer else [low, high])
    problem = {"names": list(names), "bounds": bounds}
    x = sobol_sample(problem, samples, seed)
    variants = []
    for row in x:
        values = {}
        for n, v, (_, hi) in zip(names, row, bounds, strict=True):
            values[n] = float(min(math.floor(v), hi - 1.0)) if reg[n].integer else float(v)
        variants.append(apply_factors(scenario, values, reg))
    outs = _batch(evaluate, evaluate_many)(variants, progress)
    y = np.array([[out[o.name] for o in OUTPUTS] for out in outs], dtype=np.float64).reshape(x.shape[0],
                                                                                              len(OUTPUTS))
    result: dict[str, SobolOutput] = {}
    for k, o in enumerate(OUTPUTS):
        col = y[:, k]
        if float(np.ptp(col)) == 0.0:
            result[o.name] = {"constant": True, "indices": [
                {"factor": n, "S1": None, "S1_conf": None, "ST": None, "ST_conf": None} for n in names]}
            continue
        idx = sobol_analyze(problem, col, seed=seed)
        result[o.name] = {"constant": False, "indices": [
            {"factor": n, "S1": float(idx["S1"][i]), "S1_conf": float(idx["S1_conf"][i]),
             "ST": float(idx["ST"][i]), "ST_conf": float(idx["ST_conf"][i])} for i, n in enumerate(names)]}
    return {
        "sample": {"rows": int(x.shape[0]),
                   "output_mean": {o.name: float(y[:, k].mean()) for k, o in enumerate(OUTPUTS)},
                   "output_sd": {o.name: float(y[:, k].std(ddof=1)) if y.shape[0] > 1 else 0.0
                                 for k, o in enumerate(OUTPUTS)}},
        "sobol": result,
    }
