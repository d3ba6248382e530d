"""``naef portfolio``: choose the MDF's portfolio from a project pipeline and run it along the Monte Carlo paths.

The numbers come from :mod:`naef.mdf` (pipeline, appraisal, budget, selection, outcomes) and the Monte Carlo's MDF
inflows (:func:`naef.engine.montecarlo.mdf_inflows_by_year`, the same paths as ``naef run --paths N --seed S``).
This module is the command-line edge: it checks the options, prints Rich tables or JSON, and writes the outcome
tables and ``portfolio.json`` with ``--out`` (all at once, only after everything succeeded). Every bad input is a
:class:`naef.errors.NaefError`, which ``naef.cli.main`` prints as one line with exit code 2.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from naef.commands.common import SetOption, load_with_sets, print_table, write_sets
from naef.commands.reporting import PdfOption, add_deterministic_report, portfolio_section
from naef.commands.run_folder import RunFolder
from naef.errors import CliError
from naef.report.format import bn, usd_m
from naef.scenario.changes import changes_of
from naef.scenario.load import scenario_identity
from naef.scenario.models import Scenario

__all__ = ["DEFAULT_PATHS", "PortfolioOptionError", "parse_sector_floors", "portfolio_command", "register",
           "run_portfolio"]

#: Monte Carlo paths of MDF inflows (budget quantiles and outcome distributions)
DEFAULT_PATHS = 2000

HELP = "\n\n".join([
    "Choose the Mexican Development Fund's portfolio: appraise a project pipeline (ENPV at the social discount "
    "rate with reference-class cost overruns and benefit shortfalls), select projects and start years with a MILP "
    "(HiGHS) under the budget, sector floors, a minimum share for migrant-sending states and the pipeline's "
    "requires/excludes links, then run the portfolio along the Monte Carlo paths of MDF inflows.",
    "One price basis: the pipeline's constant dollars of its cost_price_year; the MDF's nominal inflows are deflated "
    "to that year at the scenario's mdf.inflation_rate (default 2 %, the Fed's target); the discount rate is real.",
    "The budget is the MDF inflows available with probability --confidence: the (1 - c) quantile of cumulative "
    "inflows by each year (--confidence-basis year), or the per-year level raised until every year is funded "
    "together with probability c (--confidence-basis schedule); unspent money is carried forward. Or give it with "
    "--budget-usd-by-year 2030:1e9,2031:2e9 (constant dollars). "
    "--pipeline FILE replaces the shipped ILLUSTRATIVE pipeline (format: docs/portfolio.md).",
    "--json prints the result (price_basis, budget, selected, objective_usd, budget_usd_by_year, "
    "spend_usd_by_year, binding_constraints, budget_marginal_value, rejected, outcomes); --out DIR writes "
    "portfolio.json and the outcome tables as CSV. "
    "Bad input prints one line naming the problem and exits with code 2, writing nothing.",
])


class PortfolioOptionError(CliError):
    """A bad option value of ``naef portfolio``."""


def parse_sector_floors(text: str) -> tuple[Any, ...]:
    """``--sector-floor education:5%,airport:1.5bn,road:200m``: a share of spending with ``%``, an amount in
    constant US$ with ``bn`` or ``m``; a bare number is refused as ambiguous; ``none`` for no floors."""
    from naef.mdf.pipeline import SECTORS
    from naef.mdf.selection import SectorFloor

    if text.strip().lower() == "none":
        return ()
    floors = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        sector, sep, value_text = item.partition(":")
        sector, value_text = sector.strip(), value_text.strip().lower().replace("_", "")
        if not sep:
            raise PortfolioOptionError(f"--sector-floor: {item!r} is not SECTOR:VALUE")
        if sector not in SECTORS:
            raise PortfolioOptionError(f"--sector-floor: unknown sector {sector!r} "
                                       f"(choose one of {', '.join(SECTORS)})")
        unit = next((u for u in ("%", "bn", "m") if value_text.endswith(u)), None)
        if unit is None:
            raise PortfolioOptionError(f"--sector-floor: {sector}:{value_text} is ambiguous: write a share as "
                                       f"'{sector}:15%' or an amount as '{sector}:1.5bn' or '{sector}:200m' "
                                       "(constant US$ of the pipeline's price year)")
        try:
            value = float(value_text[: -len(unit)])
        except ValueError:
            raise PortfolioOptionError(f"--sector-floor: {value_text!r} ({sector}) is not a number") from None
        if not math.isfinite(value) or value <= 0:
            raise PortfolioOptionError(f"--sector-floor: the floor of {sector} must be positive (got "
                                       f"{value_text!r})")
        if unit == "%":
            if value > 100:
                raise PortfolioOptionError(f"--sector-floor: the share of {sector} must be at most 100% (got "
                                           f"{value_text!r})")
            floors.append(SectorFloor(sector, share=value / 100.0))
        else:
            floors.append(SectorFloor(sector, amount_usd=value * (1e9 if unit == "bn" else 1e6)))
    if not floors:
        raise PortfolioOptionError("--sector-floor: give SECTOR:VALUE pairs or 'none'")
    return tuple(floors)


def _pct(a: np.ndarray[Any, Any], axis: int = 0) -> tuple[Any, Any, Any]:
    q = np.percentile(a, [10, 50, 90], axis=axis)
    return q[0], q[1], q[2]


def run_portfolio(
    *,
    scenario: str | Scenario,
    pipeline: Path | None,
    confidence: float,
    budget_text: str | None,
    paths: int,
    seed: int,
    migrant_share: float,
    sector_floors: str,
    discount_rate: float,
    confidence_basis: str = "year",
    resolve_seconds: float = 20.0,
) -> dict[str, Any]:
    """The JSON-ready result of ``naef portfolio`` (raises a NaefError on bad input). Every amount is in constant
    US$ of the pipeline's price year (the Monte Carlo's nominal inflows deflated at the scenario's
    ``mdf.inflation_rate``); ENPVs are discounted to the scenario's first year at the real discount rate."""
    from naef import __version__
    from naef.engine.montecarlo import mdf_inflows_by_year, prepare
    from naef.engine.run_arguments import check_run_arguments
    from naef.mdf.appraisal import SOCIAL_DISCOUNT_RATE_SOURCE, appraise_pipeline
    from naef.mdf.budget import CONFIDENCE_BASES, budget_for_schedule, joint_probability, parse_budget
    from naef.mdf.outcomes import (
        DEFAULT_GDP_USD,
        GDP_PRICE_YEAR,
        GDP_SOURCE,
        OUTPUT_ELASTICITY_SOURCE,
        PUBLIC_CAPITAL_STOCK_SOURCE,
        GdpAssumptions,
        simulate_outcomes,
    )
    from naef.mdf.pipeline import STATES, load_pipeline
    from naef.mdf.prices import INFLATION_RATE_SOURCE, US_CPI_SOURCE, PriceBasis, cpi_ratio
    from naef.mdf.selection import MIGRANT_STATES_SOURCE, Constraints, select_portfolio
    from naef.scenario.load import content_hash, load_scenario

    if not (math.isfinite(confidence) and 0.0 < confidence < 1.0):
        raise PortfolioOptionError(f"--confidence: must be strictly between 0 and 1 (got {confidence})")
    if not (math.isfinite(migrant_share) and 0.0 <= migrant_share <= 1.0):
        raise PortfolioOptionError(f"--migrant-share: must be between 0 and 1 (got {migrant_share})")
    if not (math.isfinite(discount_rate) and 0.0 <= discount_rate < 1.0):
        raise PortfolioOptionError(f"--discount-rate: must be in [0, 1) (got {discount_rate})")
    if confidence_basis not in CONFIDENCE_BASES:
        raise PortfolioOptionError(f"--confidence-basis: {confidence_basis!r} is not one of "
                                   f"{', '.join(CONFIDENCE_BASES)}")
    if not (math.isfinite(resolve_seconds) and resolve_seconds > 0):
        raise PortfolioOptionError(f"--resolve-seconds: must be a positive number of seconds (got {resolve_seconds})")
    check_run_arguments(n_paths=paths, seed=seed, chunk_size=2_000)
    given = parse_budget(budget_text) if budget_text is not None else None
    floors = parse_sector_floors(sector_floors)
    constraints = Constraints(sector_floors=floors, migrant_share_min=migrant_share)
    constraints.check()
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    pipe = load_pipeline(pipeline)
    appraisals = appraise_pipeline(pipe.projects, rate=discount_rate)
    basis = PriceBasis(price_year=pipe.cost_price_year, inflation_rate=sc.mdf.inflation_rate)
    mc_years, nominal = mdf_inflows_by_year(prepare(sc), n_paths=paths, seed=seed)
    inflows = basis.to_constant(nominal, mc_years)  # one price basis: constant dollars of the pipeline's year
    budget_info = None
    if given is not None:
        years, budget = given
        outside = [y for y in years if y not in mc_years]
        if outside:
            raise PortfolioOptionError(f"--budget-usd-by-year: year {outside[0]} is outside the scenario's years "
                                       f"{mc_years[0]}-{mc_years[-1]}")
        cols = [mc_years.index(y) for y in years]
        # each given year receives the Monte Carlo inflows since the previous given year (the first: all of them
        # so far), so no money the MDF received is dropped; outcomes run on these paths, not on the given budget
        cumulative = np.cumsum(inflows, axis=1)[:, cols]
        path_inflows = np.diff(cumulative, axis=1, prepend=0.0)
    else:
        budget_info = budget_for_schedule(mc_years, inflows, confidence=confidence, basis=confidence_basis)
        years, budget = budget_info.years, budget_info.budget_usd
        path_inflows = inflows
    base_year = sc.scenario.start.year
    sel = select_portfolio(pipe.projects, appraisals, years=years, budget_usd=budget, constraints=constraints,
                           base_year=base_year, resolve_time_limit=resolve_seconds)
    gdp = GdpAssumptions(gdp_usd=DEFAULT_GDP_USD * cpi_ratio(from_year=GDP_PRICE_YEAR, to_year=basis.price_year,
                                                             inflation_rate=basis.inflation_rate))
    out = simulate_outcomes(pipe.projects, sel.start_years(), years=years, inflows_usd=path_inflows,
                            appraisals=appraisals, gdp=gdp)
    by_id = pipe.by_id()
    finished = out.finished_by_year()
    invested = out.invested_usd()
    by_year = []
    for j, y in enumerate(years):
        row: dict[str, Any] = {"year": y, "budget_usd": float(budget[j]), "planned_spend_usd": sel.spend_usd[j]}
        for name, arr in (("inflow_usd", out.inflows_usd[:, j]), ("spent_usd", out.spent_usd[:, j]),
                          ("invested_usd", invested[:, j]), ("projects_finished", finished[:, j]),
                          ("gdp_effect_usd", out.gdp_effect_usd[:, j]),
                          ("human_capital_finished_usd", out.human_capital_usd[:, j])):
            p10, p50, p90 = _pct(arr)
            row |= {f"{name}_p10": float(p10), f"{name}_p50": float(p50), f"{name}_p90": float(p90)}
        by_year.append(row)
    jobs = []
    for state, arr in out.job_years_by_state.items():
        p10, p50, p90 = _pct(arr)
        jobs.append({"state": state, "state_name": STATES[state], "job_years_p10": float(p10),
                     "job_years_p50": float(p50), "job_years_p90": float(p90)})
    projects_out = []
    starts = sel.start_years()
    for k, pid in enumerate(out.project_ids):
        fi = out.finish_index[:, k]
        done = fi >= 0
        p = by_id[pid]
        projects_out.append({
            "id": pid, "planned_start_year": starts[pid], "planned_finish_year": starts[pid] + p.duration_years - 1,
            "probability_finished": float(done.mean()),
            "probability_on_schedule": float(out.on_schedule()[:, k].mean()),
            "finish_year_p50": (int(years[int(np.percentile(fi[done], 50, method="lower"))]) if done.any() else None),
            "cost_usd_p50": float(np.percentile(out.cost_usd[:, k], 50)),
        })
    n_sel = len(sel.selected)
    last = by_year[-1]
    money = basis.label
    rate_text = f"{discount_rate:.1%} real"
    budget_doc: dict[str, Any] = {
        "basis": "given" if budget_info is None else budget_info.basis, "confidence": confidence,
        "price_basis": money,
        # probability that the planned spending schedule of the selection is covered by the cumulative inflows in
        # every year on the same path (a direct count over the paths)
        "schedule_funded_probability": joint_probability(path_inflows, np.cumsum(sel.spend_usd)),
    }
    if budget_info is not None:
        budget_doc |= {
            "per_year_confidence": budget_info.per_year_confidence,
            "joint_probability": budget_info.joint_probability,
            "mc_error_usd": budget_info.mc_error_usd, "paths_below_percentile": budget_info.paths_below,
            "warning": budget_info.warning,
        }
    return {
        "naef_version": __version__,
        "scenario": {"name": sc.scenario.name, "content_hash": content_hash(sc),
                     **({"changes": scenario_identity(sc)["changes"]} if changes_of(sc) else {})},
        "pipeline": {"source": pipe.source_name, "projects": len(pipe.projects),
                     "illustrative": pipeline is None},
        "run": {"paths": paths, "seed": seed, "budget": "given" if given is not None else "monte_carlo",
                "confidence": None if given is not None else confidence, "base_year": base_year,
                "confidence_basis": None if given is not None else confidence_basis},
        "price_basis": {
            "label": money, "price_year": basis.price_year, "inflation_rate": basis.inflation_rate,
            "inflation_rate_source": INFLATION_RATE_SOURCE, "description": basis.describe(),
            "discount_rate": discount_rate, "discount_rate_kind": "real",
            "discounted_to_year": base_year,
            "columns": {
                "cost_usd": f"{money}, planned, undiscounted",
                "expected_cost_usd": f"{money}, planned × the class's mean overrun, undiscounted",
                "enpv_usd": f"{money}, discounted to {base_year} at {rate_text}",
                "*_at_start_usd": f"{money}, discounted to the project's start year at {rate_text}",
                "objective_usd": f"{money}, discounted to {base_year} at {rate_text}",
                "budget_usd_by_year": f"{money} received in each year, undiscounted",
                "spend_usd_by_year": f"{money} spent in each year (planned, expected costs), undiscounted",
                "outcomes": f"{money}, undiscounted",
            },
        },
        "budget": budget_doc,
        "budget_marginal_value": sel.budget_marginal_value,
        "selected": sel.selected,
        "objective_usd": sel.objective_usd,
        "lp_relaxation_objective_usd": sel.lp_objective_usd,
        "optimal": sel.optimal,
        "budget_usd_by_year": {str(y): float(b) for y, b in zip(years, budget, strict=True)},
        "spend_usd_by_year": {str(y): s for y, s in zip(years, sel.spend_usd, strict=True)},
        "binding_constraints": sel.binding_constraints,
        "rejected": sel.rejected,
        "constraints": {**sel.settings, "migrant_states_source": MIGRANT_STATES_SOURCE},
        "appraisal": {
            "discount_rate": discount_rate, "discount_rate_source": SOCIAL_DISCOUNT_RATE_SOURCE,
            "projects": [{
                "id": p.id, "sector": p.sector, "state": p.state, "reference_class": a.reference_class,
                "cost_usd": p.cost_usd, "expected_cost_usd": a.expected_cost_usd,
                "planned_npv_at_start_usd": a.planned_npv_at_start_usd, "enpv_at_start_usd": a.enpv_at_start_usd,
                "npv_p10_at_start_usd": a.npv_p10_at_start_usd, "npv_p90_at_start_usd": a.npv_p90_at_start_usd,
                "eirr": a.eirr, "bcr": a.bcr if math.isfinite(a.bcr) else None,
            } for p in pipe.projects for a in [appraisals[p.id]]],
        },
        "outcomes": {
            "by_year": by_year,
            "at_horizon": {
                "year": years[-1], "projects_selected": n_sel,
                "projects_finished_p10": last["projects_finished_p10"],
                "projects_finished_p50": last["projects_finished_p50"],
                "projects_finished_p90": last["projects_finished_p90"],
                "share_of_paths_all_finished": float((finished[:, -1] == n_sel).mean()) if n_sel else 1.0,
                "share_of_paths_all_on_schedule": out.all_on_schedule_share(),
                "invested_usd_p10": last["invested_usd_p10"], "invested_usd_p50": last["invested_usd_p50"],
                "invested_usd_p90": last["invested_usd_p90"],
                "gdp_effect_usd_p10": last["gdp_effect_usd_p10"], "gdp_effect_usd_p50": last["gdp_effect_usd_p50"],
                "gdp_effect_usd_p90": last["gdp_effect_usd_p90"],
                "gdp_effect_share_of_gdp_p50": last["gdp_effect_usd_p50"] / gdp.gdp_usd,
                "human_capital_finished_usd_p50": last["human_capital_finished_usd_p50"],
            },
            "jobs_by_state": jobs,
            "projects": projects_out,
            "gdp_assumptions": {
                "output_elasticity": gdp.output_elasticity, "output_elasticity_source": OUTPUT_ELASTICITY_SOURCE,
                "gdp_usd": gdp.gdp_usd, "gdp_source": GDP_SOURCE, "gdp_cpi_source": US_CPI_SOURCE,
                "public_capital_to_gdp": gdp.public_capital_to_gdp,
                "public_capital_stock_usd": gdp.public_capital_stock_usd,
                "public_capital_stock_source": PUBLIC_CAPITAL_STOCK_SOURCE,
                "capital_counted": "the planned cost (constant dollars) of finished projects whose reference class "
                                   "builds physical capital; overruns add cost and delay, never capital",
                "price_basis": money,
            },
            "jobs_basis": ("job-years = jobs × duration × the share of the planned work paid for; the pipeline's jobs "
                           "column is in the price year's dollars (S12's 40,000 jobs per 2009-US$ 1 bn = 27,357 per "
                           "2024-US$ 1 bn, US CPI-U 2024/2009 = 1.4622)"),
        },
    }


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        fields = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else repr(v) if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def output_files(result: dict[str, Any]) -> dict[str, str | bytes]:
    """portfolio.json and the CSV tables written by ``--out``."""
    selected = {s["id"]: s for s in result["selected"]}
    rejected = {r["id"]: r["reason"] for r in result["rejected"]}
    appraisal_rows = [{**row, "selected": row["id"] in selected,
                       "start_year": selected[row["id"]]["start_year"] if row["id"] in selected else None,
                       "reason_rejected": rejected.get(row["id"], "")} for row in result["appraisal"]["projects"]]
    return {
        "portfolio.json": json.dumps(result, indent=2, allow_nan=False) + "\n",
        "appraisal.csv": _csv(appraisal_rows),
        "outcomes_by_year.csv": _csv(result["outcomes"]["by_year"]),
        "jobs_by_state.csv": _csv(result["outcomes"]["jobs_by_state"]),
        "project_outcomes.csv": _csv(result["outcomes"]["projects"]),
        "binding_constraints.csv": _csv(result["binding_constraints"]),
    }


