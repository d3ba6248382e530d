"""Key figures: the headline numbers of the run's ``summary.json`` (deterministic or Monte Carlo) as cards, each
marked with where it comes from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import naef.format as fmt
from naef.format import (
    DASH,
    bpd,
    pct,
    plain,
    times,
    usd_bn,
    usd_per_bbl,
)
from naef.report.blocks import Card, Section, figure_cell
from naef.report.sections.common import Doc, kind

__all__ = ["build"]


def build(summary: Doc) -> Section:
    s = Section("key-figures", "Key figures")
    run_kind = kind(summary)

    def card(label: str, key: str, fmt: Callable[[Any], str], note: str = "") -> None:
        s.cards.append(Card(label, figure_cell("summary", summary, key, fmt), note))

    card("Securities issued", "issuance_usd", usd_bn)
    if run_kind == "monte_carlo":
        run = summary.get("run", {})
        mdf = summary.get("mdf", {})
        rate = mdf.get("discount_rate")
        card("MDF inflows, P50 (nominal)", "mdf.nominal_usd.p50", usd_bn, "median over paths of the total")
        card("MDF inflows, P10 (nominal)", "mdf.nominal_usd.p10", usd_bn, "nine paths in ten receive more")
        card("MDF inflows, P90 (nominal)", "mdf.nominal_usd.p90", usd_bn, "one path in ten receives more")
        card(f"MDF inflows, mean PV at {fmt.rate(rate)}", "mdf.pv_usd.mean", usd_bn, "discounted to the start")
        card("Paths on which the MDF receives nothing", "mdf.probability_nothing", pct)
        eod = summary.get("event_of_default", {})
        card("Probability of an event of default", "event_of_default.probability", pct,
             f"± {pct(eod.get('se'))} (one Monte Carlo standard error)")
        card("Breakeven flat benchmark, senior class", "breakeven_flat_price_usd_per_bbl.senior", usd_per_bbl,
             "lowest flat price at which the senior class is paid in full and on time")
        for i, tr in enumerate(summary.get("tranches", [])):
            card(f"Tranche {tr.get('name')}: implied rating", f"tranches[{i}].implied_rating", fmt.text,
                 f"EL basis; PD basis {tr.get('implied_rating_pd', DASH)}")
        card("Mean capex funded by PEMEX", "pemex_capex_funding_usd_mean", usd_bn)
        card("Monte Carlo paths", "run.paths", fmt.integer, f"seed {run.get('seed', DASH)}")
    else:
        tot = summary.get("totals", {})
        card("To the MDF (nominal)", "totals.to_mdf_usd", usd_bn, "net revenues after debt service")
        card(f"To the MDF, PV at {fmt.rate(tot.get('discount_rate'))}", "totals.to_mdf_pv_usd", usd_bn,
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

