"""``report.html``: one self-contained HTML file that reads a run's results for people, and opens offline.

What it contains, in order (each section only when its data is given):

1. **Key figures** of the run's ``summary.json`` (deterministic or Monte Carlo), each marked with
   ``data-source="summary"``, ``data-figure`` (its key path) and ``data-value`` (its exact JSON value);
2. **The swap** as the study's diagram, a Sankey with this run's totals: financing → NAEF → PEMEX oil
   production → net revenues (collection account) → MDF → investment, with the side flows (issuance costs,
   reserves, duties, operating costs, pledged export receivables, debt service, fees, money returned to PEMEX),
   from the deterministic run's summary (or its cash flows); the flows as a table too;
3. **Sources and uses** at issuance and the tranches of the deterministic run, and its cash flows by year;
4. **Fan charts** (P5–P95 and P25–P75 bands, P50 line) of the benchmark price, production, collections, DSCR
   and MDF inflows from the Monte Carlo's percentiles, with the deterministic run dashed;
5. **Tranche risk**: PD and EL with standard errors, implied ratings, WAL, minimum DSCR percentiles, breakevens,
   and the MDF's inflows; 6. the **hedge effect**; 7. **stress** results; 8. the **sensitivity** tornado (or
   Sobol' indices); 9. a **sizing** search; 10. the **MDF portfolio** and outcomes by state;
11. the **scenario** itself (TOML that reloads to the same content hash, else its JSON), the naef version and
   the content hash.

Offline guarantee: Plotly.js is inlined from the installed ``plotly`` package (``plotly.offline.get_plotlyjs``),
styles and the script that draws the charts are inline, and nothing in the page names a URL to fetch (no
``src``, no ``<link>``, no ``@import`` or ``url()``); the scenario's download link is a ``data:`` URI.

Numbers: money in USD bn with two decimals (USD m for project-sized amounts), shares in %, ratios with ×,
prices in USD/bbl; every table header names its unit. Every chart has a caption: what it shows and from which
inputs.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from naef.format import plain, usd_auto, value_json
from naef.report.blocks import Cell, Chart, Section
from naef.report.errors import ReportError
from naef.report.sections import fan_charts as fan_sec
from naef.report.sections import hedge as hedge_sec
from naef.report.sections import key_figures as key_sec
from naef.report.sections import portfolio as portfolio_sec
from naef.report.sections import scenario as scenario_sec
from naef.report.sections import sensitivity as sensitivity_sec
from naef.report.sections import sizing as sizing_sec
from naef.report.sections import sources_and_uses as su_sec
from naef.report.sections import stress as stress_sec
from naef.report.sections import swap as swap_sec
from naef.report.sections import tranche_risk as risk_sec
from naef.report.sections.common import Doc, hash_of, kind
from naef.report.sections.portfolio import normalise_portfolio
from naef.resources import broken_install
from naef.scenario.load import content_hash
from naef.scenario.models import Scenario

if TYPE_CHECKING:  # the documents' types only
    from naef.analysis.mc_summary import MonteCarloSummary
    from naef.analysis.stress import StressDocument
    from naef.engine.results import DeterministicSummary
    from naef.studies.sensitivity import SensitivityDocument

__all__ = ["ReportError", "normalise_portfolio", "plotly_js", "render_report"]


def plotly_js() -> tuple[str, str]:
    """Plotly.js (minified) from the installed ``plotly`` package, and its version."""
    try:
        offline = importlib.import_module("plotly.offline")
    except ImportError:
        raise ReportError("report.html: needs the 'plotly' package for its charts (pip install plotly)") from None
    js = str(offline.get_plotlyjs())
    version = str(offline.get_plotlyjs_version())
    return js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT"), version


def _check_same_scenario(name: str, doc: Doc | None, scenario_hash: str) -> None:
    if doc is None:
        return
    h = hash_of(doc)
    if h is not None and h != scenario_hash:
        raise ReportError(f"{name}: its scenario content hash {h[:12]}… is not the report's scenario's "
                          f"{scenario_hash[:12]}… (pass the scenario that run used)")


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("naef.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(
    *,
    scenario: Scenario,
    summary: DeterministicSummary | MonteCarloSummary,
    percentiles: pd.DataFrame | None = None,
    cashflows: pd.DataFrame | None = None,
    stress: StressDocument | None = None,
    sensitivity: SensitivityDocument | None = None,
    portfolio: Mapping[str, Any] | None = None,
    title: str | None = None,
    deterministic_summary: DeterministicSummary | None = None,
    sizing: Mapping[str, Any] | None = None,
) -> str:
    """The report as one self-contained HTML document (module docstring).

    ``summary`` is the run's ``summary.json`` (deterministic or Monte Carlo); ``percentiles`` the Monte Carlo's
    ``percentiles.csv`` as a DataFrame; ``cashflows`` the deterministic run's ``cashflows.csv``;
    ``deterministic_summary`` the deterministic run's summary when ``summary`` is a Monte Carlo's (for the
    diagram, sources and uses); ``stress`` the ``stress.json`` document; ``sensitivity`` the
    ``sensitivity.json`` document; ``sizing`` ``naef size --json``'s document; ``portfolio`` a plain dict
    (:func:`normalise_portfolio`). Raises :class:`ReportError` when a document belongs to another scenario.
    """
    from naef import __version__

    scenario_hash = content_hash(scenario)
    _check_same_scenario("summary", summary, scenario_hash)
    _check_same_scenario("deterministic_summary", deterministic_summary, scenario_hash)
    _check_same_scenario("stress", stress, scenario_hash)
    _check_same_scenario("sensitivity", sensitivity, scenario_hash)
    det = summary if kind(summary) == "deterministic" else deterministic_summary
    if det is not None and kind(det) != "deterministic":
        raise ReportError("deterministic_summary: not a deterministic run's summary (run.kind is "
                          f"{kind(det)!r})")
    if percentiles is not None and "period_start" not in percentiles.columns:
        raise ReportError("percentiles: no 'period_start' column (pass percentiles.csv as a DataFrame)")
    if cashflows is not None and "period_start" not in cashflows.columns:
        raise ReportError("cashflows: no 'period_start' column (pass cashflows.csv as a DataFrame)")
    port = normalise_portfolio(portfolio) if portfolio is not None else None
    js, plotly_version = plotly_js()

    sections: list[Section] = [key_sec.build(summary)]
    swap = swap_sec.build(det, cashflows)
    if swap is not None:
        sections.append(swap)
    if det is not None or cashflows is not None:
        su = su_sec.build(det) if det is not None else Section(
            "sources-and-uses", "Cash flows of the deterministic run")
        if cashflows is not None:
            chart = su_sec.annual_chart(cashflows, scenario.scenario.periods_per_year)
            if chart is not None:
                su.blocks.append(chart)
        if su.blocks:
            sections.append(su)
    if percentiles is not None:
        sections.append(fan_sec.build(summary, percentiles, cashflows, scenario))
    if kind(summary) == "monte_carlo":
        sections.append(risk_sec.build(summary))
        hedge = hedge_sec.build(summary)
        if hedge is not None:
            sections.append(hedge)
    if sizing is not None:
        sections.append(sizing_sec.build(sizing))
    if stress is not None:
        sections.append(stress_sec.build(stress))
    if sensitivity is not None:
        sections.append(sensitivity_sec.build(sensitivity))
    if port is not None:
        sections.append(portfolio_sec.build(port, summary))
    sections.append(scenario_sec.build(scenario, summary, scenario_hash, __version__, plotly_version))

    run = summary.get("run", {})
    if kind(summary) == "monte_carlo":
        kind_text = (f"Monte Carlo: {plain(run.get('paths'), '{:,}')} paths, seed {run.get('seed')}, price model "
                     f"{run.get('price_model')}, field uncertainty {'on' if run.get('field_uncertainty') else 'off'}")
    elif kind(summary) == "deterministic":
        kind_text = "deterministic run on the scenario's price decks"
    else:
        kind_text = f"run: {kind(summary) or 'unknown'}"
    sc = scenario.scenario
    import jinja2

    try:
        template = _environment().get_template("report.html.j2")
    except jinja2.TemplateNotFound as exc:
        raise broken_install(f"report/templates/{exc.name}", "is missing") from None
    return str(template.render(
        title=title or f"naef report — scenario {sc.name}",
        scenario_name=sc.name,
        description=sc.description,
        horizon=f"{sc.start.isoformat()}, {sc.years} years, {sc.periods_per_year} periods a year",
        kind_text=kind_text,
        version=__version__,
        summary_version=str(summary.get("naef_version", __version__)),
        scenario_hash=scenario_hash,
        hash_cell=Cell(scenario_hash[:12] + "…", key="scenario.content_hash_sha256", source="summary",
                       value=value_json(scenario_hash)) if hash_of(summary) == scenario_hash else Cell(
                           scenario_hash[:12] + "…"),
        sections=sections,
        plotly_js=js,
        plotly_version=plotly_version,
        figures=[(b.id, b.spec_json) for sec in sections for b in sec.blocks if isinstance(b, Chart)],
        usd=usd_auto,
    ))
