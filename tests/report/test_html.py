"""report.html: its figures equal the JSON documents', it names nothing to fetch, sections come in order, every
chart has a caption and a valid Plotly specification, and it ends with a scenario that reloads to the same hash."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pandas as pd
import pytest

import naef
from naef.analysis.montecarlo import run_monte_carlo
from naef.format import lookup
from naef.report import ReportError, render_report
from naef.report.html import normalise_portfolio
from naef.scenario.load import content_hash
from naef.scenario.models import Scenario
from tests.report.conftest import PORTFOLIO, Run
from tests.report.htmlparse import read


def _bn(x: float) -> str:
    return f"{x / 1e9:,.2f}"


def test_key_figures_equal_summary_json(run: Run) -> None:
    page = read(run.html)
    figs = page.by_source("summary")
    assert figs, "no marked figures"
    for f in figs:
        assert json.loads(f.value) == lookup(run.summary, f.key), f.key
    s = run.summary
    required = {"issuance_usd", "mdf.nominal_usd.p50", "mdf.nominal_usd.p10", "mdf.nominal_usd.p90", "mdf.pv_usd.mean",
                "mdf.probability_nothing", "event_of_default.probability", "breakeven_flat_price_usd_per_bbl.senior",
                "run.paths", "scenario.content_hash_sha256"}
    for i in range(len(s["tranches"])):
        required |= {f"tranches[{i}].{k}" for k in ("implied_rating", "implied_rating_pd", "pd", "expected_loss",
                                                     "wal_years", "size_usd")}
    assert required <= page.keys("summary"), required - page.keys("summary")
    cards: dict[str, str] = {}
    for f in figs:
        cards.setdefault(f.key, f.text)
    # the key-figure cards (the first occurrence of each key) show the value for people, with units
    assert cards["issuance_usd"] == f"USD {_bn(s['issuance_usd'])} bn" == "USD 75.00 bn"
    assert cards["mdf.nominal_usd.p50"] == f"USD {_bn(s['mdf']['nominal_usd']['p50'])} bn"
    assert cards["event_of_default.probability"] == f"{s['event_of_default']['probability'] * 100:.2f} %"
    assert cards["breakeven_flat_price_usd_per_bbl.senior"] == \
        f"USD {s['breakeven_flat_price_usd_per_bbl']['senior']:,.2f}/bbl"
    assert cards["tranches[0].implied_rating"] == s["tranches"][0]["implied_rating"]
    assert cards["run.paths"] == "300"
    # key figures come first: the first section is the key figures, and its first figure is the issuance
    assert page.sections[0] == "key-figures"
    assert figs[0].key == "scenario.content_hash_sha256"
    assert figs[1].key == "issuance_usd"


def test_tranche_table_shows_standard_errors(run: Run) -> None:
    page = read(run.html)
    t0 = run.summary["tranches"][0]
    pd_texts = [f.text for f in page.by_source("summary") if f.key == "tranches[0].pd"]
    assert f"{t0['pd'] * 100:.2f} % ± {t0['pd_se'] * 100:.2f} %" in pd_texts


def test_deterministic_figures_and_the_diagram_equal_the_deterministic_summary(run: Run) -> None:
    page = read(run.html)
    figs = page.by_source("deterministic")
    for f in figs:
        assert json.loads(f.value) == lookup(run.deterministic, f.key), f.key
    keys = page.keys("deterministic")
    su = run.deterministic["sources_and_uses"]
    assert {"sources_and_uses.sources.securities_proceeds_usd", "sources_and_uses.total_uses_usd",
            "totals.to_mdf_usd", "totals.duties_usd", "totals.returned_to_pemex_usd", "issuance_usd"} <= keys
    assert {f"sources_and_uses.uses.{k}" for k in su["uses"]} <= keys
    texts = {f.key: f.text for f in figs}
    assert texts["totals.to_mdf_usd"] == _bn(run.deterministic["totals"]["to_mdf_usd"])
    # the Sankey's link to the MDF carries the same amount (USD bn)
    spec = _specs(run.html)["chart-sankey"]
    link = spec["data"][0]["link"]
    names = spec["data"][0]["node"]["customdata"]
    to_mdf = [v for s_, t, v in zip(link["source"], link["target"], link["value"], strict=True)
              if names[t] == "Mexican Development Fund"]
    assert to_mdf == [pytest.approx(run.deterministic["totals"]["to_mdf_usd"] / 1e9, rel=1e-12)]
    issued = [v for s_, v in zip(link["source"], link["value"], strict=True) if names[s_] == "NAEF investors"]
    assert issued == [pytest.approx(75.0)]
    # every node shows its amount on the diagram; the MDF's in bold
    labels = spec["data"][0]["node"]["label"]
    mdf = labels[names.index("Mexican Development Fund")]
    assert mdf == f"<b>Mexican Development Fund</b><br><b>USD {_bn(run.deterministic['totals']['to_mdf_usd'])} bn</b>"
    assert all("<br>USD " in label or "<br><b>USD " in label for label in labels)


def test_stress_and_sensitivity_figures_equal_their_documents(run: Run) -> None:
    page = read(run.html)
    for source, doc in (("stress", run.stress), ("sensitivity", run.sensitivity)):
        figs = page.by_source(source)
        assert figs, source
        for f in figs:
            assert json.loads(f.value) == lookup(doc, f.key), (source, f.key)
    assert "paths[1].mdf.inflows_usd" in page.keys("stress")
    assert "base.mdf_pv_mean_usd" in page.keys("sensitivity")


def test_nothing_in_the_page_would_be_fetched(run: Run) -> None:
    page = read(run.html)
    for tag, attrs in page.tags:
        for name in ("src", "srcset", "data", "poster", "action", "formaction", "background"):
            assert name not in attrs, (tag, name, attrs.get(name))
        assert tag not in ("link", "iframe", "img", "object", "embed", "base", "video", "audio", "source"), tag
        href = attrs.get("href")
        if href is not None:
            assert href.startswith("#") or href.startswith("data:"), href
        for name, value in attrs.items():
            if name.startswith("on"):
                pytest.fail(f"inline handler {name} on {tag}")
            assert not re.match(r"\s*(https?:)?//", value or ""), (tag, name, value)
        if tag == "meta":
            assert (attrs.get("http-equiv") or "").lower() != "refresh"
    css = "".join(page.styles)
    assert "@import" not in css
    assert "url(" not in css
    assert all("src" not in attrs for attrs, _ in page.scripts)
    plotly_inline = [body for attrs, body in page.scripts if "plotly.js" in body[:600].lower()]
    assert plotly_inline, "Plotly.js is not inlined"


def test_sections_in_order_each_only_with_its_data(run: Run) -> None:
    page = read(run.html)
    assert page.sections == ["key-figures", "swap", "sources-and-uses", "fan-charts", "tranche-risk", "stress",
                             "sensitivity", "portfolio", "scenario"]
    det = naef.simulate(run.scenario)
    alone = read(render_report(scenario=run.scenario, summary=det.summary, cashflows=det.table))
    assert alone.sections == ["key-figures", "swap", "sources-and-uses", "scenario"]
    # the swap's diagram is drawn from the cash flows: without them, no diagram
    no_cf = read(render_report(scenario=run.scenario, summary=det.summary))
    assert no_cf.sections == ["key-figures", "sources-and-uses", "scenario"]
    assert not [c for c in alone.charts if c[0].startswith("chart-fan")]


def _specs(html: str) -> dict[str, dict[str, Any]]:
    page = read(html)
    out = {}
    for attrs, body in page.scripts:
        if attrs.get("type") == "application/json":
            out[(attrs.get("id") or "").removeprefix("spec-")] = json.loads(body)
    return out


def test_every_chart_has_a_caption_and_a_valid_plotly_specification(run: Run) -> None:
    import plotly.graph_objects as go

    page = read(run.html)
    specs = _specs(run.html)
    ids = [chart_id for chart_id, _ in page.charts]
    assert sorted(ids) == sorted(specs)
    assert {"chart-sankey", "chart-fan-price", "chart-fan-production", "chart-fan-dscr", "chart-fan-mdf",
            "chart-stress-mdf", "chart-portfolio-spend", "chart-portfolio-jobs"} <= set(ids)
    assert any(i.startswith("chart-tornado-") for i in ids)
    for chart_id, caption in page.charts:
        assert len(caption) > 80, chart_id
        assert "Input" in caption or "from the" in caption or "percentiles" in caption, chart_id
    for chart_id, spec in specs.items():
        go.Figure(spec)  # raises on any property Plotly does not know
        assert spec["data"], chart_id


def test_fan_chart_bands_are_the_percentiles(run: Run) -> None:
    spec = _specs(run.html)["chart-fan-mdf"]
    by_name = {t["name"]: t for t in spec["data"]}
    p50 = [None if (isinstance(v, float) and math.isnan(v)) else v / 1e6
           for v in run.percentiles["to_mdf_usd_p50"].tolist()]
    assert by_name["P50"]["y"] == pytest.approx(p50)
    assert by_name["P5–P95"]["y"] == pytest.approx((run.percentiles["to_mdf_usd_p5"] / 1e6).tolist())
    det = by_name["deterministic run"]["y"]
    assert det == pytest.approx((run.cashflows["to_mdf_usd"] / 1e6).tolist())
    dscr = _specs(run.html)["chart-fan-dscr"]
    y = next(t for t in dscr["data"] if t["name"] == "P50")["y"]
    assert None in y  # periods without debt service are gaps, not zeros or NaN
    assert len(y) == len(run.percentiles)


def test_the_report_ends_with_the_scenario_which_reloads_to_the_same_hash(run: Run) -> None:
    page = read(run.html)
    assert page.sections[-1] == "scenario"
    h = content_hash(run.scenario)
    assert h in page.codes
    toml = next(c for c in page.codes if c.startswith("# naef scenario"))
    assert content_hash(naef.load_scenario(toml)) == h
    assert f"naef {naef.__version__}" in run.html
    assert f'<meta name="naef-scenario-content-hash" content="{h}">' in run.html


def test_text_is_escaped(run: Run) -> None:
    assert "Scholarships &lt;Zacatecas&gt; &amp; exchange" in run.html
    assert "<Zacatecas>" not in run.html


def test_another_scenarios_results_are_refused(run: Run) -> None:
    other = Scenario.model_validate({**run.scenario.model_dump(), "scenario": {
        **run.scenario.scenario.model_dump(), "description": "changed"}})
    with pytest.raises(ReportError, match=r"^summary: its scenario content hash"):
        render_report(scenario=other, summary=run.summary)
    with pytest.raises(ReportError, match=r"^stress: "):
        render_report(scenario=run.scenario, summary=run.summary,
                      stress={**run.stress, "scenario": {"content_hash_sha256": "0" * 64}})
    with pytest.raises(ReportError, match=r"^deterministic_summary: not a deterministic"):
        render_report(scenario=run.scenario, summary=run.summary, deterministic_summary=run.summary)


def test_diagram_from_cash_flows_alone(run: Run) -> None:
    html = render_report(scenario=run.scenario, summary=run.summary, cashflows=run.cashflows)
    spec = _specs(html)["chart-sankey"]
    link, names = spec["data"][0]["link"], spec["data"][0]["node"]["customdata"]
    flows = {(names[s], names[t]): v for s, t, v in zip(link["source"], link["target"], link["value"], strict=True)}
    cf = run.cashflows
    assert flows[("Collection account", "Mexican Development Fund")] == pytest.approx(cf["to_mdf_usd"].sum() / 1e9)
    pledged = cf["pledged_exports_usd"].sum() / 1e9
    assert flows[("Pledged exports (PEMEX)", "Collection account")] == pytest.approx(pledged)
    assert flows[("Field operations", "Operating costs")] == pytest.approx(cf["opex_usd"].sum() / 1e9)
    assert "sources-and-uses" in read(html).sections  # the cash flows by year


def test_hedge_section_shows_with_and_without(run: Run) -> None:
    data = run.scenario.model_dump()
    data["hedges"] = [{"kind": "put", "share_of_expected_production": 0.5, "put_strike_usd_per_bbl": 55.0,
                       "first_year": 2030, "last_year": 2036, "premium": "proceeds"}]
    sc = Scenario.model_validate(data)
    summary = json.loads(json.dumps(run_monte_carlo(sc, n_paths=256, seed=2).summary))
    page = read(render_report(scenario=sc, summary=summary))
    assert "hedge" in page.sections
    keys = page.keys("summary")
    assert {"hedge.tranches[0].with_hedge.pd", "hedge.tranches[0].without_hedge.pd",
            "hedge.mdf_with_hedge.nominal_usd.p50", "hedge.hedges[0].premium_value_usd"} <= keys
    for f in page.by_source("summary"):
        assert json.loads(f.value) == lookup(summary, f.key), f.key


def test_portfolio_shapes_and_errors() -> None:
    p = normalise_portfolio(PORTFOLIO)
    assert [x["start_year"] for x in p["projects"]] == [2031, 2032, 2031]
    assert p["budget_usd_by_year"] == {2031: 1.0e9, 2032: 1.0e9, 2033: 1.0e9}
    assert p["spend_usd_by_year"][2032] == 0.9e9
    assert p["binding_constraints"] == ["budget 2031", "sector floor: education"]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"projects": [{"sector": "road", "state": "MX-MIC", "cost_usd": -1, "start_year": 2030}]},
         r"^portfolio\.projects\[0\]\.cost_usd: must be a positive number"),
        ({"projects": [{"sector": "road", "cost_usd": 1.0, "start_year": 2030}]}, r"^portfolio\.projects\[0\]\.state"),
        ({"projects": [{"sector": "road", "state": "x", "cost_usd": 1.0}]}, r"start_year: missing"),
        ({"spend_usd_by_year": {"20x1": 1.0}}, r"^portfolio\.spend_usd_by_year: '20x1' is not a year"),
        ({"spend_usd_by_year": {"2031": "lots"}}, r"^portfolio\.spend_usd_by_year\[2031\]: must be a number"),
        ({"outcomes_by_state": [{"jobs": 3}]}, r"^portfolio\.outcomes_by_state\[0\]: must be an object with 'state'"),
    ]
    for doc, message in bad:
        with pytest.raises(ReportError, match=message):
            normalise_portfolio(doc)


def test_percentiles_without_period_start_are_refused(run: Run) -> None:
    with pytest.raises(ReportError, match=r"^percentiles: no 'period_start' column"):
        render_report(scenario=run.scenario, summary=run.summary, percentiles=pd.DataFrame({"x": [1.0]}))


def test_scenario_shown_as_json_when_toml_cannot_carry_it(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import naef.report.scenario_text as text

    monkeypatch.setattr(text, "scenario_toml", lambda scenario, header="": None)
    html = render_report(scenario=run.scenario, summary=run.summary)
    page = read(html)
    doc = json.loads(next(c for c in page.codes if c.lstrip().startswith("{")))
    assert doc == run.scenario.model_dump(mode="json")
    assert 'download="baseline.json" href="data:application/json;charset=utf-8,' in html
    assert not [c for c in page.codes if c.startswith("# naef scenario")]


def test_states_are_named_beside_their_codes(run: Run) -> None:
    from naef.report.sections.portfolio import state_label

    assert state_label("MX-MIC") == "Michoacán de Ocampo (MX-MIC)"
    assert state_label("MX-XYZ") == "MX-XYZ"
    assert "Michoacán de Ocampo (MX-MIC)" in run.html
    chart = _specs(run.html)["chart-portfolio-jobs"]
    assert "Oaxaca (MX-OAX)" in chart["data"][0]["y"]
