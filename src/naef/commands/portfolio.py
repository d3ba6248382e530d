"""``naef portfolio``: choose the MDF's portfolio from a project pipeline and run it along the Monte Carlo paths.

The study is :func:`naef.studies.portfolio.portfolio` (the numbers, ``portfolio.json`` and the CSV tables); this
module is the command-line edge: it reads the options, prints Rich tables or JSON, and writes the study's files
with ``--out`` (all at once, only after everything succeeded). Every bad input is a
:class:`naef.errors.NaefError`, which ``naef.cli.main`` prints as one line with exit code 2.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from naef.commands.common import PathsOption, SeedOption, SetOption, load_with_sets, print_table, write_sets
from naef.commands.reporting import PdfOption, add_deterministic_report, portfolio_section
from naef.commands.run_folder import RunFolder
from naef.format import bn, usd_m
from naef.mdf.explain import RejectedProject
from naef.mdf.ties import TIE_RULE
from naef.studies.portfolio import (
    DEFAULT_PATHS,
    DEFAULT_SECTOR_FLOORS,
    PortfolioOptionError,
    PortfolioStudy,
    parse_sector_floors,
    portfolio,
)
from naef.studies.settings import DEFAULT_SEED, RunSettings

__all__ = ["DEFAULT_PATHS", "PortfolioOptionError", "parse_sector_floors", "portfolio_command", "register",
           "rejection_groups"]

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


def _m(x: float) -> str:
    return usd_m(x, unit=False)


def _headline(study: PortfolioStudy) -> str:
    """What the confidence means, in honest words: per year, for the whole schedule, and on the paths."""
    info, h = study.budget_at_confidence, study.horizon
    funded_share = study.schedule_funded_probability
    if info is None:
        funded = f"the planned schedule is funded on {funded_share:.0%} of the Monte Carlo paths"
    elif info.basis == "schedule":
        funded = (f"the budget is funded in every year together on {info.joint_probability:.0%} of paths (sized for "
                  f"{study.confidence:.0%}: each year's amount at P{(1 - info.per_year_confidence) * 100:.3g}); the "
                  f"selection's planned spending on {funded_share:.0%}")
    else:
        funded = (f"each year's budget is available with probability {study.confidence:.0%} on its own, every year "
                  f"together on {info.joint_probability:.0%} of paths; the selection's planned spending is covered "
                  f"in every year on {funded_share:.0%}")
    on_time, done = h.share_of_paths_all_on_schedule, h.share_of_paths_all_finished
    return (f"Funding: {funded}. Every selected project finishes on schedule on {on_time:.0%} of paths, by "
            f"{h.year} on {done:.0%}.")


_TAIL = re.compile(r" \([^()]*\)$")


def rejection_groups(rejected: Sequence[RejectedProject]) -> list[tuple[list[str], str]]:
    """The rejected projects grouped by their reason without its project's own figures (the bracket at the end,
    such as "(ENPV per dollar 0.212 if started in 2030)"): (ids, reason) in first-seen order; a group of one keeps
    its whole reason. Repeated identical refusals become one row with a count."""
    groups: dict[str, list[RejectedProject]] = {}
    for r in rejected:
        groups.setdefault(_TAIL.sub("", r["reason"]), []).append(r)
    return [([r["id"] for r in rs], rs[0]["reason"] if len(rs) == 1 else head) for head, rs in groups.items()]


def _print_rejected(study: PortfolioStudy, console: Console) -> None:
    """One line when the budget is zero (the MDF can count on nothing, so nothing could be chosen); otherwise the
    rejected projects, identical refusals on one row with their count (each project's own reason is in --json and
    in appraisal.csv)."""
    rejected = study.selection.rejected
    if not rejected:
        return
    if sum(study.budget_usd) <= 0.0:
        years = sorted(str(y) for y in study.budget_years)
        span = f"{years[0]}-{years[-1]}" if years else "the budget's years"
        console.print(Text(
            f"The MDF can count on USD 0 in {span} "
            + ("(the budget given with --budget-usd-by-year)" if study.budget_given else
               f"with probability {study.confidence:.0%} (--confidence)")
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


def _print(study: PortfolioStudy, console: Console, out: Path | None) -> None:
    sel, settings, pb = study.selection, study.settings, study.price_basis
    money, rate = pb.label, study.discount_rate
    budget = ("given with --budget-usd-by-year" if study.budget_given else
              f"MDF inflows available with probability {study.confidence:.0%} "
              f"({'for the whole schedule' if study.confidence_basis == 'schedule' else 'year by year'}; "
              f"{settings.paths:,} paths, seed {settings.seed}; unspent money carried forward)")
    pipe = study.pipeline
    console.print(Text(f"naef {study.summary['naef_version']} — scenario {study.scenario.scenario.name} — pipeline "
                       f"{pipe.source_name} ({len(pipe.projects)} projects"
                       f"{'' if study.pipeline_given else ', ILLUSTRATIVE'}) — budget: {budget}"))
    console.print(Text(f"Price basis: {pb.describe()} ({rate:.1%})."))
    t = Table(title=f"Selected projects ({money} m; ENPV discounted to {study.base_year} at {rate:.1%} real)",
              show_edge=False)
    for col in ("id", "start", "sector", "state", "expected cost", "ENPV"):
        t.add_column(col, justify="right" if col in ("start", "expected cost", "ENPV") else "left", no_wrap=True)
    for s in sel.selected:
        t.add_row(Text(s["id"]), str(s["start_year"]), s["sector"], s["state"], _m(s["expected_cost_usd"]),
                  _m(s["enpv_usd"]))
    print_table(t, console)
    total_cost = sum(s["expected_cost_usd"] for s in sel.selected)
    console.print(Text(f"{len(sel.selected)} projects, expected cost {money} {bn(total_cost)} bn of a budget "
                       f"of {money} {bn(sum(study.budget_usd))} bn; objective (total ENPV, discounted to "
                       f"{study.base_year}) {money} {bn(sel.objective_usd)} bn (LP relaxation "
                       f"{bn(sel.lp_objective_usd)} bn)"
                       + ("" if sel.optimal else " — time limit reached, not proven optimal")))
    tied = [r["id"] for r in sel.rejected if r["tied"]]
    if not sel.ties_settled:
        console.print(Text("Ties: not settled (a solve stopped at its time limit): another run may choose another "
                           "portfolio of the same value."))
    elif tied:
        console.print(Text(f"Ties: {', '.join(tied)} {'is' if len(tied) == 1 else 'are'} in portfolios of the same "
                           f"value; chosen by the rule: {TIE_RULE}."))
    console.print(Text(_headline(study)))
    info = study.budget_at_confidence
    if info is not None and info.warning:
        console.print(Text(f"Warning: {info.warning}."))
    t = Table(title="Binding constraints (LP price, confirmed by re-solving the MILP with the constraint relaxed)",
              show_edge=False)
    for col in ("constraint", "binding in MILP", "slack (m)", "LP price", "re-solve", "status"):
        t.add_column(col, justify="left" if col in ("constraint", "status") else "right")
    for b in sel.binding_constraints:
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
    _print_rejected(study, console)
    h = study.horizon
    console.print(Text(
        f"Along the paths, by {h.year}: projects finished P10/P50/P90 {h.projects_finished_p10:.0f} / "
        f"{h.projects_finished_p50:.0f} / {h.projects_finished_p90:.0f} of {h.projects_selected}; invested "
        f"{money} {bn(h.invested_usd_p10)} / {bn(h.invested_usd_p50)} / {bn(h.invested_usd_p90)} bn; "
        f"GDP effect {money} {bn(h.gdp_effect_usd_p10)} / {bn(h.gdp_effect_usd_p50)} / "
        f"{bn(h.gdp_effect_usd_p90)} bn a year ({h.gdp_effect_share_of_gdp_p50:.2%} of GDP at P50; planned "
        f"physical capital only); human-capital programmes finished {money} "
        f"{_m(h.human_capital_finished_usd_p50)} m at P50."))
    t = Table(title="Job-years by state (P10 / P50 / P90)", show_edge=False)
    for col in ("state", "P10", "P50", "P90"):
        t.add_column(col, justify="left" if col == "state" else "right")
    for j in study.jobs_by_state:
        t.add_row(f"{j.state} {j.state_name}", f"{j.job_years_p10:,.0f}", f"{j.job_years_p50:,.0f}",
                  f"{j.job_years_p90:,.0f}")
    print_table(t, console)
    if out is not None:
        console.print(Text(f"Wrote {', '.join(sorted(study.files()))} to {out}."))


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
    paths: PathsOption = DEFAULT_PATHS,
    seed: SeedOption = DEFAULT_SEED,
    migrant_share: Annotated[
        float, typer.Option("--migrant-share", help="Minimum share of spending in migrant-sending states (0-1).")
    ] = 0.40,
    sector_floor: Annotated[
        str, typer.Option("--sector-floor", help="SECTOR:15%, SECTOR:1.5bn or SECTOR:200m,... (a share of "
                                                 "spending or constant US$), or 'none'.")
    ] = DEFAULT_SECTOR_FLOORS,
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
    """Read the options, run the portfolio study, print tables or JSON, write its files with ``--out``."""
    sc = load_with_sets(scenario, sets)
    folder = RunFolder("portfolio", sc.scenario.name, out) if out is not None else None
    study = portfolio(sc, RunSettings(seed=seed, paths=paths), pipeline=pipeline, confidence=confidence,
                      confidence_basis=confidence_basis, budget_usd_by_year=budget_usd_by_year,
                      migrant_share=migrant_share, sector_floors=sector_floor, discount_rate=discount_rate,
                      resolve_seconds=resolve_seconds)
    if folder is not None:
        files = study.files()
        add_deterministic_report(files, scenario=sc, pdf=pdf, portfolio=portfolio_section(study))
        write_sets(folder, files, sc, sets, seed=seed, paths=paths)
    if as_json:
        typer.echo(json.dumps(study.summary, indent=2, allow_nan=False))
    elif not quiet:
        _print(study, Console(highlight=False), out)


def register(app: typer.Typer) -> None:
    """Add ``portfolio`` to ``app``."""
    app.command("portfolio", help=HELP)(portfolio_command)
