"""``naef sensitivity``: one-at-a-time (tornado) swings and Sobol' indices of senior EL and MDF inflows.

The numbers come from :mod:`naef.analysis.factors` (the named inputs, their ranges and the Monte Carlo outputs)
and :mod:`naef.analysis.sensitivity` (tornado ordering; SALib's Saltelli sample and Sobol' estimators). This module
is the command-line edge: it checks the options, runs one Monte Carlo per evaluation with the same seed (common
random numbers), prints Rich tables or JSON, and writes ``sensitivity.json`` and ``sensitivity.csv`` with
``--out``. Every bad input is a :class:`naef.errors.NaefError` subclass, which ``naef.cli.main`` prints as one
line on stderr with exit code 2.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from naef.analysis.factors import (
    FACTORS,
    OUTPUTS,
    available_factors,
    factor_table,
    model_outputs,
    model_outputs_of_json,
    sobol_analysis,
    tornado_analysis,
)
from naef.commands.common import SchedulerOption, WorkersOption, progress_bar, write_outputs
from naef.commands.reporting import PdfOption, add_deterministic_report
from naef.errors import CliError
from naef.parallel.runner import Runner
from naef.report import format as fmt
from naef.scenario.models import Scenario

__all__ = [
    "DEFAULT_PATHS",
    "DEFAULT_SAMPLES",
    "SensitivityOptionError",
    "parse_inputs",
    "parse_method",
    "register",
    "run_sensitivity",
    "sensitivity_command",
    "to_csv",
]

Method = Literal["tornado", "sobol"]
METHODS: tuple[Method, ...] = ("tornado", "sobol")
#: Monte Carlo paths per evaluation (a Sobol' run of 12 factors at 64 samples is 896 evaluations)
DEFAULT_PATHS = 1000
#: Sobol' base sample size (a power of 2)
DEFAULT_SAMPLES = 64

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


class SensitivityOptionError(CliError):
    """A bad option value of ``naef sensitivity``."""


def parse_method(text: str) -> Method:
    """``--method`` as ``"tornado"`` or ``"sobol"``; anything else raises naming the option."""
    for method in METHODS:
        if text == method:
            return method
    raise SensitivityOptionError(f"--method: unknown method {text!r} (choose 'tornado' or 'sobol')")


def parse_inputs(text: str | None, scenario: Scenario) -> list[str]:
    """``--inputs a,b,...`` as factor names (all that apply to ``scenario`` when ``None``)."""
    if text is None:
        return available_factors(scenario)
    names = [n.strip() for n in text.split(",") if n.strip()]
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


def _check_samples(samples: int) -> None:
    if samples < 2 or samples & (samples - 1):
        raise SensitivityOptionError(f"--samples: must be a power of 2 (>= 2), got {samples}")


def run_sensitivity(
    scenario: Scenario,
    *,
    method: Method,
    names: list[str],
    paths: int,
    seed: int,
    samples: int = DEFAULT_SAMPLES,
    quiet: bool = True,
    runner: Runner | None = None,
) -> dict[str, Any]:
    """The JSON-ready result of ``naef sensitivity`` (a progress bar on stderr unless ``quiet``). With a
    ``runner`` (``naef.parallel``) the evaluations are made as a batch there (on Dask: one task each)."""
    from naef import __version__
    from naef.scenario.load import content_hash

    def evaluate(variant: Scenario) -> dict[str, float]:
        return model_outputs(variant, n_paths=paths, seed=seed)

    def evaluate_many(variants: Sequence[Scenario], progress: Callable[[int], None] | None) -> list[dict[str, float]]:
        assert runner is not None
        return runner.map_scenarios(model_outputs_of_json, list(variants), paths, seed, progress=progress)

    batch = evaluate_many if runner is not None else None

    d = len(names)
    total = 2 * d + 1 if method == "tornado" else samples * (d + 2)
    with progress_bar(total, description=f"{method} evaluations", quiet=quiet) as advance:
        if method == "tornado":
            body = tornado_analysis(scenario, names, evaluate, progress=advance, evaluate_many=batch)
        else:
            body = sobol_analysis(scenario, names, evaluate, samples=samples, seed=seed, progress=advance,
                                  evaluate_many=batch)
    run: dict[str, Any] = {"method": method, "paths": paths, "seed": seed, "evaluations": total,
                           "common_random_numbers": True}
    if method == "sobol":
        run["samples"] = samples
    return {
        "naef_version": __version__,
        "scenario": {"name": scenario.scenario.name, "content_hash": content_hash(scenario)},
        "run": run,
        "outputs": [{"name": o.name, "unit": o.unit, "description": o.description} for o in OUTPUTS],
        "factors": factor_table(scenario, names),
        **body,
    }


def to_csv(result: dict[str, Any]) -> str:
    """One row per output and factor: the tornado's swings, or the Sobol' indices."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if result["run"]["method"] == "tornado":
        cols = ["factor", "low_value", "high_value", "output_low", "output_high", "swing"]
        w.writerow(["output", "base_output", *cols])
        for o in OUTPUTS:
            for row in result["tornado"][o.name]:
                w.writerow([o.name, repr(result["base"][o.name]), *(_cell(row[c]) for c in cols)])
    else:
        cols = ["factor", "S1", "S1_conf", "ST", "ST_conf"]
        w.writerow(["output", *cols])
        for o in OUTPUTS:
            for row in result["sobol"][o.name]["indices"]:
                w.writerow([o.name, *(_cell(row[c]) for c in cols)])
    return buf.getvalue()


