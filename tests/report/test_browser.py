"""report.html in headless Chromium with the network disabled: every chart renders, nothing is requested but the
file itself, and the console stays free of errors (Playwright's Python package, driving the system's Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from naef.report.pdf import ChromiumNotFoundError, chromium_path
from tests.report.conftest import Run
from tests.report.htmlparse import read

playwright_sync = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed "
                                      "(pip install playwright; no browser download is needed)")


def _chromium() -> str:
    try:
        return chromium_path()
    except ChromiumNotFoundError:
        pytest.skip("no Chromium on this machine (set NAEF_CHROMIUM or install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = _chromium()
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _open(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    """The page loaded offline with every non-file request aborted; (page, requests made, console errors)."""
    ctx = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        requests.append(url)
        if url.startswith("file:"):
            r.continue_()
        else:
            r.abort()

    ctx.route("**/*", route)
    page = ctx.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(path.as_uri())
    page.wait_for_function("['rendered', 'failed'].includes(document.body.dataset.charts)", timeout=60_000)
    return page, requests, errors


def test_every_chart_renders_offline_without_console_errors(browser: Any, run: Run) -> None:
    path = run.folder / "report.html"
    page, requests, errors = _open(browser, path)
    try:
        assert page.evaluate("document.body.dataset.charts") == "rendered"
        assert errors == []
        assert requests == [path.as_uri()]
        expected = [chart_id for chart_id, _ in read(run.html).charts]
        drawn = page.evaluate("""Array.from(document.querySelectorAll('div.plot')).map(d => [d.id,
            d.dataset.rendered === 'true' && !!d.querySelector('svg.main-svg, canvas'),
            d.getBoundingClientRect().height])""")
        assert [d[0] for d in drawn] == expected
        assert len(expected) >= 10
        for chart_id, ok, height in drawn:
            assert ok, chart_id
            assert height > 100, chart_id
        # the Sankey drew its nodes and links; the fan charts their filled bands
        assert page.evaluate("document.querySelectorAll('#chart-sankey .sankey-node').length") >= 10
        assert page.evaluate("document.querySelectorAll('#chart-fan-price path.js-fill').length") >= 2
        # the key figures are on screen as the HTML has them
        assert page.inner_text("[data-source=summary][data-figure=issuance_usd]") == "USD 75.00 bn"
    finally:
        page.context.close()


def test_a_broken_page_is_noticed(browser: Any, run: Run, tmp_path: Path) -> None:
    """The harness itself: without the inlined Plotly.js the page reports a console error and no chart."""
    page_doc = read(run.html)
    plotly = next(body for attrs, body in page_doc.scripts if "plotly.js" in body[:600].lower())
    broken = tmp_path / "broken.html"
    broken.write_text(run.html.replace(plotly, "/* removed */"), encoding="utf-8")
    page, _, errors = _open(browser, broken)
    try:
        assert page.evaluate("document.body.dataset.charts") == "failed"
        assert any("Plotly.js is missing" in e for e in errors)
    finally:
        page.context.close()


def test_a_page_that_fetches_is_noticed(browser: Any, tmp_path: Path) -> None:
    """The harness itself: a request to the network is recorded (and aborted)."""
    page_path = tmp_path / "fetch.html"
    page_path.write_text("<!DOCTYPE html><html><body><img src='https://example.invalid/x.png'>"
                         "<script>document.body.dataset.charts='rendered'</script></body></html>", encoding="utf-8")
    page, requests, _ = _open(browser, page_path)
    try:
        assert "https://example.invalid/x.png" in requests
    finally:
        page.context.close()



_LABEL_BOXES = """(sel) => Array.from(document.querySelectorAll(sel)).map(t => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom,
            bold: !!t.querySelector('tspan[style*="bold"]')};
}).filter(b => b.x1 > b.x0 && b.y1 > b.y0)"""


_NODE_BOXES = """() => Array.from(document.querySelectorAll('#chart-sankey .sankey-node')).map(g => {
    const box = (el) => { const r = el.getBoundingClientRect();
                          return {text: '', x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; };
    const label = g.querySelector('.node-label');
    return [{...box(label), text: label.textContent}, box(g.querySelector('.node-rect'))];
})"""


def _overlaps(boxes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a["x0"] < b["x1"] - 1 and b["x0"] < a["x1"] - 1 and a["y0"] < b["y1"] - 1 and b["y0"] < a["y1"] - 1:
                out.append((a["text"], b["text"]))
    return out


@pytest.mark.parametrize("width", [1400, 800])
def test_the_diagram_labels_show_amounts_and_never_overlap(browser: Any, run: Run, tmp_path: Path,
                                                           width: int) -> None:
    """Issue 17: amounts on the Sankey's nodes, the MDF prominent, no label over another (at 1,400 and 800 px the
    diagram keeps its width and scrolls sideways); the DSCR chart's reference labels apart. Screenshots are kept in
    the test's folder for a person to look at."""
    path = run.folder / "report.html"
    page, _, errors = _open(browser, path)
    try:
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("Array.from(document.querySelectorAll('div.plot')).forEach(d => Plotly.Plots.resize(d))")
        page.wait_for_timeout(500)
        boxes = page.evaluate(_LABEL_BOXES, "#chart-sankey .node-label")
        assert len(boxes) >= 12
        # no label over another node's bar either
        nodes = page.evaluate(_NODE_BOXES)
        for label, _ in nodes:
            for other_label, other_bar in nodes:
                if other_label["text"] != label["text"]:
                    assert _overlaps([label, {**other_bar, "text": other_label["text"] + " (bar)"}]) == []
        assert all("USD " in b["text"] for b in boxes)
        page.locator("#chart-sankey").screenshot(path=str(tmp_path / f"sankey-{width}.png"))
        assert _overlaps(boxes) == []
        mdf = [b for b in boxes if b["text"].startswith("Mexican Development Fund")]
        assert len(mdf) == 1
        assert mdf[0]["bold"]
        refs = page.evaluate(_LABEL_BOXES, "#chart-fan-dscr .annotation-text")
        assert len(refs) == 2
        assert _overlaps(refs) == []
        page.locator("#chart-sankey").screenshot(path=str(tmp_path / f"sankey-{width}.png"))
        assert errors == []
    finally:
        page.context.close()


