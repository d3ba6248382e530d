"""``naef calibrate``: fit the GBM or the mean-reverting (OU) log-price model to a ``Date,Price`` CSV.

The numbers come from :mod:`naef.analysis.calibrate` (exact Gaussian likelihood of the monthly log-prices,
standard errors from the inverse observed information and the delta method) and the file is read by
:mod:`naef.scenario.history` (daily or monthly rows, averaged to months). This module is the command-line edge:
it checks ``--model``, prints a Rich table or the result's dict as JSON, and lets every bad input surface as a
:class:`naef.errors.NaefError` subclass, which ``naef.cli.main`` prints as one line on stderr with exit code 2.

95 % intervals (table only; the JSON holds estimates and standard errors): Wald intervals
estimate ± z SE with z = Φ⁻¹(0.975) ≈ 1.959964. For the two parameters that are monotone functions of another
one, the interval of that parameter is mapped instead (Wald intervals are not invariant to reparametrisation;
e.g. Casella & Berger, *Statistical Inference*, 2nd ed., 2002, §10.4): long_run_usd_per_bbl = exp(theta) and
half_life_years = ln 2 / kappa, whose upper end is infinite when kappa's interval reaches 0 (no mean reversion
at 95 %). The kappa interval itself is shown as computed, so a negative lower end is visible.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from naef.commands.common import print_table
from naef.errors import CliError
from naef.resources import resolve_history

if TYPE_CHECKING:
    from naef.analysis.calibrate import CalibrationResult

__all__ = [
    "ESTIMATE_KEYS",
    "JSON_KEYS",
    "CalibrateOptionError",
    "calibrate_command",
    "intervals_95",
    "parse_model",
    "register",
]

Model = Literal["gbm", "ou"]
MODELS: tuple[Model, ...] = ("gbm", "ou")

# Keys of the --json object, in CalibrationResult.to_dict order; tests check both lists against to_dict.
JSON_KEYS: tuple[str, ...] = (
    "model",
    "estimates",
    "standard_errors",
    "log_likelihood",
    "n_observations",
    "dt_years",
    "source",
    "first_month",
    "last_month",
    "standard_error_method",
    "notes",
    "sampling",
    "lag1_autocorrelation",
    "warnings",
)
ESTIMATE_KEYS: Mapping[Model, tuple[str, ...]] = {
    "gbm": ("mu", "sigma", "log_drift"),
    "ou": ("kappa", "theta", "long_run_usd_per_bbl", "sigma", "half_life_years"),
}
UNITS: Mapping[str, str] = {
    "mu": "1/yr",
    "sigma": "1/√yr",
    "log_drift": "1/yr",
    "kappa": "1/yr",
    "theta": "ln(US$/bbl)",
    "long_run_usd_per_bbl": "US$/bbl",
    "half_life_years": "years",
}

# Two-sided 95 % standard-normal quantile, Φ⁻¹(0.975) = 1.959964 (exact, from the standard library).
Z_95 = NormalDist().inv_cdf(0.975)

# Typer's Rich help keeps line breaks, so each paragraph is one string.
HELP = "\n\n".join(
    [
        "Fit a log-price model to a Date,Price CSV of crude prices (US$/bbl) by maximum likelihood.",
        "Daily or monthly rows are averaged to months and the model is fitted to the monthly log-prices "
        "(dt = 1/12 year) with its exact Gaussian transition density, conditioned on the first month. "
        "Standard errors: inverse observed information and delta method (asymptotic). "
        "gbm: dS = mu S dt + sigma S dW. ou: d ln S = kappa (theta - ln S) dt + sigma dW, "
        "long-run median price exp(theta), half-life ln 2 / kappa.",
        "Without --json: a table of estimates, standard errors and 95 % intervals, the sample and the "
        "log-likelihood.",
        f"With --json: one JSON object on stdout with the keys {', '.join(JSON_KEYS)}. "
        "estimates and standard_errors have the same keys: "
        f"for gbm {', '.join(ESTIMATE_KEYS['gbm'])}; for ou {', '.join(ESTIMATE_KEYS['ou'])}. "
        "n_observations counts monthly returns; first_month and last_month are YYYY-MM; "
        "source is the path as given.",
        "Bad input (unreadable, empty or malformed file, a price <= 0, a gap in the months, an unknown model) "
        "prints one line naming the problem and exits with code 2.",
    ]
)


class CalibrateOptionError(CliError):
    """A bad option value of ``naef calibrate``."""


def parse_model(text: str) -> Model:
    """``--model`` as ``"gbm"`` or ``"ou"``; anything else raises naming the option."""
    for model in MODELS:
        if text == model:
            return model
    raise CalibrateOptionError(f"--model: unknown model {text!r} (choose 'gbm' or 'ou')")


def intervals_95(result: CalibrationResult) -> dict[str, tuple[float, float]]:
    """95 % interval of each estimate (see the module docstring for the two mapped parameters)."""
    est, se = result.estimates, result.standard_errors
    out = {k: (est[k] - Z_95 * se[k], est[k] + Z_95 * se[k]) for k in est}
    if "theta" in out and "long_run_usd_per_bbl" in out:
        lo, hi = out["theta"]
        out["long_run_usd_per_bbl"] = (math.exp(lo), math.exp(hi))
    if "kappa" in out and "half_life_years" in out:
        lo, hi = out["kappa"]
        out["half_life_years"] = (math.log(2.0) / hi if hi > 0.0 else math.inf,
                                  math.log(2.0) / lo if lo > 0.0 else math.inf)
    return out


def _fmt(x: float) -> str:
    return "∞" if math.isinf(x) else f"{x:.4g}"


def _print_table(result: CalibrationResult, console: Console) -> None:
    title = "GBM" if result.model == "gbm" else "mean-reverting log-price (OU)"
    t = Table(title=f"{title}: maximum-likelihood estimates", show_edge=False)
    for col in ("parameter", "unit", "estimate", "SE", "95 % low", "95 % high"):
        left = col in ("parameter", "unit")
        t.add_column(col, justify="left" if left else "right", no_wrap=True)
    ci = intervals_95(result)
    for name, value in result.estimates.items():
        lo, hi = ci[name]
        t.add_row(
            Text(name), Text(UNITS.get(name, "")), Text(_fmt(value)), Text(_fmt(result.standard_errors[name])),
            Text(_fmt(lo)), Text(_fmt(hi)),
        )
    print_table(t, console)
    s = Table(title="Sample and fit", show_edge=False, show_header=False)
    s.add_column("item")
    s.add_column("value")
    s.add_row(Text("source"), Text(str(result.source)))
    s.add_row(Text("sample"), Text(f"{result.first_month} to {result.last_month} ({result.sampling})"))
    s.add_row(Text("returns"), Text(str(result.n_observations)))
    s.add_row(Text("lag-1 autocorrelation of returns"), Text(f"{result.lag1_autocorrelation:.3f}"))
    s.add_row(Text("dt (years)"), Text(f"{result.dt_years:.6g}"))
    s.add_row(Text("log-likelihood"), Text(f"{result.log_likelihood:.3f}"))
    s.add_row(Text("standard errors"), Text(str(result.to_dict()["standard_error_method"])))
    print_table(s, console)
    console.print(
        Text(f"95 % intervals: estimate ± {Z_95:.3f} SE; long_run_usd_per_bbl = exp(theta interval), "
             "half_life_years = ln 2 / kappa interval.")
        if result.model == "ou"
        else Text(f"95 % intervals: estimate ± {Z_95:.3f} SE.")
    )
    for note in result.notes:
        console.print(Text(f"note: {note}"))


def calibrate_command(
    history: Annotated[
        str,
        typer.Option(
            "--history",
            help="A shipped series (brent-daily, brent-monthly, wti-daily, wti-monthly: U.S. EIA spot prices) or a "
            "Date,Price CSV (daily or monthly, US$/bbl).",
            show_default=False,
        ),
    ],
    model: Annotated[str, typer.Option("--model", help="gbm or ou.", show_default=False)],
    sampling: Annotated[
        str, typer.Option("--sampling", help="daily (every row, dt = 1/252 year), month-end (each month's last "
                          "price: a point price) or average (each month's mean, which understates volatility).")
    ] = "month-end",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON (keys above).")] = False,
) -> None:
    """Fit ``model`` to the history; print a table or JSON. Errors are NaefError subclasses (exit 2 in main)."""
    from naef.analysis.calibrate import SAMPLINGS, calibrate_csv

    if sampling not in SAMPLINGS:
        raise CalibrateOptionError(f"--sampling: unknown sampling {sampling!r} (choose daily, month-end or average)")
    chosen = next(x for x in SAMPLINGS if x == sampling)
    fit = calibrate_csv(resolve_history(history), model=parse_model(model), sampling=chosen)
    if as_json:
        typer.echo(json.dumps(fit.to_dict(), indent=2, allow_nan=False))
    else:
        _print_table(fit, Console(highlight=False))
    for warning in fit.warnings:
        typer.echo(f"warning: {warning}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to ``app``."""
    app.command("calibrate", help=HELP)(calibrate_command)
