"""The ``naef`` command. The only place that turns :class:`naef.errors.NaefError` into exit code 2."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.main
from rich.table import Table
from typer import _click  # Typer (0.29+) carries its own Click: its commands and contexts are these classes
from typer.core import TyperCommand, TyperGroup

from naef import __version__
from naef.commands.common import (
    ChunkSizeOption,
    OptionalPathsOption,
    PdfOption,
    SchedulerOption,
    SeedOption,
    SetOption,
    ThreadsOption,
    WorkersOption,
    console,
    err_console,
    load_with_sets,
    print_table,
)
from naef.commands.common import num as _num
from naef.commands.common import usd_bn as _usd_bn
from naef.errors import CliError, NaefError
from naef.format import pct, rate, times
from naef.studies.settings import DEFAULT_CHUNK_SIZE, DEFAULT_SEED, EngineName

if TYPE_CHECKING:  # the type only: importing naef.cli stays light
    from naef.engine.results import DeterministicSummary

#: The commands and groups of ``naef`` after run, validate and scenarios, in the order ``naef --help`` lists them,
#: each with its summary (the first paragraph of its help; tests/test_cli_startup.py checks that they agree). Each
#: is imported only when it runs or its own help is shown (:func:`load_command`), so starting the CLI and
#: ``naef --help`` load no NumPy, SciPy, pandas or Numba.
LAZY_COMMANDS: dict[str, str] = {
    "calibrate": "Fit a log-price model to a Date,Price CSV of crude prices (US$/bbl) by maximum likelihood.",
    "size": "Find the largest size whose implied rating is at least --target-rating.",
    "stress": (
        "Replay historical oil-price episodes and your own price decks through the scenario's deterministic "
        "chain and report, for each path and the base case (the scenario's deck), shortfalls and defaults by "
        "tranche and the Mexican Development Fund's inflows and loss against the base case."
    ),
    "sensitivity": (
        "Sensitivity of the most senior class's expected loss and of the MDF's inflows (mean PV, P50 "
        "nominal) to named scenario inputs."
    ),
    "portfolio": (
        "Choose the Mexican Development Fund's portfolio: appraise a project pipeline (ENPV at the social "
        "discount rate with reference-class cost overruns and benefit shortfalls), select projects and "
        "start years with a MILP (HiGHS) under the budget, sector floors, a minimum share for "
        "migrant-sending states and the pipeline's requires/excludes links, then run the portfolio along "
        "the Monte Carlo paths of MDF inflows."
    ),
    "runs": (
        "List the runs naef wrote under FOLDER: when, what kind, which scenario (and its --set changes), seed, "
        "paths\nand the folder."
    ),
    "compare": (
        "Compare two or more designs side by side. Each argument is a scenario file, a shipped scenario's "
        "name, or the folder of an earlier `naef run` (read back, not re-run; out/<scenario>/latest works)."
    ),
    "disclose": "Export the ledger in a disclosure format, as a bundle verifiable offline.",
    "verify-bundle": "Verify a disclosure bundle offline, without the database.",
    "serve": "Serve the JSON API (OpenAPI at /api/openapi.json) and the transparency portal.",
    "ledger": "The control system's tamper-evident ledger.",
    "keys": "Ed25519 keys (C2SP signed-note key strings).",
}


def _typer_app(name: str) -> typer.Typer:
    """A Typer app holding the command ``name`` of :data:`LAZY_COMMANDS` (or, for a group, the group's app).
    Plain import statements, so that the import graph (tests/test_architecture.py) sees every command."""
    holder = typer.Typer()
    match name:
        case "calibrate":
            from naef.commands.calibrate import register as register_calibrate
            register_calibrate(holder)
        case "size":
            from naef.commands.size import register as register_size
            register_size(holder)
        case "stress":
            from naef.commands.stress import register as register_stress
            register_stress(holder)
        case "sensitivity":
            from naef.commands.sensitivity import register as register_sensitivity
            register_sensitivity(holder)
        case "portfolio":
            from naef.commands.portfolio import register as register_portfolio
            register_portfolio(holder)
        case "runs":
            from naef.commands.runs import register as register_runs
            register_runs(holder)
        case "compare":
            from naef.commands.compare import register as register_compare
            register_compare(holder)
        case "disclose" | "verify-bundle":
            from naef.commands.disclose import register as register_disclose
            register_disclose(holder)
        case "serve":
            from naef.commands.serve import register as register_serve
            register_serve(holder)
        case "ledger":
            from naef.commands.ledger import ledger_app
            from naef.commands.ledger_ops import register as register_ledger_ops

            register_ledger_ops(ledger_app)
            return ledger_app
        case "keys":
            from naef.commands.keys import keys_app

            return keys_app
        case _:
            raise KeyError(name)
    return holder


def load_command(name: str) -> _click.Command:
    """The real click command (or group) ``name`` of :data:`LAZY_COMMANDS`, its module imported (once per
    process)."""
    if name not in _LOADED:
        group = typer.main.get_group(_typer_app(name))
        command: _click.Command
        if name in ("ledger", "keys"):
            command = group
            command.help = LAZY_COMMANDS[name]
        else:
            command = group.commands[name]
        command.name = name
        _LOADED[name] = command
    return _LOADED[name]


_LOADED: dict[str, _click.Command] = {}


class _LazyCommand(TyperCommand):
    """Stands for a command of :data:`LAZY_COMMANDS` in ``naef``'s listing (its name and summary); parsing its
    arguments (running it, or ``--help``) loads the real command and hands over to it."""

    def __init__(self, name: str) -> None:
        super().__init__(name, help=LAZY_COMMANDS[name], add_help_option=False)

    def make_context(self, info_name: str | None, args: list[str], parent: _click.Context | None = None,
                     **extra: Any) -> _click.Context:
        return load_command(self.name or "").make_context(info_name, args, parent=parent, **extra)


class _NaefGroup(TyperGroup):
    """``naef``'s group: the commands defined here, then a stand-in for each of :data:`LAZY_COMMANDS` (listed,
    suggested for a typo, loaded when used)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name in LAZY_COMMANDS:
            self.commands.setdefault(name, _LazyCommand(name))