def _cell(x: Any) -> str:
    if x is None:
        return ""
    return repr(float(x)) if isinstance(x, float | int) and not isinstance(x, bool) else str(x)


def _fmt_value(x: float, unit: str) -> str:
    if unit == "US$":
        return fmt.usd_bn(x)
    if unit == "share of size":
        return fmt.pct(x, 3)
    return _fmt_num(x)


def _fmt_num(x: float) -> str:
    return fmt.number(x, 0) if abs(x) >= 1e4 else fmt.sig4(x)


def _print(result: dict[str, Any], console: Console, out: Path | None) -> None:
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
    console.print(t)
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
            console.print(t)
    else:
        for o in OUTPUTS:
            res = result["sobol"][o.name]
            mean = result["sample"]["output_mean"][o.name]
            t = Table(title=f"{o.name}: Sobol' indices (mean over the sample {_fmt_value(mean, o.unit)})",
                      show_edge=False)
            for col in ("input", "S1", "± conf", "ST", "± conf "):
                t.add_column(col, justify="left" if col == "input" else "right", no_wrap=True)
            rows = sorted(res["indices"], key=lambda r: -(r["ST"] or 0.0))
            for row in rows:
                t.add_row(Text(row["factor"]), *(Text("—" if row[k] is None else f"{row[k]:.3f}")
                                                 for k in ("S1", "S1_conf", "ST", "ST_conf")))
            console.print(t)
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
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths per evaluation.")] = DEFAULT_PATHS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every Monte Carlo and of the Sobol' sample.")] = 1,
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
) -> None:
    """Check the options, run the analysis, print tables or JSON, write files with ``--out``."""
    from naef.engine.montecarlo import check_run_arguments
    from naef.scenario import load_scenario

    m = parse_method(method)
    if samples is not None and m == "tornado":
        raise SensitivityOptionError("--samples: only used with --method sobol")
    n = DEFAULT_SAMPLES if samples is None else samples
    _check_samples(n)
    if m == "sobol":
        import importlib.util

        if importlib.util.find_spec("SALib") is None:
            raise SensitivityOptionError("--method sobol: needs SALib, which is not installed "
                                         "(pip install 'naef[risk]')")
    check_run_arguments(n_paths=paths, seed=seed, chunk_size=20_000)
    sc = load_scenario(scenario)
    names = parse_inputs(inputs, sc)
    from naef.parallel import dask_runner

    with dask_runner(workers=workers, scheduler=scheduler) as runner:
        result = run_sensitivity(sc, method=m, names=names, paths=paths, seed=seed, samples=n,
                                 quiet=quiet or as_json, runner=runner if (workers or scheduler) else None)
    text = json.dumps(result, indent=2, allow_nan=False) + "\n"
    if out is not None:
        files: dict[str, str | bytes] = {"sensitivity.json": text, "sensitivity.csv": to_csv(result)}
        add_deterministic_report(files, scenario=sc, pdf=pdf, sensitivity=result)
        write_outputs(out, files)
    if as_json:
        typer.echo(text, nl=False)
    elif not quiet:
        _print(result, Console(highlight=False), out)


def register(app: typer.Typer) -> None:
    """Add ``sensitivity`` to ``app``."""
    app.command("sensitivity", help=HELP)(sensitivity_command)
