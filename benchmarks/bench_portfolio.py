"""Benchmark of ``naef portfolio``: wall time of each stage on the shipped (illustrative) pipeline.

Stages, timed separately: the Monte Carlo of the MDF's inflows (``mdf_inflows_by_year``), the appraisal, the main
MILP, the explanation (LP relaxation plus the MILP re-solves that confirm shadow prices and rejection reasons,
``naef.mdf.explain``), and the outcomes along the paths. It counts the re-solves actually run (a re-solve settled by
a proven relaxation is not run) and how many hit ``--resolve-seconds``, and the MILPs of the tie rule
(``naef.mdf.ties``: its steps, after the main solve and after each removal re-solve, and the checks for tied
projects) with their time; and it records the machine, the date and the load average, since HiGHS's times scale
with the CPU it gets.

Usage::

    .venv/bin/python benchmarks/bench_portfolio.py [--paths 2000] [--seed 1] [--resolve-seconds 20] [--json out.json]

The numbers (objective, selection, confirmed values) are printed too, so two runs can be compared for equal answers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from typing import Any

import numpy as np


def run(paths: int, seed: int, resolve_seconds: float) -> dict[str, Any]:
    import naef.mdf.explain as explain_mod
    import naef.mdf.selection as selection_mod
    import naef.mdf.ties as ties_mod
    from naef.engine.montecarlo import mdf_inflows_by_year, prepare
    from naef.mdf.appraisal import appraise_pipeline
    from naef.mdf.budget import budget_for_schedule
    from naef.mdf.outcomes import simulate_outcomes
    from naef.mdf.pipeline import load_pipeline
    from naef.mdf.prices import PriceBasis
    from naef.scenario.load import load_scenario

    times: dict[str, float] = {}
    solves: list[tuple[str, float, int]] = []
    original = explain_mod.solve_mip
    tie_original = ties_mod.solve_mip
    tie_solves: list[tuple[float, int]] = []

    def tie_timed(*a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        status, x = tie_original(*a, **k)
        tie_solves.append((time.perf_counter() - t, status))
        return status, x

    ties_mod.solve_mip = tie_timed

    def timed(model: Any, rows: Any, *, time_limit: float) -> Any:
        t = time.perf_counter()
        status, x = original(model, rows, time_limit=time_limit)
        solves.append(("re-solve", time.perf_counter() - t, status))
        return status, x

    t0 = time.perf_counter()
    sc = load_scenario("baseline")
    pipe = load_pipeline(None)
    years, nominal = mdf_inflows_by_year(prepare(sc), n_paths=paths, seed=seed)
    times["monte_carlo_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    basis = PriceBasis(price_year=pipe.cost_price_year, inflation_rate=sc.mdf.inflation_rate)
    inflows = basis.to_constant(nominal, years)
    budget = budget_for_schedule(years, inflows, confidence=0.8)
    ap = appraise_pipeline(pipe.projects)
    times["budget_and_appraisal_s"] = time.perf_counter() - t
    main: dict[str, float] = {}
    real_explain = selection_mod.explain

    def timed_explain(*a: Any, **k: Any) -> Any:
        main["milp_s"] = time.perf_counter() - t
        te = time.perf_counter()
        explain_mod.solve_mip = timed
        try:
            return real_explain(*a, **k)
        finally:
            explain_mod.solve_mip = original
            main["explain_s"] = time.perf_counter() - te

    selection_mod.explain = timed_explain
    t = time.perf_counter()
    try:
        sel = selection_mod.select_portfolio(pipe.projects, ap, years=budget.years, budget_usd=budget.budget_usd,
                                             base_year=sc.scenario.start.year, resolve_time_limit=resolve_seconds)
    finally:
        selection_mod.explain = real_explain
        ties_mod.solve_mip = tie_original
    times["main_milp_s"] = main["milp_s"]
    times["explain_s"] = main["explain_s"]
    t = time.perf_counter()
    out = simulate_outcomes(pipe.projects, sel.start_years(), years=budget.years, inflows_usd=inflows, appraisals=ap)
    times["outcomes_s"] = time.perf_counter() - t
    times["total_s"] = time.perf_counter() - t0
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                    "load_average_1_5_15": os.getloadavg()},
        "settings": {"paths": paths, "seed": seed, "resolve_seconds": resolve_seconds},
        "times": {k: round(v, 2) for k, v in times.items()},
        "re_solves_run": len(solves),
        "re_solves_at_time_limit": sum(1 for _, _, st in solves if st == 1),
        "tie_rule_solves": len(tie_solves),
        "tie_rule_solves_s": round(sum(t for t, _ in tie_solves), 2),
        "tie_rule_solves_at_time_limit": sum(1 for _, st in tie_solves if st == 1),
        "answers": {
            "budget_usd": float(np.sum(budget.budget_usd)), "objective_usd": sel.objective_usd,
            "optimal": sel.optimal, "selected": [s["id"] for s in sel.selected],
            "confirmed": {b["name"]: [round(b["confirmed_value"], 6), b["status"]] for b in sel.binding_constraints},
            "all_on_schedule_share": out.all_on_schedule_share(),
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--resolve-seconds", type=float, default=20.0)
    ap.add_argument("--json", default=None, help="also write the result to this file")
    args = ap.parse_args()
    result = run(args.paths, args.seed, args.resolve_seconds)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
