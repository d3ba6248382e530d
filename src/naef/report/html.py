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
import json
import math
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from naef.errors import NaefError
from naef.report import figures as fg
from naef.report.blocks import Card, Cell, Chart, Code, Section, Table, Text, figure_cell
from naef.report.format import (
    DASH,
    bpd,
    is_missing,
    pct,
    plain,
    times,
    unit_of,
    usd_auto,
    usd_bn,
    usd_m,
    usd_per_bbl,
    value_json,
)
from naef.scenario.load import content_hash
from naef.scenario.models import Scenario

__all__ = ["ReportError", "normalise_portfolio", "plotly_js", "render_report"]

Doc = Mapping[str, Any]
_PERIOD_NAME = {1: "year", 4: "quarter", 12: "month"}
#: gas converted to barrels of oil equivalent at 6 Mcf/boe, as in the Monte Carlo's production percentiles
#: (``naef.engine.montecarlo.prepare``: ``boe = oil_bbl + gas_mcf / 6``)
MCF_PER_BOE = 6.0


class ReportError(NaefError):
    """Report inputs that do not fit together (another scenario's results) or a missing package."""


# ------------------------------------------------------------------------------------------------ helpers


def plotly_js() -> tuple[str, str]:
    """Plotly.js (minified) from the installed ``plotly`` package, and its version."""
    try:
        offline = importlib.import_module("plotly.offline")
    except ImportError:
        raise ReportError("report.html: needs the 'plotly' package for its charts (pip install plotly)") from None
    js = str(offline.get_plotlyjs())
    version = str(offline.get_plotlyjs_version())
    return js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT"), version


