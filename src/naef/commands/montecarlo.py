"""``naef run --paths N``: the Monte Carlo run, its files and its printed summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from naef.commands.common import console, num, print_table, progress_bar, usd_bn
from naef.format import pct as _pct
from naef.format import pct_se, rate, usd_per_bbl
from naef.scenario.models import Scenario
from naef.studies.settings import RunSettings

if TYPE_CHECKING:
    from naef.analysis.mc_summary import MonteCarloSummary
    from naef.commands.run_folder import RunFolder

__all__ = ["print_mc_summary", "run_mc"]


def print_mc_summary(summary: MonteCarloSummary, out: Path | None) -> None:
    """The summary of a Monte Carlo run as tables."""
    sc, run = summary["scenario"], summary["run"]
    console.print(
        f"[bold]naef {summary['naef_version']}[/] — scenario [bold]{sc['name']}[/] — Monte Carlo: "
        f"{run['paths']:,} paths, seed {run['seed']}, price model {run['price_model']}, field uncertainty "
        f"{'on' if run['field_uncertainty'] else 'off'}", highlight=False,
    )
    t = Table(title="NAEF tranches: risk (± one Monte Carlo standard error)", show_edge=False)
    for col in ("tranche", "rank", "size", "PD", "EL", "structural (EL/PD)", "rating (EL)", "rating (PD)", "binds",
                "WAL", "min DSCR P5/P50/P95",
                "breakeven (USD/bbl)", "legal final", "default date P50", "unpaid at LF (mean)",
                "paid after LF (mean)"):
        t.add_column(col, justify="left" if col == "tranche" else "right")
    for tr in summary["tranches"]:
        d = tr["min_dscr"]
        t.add_row(
            tr["name"], str(tr["seniority"]), usd_bn(tr["size_usd"]), pct_se(tr["pd"], tr["pd_se"]),
            pct_se(tr["expected_loss"], tr["expected_loss_se"]),
            f"{tr.get('structural_rating', '-')} / {tr.get('structural_rating_pd', '-')}", tr["implied_rating"],
            tr["implied_rating_pd"], str(tr.get("implied_rating_binds", "-")).replace("_", " "),
            num(tr["wal_years"]), f"{num(d['p5'])} / {num(d['p50'])} / {num(d['p95'])}",
            num(tr["breakeven_flat_price_usd_per_bbl"]), tr["legal_final_date"],
            tr["default_date"]["p50"] or "none", usd_bn(tr["unpaid_at_legal_final_usd"]["mean"]),
            usd_bn(tr["recovered_after_legal_final_usd"]["mean"]),
        )
    print_table(t, console)
    cap = summary.get("rating_cap")
    if cap:
        od = summary.get("originator_default", {})
        console.print(
            f"Rating cap {cap['cap']} (set by the {str(cap['cap_set_by']).replace('_', ' ')}): "
            f"{cap['originator']} {cap['originator_rating']} + {cap['max_uplift_notches']} notches = "
            f"{cap['originator_plus_uplift']}; {cap['country']}'s country ceiling {cap['country_ceiling']}. "
            + (f"{cap['originator']} defaults within the horizon with probability "
               f"{od.get('probability_within_horizon', 0.0):.1%} (idealized); then pledged exports "
               f"{'stop' if od.get('exports_stop_on_default') else 'continue'} and the fields run at "
               f"{od.get('operating_continuity', 1.0):.0%} of plan." if od.get("drawn") else
               "The originator's default is not drawn (uncertainty.originator = false)."),
            highlight=False)
    m = summary["mdf"]
    t = Table(title="The Mexican Development Fund (USD bn)", show_edge=False)
    for col in ("inflows", "P10", "P50", "P90", "mean"):
        t.add_column(col, justify="left" if col == "inflows" else "right")
    t.add_row("nominal", *(usd_bn(m["nominal_usd"][k]) for k in ("p10", "p50", "p90", "mean")))
    t.add_row(f"PV at {rate(m['discount_rate'])}", *(usd_bn(m["pv_usd"][k]) for k in ("p10", "p50", "p90", "mean")))
    print_table(t, console)
    eod = summary["event_of_default"]
    console.print("Event of default (senior interest unpaid beyond the grace, or debt owed after a legal final): "
                  f"{pct_se(eod['probability'], eod['se'])}; "
                  f"breakeven flat benchmark for full senior service: "
                  f"{usd_per_bbl(summary['breakeven_flat_price_usd_per_bbl']['senior'])}", highlight=False)
    hedge = summary.get("hedge")
    if hedge:
        t = Table(title="Hedge: the same paths with and without it", show_edge=False)
        for col in ("tranche", "PD with", "PD without", "EL with", "EL without", "rating with", "rating without"):
            t.add_column(col, justify="left" if col == "tranche" else "right")
        for row in hedge["tranches"]:
            w, o = row["with_hedge"], row["without_hedge"]
            t.add_row(row["name"], _pct(w["pd"]), _pct(o["pd"]), _pct(w["expected_loss"]), _pct(o["expected_loss"]),
                      w["implied_rating"], o["implied_rating"])
        print_table(t, console)
        console.print(
            f"Premium value {usd_bn(hedge['premium_value_usd'])} bn ("
            + "; ".join(f"{r.get('volatility_basis', 'flat')} volatility, flat {r.get('volatility', 0):.0%}: "
                        f"{usd_bn(r.get('premium_value_flat_usd', r['premium_value_usd']))} bn; borne by "
                        f"{r.get('premium_borne_by', r['premium_paid_from'])}" for r in hedge["hedges"])
            + f"); MDF P50 nominal "
            f"{usd_bn(hedge['mdf_with_hedge']['nominal_usd']['p50'])} bn with, "
            f"{usd_bn(hedge['mdf_without_hedge']['nominal_usd']['p50'])} bn without.", highlight=False,
        )
    if out is not None:
        console.print(f"Wrote [bold]{out / 'summary.json'}[/], [bold]{out / 'percentiles.csv'}[/], "
                      f"[bold]{out / 'report.html'}[/], [bold]{out / 'results.xlsx'}[/] and "
                      f"[bold]{out / 'run.json'}[/].", soft_wrap=True)


def run_mc(scenario: Scenario, settings: RunSettings, *, out: RunFolder, quiet: bool, pdf: bool = False,
           sets: Sequence[str] = ()) -> MonteCarloSummary:
    """Run the Monte Carlo study (in process, or on Dask with ``settings.workers``/``scheduler``), write
    ``summary.json``, ``percentiles.csv``, the report and ``run.json`` into the run's folder, print the summary."""
    from naef.commands.reporting import add_report
    from naef.scenario.changes import changes_of
    from naef.studies.monte_carlo import monte_carlo, monte_carlo_units

    with progress_bar(monte_carlo_units(scenario, settings), description="paths", quiet=quiet) as advance:
        study = monte_carlo(scenario, settings, progress=advance)
    files = study.files()
    add_report(files, scenario=scenario, pdf=pdf, summary=study.summary, percentiles=study.percentiles,
               cashflows=study.deterministic.table, p50_cashflows=study.p50_cashflows,
               deterministic_summary=study.deterministic.summary)
    written = out.write(files, scenarios=[study.summary["scenario"]], seed=settings.seed, paths=settings.paths,
                        sets=sets, changes=changes_of(scenario), inputs=scenario.model_dump(mode="json"))
    if not quiet:
        print_mc_summary(study.summary, written)
    return study.summary