app = typer.Typer(
    name="naef",
    help="Design, stress-test and transparently run an energy-for-infrastructure swap (NAEF → PEMEX → MDF).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_NaefGroup,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"naef {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """naef: the North American Energy Fund / Mexican Development Fund model and control system."""


def _print_summary(summary: DeterministicSummary, out: Path) -> None:
    sc = summary["scenario"]
    console.print(
        f"[bold]naef {summary['naef_version']}[/] — scenario [bold]{sc['name']}[/] "
        f"({sc['start']}, {sc['years']} years, {sc['periods_per_year']} periods/year) — deterministic run"
    )
    su = summary["sources_and_uses"]
    t = Table(title="Sources and uses at issuance (USD bn)", show_edge=False)
    t.add_column("item")
    t.add_column("USD bn", justify="right")
    t.add_row("securities proceeds", _usd_bn(su["sources"]["securities_proceeds_usd"]))
    for k, v in su["uses"].items():
        t.add_row("  " + k.removesuffix("_usd").replace("_", " "), _usd_bn(v))
    if su["surplus_usd"]:
        t.add_row("[yellow]surplus (redeems the notes pro rata)[/]", _usd_bn(su["surplus_usd"]))
    if su["shortfall_usd"]:
        t.add_row("[red]shortfall (uses exceed proceeds)[/]", _usd_bn(su["shortfall_usd"]))
    if su["capex_funded_by_pemex_usd"]:
        t.add_row("[yellow]capex funded by PEMEX (timing)[/]", _usd_bn(su["capex_funded_by_pemex_usd"]))
    print_table(t, console)
    t = Table(title="NAEF tranches (USD bn; WAL in years, to the legal final)", show_edge=False)
    for col in ("tranche", "rank", "size", "coupon", "WAL", "min DSCR", "mean DSCR", "yield", "legal final",
                "defaulted", "unpaid at legal final", "paid after it"):
        t.add_column(col, justify="left" if col == "tranche" else "right")
    for tr in summary["tranches"]:
        style = "red" if tr["defaulted"] else ""
        t.add_row(
            tr["name"], str(tr["seniority"]), _usd_bn(tr["size_usd"]), pct(tr['coupon_rate']),
            _num(tr["wal_years"]), times(tr["min_dscr"]), times(tr["mean_dscr"]),
            pct(tr["investor_yield"]), tr["legal_final_date"],
            f"yes, {tr['default_date']}" if tr["defaulted"] else "no", _usd_bn(tr["unpaid_at_legal_final_usd"]),
            _usd_bn(tr["recovered_after_legal_final_usd"]), style=style,
        )
    print_table(t, console)
    tot, prod = summary["totals"], summary["production"]
    t = Table(title="Production and the Mexican Development Fund", show_edge=False)
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("cumulative oil (MMbbl)", _num(prod["cumulative_oil_mmbbl"], "{:,.0f}"))
    t.add_row("cumulative gas (Bcf)", _num(prod["cumulative_gas_bcf"], "{:,.0f}"))
    t.add_row("peak oil (bbl/d)", _num(prod["peak_oil_bpd"], "{:,.0f}"))
    t.add_row("revenue (USD bn)", _usd_bn(tot["revenue_usd"]))
    t.add_row("duties to the Federation (USD bn)", _usd_bn(tot["duties_usd"]))
    t.add_row("collections (USD bn)", _usd_bn(tot["collections_usd"]))
    t.add_row("debt service paid (USD bn)", _usd_bn(tot["interest_paid_usd"] + tot["principal_paid_usd"]))
    t.add_row("[bold]to the MDF (USD bn, nominal)[/]", _usd_bn(tot["to_mdf_usd"]))
    t.add_row(f"to the MDF (USD bn, PV at {rate(tot['discount_rate'])})", _usd_bn(tot["to_mdf_pv_usd"]))
    t.add_row("first MDF inflow", tot["first_mdf_period"] or "never")
    print_table(t, console)
    console.print(f"Wrote [bold]{out / 'cashflows.csv'}[/], [bold]{out / 'summary.json'}[/], "
                  f"[bold]{out / 'report.html'}[/], [bold]{out / 'results.xlsx'}[/] and [bold]{out / 'run.json'}[/].",
                  soft_wrap=True)


#: ``naef run --per-path``: what a Monte Carlo keeps of each path, and what it costs in memory
PER_PATH_HELP = (
    "Monte Carlo only: 'keep' holds every path's metrics in memory (exact quantiles; 8 bytes x (7 per tranche + 8) "
    "a path, 288 MB per million paths on the baseline's 4 tranches, so the client's memory grows with --paths); "
    "'stream' folds each chunk into mergeable summaries (PD and counts exact, means to rounding, quantiles within "
    "0.1 %: memory flat in paths, for runs of millions); 'auto' (default) keeps up to 200,000 paths and streams "
    "beyond."
)


def _keep_paths_of(per_path: str) -> bool | None:
    """``--per-path``'s choice as ``RunSettings.keep_paths``; an unknown word is a CliError naming the option."""
    choices: dict[str, bool | None] = {"auto": None, "keep": True, "stream": False}
    if per_path not in choices:
        raise CliError(f"--per-path: unknown choice {per_path!r} (choose 'auto', 'keep' or 'stream')")
    return choices[per_path]


@app.command()
def run(
    scenario: Annotated[
        str, typer.Argument(help="Scenario TOML file, or the name of a shipped scenario.")
    ] = "baseline",
    deterministic: Annotated[
        bool, typer.Option("--deterministic", help="Run the scenario's deterministic case (its price decks); the "
                           "default unless --paths is given.")
    ] = False,
    paths: OptionalPathsOption = None,
    seed: SeedOption = DEFAULT_SEED,
    chunk_size: ChunkSizeOption = DEFAULT_CHUNK_SIZE,
    threads: ThreadsOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder: empty, or one naef wrote for the same kind "
                                             "of run (default: out/<scenario>/<run|montecarlo>-<UTC time>/, "
                                             "with out/<scenario>/latest pointing at it).")] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="'vector' (default) or 'reference' (the pure-Python oracle).")
    ] = "vector",
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing but errors (no progress bar).")] = False,
    pdf: PdfOption = False,
    sets: SetOption = None,
    per_path: Annotated[str, typer.Option("--per-path", help=PER_PATH_HELP)] = "auto",
) -> None:
    """Run a scenario through the whole chain.

    Deterministic (default): writes cashflows.csv and summary.json. With --paths N: a Monte Carlo over prices,
    production and costs; writes summary.json (PD, EL, implied ratings, WAL, DSCR percentiles, MDF inflows,
    breakeven price, hedge effect) and percentiles.csv (P5-P95 by period). Both also write report.html (one
    self-contained page, opens offline) and results.xlsx; --pdf adds report.pdf.
    """
    from naef.commands.reporting import add_report
    from naef.commands.run_folder import RunFolder
    from naef.scenario.changes import changes_of
    from naef.studies.run import run as run_study
    from naef.studies.settings import RunSettings

    if deterministic and paths is not None:
        raise CliError("--deterministic: cannot be combined with --paths (choose one kind of run)")
    if paths is None and (workers is not None or scheduler is not None):
        raise CliError("--workers/--scheduler: only for a Monte Carlo run (add --paths N)")
    keep_paths = _keep_paths_of(per_path)
    if paths is None and per_path != "auto":
        raise CliError("--per-path: only for a Monte Carlo run (add --paths N)")
    chosen_engine: EngineName = "reference" if engine == "reference" else "vector"
    if engine not in ("vector", "reference"):
        raise CliError(f"--engine: unknown engine {engine!r} (choose 'vector' or 'reference')")
    if paths is not None:
        settings = RunSettings(seed=seed, paths=paths, chunk_size=chunk_size, threads=threads, workers=workers,
                               scheduler=scheduler, engine=chosen_engine, keep_paths=keep_paths)
    else:
        settings = RunSettings(threads=threads, engine=chosen_engine)
    sc = load_with_sets(scenario, sets)
    folder = RunFolder("montecarlo" if paths is not None else "run", sc.scenario.name, out)
    if paths is not None:
        from naef.commands.montecarlo import run_mc

        run_mc(sc, settings, out=folder, quiet=quiet, pdf=pdf, sets=sets or [])
        return
    result = run_study(sc, settings)
    files = result.files()
    add_report(files, scenario=sc, pdf=pdf, summary=result.summary, cashflows=result.cashflows)
    written = folder.write(files, scenarios=[result.summary["scenario"]], sets=sets or [], changes=changes_of(sc),
                           inputs=sc.model_dump(mode="json"))
    if not quiet:
        _print_summary(result.summary, written)