def _spec_json(spec: Mapping[str, Any]) -> str:
    """A figure as JSON safe inside ``<script type="application/json">``."""
    text = json.dumps(spec, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _kind(doc: Doc | None) -> str | None:
    if doc is None:
        return None
    run = doc.get("run")
    return str(run.get("kind")) if isinstance(run, Mapping) else None


def _hash_of(doc: Doc) -> str | None:
    sc = doc.get("scenario")
    if not isinstance(sc, Mapping):
        return None
    h = sc.get("content_hash_sha256", sc.get("content_hash"))
    return str(h) if h is not None else None


def _check_same_scenario(name: str, doc: Doc | None, scenario_hash: str) -> None:
    if doc is None:
        return
    h = _hash_of(doc)
    if h is not None and h != scenario_hash:
        raise ReportError(f"{name}: its scenario content hash {h[:12]}… is not the report's scenario's "
                          f"{scenario_hash[:12]}… (pass the scenario that run used)")


def _cells(*cells: Cell | str) -> tuple[Cell, ...]:
    return tuple(c if isinstance(c, Cell) else Cell(c) for c in cells)


def _num_cell(x: object, fmt: Callable[[Any], str], css: str = "") -> Cell:
    return Cell(fmt(x), css=css)


def _rate_text(x: object) -> str:
    return DASH if is_missing(x) else f"{float(x) * 100:g} %"  # type: ignore[arg-type]


def _fmt_bn(x: Any) -> str:
    return usd_bn(x, unit=False)


def _fmt_years(x: Any) -> str:
    return plain(x, "{:.2f}")


def _fmt_int(x: Any) -> str:
    return plain(x, "{:,}")


def _fmt_text(x: Any) -> str:
    return DASH if is_missing(x) else str(x)


def _suffixed(fmt: Callable[[Any], str], suffix: str) -> Callable[[Any], str]:
    def f(x: Any) -> str:
        return fmt(x) + suffix if not is_missing(x) else DASH

    return f


def _scaled(scale: float, unit: str) -> Callable[[Any], str]:
    def f(x: Any) -> str:
        return DASH if is_missing(x) else f"{float(x) / scale:,.3f} {unit}".rstrip()

    return f


def _fmt_g(x: Any) -> str:
    return plain(x, "{:,.4g}")


def _column(df: pd.DataFrame, name: str) -> list[object] | None:
    if name not in df.columns:
        return None
    return [None if (isinstance(v, float) and math.isnan(v)) else v for v in df[name].tolist()]


def _dates(df: pd.DataFrame) -> list[str]:
    return [str(d)[:10] for d in df["period_start"].tolist()]


# ------------------------------------------------------------------------------------------------ key figures


def _key_figures(summary: Doc) -> Section:
    s = Section("key-figures", "Key figures")
    kind = _kind(summary)

    def card(label: str, key: str, fmt: Callable[[Any], str], note: str = "") -> None:
        s.cards.append(Card(label, figure_cell("summary", summary, key, fmt), note))

    card("Securities issued", "issuance_usd", usd_bn)
    if kind == "monte_carlo":
        run = summary.get("run", {})
        mdf = summary.get("mdf", {})
        rate = mdf.get("discount_rate")
        card("MDF inflows, P50 (nominal)", "mdf.nominal_usd.p50", usd_bn, "median over paths of the total")
        card("MDF inflows, P10 (nominal)", "mdf.nominal_usd.p10", usd_bn, "nine paths in ten receive more")
        card("MDF inflows, P90 (nominal)", "mdf.nominal_usd.p90", usd_bn, "one path in ten receives more")
        card(f"MDF inflows, mean PV at {_rate_text(rate)}", "mdf.pv_usd.mean", usd_bn, "discounted to the start")
        card("Paths on which the MDF receives nothing", "mdf.probability_nothing", pct)
        eod = summary.get("event_of_default", {})
        card("Probability of an event of default", "event_of_default.probability", pct,
             f"± {pct(eod.get('se'))} (one Monte Carlo standard error)")
        card("Breakeven flat benchmark, senior class", "breakeven_flat_price_usd_per_bbl.senior", usd_per_bbl,
             "lowest flat price at which the senior class is paid in full and on time")
        for i, tr in enumerate(summary.get("tranches", [])):
            card(f"Tranche {tr.get('name')}: implied rating", f"tranches[{i}].implied_rating", _fmt_text,
                 f"EL basis; PD basis {tr.get('implied_rating_pd', DASH)}")
        card("Mean capex funded by PEMEX", "pemex_capex_funding_usd_mean", usd_bn)
        card("Monte Carlo paths", "run.paths", _fmt_int, f"seed {run.get('seed', DASH)}")
    else:
        tot = summary.get("totals", {})
        card("To the MDF (nominal)", "totals.to_mdf_usd", usd_bn, "net revenues after debt service")
        card(f"To the MDF, PV at {_rate_text(tot.get('discount_rate'))}", "totals.to_mdf_pv_usd", usd_bn,
             "discounted to the start")
        card("First MDF inflow", "totals.first_mdf_period", lambda x: DASH if x is None else str(x),
             "first day of the period")
        card("Minimum DSCR", "min_dscr", times, "collections over scheduled debt service")
        card("Revenue of the added production", "totals.revenue_usd", usd_bn)
        card("Duties to the Federation", "totals.duties_usd", usd_bn)
        card("Collections", "totals.collections_usd", usd_bn, "incl. pledged export receivables")
        card("Interest paid to investors", "totals.interest_paid_usd", usd_bn)
        card("Principal repaid", "totals.principal_paid_usd", usd_bn)
        card("Returned to PEMEX", "totals.returned_to_pemex_usd", usd_bn, "pledged receivables not needed")
        card("Cumulative oil", "production.cumulative_oil_mmbbl", lambda x: plain(x, "{:,.0f} MMbbl"))
        card("Peak oil", "production.peak_oil_bpd", bpd)
        card("Capex funded by PEMEX", "sources_and_uses.capex_funded_by_pemex_usd", usd_bn)
        card("Cash identity: largest error", "cash_identity_max_abs_error_usd",
             lambda x: plain(x, "USD {:.2g}"), "per period, to rounding")
    return s


# ------------------------------------------------------------------------------------------------ the swap


def _totals_from_cashflows(cf: pd.DataFrame) -> dict[str, float]:
    def total(col: str) -> float:
        return float(cf[col].sum()) if col in cf.columns else 0.0

    def total_prefix(prefix: str) -> float:
        return float(sum(cf[c].sum() for c in cf.columns if c.startswith(prefix)))

    return {
        "issuance": total("proceeds_usd"), "capex": total("capex_usd"), "issuance_costs": total("issuance_costs_usd"),
        "revenue": total("revenue_usd"), "opex": total("opex_usd"), "duties": total("duties_usd"),
        "deficit": total("pemex_operating_deficit_usd"), "collections": total("collections_usd"),
        "fees": total("fees_usd"), "interest": total_prefix("interest_paid_usd_"),
        "principal": total_prefix("principal_paid_usd_"), "returned": total("returned_to_pemex_usd"),
        "to_mdf": total("to_mdf_usd"), "pledged": total("pledged_exports_usd"), "hedge": total("hedge_net_usd"),
    }


def _flows(det: Doc | None, cf: pd.DataFrame | None, portfolio: Doc | None) -> list[tuple[fg.Flow, str | None]]:
    """The diagram's links and, for each, the key of the deterministic summary it equals (if one)."""
    t = _totals_from_cashflows(cf) if cf is not None else {}
    keys: dict[str, str | None] = {}
    reserves = None
    surplus = 0.0
    if det is not None:
        su, tot = det["sources_and_uses"], det["totals"]
        t.update({
            "issuance": float(det["issuance_usd"]), "capex": float(su["uses"]["field_capex_usd"]),
            "issuance_costs": float(su["uses"]["issuance_costs_usd"]), "revenue": float(tot["revenue_usd"]),
            "opex": float(tot["opex_usd"]), "duties": float(tot["duties_usd"]),
            "deficit": float(tot["pemex_operating_deficit_usd"]), "collections": float(tot["collections_usd"]),
            "fees": float(tot["fees_usd"]), "interest": float(tot["interest_paid_usd"]),
            "principal": float(tot["principal_paid_usd"]), "returned": float(tot["returned_to_pemex_usd"]),
            "to_mdf": float(tot["to_mdf_usd"]),
        })
        reserves = float(su["uses"]["initial_dsra_usd"]) + float(su["uses"]["capitalised_interest_usd"])
        surplus = float(su["surplus_usd"])
        keys = {"issuance": "issuance_usd", "capex": "sources_and_uses.uses.field_capex_usd",
                "issuance_costs": "sources_and_uses.uses.issuance_costs_usd", "duties": "totals.duties_usd",
                "fees": "totals.fees_usd", "returned": "totals.returned_to_pemex_usd", "to_mdf": "totals.to_mdf_usd",
                "surplus": "sources_and_uses.surplus_usd"}
    production_net = t["revenue"] - t["opex"] - t["duties"] + t["deficit"]
    if cf is not None:
        pledged, hedge = t["pledged"], t["hedge"]
        side_basis = "cash flows: Σ pledged_exports_usd"
    else:
        pledged, hedge = t["collections"] - production_net, 0.0
        side_basis = "totals: collections − (revenue − opex − duties + PEMEX operating deficit)"
    fin, naef, prod = "Financing (NAEF investors)", "NAEF securities", "PEMEX oil and gas production"
    net, mdf = "Net revenues (collection account)", "Mexican Development Fund"
    out: list[tuple[fg.Flow, str | None]] = []

    def add(src: str, dst: str, value: float, basis: str, key: str | None = None) -> None:
        if value > 0.5:
            out.append((fg.Flow(src, dst, value, basis), key))

    add(fin, naef, t["issuance"], "securities sold (issuance_usd)", keys.get("issuance"))
    add(naef, prod, t["capex"], "field capex (sources and uses)", keys.get("capex"))
    add(naef, "Issuance costs", t["issuance_costs"], "issuance costs (sources and uses)", keys.get("issuance_costs"))
    if reserves is not None:
        add(naef, "Reserves: DSRA and capitalised interest", reserves,
            "initial DSRA + capitalised interest (sources and uses)")
    add(naef, net, surplus, "unspent proceeds released into the waterfall", keys.get("surplus"))
    add(prod, "Duties to the Federation", t["duties"], "Σ duties_usd", keys.get("duties"))
    add(prod, "Operating costs", t["opex"] - t["deficit"],
        "opex paid from revenue (opex − PEMEX operating deficit)")
    add(prod, net, production_net, "revenue − opex − duties + PEMEX operating deficit")
    add("Pledged export receivables (PEMEX)", net, pledged, side_basis)
    if hedge > 0:
        add("Hedges (net payoff)", net, hedge, "cash flows: Σ hedge_net_usd")
    elif hedge < 0:
        add(net, "Hedge premiums", -hedge, "cash flows: −Σ hedge_net_usd")
    add(net, "Debt service to NAEF investors", t["interest"] + t["principal"],
        "interest (incl. grace interest from the capitalised-interest account) + principal paid")
    add(net, "Trustee fees", t["fees"], "Σ fees_usd", keys.get("fees"))
    add(net, "Returned to PEMEX", t["returned"], "pledged receivables the waterfall did not need",
        keys.get("returned"))
    add(net, mdf, t["to_mdf"], "the residual: net revenues to the MDF", keys.get("to_mdf"))
    if portfolio is not None and portfolio["projects"]:
        by_sector: dict[str, float] = {}
        for p in portfolio["projects"]:
            by_sector[p["sector"]] = by_sector.get(p["sector"], 0.0) + float(p["cost_usd"])
        for sector, cost in sorted(by_sector.items(), key=lambda kv: -kv[1]):
            add(mdf, f"Investment: {sector}", cost, "planned cost of the selected projects (MDF portfolio)")
        add(mdf, "Not yet committed", t["to_mdf"] - sum(by_sector.values()),
            "MDF inflows less the selected projects' planned cost")
    else:
        add(mdf, "Investment (infrastructure, human capital, small enterprise)", t["to_mdf"],
            "the MDF invests its inflows (no portfolio given)")
    return out


def _swap_section(det: Doc | None, cf: pd.DataFrame | None, portfolio: Doc | None) -> Section | None:
    if det is None and cf is None:
        return None
    flows = _flows(det, cf, portfolio)
    if not flows:
        return None
    s = Section("swap", "The swap: where the money goes",
                "The study's diagram with this run's amounts: NAEF securities finance PEMEX developments; the net "
                "revenues of the added production, with the pledged export receivables, pay the investors; the "
                "residual goes to the Mexican Development Fund, which invests it.")
    origin = ("the deterministic run's summary (the scenario's decks)" if det is not None
              else "the deterministic run's cash flows (the scenario's decks)")
    s.blocks.append(Chart(
        "chart-sankey", "The energy-for-infrastructure swap (totals over the horizon)",
        f"Sankey diagram of nominal US dollar totals over the whole horizon from {origin}; link widths in USD bn. "
        "Node sizes are the larger of what flows in and out, so money that stays in accounts (reserves, trapped "
        "cash, closing balances) and debt service paid from the reserves show as imbalances. The flows are "
        "listed in the table below.",
        _spec_json(fg.sankey_chart([f for f, _ in flows])),
    ))
    rows: list[tuple[Cell, ...]] = []
    for f, key in flows:
        cell = (figure_cell("deterministic", det, key, _fmt_bn, css="num") if (key and det is not None)
                else Cell(usd_bn(f.value_usd, unit=False), css="num"))
        rows.append(_cells(f.source, f.target, cell, f.basis))
    s.blocks.append(Table(("from", "to", "USD bn", "basis"), tuple(rows), (False, False, True, False),
                          title="Flows in the diagram"))
    return s


def _sources_and_uses(det: Doc) -> Section:
    s = Section("sources-and-uses", "Sources and uses at issuance (deterministic run)")
    su = det["sources_and_uses"]
    issuance = float(su["sources"]["securities_proceeds_usd"]) or 1.0

    def row(label: str, key: str) -> tuple[Cell, ...]:
        cell = figure_cell("deterministic", det, key, _fmt_bn, css="num")
        try:
            share = pct(float(json.loads(cell.value or "null") or 0.0) / issuance, 1)
        except (TypeError, ValueError):
            share = DASH
        return _cells(label, cell, Cell(share, css="num"))

    rows: list[tuple[Cell, ...]] = [row("Securities proceeds (sources)",
                                        "sources_and_uses.sources.securities_proceeds_usd")]
    labels = {"field_capex_usd": "Field capex (PEMEX developments)", "issuance_costs_usd": "Issuance costs",
              "initial_dsra_usd": "Initial debt-service reserve (DSRA)",
              "capitalised_interest_usd": "Capitalised interest (grace periods)"}
    for k in su["uses"]:
        rows.append(row("  " + labels.get(k, k.removesuffix("_usd").replace("_", " ")), f"sources_and_uses.uses.{k}"))
    rows.append(row("Total uses", "sources_and_uses.total_uses_usd"))
    if su.get("surplus_usd"):
        rows.append(row("Surplus (stays in the construction account, then released to the waterfall)",
                        "sources_and_uses.surplus_usd"))
    if su.get("shortfall_usd"):
        rows.append(row("Shortfall (uses exceed proceeds)", "sources_and_uses.shortfall_usd"))
    rows.append(row("Capex funded by PEMEX (timing)", "sources_and_uses.capex_funded_by_pemex_usd"))
    s.blocks.append(Table(("item", "USD bn", "share of proceeds (%)"), tuple(rows), (False, True, True)))
    if su.get("note"):
        s.blocks.append(Text(str(su["note"]), "note"))
    trs = det.get("tranches", [])
    if trs:
        rows = []
        for i, tr in enumerate(trs):
            unpaid = (tr.get("principal_outstanding_usd") or 0.0) > 0.5 or (tr.get("interest_shortfall_usd")
                                                                             or 0.0) > 0.5

            def c(key: str, fmt: Callable[[Any], str], i: int = i) -> Cell:
                return figure_cell("deterministic", det, f"tranches[{i}].{key}", fmt, css="num")

            rows.append((
                figure_cell("deterministic", det, f"tranches[{i}].name", _fmt_text, css="bad" if unpaid else ""),
                c("seniority", _fmt_int), c("size_usd", _fmt_bn), c("coupon_rate", lambda x: pct(x)),
                c("issue_date", _fmt_text), c("legal_final_date", _fmt_text), c("wal_years", _fmt_years),
                c("min_dscr", lambda x: plain(x, "{:.2f}")), c("mean_dscr", lambda x: plain(x, "{:.2f}")),
                c("investor_yield", lambda x: pct(x)), c("interest_paid_usd", _fmt_bn),
                c("principal_paid_usd", _fmt_bn), c("principal_outstanding_usd", _fmt_bn),
                c("interest_shortfall_usd", _fmt_bn),
            ))
        s.blocks.append(Table(
            ("tranche", "rank", "size (USD bn)", "coupon (%/yr)", "issue", "legal final", "WAL (years)",
             "min DSCR (×)", "mean DSCR (×)", "investor yield (%/yr)", "interest paid (USD bn)",
             "principal paid (USD bn)", "principal unpaid (USD bn)", "interest unpaid (USD bn)"),
            tuple(rows), (False, *([True] * 13)),
            title="The tranches on the deterministic run",
            caption="DSCR is senior-inclusive: collections less the trustee fee over the scheduled debt service of "
                    "the tranche's class and every more senior class. A tranche in red is not paid in full.",
        ))
    return s


def _annual_chart(cf: pd.DataFrame, ppy: int) -> Chart | None:
    need = ("period_start", "collections_usd", "to_mdf_usd")
    if any(c not in cf.columns for c in need):
        return None
    years = pd.Series([str(d)[:4] for d in cf["period_start"]], index=cf.index)
    interest = cf[[c for c in cf.columns if c.startswith("interest_paid_usd_")]].sum(axis=1)
    principal = cf[[c for c in cf.columns if c.startswith("principal_paid_usd_")]].sum(axis=1)
    frame = pd.DataFrame({"year": years, "collections": cf["collections_usd"], "debt": interest + principal,
                          "mdf": cf["to_mdf_usd"],
                          "pemex": cf["returned_to_pemex_usd"] if "returned_to_pemex_usd" in cf.columns else 0.0})
    by_year = frame.groupby("year", sort=True).sum()
    cats = [str(y) for y in by_year.index]
    spec = fg.bar_chart(
        categories=cats,
        series=[("debt service paid", by_year["debt"].tolist()), ("to the MDF", by_year["mdf"].tolist()),
                ("returned to PEMEX", by_year["pemex"].tolist())],
        lines=[("collections", by_year["collections"].tolist())],
        scale=1e9, value_title="USD bn per year", value_format=",.2f",
    )
    return Chart("chart-annual", "Collections and where they went, by year (deterministic run)",
                 f"Sums over each calendar year of the deterministic run's {_PERIOD_NAME.get(ppy, 'period')}ly "
                 "cash flows (cashflows.csv): collections (line) and the debt service paid (interest and principal, "
                 "all tranches), the MDF's inflows and the pledged receivables returned to PEMEX (bars), in USD bn. "
                 "Debt service in the grace years is paid from the capitalised-interest account, not collections.",
                 _spec_json(spec))


# ------------------------------------------------------------------------------------------------ Monte Carlo


def _fan_section(summary: Doc, percentiles: pd.DataFrame, cf: pd.DataFrame | None, scenario: Scenario) -> Section:
    s = Section("fan-charts", "Fan charts: the Monte Carlo by period")
    run = summary.get("run", {}) if _kind(summary) == "monte_carlo" else {}
    ppy = scenario.scenario.periods_per_year
    period = _PERIOD_NAME.get(ppy, "period")
    paths = run.get("paths")
    who = (f"across {paths:,} Monte Carlo paths (seed {run.get('seed')})" if isinstance(paths, int)
           else "across the Monte Carlo's paths")
    bands_text = "bands P5–P95 (light) and P25–P75 (dark), line P50"
    det_text = "; dashed: the deterministic run (the scenario's decks)" if cf is not None else ""
    src = "percentiles.csv (per-period percentiles from fixed-bin histograms, exact to one bin)"
    dates = _dates(percentiles)
    model = run.get("price_model", "the scenario's [price.stochastic]")
    params = run.get("price_model_parameters") or {}
    param_text = ", ".join(f"{k} {v:g}" if isinstance(v, int | float) else f"{k} {v}" for k, v in params.items())
    field_unc = run.get("field_uncertainty")
    field_text = ("each field's rate, reserves, capex and start drawn from [uncertainty]" if field_unc
                  else "no field uncertainty" if field_unc is not None else "the scenario's [uncertainty]")

    def bands(var: str) -> dict[int, Sequence[object]] | None:
        cols = {q: _column(percentiles, f"{var}_p{q}") for q in (5, 25, 50, 75, 95)}
        if any(v is None for v in cols.values()):
            return None
        return {q: v for q, v in cols.items() if v is not None}

    def det(col: str) -> list[object] | None:
        return None if cf is None else _column(cf, col)

    b = bands("benchmark_usd_per_bbl")
    if b is not None:
        s.blocks.append(Chart("chart-fan-price", f"Benchmark oil price ({scenario.price.benchmark}), USD/bbl",
                              f"The benchmark price by {period} {who}: {bands_text}{det_text}. Inputs: price model "
                              f"{model}{f' ({param_text})' if param_text else ''}, started from the deck's "
                              f"{plain(run.get('spot_usd_per_bbl'))} USD/bbl at the start; {src}.",
                              _spec_json(fg.fan_chart(dates=dates, bands=b, scale=1.0, y_title="USD/bbl",
                                                      value_format=",.2f", deterministic=det(
                                                          "benchmark_usd_per_bbl")))))
    b = bands("production_boe_per_day")
    if b is not None:
        boe = None
        if cf is not None and "production_bpd" in cf.columns and "gas_production_mmcfd" in cf.columns:
            boe = (cf["production_bpd"] + cf["gas_production_mmcfd"] * 1000.0 / MCF_PER_BOE).tolist()
        s.blocks.append(Chart("chart-fan-production", "Production of the funded fields, thousand boe/d",
                              f"Oil plus gas (at {MCF_PER_BOE:g} Mcf/boe) of the funded fields by {period} {who}: "
                              f"{bands_text}{det_text}. Inputs: the scenario's [[fields]] (initial rates, Arps "
                              f"declines, reserves, first-production years), {field_text}; {src}.",
                              _spec_json(fg.fan_chart(dates=dates, bands=b, scale=1e3, y_title="thousand boe/d",
                                                      value_format=",.1f", deterministic=boe))))
    b = bands("collections_usd")
    if b is not None:
        s.blocks.append(Chart("chart-fan-collections", f"Collections, USD bn per {period}",
                              f"What reaches the collection account each {period} (revenue − opex − duties + hedge "
                              f"payoffs, floored at 0, plus pledged export receivables) {who}: {bands_text}"
                              f"{det_text}. Inputs: prices, production and costs as above, [fiscal], [collateral] "
                              f"and [[hedges]]; {src}.",
                              _spec_json(fg.fan_chart(dates=dates, bands=b, scale=1e9,
                                                      y_title=f"USD bn per {period}", value_format=",.3f",
                                                      deterministic=det("collections_usd")))))
    b = bands("dscr")
    if b is not None:
        refs: list[tuple[float, str]] = [(1.0, "DSCR 1.00×")]
        trap = scenario.triggers.cash_trap_dscr
        if trap and trap != 1.0:
            refs.append((float(trap), f"cash trap {trap:.2f}×"))
        s.blocks.append(Chart("chart-fan-dscr", "Debt-service coverage ratio (DSCR), ×",
                              f"Collections less the trustee fee over the scheduled debt service payable from "
                              f"collections, by {period} {who}, in the {period}s with debt service due (the column "
                              f"dscr_paths counts the paths that define it): {bands_text}{det_text}. Dotted: a DSCR "
                              f"of 1 and the cash-trap level ([triggers] cash_trap_dscr). Inputs: collections as "
                              f"above and the [[tranches]]' schedules; {src} (resolution 0.005; range 0–10).",
                              _spec_json(fg.fan_chart(dates=dates, bands=b, scale=1.0, y_title="DSCR (×)",
                                                      value_format=".2f", deterministic=det("dscr"),
                                                      reference_lines=refs))))
    b = bands("to_mdf_usd")
    if b is not None:
        s.blocks.append(Chart("chart-fan-mdf", f"Inflows to the Mexican Development Fund, USD bn per {period}",
                              f"The residual of the waterfall paid to the MDF each {period} {who}: {bands_text}"
                              f"{det_text}. Inputs: collections as above, the [[tranches]], [reserve], [triggers] "
                              f"(cash trap, lock-up) and [fees]; {src}.",
                              _spec_json(fg.fan_chart(dates=dates, bands=b, scale=1e9,
                                                      y_title=f"USD bn per {period}", value_format=",.3f",
                                                      deterministic=det("to_mdf_usd")))))
    return s


def _risk_section(summary: Doc) -> Section:
    s = Section("tranche-risk", "Tranche risk and implied ratings (Monte Carlo)")
    run = summary.get("run", {})
    rows: list[tuple[Cell, ...]] = []
    for i, tr in enumerate(summary.get("tranches", [])):
        def c(key: str, fmt: Callable[[Any], str], i: int = i) -> Cell:
            return figure_cell("summary", summary, f"tranches[{i}].{key}", fmt, css="num")

        se_pd = f" ± {pct(tr.get('pd_se'))}" if not is_missing(tr.get("pd_se")) else ""
        se_el = f" ± {pct(tr.get('expected_loss_se'), 3)}" if not is_missing(tr.get("expected_loss_se")) else ""
        pd_cell = c("pd", _suffixed(pct, se_pd))
        el_cell = c("expected_loss", _suffixed(lambda x: pct(x, 3), se_el))
        d = tr.get("min_dscr") or {}
        rows.append((
            figure_cell("summary", summary, f"tranches[{i}].name", _fmt_text),
            c("seniority", _fmt_int), c("size_usd", _fmt_bn), c("coupon_rate", lambda x: pct(x)),
            c("legal_final_years", lambda x: plain(x, "{:g}")), pd_cell, el_cell,
            c("implied_rating", _fmt_text), c("implied_rating_pd", _fmt_text), c("wal_years", _fmt_years),
            Cell(" / ".join(plain(d.get(k), "{:.2f}") for k in ("p5", "p50", "p95")), css="num"),
            c("breakeven_flat_price_usd_per_bbl", lambda x: plain(x, "{:,.2f}")),
        ))
    basis = next((tr.get("implied_rating_basis") for tr in summary.get("tranches", [])), None)
    s.blocks.append(Table(
        ("tranche", "rank", "size (USD bn)", "coupon (%/yr)", "legal final (years)", "PD ± s.e. (%)",
         "EL ± s.e. (% of size)", "implied rating (EL)", "implied rating (PD)", "mean WAL (years)",
         "min DSCR P5 / P50 / P95 (×)", "breakeven flat price (USD/bbl)"),
        tuple(rows), (False, *([True] * 11)),
        caption=(f"{plain(run.get('paths'), '{:,}')} paths, seed {run.get('seed', DASH)}. PD: share of paths on "
                 "which the tranche defaults (interest unpaid beyond the grace, or anything owed at the legal "
                 "final); EL: mean loss as a share of size, in present value at the coupon; ± one Monte Carlo "
                 f"standard error. Implied rating (EL): {basis or 'EL at the mean WAL'}; implied rating (PD): PD at "
                 "the legal final against Moody's idealized cumulative default rates. Minimum DSCR: each path's "
                 "smallest senior-inclusive DSCR. Breakeven: the lowest flat benchmark at which the tranche is paid "
                 "in full and on time on the deterministic production. Method: docs/risk.md."),
    ))
    mdf = summary.get("mdf")
    if isinstance(mdf, Mapping):
        rows = []
        for label, key in (("nominal", "nominal_usd"), (f"PV at {_rate_text(mdf.get('discount_rate'))}", "pv_usd")):
            rows.append(_cells(label, *(figure_cell("summary", summary, f"mdf.{key}.{q}", _fmt_bn, css="num")
                                        for q in ("p10", "p50", "p90", "mean"))))
        s.blocks.append(Table(("MDF inflows (total on a path)", "P10 (USD bn)", "P50 (USD bn)", "P90 (USD bn)",
                               "mean (USD bn)"), tuple(rows), (False, True, True, True, True),
                              title="The Mexican Development Fund's inflows",
                              caption="Exact quantiles over paths of each path's total inflows, nominal and "
                                      "discounted to the scenario's start at its discount rate."))
    return s


def _hedge_section(summary: Doc) -> Section | None:
    hedge = summary.get("hedge")
    if not isinstance(hedge, Mapping):
        return None
    s = Section("hedge", "Hedge effect: the same paths with and without the hedges",
                str(hedge.get("note", "")))
    rows: list[tuple[Cell, ...]] = []
    for i, h in enumerate(hedge.get("hedges", [])):
        yrs = h.get("years") or [None, None]
        rows.append(_cells(
            str(h.get("kind", DASH)), f"{yrs[0]}–{yrs[1]}",
            Cell(plain(h.get("put_strike_usd_per_bbl")), css="num"),
            Cell(plain(h.get("call_strike_usd_per_bbl")), css="num"),
            Cell(plain(h.get("notional_bbl"), "{:,.0f}"), css="num"),
            figure_cell("summary", summary, f"hedge.hedges[{i}].premium_value_usd", _fmt_bn, css="num"),
            Cell(plain(h.get("premium_usd_per_bbl")), css="num"), str(h.get("premium_paid_from", DASH)),
        ))
    if rows:
        s.blocks.append(Table(("kind", "years", "put strike (USD/bbl)", "call strike (USD/bbl)", "notional (bbl)",
                               "premium value (USD bn)", "premium (USD/bbl)", "premium paid from"),
                              tuple(rows), (False, False, True, True, True, True, True, False),
                              title="The hedges"))
    rows = []
    for i, tr in enumerate(hedge.get("tranches", [])):
        def c(key: str, fmt: Callable[[Any], str], i: int = i) -> Cell:
            return figure_cell("summary", summary, f"hedge.tranches[{i}].{key}", fmt, css="num")

        rows.append(_cells(str(tr.get("name")), c("with_hedge.pd", pct), c("without_hedge.pd", pct),
                           c("with_hedge.expected_loss", lambda x: pct(x, 3)),
                           c("without_hedge.expected_loss", lambda x: pct(x, 3)),
                           c("with_hedge.implied_rating", _fmt_text), c("without_hedge.implied_rating", _fmt_text)))
    s.blocks.append(Table(("tranche", "PD with (%)", "PD without (%)", "EL with (% of size)",
                           "EL without (% of size)", "rating with", "rating without"), tuple(rows),
                          (False, True, True, True, True, True, True), title="Tranches with and without"))
    rows = [_cells(label, *(figure_cell("summary", summary, f"hedge.{k}.nominal_usd.{q}", _fmt_bn, css="num")
                            for q in ("p10", "p50", "p90", "mean")))
            for label, k in (("with the hedges", "mdf_with_hedge"), ("without", "mdf_without_hedge"))]
    s.blocks.append(Table(("MDF inflows, nominal", "P10 (USD bn)", "P50 (USD bn)", "P90 (USD bn)", "mean (USD bn)"),
                          tuple(rows), (False, True, True, True, True),
                          caption=f"Premium value {usd_bn(hedge.get('premium_value_usd'))}; mean net payoff per path "
                                  f"{usd_bn(hedge.get('mean_net_payoff_usd'))}."))
    return s


# ------------------------------------------------------------------------------------------------ stress


def _stress_section(stress: Doc) -> Section:
    run = stress.get("run", {})
    s = Section("stress", "Stress: historical episodes and decks replayed",
                f"Each path replays an oil-price episode or a user deck through the deterministic chain "
                f"({run.get('inputs', '')}); {run.get('after_episode', '')}. The base case is the scenario's deck.")
    rows: list[tuple[Cell, ...]] = []
    paths = stress.get("paths", [])
    for i, p in enumerate(paths):
        def c(key: str, fmt: Callable[[Any], str], i: int = i) -> Cell:
            return figure_cell("stress", stress, f"paths[{i}].{key}", fmt, css="num")

        bad = bool(p.get("event_of_default_date"))
        b = p.get("benchmark_usd_per_bbl", {})
        rows.append((
            Cell(str(p.get("name")), css="bad" if bad else ""), Cell(str(p.get("mode") or p.get("kind") or DASH)),
            c("benchmark_usd_per_bbl.first", lambda x: plain(x)),
            Cell(f"{plain(b.get('min'))} ({b.get('min_date', DASH)})", css="num"),
            c("mdf.inflows_usd", _fmt_bn), c("mdf.inflows_pv_usd", _fmt_bn),
            c("mdf.loss_vs_base_share", lambda x: pct(x, 1)), c("mdf.first_inflow_date", lambda x: x or "never"),
            c("min_dscr", lambda x: plain(x)), c("cash_trap_periods", _fmt_int),
            c("event_of_default_date", lambda x: x or "no"),
        ))
    s.blocks.append(Table(("path", "mode", "first price (USD/bbl)", "min price (USD/bbl, period)",
                           "MDF nominal (USD bn)", f"MDF PV at {_rate_text(run.get('discount_rate'))} (USD bn)",
                           "MDF loss vs base (%)", "first MDF inflow", "min DSCR (×)", "trapped periods",
                           "event of default"), tuple(rows),
                          (False, False, *([True] * 9)), title="Paths and the Mexican Development Fund"))
    spec = fg.bar_chart(
        categories=[str(p.get("name")) for p in paths],
        series=[("MDF inflows, nominal", [p.get("mdf", {}).get("inflows_usd") for p in paths]),
                (f"MDF inflows, PV at {_rate_text(run.get('discount_rate'))}",
                 [p.get("mdf", {}).get("inflows_pv_usd") for p in paths])],
        scale=1e9, value_title="USD bn", value_format=",.2f")
    src = stress.get("episodes_source", {})
    s.blocks.append(Chart("chart-stress-mdf", "The MDF's inflows on each stress path",
                          "Total inflows to the MDF over the horizon on each path, nominal and discounted, in USD bn "
                          f"(stress.json). Inputs: the scenario's deterministic chain with the benchmark replaced by "
                          f"each episode ({src.get('source', 'naef/data/stress_episodes.toml')}; "
                          f"{src.get('derivation', '')}) or deck, from the scenario's first quarter unless "
                          "--at-year says otherwise.", _spec_json(spec)))
    rows = []
    for i, p in enumerate(paths):
        for j, tr in enumerate(p.get("tranches", [])):
            def t(key: str, fmt: Callable[[Any], str], i: int = i, j: int = j) -> Cell:
                return figure_cell("stress", stress, f"paths[{i}].tranches[{j}].{key}", fmt, css="num")

            rows.append((Cell(str(p.get("name")), css="bad" if tr.get("defaulted") else ""), Cell(str(tr.get("name"))),
                         t("default_date", lambda x: x or "no"), t("loss", lambda x: pct(x, 2)),
                         t("first_shortfall_date", lambda x: x or DASH), t("interest_shortfall_max_usd", _fmt_bn),
                         t("principal_unpaid_at_legal_final_usd", _fmt_bn)))
    s.blocks.append(Table(("path", "tranche", "default", "loss (% of size)", "first shortfall",
                           "max interest shortfall (USD bn)", "principal unpaid at legal final (USD bn)"),
                          tuple(rows), (False, False, True, True, True, True, True),
                          title="Tranches under stress", caption="Dates are the first day of the period in which "
                          "the event happens; interest shortfalls are arrears carried to later periods."))
    return s


# ------------------------------------------------------------------------------------------------ sensitivity


def _output_scale(unit: str) -> tuple[float, str, str]:
    if unit == "US$":
        return 1e9, "USD bn", ",.2f"
    if unit == "share of size":
        return 0.01, "% of size", ".3f"
    return 1.0, unit, ".4g"


def _sensitivity_section(sens: Doc) -> Section:
    run = sens.get("run", {})
    method = run.get("method")
    s = Section("sensitivity", "Sensitivity: which inputs drive senior risk and the MDF",
                f"{run.get('evaluations', DASH)} Monte Carlos of {plain(run.get('paths'), '{:,}')} paths each, seed "
                f"{run.get('seed', DASH)}, on common random numbers (method: {method}). Method: docs/sensitivity.md.")
    rows: list[tuple[Cell, ...]] = []
    for f in sens.get("factors", []):
        rows.append(_cells(str(f.get("name")), str(f.get("unit", DASH)),
                           Cell(plain(f.get("base"), "{:,.4g}"), css="num"),
                           Cell(plain(f.get("low"), "{:,.4g}"), css="num"),
                           Cell(plain(f.get("high"), "{:,.4g}"), css="num"),
                           str(f.get("range_source", "")) + (" (ILLUSTRATIVE)" if f.get("illustrative") else "")))
    s.blocks.append(Table(("input", "unit", "base", "low", "high", "range and its source"), tuple(rows),
                          (False, False, True, True, True, False), title="The inputs and their ranges"))
    outputs = {o["name"]: o for o in sens.get("outputs", [])}
    for name, out in outputs.items():
        scale, unit_label, vfmt = _output_scale(str(out.get("unit")))
        if method == "tornado" and name in sens.get("tornado", {}):
            base = float(sens["base"][name])
            spec = fg.tornado_chart(rows=sens["tornado"][name], base=base, scale=scale, value_title=unit_label,
                                    value_format=vfmt)
            base_cell = figure_cell("sensitivity", sens, f"base.{name}", _scaled(scale, unit_label))
            s.blocks.append(Chart(
                f"chart-tornado-{name}", f"Tornado: {name} ({unit_label})",
                f"{out.get('description', name)}: the output with each input at the low (teal) and the high "
                f"(orange) end of its range, the other inputs at base; bars start at the base case "
                f"({base_cell.text}, the vertical line) and are sorted by swing |high − low|, largest on top. "
                f"Inputs: the ranges in the table above; {plain(run.get('paths'), '{:,}')} paths per evaluation, "
                f"seed {run.get('seed', DASH)} (sensitivity.json).", _spec_json(spec)))
            fmt = _scaled(scale, "")
            rows = [(Cell("base case"), Cell(DASH, css="num"), Cell(DASH, css="num"),
                     figure_cell("sensitivity", sens, f"base.{name}", fmt, css="num"),
                     figure_cell("sensitivity", sens, f"base.{name}", fmt, css="num"), Cell(DASH, css="num"))]
            for i in range(len(sens["tornado"][name])):
                def c(key: str, f: Callable[[Any], str], i: int = i, name: str = name) -> Cell:
                    return figure_cell("sensitivity", sens, f"tornado.{name}[{i}].{key}", f, css="num")

                rows.append((c("factor", _fmt_text), c("low_value", _fmt_g), c("high_value", _fmt_g),
                             c("output_low", fmt), c("output_high", fmt), c("swing", fmt)))
            s.blocks.append(Table(("input", "low", "high", f"output at low ({unit_label})",
                                   f"output at high ({unit_label})", f"swing ({unit_label})"), tuple(rows),
                                  (False, True, True, True, True, True)))
        elif method == "sobol" and name in sens.get("sobol", {}):
            res = sens["sobol"][name]
            spec = fg.sobol_chart(indices=res.get("indices", []))
            s.blocks.append(Chart(
                f"chart-sobol-{name}", f"Sobol' indices: {name}",
                f"{out.get('description', name)}: first-order (S1) and total-order (ST) Sobol' indices of each "
                f"input over its range (uniform), with 95 % bootstrap half-widths; Saltelli sample of "
                f"{run.get('samples', DASH)} base points (SALib). With few samples the estimates are noisy."
                + (" The output did not vary over the sample: its indices are undefined." if res.get("constant")
                   else ""), _spec_json(spec)))
    return s


# ------------------------------------------------------------------------------------------------ sizing


def _sizing_section(sizing: Doc) -> Section:
    what = f"tranche {sizing.get('tranche')}" if sizing.get("tranche") else "the programme (all tranches pro rata)"
    s = Section("sizing", "Sizing at a target rating",
                f"The largest size of {what} whose implied rating ({str(sizing.get('basis', 'el')).upper()} basis) "
                f"is at least {sizing.get('target_rating', DASH)}, every size on the same Monte Carlo paths.")
    s.cards.append(Card("Largest size at the target", figure_cell("sizing", sizing, "size_usd", usd_bn),
                        f"× {plain(sizing.get('scale'), '{:.4f}')} of the scenario's size"))
    s.cards.append(Card("Implied rating there", figure_cell("sizing", sizing, "implied_rating", _fmt_text)))
    s.cards.append(Card("PD there", figure_cell("sizing", sizing, "pd", pct), f"± {pct(sizing.get('pd_se'))}"))
    s.cards.append(Card("EL there", figure_cell("sizing", sizing, "expected_loss", lambda x: pct(x, 3)),
                        f"± {pct(sizing.get('expected_loss_se'), 3)}"))
    rows: list[tuple[Cell, ...]] = []
    for i in range(len(sizing.get("evaluations", []))):
        def c(key: str, fmt: Callable[[Any], str], i: int = i) -> Cell:
            return figure_cell("sizing", sizing, f"evaluations[{i}].{key}", fmt, css="num")

        rows.append((c("scale", lambda x: plain(x, "{:.4f}")), c("size_usd", _fmt_bn), c("pd", pct),
                     c("expected_loss", lambda x: pct(x, 3)), c("implied_rating", _fmt_text),
                     c("passes", lambda x: "yes" if x else "no")))
    s.blocks.append(Table(("scale (× size)", "size (USD bn)", "PD (%)", "EL (% of size)", "implied rating", "passes"),
                          tuple(rows), (True,) * 6, title="Evaluations, in the order made"))
    return s


# ------------------------------------------------------------------------------------------------ portfolio


def _amounts_by_year(raw: object, key: str) -> dict[int, float]:
    out: dict[int, float] = {}
    if raw is None:
        return out
    items: list[tuple[object, object]]
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        items = []
        for i, row in enumerate(raw):
            if not isinstance(row, Mapping) or "year" not in row:
                raise ReportError(f"portfolio.{key}[{i}]: must be an object with 'year' and an amount in US$")
            amount = next((row[k] for k in row if k != "year"), None)
            items.append((row["year"], amount))
    else:
        raise ReportError(f"portfolio.{key}: must map years to US$ (an object or a list of {{year, amount}})")
    for year, amount in items:
        try:
            y = int(str(year))
        except ValueError:
            raise ReportError(f"portfolio.{key}: {year!r} is not a year") from None
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise ReportError(f"portfolio.{key}[{y}]: must be a number of US$ (got {amount!r})")
        out[y] = float(amount)
    return dict(sorted(out.items()))


def normalise_portfolio(portfolio: Mapping[str, Any]) -> dict[str, Any]:
    """Check the portfolio section's plain dict and bring it to one shape (docs/reports.md):

    ``projects`` (alias ``selected``): list of objects with ``sector``, ``state``, ``cost_usd`` (> 0), and
    ``start_year`` (alias ``start``: a year or an ISO date), optional ``id``, ``name`` and any other columns;
    ``spend_usd_by_year`` and ``budget_usd_by_year``: {year: US$} or [{"year": y, "<amount>_usd": x}];
    ``outcomes_by_state``: list of objects with ``state`` and numeric columns named with units; optional
    ``objective_usd``, ``confidence``, ``binding_constraints`` (strings or objects with ``name``), ``note``,
    ``title``. Raises :class:`ReportError` naming the key.
    """
    if not isinstance(portfolio, Mapping):
        raise ReportError("portfolio: must be an object (a dict)")
    raw = portfolio.get("projects", portfolio.get("selected"))
    if raw is None:
        raw = []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ReportError("portfolio.projects: must be a list of projects")
    projects = []
    for i, p in enumerate(raw):
        if not isinstance(p, Mapping):
            raise ReportError(f"portfolio.projects[{i}]: must be an object")
        for k in ("sector", "state", "cost_usd"):
            if k not in p:
                raise ReportError(f"portfolio.projects[{i}].{k}: missing")
        cost = p["cost_usd"]
        if isinstance(cost, bool) or not isinstance(cost, int | float) or not (math.isfinite(cost) and cost > 0):
            raise ReportError(f"portfolio.projects[{i}].cost_usd: must be a positive number of US$ (got {cost!r})")
        start = p.get("start_year", p.get("start"))
        if start is None:
            raise ReportError(f"portfolio.projects[{i}].start_year: missing")
        try:
            start_year = int(str(start)[:4])
        except ValueError:
            raise ReportError(f"portfolio.projects[{i}].start_year: {start!r} is not a year") from None
        row = {k: v for k, v in p.items() if k not in ("start",)}
        row.update({"sector": str(p["sector"]), "state": str(p["state"]), "cost_usd": float(cost),
                    "start_year": start_year})
        projects.append(row)
    outcomes = portfolio.get("outcomes_by_state") or []
    if not isinstance(outcomes, Sequence) or isinstance(outcomes, str):
        raise ReportError("portfolio.outcomes_by_state: must be a list of objects with 'state'")
    for i, o in enumerate(outcomes):
        if not isinstance(o, Mapping) or "state" not in o:
            raise ReportError(f"portfolio.outcomes_by_state[{i}]: must be an object with 'state'")
    constraints = portfolio.get("binding_constraints") or []
    return {
        "title": str(portfolio.get("title") or "The Mexican Development Fund's portfolio"),
        "note": str(portfolio.get("note") or ""),
        "objective_usd": portfolio.get("objective_usd"),
        "confidence": portfolio.get("confidence"),
        "projects": projects,
        "spend_usd_by_year": _amounts_by_year(portfolio.get("spend_usd_by_year"), "spend_usd_by_year"),
        "budget_usd_by_year": _amounts_by_year(portfolio.get("budget_usd_by_year"), "budget_usd_by_year"),
        "outcomes_by_state": [dict(o) for o in outcomes],
        "binding_constraints": [c.get("name", json.dumps(c)) if isinstance(c, Mapping) else str(c)
                                for c in constraints],
    }


def _fmt_any(name: str, x: object) -> tuple[str, bool]:
    """A portfolio value by its column's unit; (text, numeric)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return (DASH if x is None else str(x)), False
    unit = unit_of(name)
    if unit == "US$":
        return usd_m(x, unit=False), True
    if unit in ("fraction", "fraction/year", "probability", "share"):
        return pct(x, 1), True
    if unit == "calendar year" and float(x).is_integer():
        return str(int(x)), True
    if float(x).is_integer():
        return f"{int(x):,}", True
    return f"{x:,.2f}", True


def _header(name: str) -> str:
    unit = unit_of(name)
    label = " ".join(w for w in name.split("_") if w != "usd") or name
    if unit == "US$":
        return f"{label} (USD m)"
    if unit in ("fraction", "fraction/year", "probability", "share"):
        return f"{label} (%)"
    return label if unit == DASH or unit in ("count", "jobs") else f"{label} ({unit})"


def _portfolio_section(p: dict[str, Any], summary: Doc) -> Section:
    s = Section("portfolio", p["title"], p["note"])
    projects = p["projects"]
    total = sum(x["cost_usd"] for x in projects)
    s.cards.append(Card("Projects selected", Cell(f"{len(projects):,}")))
    s.cards.append(Card("Their planned cost", Cell(usd_bn(total))))
    if not is_missing(p["objective_usd"]):
        s.cards.append(Card("Expected NPV of the selection", figure_cell("portfolio", p, "objective_usd", usd_bn)))
    if not is_missing(p["confidence"]):
        s.cards.append(Card("Budget confidence", figure_cell("portfolio", p, "confidence", lambda x: pct(x, 0)),
                            "funds available each year at this confidence of the MDF's inflows"))
    if projects:
        first = ["id", "name", "sector", "state", "cost_usd", "start_year"]
        extra = [k for k in projects[0] if k not in first]
        cols = [k for k in first if any(k in x for x in projects)] + extra
        rows: list[tuple[Cell, ...]] = []
        numeric = []
        for x in sorted(projects, key=lambda r: (r["start_year"], str(r.get("id", "")))):
            cells = []
            for k in cols:
                cells.append(_fmt_cell(k, x.get(k)))
            rows.append(tuple(cells))
        numeric = [any(isinstance(x.get(k), int | float) and not isinstance(x.get(k), bool) for x in projects)
                   for k in cols]
        s.blocks.append(Table(tuple(_header(k) if k != "start_year" else "start (year)" for k in cols), tuple(rows),
                              tuple(numeric), title="The selected projects", caption="Planned costs before "
                              "overruns; start years as selected."))
    spend, budget = p["spend_usd_by_year"], p["budget_usd_by_year"]
    if spend or budget:
        years = sorted(set(spend) | set(budget))
        spec = fg.bar_chart(categories=[str(y) for y in years],
                            series=[("spending", [spend.get(y) for y in years])],
                            lines=[("funds available", [budget.get(y) for y in years])] if budget else [],
                            scale=1e9, value_title="USD bn per year", value_format=",.3f")
        conf = ("" if is_missing(p["confidence"])
                else f" at the P{round((1.0 - float(p['confidence'])) * 100)} of the MDF's cumulative inflows "
                      f"(available with probability {float(p['confidence']):.0%})")
        s.blocks.append(Chart("chart-portfolio-spend", "The MDF's spending by year",
                              "Money the selected projects spend each year (bars)"
                              + (f" against the funds available{conf} (line), unspent money carried forward"
                                 if budget else "") + ", in USD bn. Inputs: the project pipeline's costs and "
                              "durations, the selection, and the MDF's inflows from this scenario's Monte Carlo "
                              "(or a given budget).", _spec_json(spec)))
    outcomes = p["outcomes_by_state"]
    if outcomes:
        metrics = [k for k in outcomes[0] if k != "state" and k != "state_name"
                   and all(isinstance(o.get(k), int | float) and not isinstance(o.get(k), bool) for o in outcomes)]
        ordered = sorted(outcomes, key=lambda o: str(o.get("state")))
        chosen = [m for m in metrics if "jobs" in m][:1] + [m for m in metrics if unit_of(m) == "US$"][:1]
        for m in chosen or metrics[:1]:
            scale = 1e6 if unit_of(m) == "US$" else 1.0
            label = _header(m)
            spec = fg.bar_chart(categories=[str(o.get("state_name") or o.get("state")) for o in ordered],
                                series=[(m.replace("_", " "), [o.get(m) for o in ordered])], scale=scale,
                                value_title=label, value_format=",.1f" if scale != 1.0 else ",.0f", horizontal=True)
            s.blocks.append(Chart(f"chart-portfolio-{m}", f"Outcomes by state: {label}",
                                  f"{label} by state (ISO 3166-2:MX) of the selected portfolio, run along the Monte "
                                  "Carlo's paths with disbursements limited by the cash the MDF actually has. Inputs: "
                                  "the pipeline's per-project figures and the selection.", _spec_json(spec)))
        cols = ["state", *metrics]
        s.blocks.append(Table(tuple(_header(k) for k in cols),
                              tuple(tuple(_fmt_cell(k, o.get(k)) for k in cols) for o in ordered),
                              (False, *([True] * len(metrics))),
                              title="Outcomes by state"))
    if p["binding_constraints"]:
        s.blocks.append(Text("Binding constraints of the selection: " + "; ".join(p["binding_constraints"]) + "."))
    return s


def _fmt_cell(name: str, x: object) -> Cell:
    text, is_num = _fmt_any(name, x)
    return Cell(text, css="num" if is_num else "")


# ------------------------------------------------------------------------------------------------ scenario


def _scenario_section(scenario: Scenario, summary: Doc, scenario_hash: str, version: str,
                      plotly_version: str) -> Section:
    from naef.report.scenario_text import scenario_json, scenario_toml

    name = scenario.scenario.name
    s = Section("scenario", "The scenario, the naef version and the content hash")
    run = summary.get("run", {})
    if _kind(summary) == "monte_carlo":
        cmd = f"naef run {name}.toml --paths {run.get('paths')} --seed {run.get('seed')}"
    else:
        cmd = f"naef run {name}.toml"
    s.blocks.append(Text(
        f"Written by naef {version} (Plotly.js {plotly_version} inlined). Scenario '{name}', content hash "
        f"(SHA-256 of its RFC 8785 canonical JSON):"))
    s.blocks.append(Code(scenario_hash, title="content hash"))
    toml = scenario_toml(scenario, header=f"naef scenario '{name}', written by naef {version} from the validated "
                                          f"scenario\ncontent hash sha256 {scenario_hash}")
    js = scenario_json(scenario)
    if toml is not None:
        s.blocks.append(Text(f"To reproduce this run, save the scenario below as {name}.toml and run `{cmd}` "
                             "(the TOML reloads to the same content hash; checked when this report was written)."))
        s.blocks.append(Code(toml, title=f"{name}.toml", download_name=f"{name}.toml",
                             download_href="data:text/plain;charset=utf-8," + urllib.parse.quote(toml)))
        s.blocks.append(Code(js, title="the same scenario as JSON (the document the hash is computed over)",
                             collapsed=True))
    else:
        s.blocks.append(Text(f"The scenario as JSON (the document its content hash is computed over; the same keys "
                             f"as the TOML file). To reproduce: write it as TOML and run `{cmd}`."))
        s.blocks.append(Code(js, title=f"{name}.json", download_name=f"{name}.json",
                             download_href="data:application/json;charset=utf-8," + urllib.parse.quote(js)))
    return s


# ------------------------------------------------------------------------------------------------ the page


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
    summary: Mapping[str, Any],
    percentiles: pd.DataFrame | None = None,
    cashflows: pd.DataFrame | None = None,
    stress: Mapping[str, Any] | None = None,
    sensitivity: Mapping[str, Any] | None = None,
    portfolio: Mapping[str, Any] | None = None,
    title: str | None = None,
    deterministic_summary: Mapping[str, Any] | None = None,
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
    det = summary if _kind(summary) == "deterministic" else deterministic_summary
    if det is not None and _kind(det) != "deterministic":
        raise ReportError("deterministic_summary: not a deterministic run's summary (run.kind is "
                          f"{_kind(det)!r})")
    if percentiles is not None and "period_start" not in percentiles.columns:
        raise ReportError("percentiles: no 'period_start' column (pass percentiles.csv as a DataFrame)")
    if cashflows is not None and "period_start" not in cashflows.columns:
        raise ReportError("cashflows: no 'period_start' column (pass cashflows.csv as a DataFrame)")
    port = normalise_portfolio(portfolio) if portfolio is not None else None
    js, plotly_version = plotly_js()

    sections: list[Section] = [_key_figures(summary)]
    swap = _swap_section(det, cashflows, port)
    if swap is not None:
        sections.append(swap)
    if det is not None or cashflows is not None:
        su = _sources_and_uses(det) if det is not None else Section(
            "sources-and-uses", "Cash flows of the deterministic run")
        if cashflows is not None:
            chart = _annual_chart(cashflows, scenario.scenario.periods_per_year)
            if chart is not None:
                su.blocks.append(chart)
        if su.blocks:
            sections.append(su)
    if percentiles is not None:
        sections.append(_fan_section(summary, percentiles, cashflows, scenario))
    if _kind(summary) == "monte_carlo":
        sections.append(_risk_section(summary))
        hedge = _hedge_section(summary)
        if hedge is not None:
            sections.append(hedge)
    if sizing is not None:
        sections.append(_sizing_section(sizing))
    if stress is not None:
        sections.append(_stress_section(stress))
    if sensitivity is not None:
        sections.append(_sensitivity_section(sensitivity))
    if port is not None:
        sections.append(_portfolio_section(port, summary))
    sections.append(_scenario_section(scenario, summary, scenario_hash, __version__, plotly_version))

    run = summary.get("run", {})
    if _kind(summary) == "monte_carlo":
        kind_text = (f"Monte Carlo: {plain(run.get('paths'), '{:,}')} paths, seed {run.get('seed')}, price model "
                     f"{run.get('price_model')}, field uncertainty {'on' if run.get('field_uncertainty') else 'off'}")
    elif _kind(summary) == "deterministic":
        kind_text = "deterministic run on the scenario's price decks"
    else:
        kind_text = f"run: {_kind(summary) or 'unknown'}"
    sc = scenario.scenario
    return str(_environment().get_template("report.html.j2").render(
        title=title or f"naef report — scenario {sc.name}",
        scenario_name=sc.name,
        description=sc.description,
        horizon=f"{sc.start.isoformat()}, {sc.years} years, {sc.periods_per_year} periods a year",
        kind_text=kind_text,
        version=__version__,
        summary_version=str(summary.get("naef_version", __version__)),
        scenario_hash=scenario_hash,
        hash_cell=Cell(scenario_hash[:12] + "…", key="scenario.content_hash_sha256", source="summary",
                       value=value_json(scenario_hash)) if _hash_of(summary) == scenario_hash else Cell(
                           scenario_hash[:12] + "…"),
        sections=sections,
        plotly_js=js,
        plotly_version=plotly_version,
        figures=[(b.id, b.spec_json) for sec in sections for b in sec.blocks if isinstance(b, Chart)],
        usd=usd_auto,
    ))
