"""``naef sensitivity``: one-at-a-time (tornado) swings and Sobol' indices of senior EL and MDF inflows.

The numbers come from :mod:`naef.analysis.factors` (the named inputs, their ranges and the Monte Carlo outputs) and
:mod:`naef.analysis.sensitivity` (tornado ordering; SALib's Saltelli sample and Sobol' estimators). This module is
the command-line edge over :func:`naef.studies.sensitivity.sensitivity` (one Monte Carlo per evaluation with the
same seed: common random numbers): it turns the options into the study's arguments, prints Rich tables or JSON, and
writes ``sensitivity.json`` and ``sensitivity.csv`` with ``--out``. Every bad input is a
:class:`naef.errors.NaefError` subclass, which ``naef.cli.main`` prints as one line on stderr with exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

import naef.format as fmt
from naef.analysis.factor_analysis import OUTPUTS
from naef.analysis.factors import FACTORS
from naef.commands.common import (
    PathsOption,
    SchedulerOption,
    SeedOption,
    SetOption,
    WorkersOption,
    load_with_sets,
    print_table,
    progress_bar,
    write_sets,
)
from naef.commands.reporting import PdfOption, add_deterministic_report
from naef.commands.run_folder import RunFolder
from naef.studies.sensitivity import (
    DEFAULT_PATHS,
    DEFAULT_SAMPLES,
    SensitivityDocument,
    parse_inputs,
    parse_method,
)
from naef.studies.settings import DEFAULT_SEED, RunSettings

__all__ = ["HELP", "register", "sensitivity_command"]

HELP = "\n\n".join([
    "Sensitivity of the most senior class's expected loss and of the MDF's inflows (mean PV, P50 nominal) to "
    "named scenario inputs.",
    "Each evaluation is a Monte Carlo of --paths paths with the same --seed (common random numbers). "
    "--method tornado: the base case and each input at the low and high end of its default range, the others at "
    "base (2 d + 1 Monte Carlos for d inputs); rows sorted by swing. --method sobol: first- and total-order Sobol' "
    "indices (SALib, Saltelli's sample) over the inputs' ranges, uniform; --samples N base points (a power of 2) "
    "cost N (d + 2) Monte Carlos.",
    f"Inputs (default: all that apply to the scenario): {', '.join(FACTORS)}. Their meaning, unit, range and "
    "source: docs/sensitivity.md, or the first table printed.",
    "--json prints the result as one JSON object; --out DIR writes sensitivity.json and sensitivity.csv. Bad input "
    "prints one line naming the problem and exits with code 2.",
])


def _fmt_value(x: float, unit: str) -> str:
    if unit == "US$":
        return fmt.usd_bn(x)
    if unit == "share of size":
        return fmt.pct(x, 3)
    return _fmt_num(x)


def _fmt_num(x: float) -> str:
    return fmt.number(x, 0) if abs(x) >= 1e4 else fmt.sig4(x)


def _print(result: SensitivityDocument, console: Console, out: Path | None) -> None:
    sc, run = result["scenario"], result["run"]
    extra = f", {run['samples']} samples" if run["method"] == "sobol" else ""
    console.print(Text(f"naef {result['naef_version']} — scenario {sc['name']} — {run['method']}: "
                       f"{run['evaluations']} Monte Carlos of {run['paths']:,} paths, seed {run['seed']} "
                       f"(common random numbers){extra}"))
    t = Table(title="Inputs", show_edge=False)
    for col in ("input", "unit", "base", "low", "high", "range source"):
        t.add_column(col, justify="right" if col in ("base", "low", "high") else "left",
                     overflow="fold", no_wrap=col == "input")
    for f in result["factors"]:
        t.add_row(Text(f["name"]), Text(f["unit"]), Text(_fmt_num(f["base"])), Text(_fmt_num(f["low"])),
                  Text(_fmt_num(f["high"])), Text(f["range_source"]))
    print_table(t, console)
    for o in OUTPUTS:
        console.print(Text(f"{o.name}: {o.description} ({o.unit})"))
    units = {o.name: o.unit for o in OUTPUTS}
    if run["method"] == "tornado":
        for o in OUTPUTS:
            base = result["base"][o.name]
            t = Table(title=f"{o.name}: base case {_fmt_value(base, o.unit)}", show_edge=False)
            for col in ("input", "low", "high", "output at low", "output at high", "swing"):
                t.add_column(col, justify="left" if col == "input" else "right", no_wrap=True)
            for row in result["tornado"][o.name]:
                t.add_row(Text(row["factor"]), Text(_fmt_num(row["low_value"])), Text(_fmt_num(row["high_value"])),
                          Text(_fmt_value(row["output_low"], units[o.name])),
                          Text(_fmt_value(row["output_high"], units[o.name])),
                          Text(_fmt_value(row["swing"], units[o.name])))
            print_table(t, console)
    else:
        for o in OUTPUTS:
            res = result["sobol"][o.name]
            mean = result["sample"]["output_mean"][o.name]
            t = Table(title=f"{o.name}: Sobol' indices (mean over the sample {_fmt_value(mean, o.unit)})",
                      show_edge=False)
            for col in ("input", "S1", "± conf", "ST", "± conf "):
                t.add_column(col, justify="left" if col == "input" else "right", no_wrap=True)
            rows = sorted(res["indices"], key=lambda r: -(r["ST"] or 0.0))
            for ix in rows:
                t.add_row(Text(ix["factor"]), *(Text("—" if v is None else f"{v:.3f}")
                                                for v in (ix["S1"], ix["S1_conf"], ix["ST"], ix["ST_conf"])))
            print_table(t, console)
            if res["constant"]:
                console.print(Text(f"{o.name} did not vary over the sample: its indices are undefined (0 / 0)."))
        console.print(Text("S1: first-order index (share of the output's variance due to the input alone); ST: "
                           "total-order (including its interactions); ± 95 % bootstrap half-widths. With few "
                           "samples the estimates are noisy: S1 can fall below 0 or above ST."))
    if out is not None:
        console.print(Text(f"Wrote {out / 'sensitivity.json'} and {out / 'sensitivity.csv'}."))


def sensitivity_command(
    method: Annotated[str, typer.Option("--method", help="tornado or sobol.", show_default=False)],
    scenario: Annotated[
        str, typer.Argument(help="Scenario TOML file, or the name of a shipped scenario.")
    ] = "baseline",
    inputs: Annotated[
        str | None, typer.Option("--inputs", help="Comma-separated input names (default: all that apply).")
    ] = None,
    paths: PathsOption = DEFAULT_PATHS,
    seed: SeedOption = DEFAULT_SEED,
    samples: Annotated[
        int | None, typer.Option("--samples", help=f"Sobol' base sample size, a power of 2 (default "
                                 f"{DEFAULT_SAMPLES}).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write sensitivity.json and sensitivity.csv here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar and no tables.")] = False,
    pdf: PdfOption = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    sets: SetOption = None,
) -> None:
    """Check the options, run the analysis, print tables or JSON, write files with ``--out``."""
    from naef.studies.sensitivity import check_method_options, sensitivity, sensitivity_units

    m = parse_method(method)
    n = check_method_options(m, samples)
    settings = RunSettings(seed=seed, paths=paths, workers=workers, scheduler=scheduler)
    sc = load_with_sets(scenario, sets)
    folder = RunFolder("sensitivity", sc.scenario.name, out) if out is not None else None
    names = parse_inputs(inputs, sc)
    with progress_bar(sensitivity_units(m, len(names), n), description=f"{m} evaluations",
                      quiet=quiet or as_json) as advance:
        study = sensitivity(sc, settings, method=m, inputs=names, samples=samples, progress=advance)
    result = study.summary
    files = study.files()
    text = str(files["sensitivity.json"])
    if folder is not None:
        add_deterministic_report(files, scenario=sc, pdf=pdf, sensitivity=result)
        write_sets(folder, files, sc, sets, seed=seed, paths=paths)
    if as_json:
        typer.echo(text, nl=False)
    elif not quiet:
        _print(result, Console(highlight=False), out)


def register(app: typer.Typer) -> None:
    """Add ``sensitivity`` to ``app``."""
    app.command("sensitivity", help=HELP)(sensitivity_command)