@app.command()
def validate(
    scenario: Annotated[str, typer.Argument(help="Scenario TOML file, or the name of a shipped scenario.")],
    sets: SetOption = None,
) -> None:
    """Check a scenario file: prints its name and content hash, or one line naming the bad key."""
    from naef.scenario import content_hash

    sc = load_with_sets(scenario, sets)
    console.print(f"ok: {sc.scenario.name} (sha256 {content_hash(sc)})", soft_wrap=True, highlight=False)
    _warn(sc)


def _warn(sc: Any) -> None:
    """The scenario's warnings (a valid scenario the naef authors would question), one line each on stderr."""
    from naef.scenario.exports import pledge_warnings

    for line in pledge_warnings(sc):
        typer.echo(f"warning: {line}", err=True)


@app.command()
def scenarios(
    name: Annotated[str | None, typer.Argument(help="Print this shipped scenario's TOML.")] = None,
) -> None:
    """List the shipped scenarios, or print one (a starting point for your own)."""
    from importlib import resources

    from naef.scenario import shipped_scenarios

    names = shipped_scenarios()
    if name is None:
        for n in names:
            console.print(n)
        return
    if name not in names:
        raise CliError(f"scenarios: no shipped scenario {name!r} (shipped: {', '.join(names)})")
    sys.stdout.write(resources.files("naef.scenario").joinpath("scenarios", f"{name}.toml").read_text("utf-8"))