def _m(x: float) -> str:
    return usd_m(x, unit=False)


def _headline(result: dict[str, Any]) -> str:
    """What the confidence means, in honest words: per year, for the whole schedule, and on the paths."""
    run, b = result["run"], result["budget"]
    h = result["outcomes"]["at_horizon"]
    if run["budget"] == "given":
        funded = f"the planned schedule is funded on {b['schedule_funded_probability']:.0%} of the Monte Carlo paths"
    elif b["basis"] == "schedule":
        funded = (f"the budget is funded in every year together on {b['joint_probability']:.0%} of paths (sized for "
                  f"{b['confidence']:.0%}: each year's amount at P{(1 - b['per_year_confidence']) * 100:.3g}); the "
                  f"selection's planned spending on {b['schedule_funded_probability']:.0%}")
    else:
        funded = (f"each year's budget is available with probability {b['confidence']:.0%} on its own, every year "
                  f"together on {b['joint_probability']:.0%} of paths; the selection's planned spending is covered "
                  f"in every year on {b['schedule_funded_probability']:.0%}")
    on_time, done = h["share_of_paths_all_on_schedule"], h["share_of_paths_all_finished"]
    return (f"Funding: {funded}. Every selected project finishes on schedule on {on_time:.0%} of paths, by "
            f"{h['year']} on {done:.0%}.")