_CUT_TABLES = """() => Array.from(document.querySelectorAll('table')).filter(t => {
    // a table wider than the page must sit in an ancestor that scrolls sideways, or it is cut
    for (let a = t.parentElement; a && a !== document.body; a = a.parentElement) {
        const s = getComputedStyle(a).overflowX;
        if (s === 'auto' || s === 'scroll') return false;
    }
    return t.getBoundingClientRect().right > document.documentElement.clientWidth + 1;
}).map(t => (t.closest('section') || {}).id || '(a table)')"""

_LAST_HEADER_REACHABLE = """(sel) => {
    // scroll the table's wrapper to its right end: its last header is then wholly inside the wrapper
    const t = document.querySelector(sel);
    let w = t.parentElement;
    while (w && !['auto', 'scroll'].includes(getComputedStyle(w).overflowX)) w = w.parentElement;
    const ths = t.querySelectorAll('thead th');
    const last = ths[ths.length - 1];
    if (w) w.scrollLeft = w.scrollWidth;
    const box = last.getBoundingClientRect(), frame = (w || document.documentElement).getBoundingClientRect();
    return {fits: box.left >= frame.left - 1 && box.right <= frame.right + 1, text: last.innerText,
            scrolls: !!w && w.scrollWidth > w.clientWidth};
}"""


@pytest.mark.parametrize("width", [1400, 800])
def test_tables_scroll_instead_of_being_cut_and_states_have_names(browser: Any, run: Run, tmp_path: Path,
                                                                  width: int) -> None:
    """Issue 17: the Monte Carlo tranche-risk table was cut at 1,400 px; the by-state chart showed codes (MX-CHP).
    At 1,400 and 800 px no table runs off the page without a sideways scroll, the tranche-risk table's last column
    can be scrolled into view, and the by-state chart's axis reads state names beside their codes. Screenshots are
    kept in the test's folder."""
    page, _, errors = _open(browser, run.folder / "report.html")
    try:
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("Array.from(document.querySelectorAll('div.plot')).forEach(d => Plotly.Plots.resize(d))")
        page.wait_for_timeout(300)
        assert page.evaluate(_CUT_TABLES) == []
        risk = page.locator("#tranche-risk table").first
        risk.scroll_into_view_if_needed()
        page.locator("#tranche-risk").screenshot(path=str(tmp_path / f"tranche-risk-{width}.png"))
        last = page.evaluate(_LAST_HEADER_REACHABLE, "#tranche-risk table")
        assert last["fits"], last
        assert last["text"].strip()
        ticks = page.evaluate("""Array.from(document.querySelectorAll('[id^=chart-portfolio-] .ytick text'))
            .map(t => t.textContent)""")
        assert ticks
        assert any(t.startswith("Michoacán") and t.endswith("(MX-MIC)") for t in ticks), ticks
        assert not any(t.strip() == "MX-MIC" for t in ticks)
        assert errors == []
    finally:
        page.context.close()