def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _interrupted(exc: BaseException) -> bool:
    """``exc`` (Typer's exit 130) was caused by Ctrl-C: a KeyboardInterrupt in its chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def interrupted_line() -> str:
    """The one line Ctrl-C prints: nothing written, or the files kept (outputs are moved in at the end, so an
    interruption leaves either none or the ones already moved)."""
    from naef.commands.common import WRITTEN

    if not WRITTEN:
        return "interrupted: nothing written"
    folders = sorted({str(p.parent) for p in WRITTEN})
    names = ", ".join(p.name for p in WRITTEN)
    return f"interrupted: kept {names} (in {', '.join(folders)}); the rest was not written"


def main() -> None:
    """Entry point: run the app; a NaefError becomes one line on stderr and exit code 2.

    Usage errors (an unknown option, a missing argument) are Typer's own and also exit with code 2. Ctrl-C prints
    one line ("interrupted: nothing written", or the files kept) and exits with code 130 (128 + SIGINT).
    """
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (timeout, kill, systemd, containers) unwinds like Ctrl-C: cleanup code runs (an unfinished ledger
        # demo removes its staging files), then the process exits with 128 + 15
        signal.signal(signal.SIGTERM, _terminate)
    from naef.commands.kept import WRITTEN
    from naef.commands.run_folder import set_command_line

    WRITTEN.clear()  # one invocation, one list: what an earlier call in this process wrote is not this one's
    set_command_line(sys.argv[1:])
    try:
        app()
    except NaefError as exc:
        err_console.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print(interrupted_line(), highlight=False, markup=False, soft_wrap=True)
        sys.exit(128 + signal.SIGINT)
    except SystemExit as exc:
        if exc.code == 128 + signal.SIGINT and _interrupted(exc):
            err_console.print(interrupted_line(), highlight=False, markup=False, soft_wrap=True)
        raise
