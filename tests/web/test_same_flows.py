"""The portal's front page and report.html draw the swap from the same flows (naef.analysis.flows): for the same
scenario the same links, names, amounts and colours, in the diagram and in the tables beside it."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

import naef
from naef.report import render_report
from naef.web import create_app
from tests.web.conftest import web_config


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts, by the table's id or the heading before it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self._heading: list[str] | None = None
        self._last_heading = ""
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("h2", "h3"):
            self._heading = []
        elif tag == "table":
            self._table = []
            self.tables[a.get("id") or self._last_heading] = self._table
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3") and self._heading is not None:
            self._last_heading = "".join(self._heading).strip()
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _tables(html: str) -> dict[str, list[list[str]]]:
    reader = _Tables()
    reader.feed(html)
    return reader.tables


def _json_script(html: str, script_id: str) -> dict[str, object]:
    m = re.search(rf'<script type="application/json" id="{script_id}">(.*?)</script>', html, flags=re.S)
    assert m, script_id
    return json.loads(m.group(1).replace("<\\/", "</"))  # type: ignore[no-any-return]


def test_the_portal_and_the_report_show_the_same_flows() -> None:
    sc = naef.load_scenario("baseline")
    det = naef.simulate(sc)
    report = render_report(scenario=sc, summary=det.summary, cashflows=det.table)
    with TestClient(create_app(web_config(None))) as client:
        client.app.state.naef.overview.result(timeout=300)  # type: ignore[attr-defined]
        portal = client.get("/").text

    # the tables beside the diagrams: the same links, names and amounts (USD bn), in the same order
    report_rows = [(f"{r[0]} → {r[1]}", r[2]) for r in _tables(report)["Flows in the diagram"][1:]]
    portal_rows = [(r[0], r[1]) for r in _tables(portal)["sankey-table"][1:]]
    assert report_rows == portal_rows
    assert ("Collection account → Mexican Development Fund",
            f"{det.summary['totals']['to_mdf_usd'] / 1e9:,.2f}") in portal_rows
    assert len(portal_rows) >= 12

    # the diagrams themselves: the same Plotly figure (nodes, labels with amounts, colours, link values)
    report_spec = _json_script(report, "spec-chart-sankey")
    portal_spec = _json_script(portal, "sankey-data")["figure"]
    assert report_spec == portal_spec
