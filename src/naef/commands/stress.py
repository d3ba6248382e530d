"""``naef stress``: replay historical oil-price episodes and user decks through the deterministic chain.

The numbers come from :mod:`naef.analysis.stress` (its docstring states how an episode is laid on the grid, the two
modes and every per-path figure), run by :func:`naef.studies.stress.stress`. This module is the command-line edge:
it turns the options into the study's arguments, prints Rich tables or the JSON document, writes ``stress.json``
and ``stress_paths.csv`` with ``--out``, and lets every bad input surface as a :class:`naef.errors.NaefError`
subclass, which ``naef.cli.main`` prints as one line on stderr with exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from naef.commands.common import (
    SchedulerOption,
    SetOption,
    WorkersOption,
    load_with_sets,
    num,
    print_table,
    usd_bn,
    write_sets,
)
from naef.commands.reporting import PdfOption, add_deterministic_report
from naef.commands.run_folder import RunFolder
from naef.format import pct, rate, usd_per_bbl
from naef.studies.settings import RunSettings

if TYPE_CHECKING:  # the type only: naef stress --help stays light
    from naef.analysis.stress import StressDocument

__all__ = ["HELP", "print_stress", "register", "stress_command"]

HELP = "\n\n".join(
    [
        "Replay historical oil-price episodes and your own price decks through the scenario's deterministic chain "
        "and report, for each path and the base case (the scenario's deck), shortfalls and defaults by tranche "
        "and the Mexican Development Fund's inflows and loss against the base case.",
        "Episodes (--episode NAME, repeatable; default: every shipped episode unless --deck is given): "
        "collapse_2008, slump_2014, crash_2020, asian_1998 — quarterly averages of the U.S. EIA monthly spot "
        "prices (Brent or WTI, the scenario's benchmark), replayed from the scenario's first quarter; after the "
        "episode the scenario's deck resumes. --scale-to-spot (default) multiplies the episode by spot / its first "
        "quarter (the shock's shape at today's level); --levels uses its prices as they were.",
        "Decks (--deck CSV, repeatable): header 'Date,Price' or 'period_start,price', rows YYYY-MM-DD (or "
        "YYYY-MM) and US$/bbl >= 0, dates increasing and inside the horizon; a row sets the benchmark of the period "
        "containing its date (rows in one period are averaged); other periods keep the scenario's deck.",
        "Without --json: tables. With --json: the JSON document on stdout (keys scenario, naef_version, run, "
        "episodes_source, paths, paths_file). With --out DIR: writes stress.json and stress_paths.csv (path, "
        "period_start, benchmark_usd_per_bbl, collections_usd, dscr, trapped_usd, to_mdf_usd, event_of_default).",
        "Bad input (an unknown episode, an unreadable, empty or malformed deck, a negative price, a date outside "
        "the horizon) prints one line naming the option, file and line, and exits with code 2.",
    ]
)


def _pct(x: float | None) -> str:
    return pct(x, 1)


def print_stress(summary: StressDocument, console: Console, out: Path | None = None) -> None:
    """The stress document as tables."""
    sc, run = summary["scenario"], summary["run"]
    modes = f"{sc['benchmark']} episodes {' and '.join(run['modes'])}" if run["modes"] else "user decks"
    console.print(
        f"naef {summary['naef_version']} — scenario {sc['name']} ({sc['start']}, {sc['years']} years, "
        f"{sc['periods_per_year']} periods/year) — stress: {modes}, spot {usd_per_bbl(run['spot_usd_per_bbl'])}; "
        f"{run['inputs']}",
    )
    t = Table(title="Price paths and the Mexican Development Fund (USD bn)", show_edge=False)
    for col in ("path", "first (USD/bbl)", "min (USD/bbl, period)", "MDF nominal", f"PV {rate(run['discount_rate'])}",
                "MDF loss", "loss %", "PV loss %", "first MDF", "min DSCR", "trapped", "default (EoD)"):
        t.add_column(col, justify="left" if col in ("path", "min (USD/bbl, period)") else "right")
    for p in summary["paths"]:
        b, m = p["benchmark_usd_per_bbl"], p["mdf"]
        t.add_row(
            p["name"], num(b["first"]), f"{num(b['min'])} {b['min_date']}",
            usd_bn(m["inflows_usd"]), usd_bn(m["inflows_pv_usd"]), usd_bn(m["loss_vs_base_usd"]),
            _pct(m["loss_vs_base_share"]), _pct(m["loss_vs_base_pv_share"]), m["first_inflow_date"] or "never",
            num(p["min_dscr"]), str(p["cash_trap_periods"]), p["event_of_default_date"] or "—",
            style="red" if p["event_of_default_date"] else "",
        )
    print_table(t, console)
    t = Table(title="Tranches under stress (USD bn; interest shortfalls are arrears carried)", show_edge=False)
    for col in ("path", "tranche", "default", "loss", "first shortfall", "max I short", "I short at end",
                "unpaid at legal final", "paid after it"):
        t.add_column(col, justify="left" if col in ("path", "tranche") else "right")
    for p in summary["paths"]:
        for tr in p["tranches"]:
            t.add_row(
                p["name"], tr["name"], tr["default_date"] or "no", _pct(tr["loss"]), tr["first_shortfall_date"] or "—",
                usd_bn(tr["interest_shortfall_max_usd"]), usd_bn(tr["interest_shortfall_end_usd"]),
                usd_bn(tr["unpaid_at_legal_final_usd"]), usd_bn(tr["recovered_after_legal_final_usd"]),
                style="red" if tr["defaulted"] else "",
            )
    print_table(t, console)
    src = summary["episodes_source"]
    starts = sorted({d for d in (p["replay_start_date"] for p in summary["paths"]) if d})
    where = f"on {', '.join(starts)}" if starts else "at the scenario's first quarter"
    console.print(
        f"Episodes: {src.get('source', '')}, {src.get('derivation', '')} ({src.get('source_url', '')}); each starts "
        f"{where} and the scenario's deck resumes after it. 'trapped': periods whose "
        f"residual went to the cash-trap account; dates: first day of the period; MDF loss: base minus path."
    )
    if out is not None:
        console.print(f"Wrote {out / 'stress.json'} and {out / 'stress_paths.csv'}.")


def stress_command(
    scenario: Annotated[
        str, typer.Argument(help="Scenario TOML file, or the name of a shipped scenario.")
    ] = "baseline",
    episode: Annotated[
        list[str] | None,
        typer.Option("--episode", help="A shipped episode to replay (repeatable).", show_default=False),
    ] = None,
    deck: Annotated[
        list[Path] | None,
        typer.Option("--deck", help="A Date,Price CSV of benchmark prices by period (repeatable).",
                     show_default=False),
    ] = None,
    scale: Annotated[
        bool, typer.Option("--scale-to-spot/--levels", help="Scale episodes to the spot, or replay their levels.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON document (keys above).")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write stress.json and stress_paths.csv here.", show_default=False)
    ] = None,
    at_year: Annotated[
        int | None, typer.Option("--at-year", help="Replay episodes from 1 January of this year (default: the "
                                 "scenario's start), e.g. in the repayment years.", show_default=False)
    ] = None,
    pdf: PdfOption = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    sets: SetOption = None,
) -> None:
    """Run the stresses; print tables or JSON; write files with --out. Errors are NaefError subclasses."""
    from naef.studies.stress import stress

    settings = RunSettings(workers=workers, scheduler=scheduler)
    sc = load_with_sets(scenario, sets)
    folder = RunFolder("stress", sc.scenario.name, out) if out is not None else None
    study = stress(sc, settings, episodes=tuple(episode or ()), decks=tuple(deck or ()),
                   mode="scaled" if scale else "levels", at_year=at_year)
    result = study.result
    if folder is not None:
        files = study.files()
        add_deterministic_report(files, scenario=sc, pdf=pdf, stress=result.summary)
        write_sets(folder, files, sc, sets)
    if as_json:
        typer.echo(json.dumps(result.summary, indent=2, allow_nan=False))
    else:
        print_stress(result.summary, Console(highlight=False), out)


def register(app: typer.Typer) -> None:
    """Add ``stress`` to ``app``."""
    app.command("stress", help=HELP)(stress_command)