_TAIL = re.compile(r" \([^()]*\)$")


def rejection_groups(rejected: list[dict[str, Any]]) -> list[tuple[list[str], str]]:
    """The rejected projects grouped by their reason without its project's own figures (the bracket at the end,
    such as "(ENPV per dollar 0.212 if started in 2030)"): (ids, reason) in first-seen order; a group of one keeps
    its whole reason. Repeated identical refusals become one row with a count."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rejected:
        groups.setdefault(_TAIL.sub("", r["reason"]), []).append(r)
    return [([r["id"] for r in rs], rs[0]["reason"] if len(rs) == 1 else head) for head, rs in groups.items()]


def _print_rejected(result: dict[str, Any], console: Console) -> None:
    """One line when the budget is zero (the MDF can count on nothing, so nothing could be chosen); otherwise the
    rejected projects, identical refusals on one row with their count (each project's own reason is in --json and
    in appraisal.csv)."""
    run, rejected = result["run"], result["rejected"]
    if not rejected:
        return
    if sum(result["budget_usd_by_year"].values()) <= 0.0:
        given = run["budget"] == "given"
        years = sorted(result["budget_usd_by_year"])
        span = f"{years[0]}-{years[-1]}" if years else "the budget's years"
        console.print(Text(
            f"The MDF can count on USD 0 in {span} "
            + ("(the budget given with --budget-usd-by-year)" if given else
               f"with probability {run['confidence']:.0%} (--confidence)")
            + f": all {len(rejected)} projects of the pipeline are rejected, none can be paid for "
              "(each project's reason is in --json and in appraisal.csv with --out)."))
        return
    t = Table(title="Rejected projects", show_edge=False)
    t.add_column("id", overflow="fold")
    t.add_column("why it lost", overflow="fold")
    for ids, reason in rejection_groups(rejected):
        label = ids[0] if len(ids) == 1 else f"{len(ids)} projects: {', '.join(ids)}"
        t.add_row(Text(label), Text(reason))
    print_table(t, console)


def _print(result: dict[str, Any], console: Console, out: Path | None) -> None:
    run, sc, pb = result["run"], result["scenario"], result["price_basis"]
    money = pb["label"]
    budget = ("given with --budget-usd-by-year" if run["budget"] == "given" else
              f"MDF inflows available with probability {run['confidence']:.0%} "
              f"({'for the whole schedule' if run['confidence_basis'] == 'schedule' else 'year by year'}; "
              f"{run['paths']:,} paths, seed {run['seed']}; unspent money carried forward)")
    pipe = result["pipeline"]
    console.print(Text(f"naef {result['naef_version']} — scenario {sc['name']} — pipeline {pipe['source']} "
                       f"({pipe['projects']} projects{', ILLUSTRATIVE' if pipe['illustrative'] else ''}) — budget: "
                       f"{budget}"))
    console.print(Text(f"Price basis: {pb['description']} ({pb['discount_rate']:.1%})."))
    t = Table(title=f"Selected projects ({money} m; ENPV discounted to {run['base_year']} at "
                    f"{pb['discount_rate']:.1%} real)", show_edge=False)
    for col in ("id", "start", "sector", "state", "expected cost", "ENPV"):
        t.add_column(col, justify="right" if col in ("start", "expected cost", "ENPV") else "left", no_wrap=True)
    for s in result["selected"]:
        t.add_row(Text(s["id"]), str(s["start_year"]), s["sector"], s["state"], _m(s["expected_cost_usd"]),
                  _m(s["enpv_usd"]))
    print_table(t, console)
    total_cost = sum(s["expected_cost_usd"] for s in result["selected"])
    total_budget = sum(result["budget_usd_by_year"].values())
    console.print(Text(f"{len(result['selected'])} projects, expected cost {money} {bn(total_cost)} bn of a budget "
                       f"of {money} {bn(total_budget)} bn; objective (total ENPV, discounted to {run['base_year']}) "
                       f"{money} {bn(result['objective_usd'])} bn (LP relaxation "
                       f"{bn(result['lp_relaxation_objective_usd'])} bn)"
                       + ("" if result["optimal"] else " — time limit reached, not proven optimal")))
    console.print(Text(_headline(result)))
    warning = result["budget"].get("warning")
    if warning:
        console.print(Text(f"Warning: {warning}."))
    t = Table(title="Binding constraints (LP price, confirmed by re-solving the MILP with the constraint relaxed)",
              show_edge=False)
    for col in ("constraint", "binding in MILP", "slack (m)", "LP price", "re-solve", "status"):
        t.add_column(col, justify="left" if col in ("constraint", "status") else "right")
    for b in result["binding_constraints"]:
        per_project = b["shadow_price_unit"].endswith("per project")
        scale = 1e6 if per_project else 1.0
        lp = b.get("value_of_dollar_received_lp", b["lp_shadow_price"])
        unit = " m/project" if per_project else ""
        t.add_row(Text(b["name"]), "yes" if b["binding_in_milp"] else "no", _m(b["slack"]),
                  f"{lp / scale:.4f}{unit}", f"{b['confirmed_value'] / scale:.4f}{unit}", Text(b["status"]))
    print_table(t, console)
    console.print(Text("Budget rows: the value of one more dollar received in that year (it relaxes every later "
                       "year's cumulative budget: the LP value is the sum of the budget duals from that year on). "
                       "Floors: ENPV per dollar of shortfall allowed."))
    _print_rejected(result, console)
    h = result["outcomes"]["at_horizon"]
    console.print(Text(
        f"Along the paths, by {h['year']}: projects finished P10/P50/P90 {h['projects_finished_p10']:.0f} / "
        f"{h['projects_finished_p50']:.0f} / {h['projects_finished_p90']:.0f} of {h['projects_selected']}; invested "
        f"{money} {bn(h['invested_usd_p10'])} / {bn(h['invested_usd_p50'])} / {bn(h['invested_usd_p90'])} bn; "
        f"GDP effect {money} {bn(h['gdp_effect_usd_p10'])} / {bn(h['gdp_effect_usd_p50'])} / "
        f"{bn(h['gdp_effect_usd_p90'])} bn a year ({h['gdp_effect_share_of_gdp_p50']:.2%} of GDP at P50; planned "
        f"physical capital only); human-capital programmes finished {money} "
        f"{_m(h['human_capital_finished_usd_p50'])} m at P50."))
    t = Table(title="Job-years by state (P10 / P50 / P90)", show_edge=False)
    for col in ("state", "P10", "P50", "P90"):
        t.add_column(col, justify="left" if col == "state" else "right")
    for j in result["outcomes"]["jobs_by_state"]:
        t.add_row(f"{j['state']} {j['state_name']}", f"{j['job_years_p10']:,.0f}", f"{j['job_years_p50']:,.0f}",
                  f"{j['job_years_p90']:,.0f}")
    print_table(t, console)
    if out is not None:
        console.print(Text(f"Wrote {', '.join(sorted(output_files(result)))} to {out}."))


def portfolio_command(
    scenario: Annotated[str, typer.Argument(help="Scenario TOML file, or a shipped scenario's name.")] = "baseline",
    pipeline: Annotated[
        Path | None, typer.Option("--pipeline", help="Project pipeline CSV (default: the shipped illustrative one).")
    ] = None,
    confidence: Annotated[
        float, typer.Option("--confidence", help="Budget = inflows available with this probability.")
    ] = 0.8,
    confidence_basis: Annotated[
        str, typer.Option("--confidence-basis", help="'year': each year's budget on its own; 'schedule': every "
                                                     "year together (the whole schedule funded).")
    ] = "year",
    budget_usd_by_year: Annotated[
        str | None, typer.Option("--budget-usd-by-year", help="Give the budget instead: YEAR:AMOUNT,... (constant "
                                                            "US$ of the pipeline's price year).")
    ] = None,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths of MDF inflows.")] = DEFAULT_PATHS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Monte Carlo.")] = 1,
    migrant_share: Annotated[
        float, typer.Option("--migrant-share", help="Minimum share of spending in migrant-sending states (0-1).")
    ] = 0.40,
    sector_floor: Annotated[
        str, typer.Option("--sector-floor", help="SECTOR:15%, SECTOR:1.5bn or SECTOR:200m,... (a share of "
                                                 "spending or constant US$), or 'none'.")
    ] = "education:5%,small_enterprise:5%",
    discount_rate: Annotated[
        float, typer.Option("--discount-rate", help="Social discount rate, real (SHCP: 10 %).")
    ] = 0.10,
    resolve_seconds: Annotated[
        float, typer.Option("--resolve-seconds", help="Time limit of each MILP re-solve that confirms a shadow "
                                                      "price or a rejection's reason.")
    ] = 20.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write portfolio.json and the outcome CSVs here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing but errors.")] = False,
    pdf: PdfOption = False,
    sets: SetOption = None,
) -> None:
    """Check the options, select and simulate, print tables or JSON, write files with ``--out``."""
    sc = load_with_sets(scenario, sets)
    folder = RunFolder("portfolio", sc.scenario.name, out) if out is not None else None
    result = run_portfolio(scenario=sc, pipeline=pipeline, confidence=confidence,
                           budget_text=budget_usd_by_year, paths=paths, seed=seed, migrant_share=migrant_share,
                           sector_floors=sector_floor, discount_rate=discount_rate,
                           confidence_basis=confidence_basis, resolve_seconds=resolve_seconds)
    if folder is not None:
        files = output_files(result)
        add_deterministic_report(files, scenario=sc, pdf=pdf,
                                 portfolio=portfolio_section(result))
        write_sets(folder, files, sc, sets, seed=seed, paths=paths)
    if as_json:
        typer.echo(json.dumps(result, indent=2, allow_nan=False))
    elif not quiet:
        _print(result, Console(highlight=False), out)


def register(app: typer.Typer) -> None:
    """Add ``portfolio`` to ``app``."""
    app.command("portfolio", help=HELP)(portfolio_command)
