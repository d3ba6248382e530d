"""The portal in headless Chromium (Debian's /usr/bin/chromium driven by Playwright) against a real uvicorn server
on a free loopback port: every page opens without console errors, a run started from the page draws its fan
charts, the in-browser inclusion check passes — and fails once the test alters the proof, the entry, the
checkpoint or the key — and the signer's page submits signatures made outside the page (and, with a key file, in
it).

Never runs ``playwright install``: the browser is the system's Chromium.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (test extra)")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not found (install Debian's chromium package)", allow_module_level=True)

from naef.demo import demo_key  # noqa: E402
from naef.ledger.keys import SignerKey  # noqa: E402
from naef.web.signing import parse_signature_headers, sign_request  # noqa: E402
from tests.web.conftest import ORIGIN, railway_proposal, signed_proposal_body  # noqa: E402

APPROVAL = "/ledger/entries/{approval}"
"""The page of the demo's first disbursement approval (fixture ``approval_entry``)."""
PAGES = {"/": 1, "/risk": 0, "/mdf": 2, "/ledger": 0, APPROVAL: 0, "/sign": 0, "/sign/MDF-0003": 0}
"""Each page and how many charts it draws (the risk page draws its fan charts once a Monte Carlo has run)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that may reach nothing but the loopback server (everything else is aborted and reported: the
    portal must work offline); the test fails on any console error, uncaught exception or outside request."""
    context = browser.new_context()
    problems: list[str] = []

    def only_loopback(route: Any) -> None:
        url = route.request.url
        if url.startswith("http://127.0.0.1:") or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            problems.append(f"outside request: {url}")
            route.abort()

    context.route("**/*", only_loopback)
    pg = context.new_page()
    pg.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.set_default_timeout(60_000)
    yield pg
    context.close()
    assert problems == []


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_opens_without_errors(page: Any, live_server: str, approval_entry: str, path: str) -> None:
    response = page.goto(live_server + (approval_entry if path == APPROVAL else path))
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    charts = PAGES[path]
    if charts:
        page.wait_for_function(f"document.querySelectorAll('[data-drawn]').length >= {charts}")
        assert page.locator(".js-plotly-plot svg").count() >= charts
    assert page.locator("nav a").count() == 6


@pytest.mark.parametrize(
    ("path", "needle"),
    [("/", "Collection account → Mexican Development Fund"), ("/risk", "collapse_2008"), ("/mdf", "Veracruz"),
     ("/ledger", "conflict_of_interest"), (APPROVAL, "disbursement_approved"),
     ("/sign/MDF-0003", "naef disbursement approval v1")],
)
def test_reading_pages_work_with_javascript_off(
    browser: Any, live_server: str, approval_entry: str, path: str, needle: str
) -> None:
    path = approval_entry if path == APPROVAL else path
    context = browser.new_context(java_script_enabled=False)
    try:
        pg = context.new_page()
        assert pg.goto(live_server + path).status == 200
        assert needle in pg.inner_text("main")
        assert pg.locator(".js-plotly-plot").count() == 0  # no script ran
    finally:
        context.close()


def test_a_run_started_from_the_page_draws_its_fan_charts(page: Any, live_server: str) -> None:
    page.goto(live_server + "/risk")
    page.fill("#run-paths", "200")
    page.fill("#run-seed", "11")
    page.click("#run-submit")
    page.wait_for_url("**/risk?run=*")
    for column in ("benchmark_usd_per_bbl", "dscr", "to_mdf_usd"):
        chart = page.locator(f"#fan-{column}[data-drawn]")
        chart.wait_for()
        assert chart.locator("svg .scatterlayer .trace").count() == 5  # two bands (2 traces each) and the median
    assert "200 paths, seed 11" in page.inner_text("main")
    assert page.locator("#tranche-table tbody tr").count() == 4



_TITLE_UNDER_TOOLBAR = """() => Array.from(document.querySelectorAll('[id^=fan-][data-drawn]')).map(div => {
    // the chart's title is the nearest heading before it; the toolbar (modebar) must never cover it, nor may the
    // plot carry a title of its own under the toolbar
    let h = div.previousElementSibling;
    while (h && !/^H[1-6]$/.test(h.tagName)) h = h.previousElementSibling;
    const bar = div.querySelector('.modebar');
    const a = h ? h.getBoundingClientRect() : null, b = bar ? bar.getBoundingClientRect() : null;
    const overlap = !!(a && b && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom);
    return {id: div.id, heading: h ? h.innerText : null, overlap, inPlotTitle: !!div.querySelector('.gtitle'),
            unit: (div.querySelector('.ytitle') || {}).textContent || ''};
})"""


@pytest.mark.parametrize("width", [1400, 800])
def test_fan_chart_titles_are_never_under_the_toolbar_and_money_is_usd_m(page: Any, live_server: str,
                                                                       tmp_path: Path, width: int) -> None:
    """Issue 17: on the portal's fan charts the Plotly toolbar covered the titles, and MDF inflows were in US$ million
    per period where the report says USD m per quarter. At 1,400 and 800 px each fan chart is headed in HTML, clear
    of the toolbar (hovered, so the toolbar shows), and the MDF chart's axis reads "USD m per quarter" as report.html
    does. Screenshots are kept in the test's folder."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server + "/risk")
    page.fill("#run-paths", "200")
    page.fill("#run-seed", "12")
    page.click("#run-submit")
    page.wait_for_url("**/risk?run=*")
    for column in ("benchmark_usd_per_bbl", "dscr", "to_mdf_usd"):
        page.locator(f"#fan-{column}[data-drawn]").wait_for()
    page.locator("#fan-to_mdf_usd").hover()
    charts = page.evaluate(_TITLE_UNDER_TOOLBAR)
    page.locator("#fan-to_mdf_usd").screenshot(path=str(tmp_path / f"fan-mdf-{width}.png"))
    assert [c["id"] for c in charts] == ["fan-benchmark_usd_per_bbl", "fan-dscr", "fan-to_mdf_usd"]
    for c in charts:
        assert c["heading"], c
        assert not c["overlap"], c
        assert not c["inPlotTitle"], c
    assert charts[2]["unit"] == "USD m per quarter"


def _check(page: Any) -> tuple[str, str]:
    page.click("#proof-check")
    page.wait_for_selector("#proof-result[data-outcome]")
    result = page.locator("#proof-result")
    return str(result.get_attribute("data-outcome")), str(result.inner_text())


def test_in_browser_proof_check_passes_then_fails_when_altered(page: Any, live_server: str) -> None:
    size = httpx.get(f"{live_server}/api/ledger").json()["latest_checkpoint_size"]
    for index in (20, size - 1):
        page.goto(f"{live_server}/ledger/entries/{index}")
        outcome, text = _check(page)
        assert outcome == "pass", text
        assert f"entry {index} is in the log's signed checkpoint of size {size}" in text
        assert "cosigned by 2 witness(es)" in text
        assert "Ed25519 signature by the log key" in page.inner_text("#proof-steps")

    # the test alters the proof: one hex digit of the first sibling hash
    proof = json.loads(page.input_value("#proof-json"))
    good = json.dumps(proof)
    first = proof["inclusion_path"][0]
    proof["inclusion_path"][0] = ("1" if first[0] != "1" else "2") + first[1:]
    page.fill("#proof-json", json.dumps(proof))
    outcome, text = _check(page)
    assert outcome == "fail"
    assert "roots differ" in text

    # a proof for another index, a shortened path, an altered entry, checkpoint or key: all fail
    wrong_index = {**json.loads(good), "index": json.loads(good)["index"] - 1}
    page.fill("#proof-json", json.dumps(wrong_index))
    assert _check(page)[0] == "fail"
    short = json.loads(good)
    short["inclusion_path"] = short["inclusion_path"][:-1]
    page.fill("#proof-json", json.dumps(short))
    assert _check(page)[0] == "fail"
    page.fill("#proof-json", good)
    assert _check(page)[0] == "pass"

    entry = page.input_value("#proof-entry")
    page.fill("#proof-entry", entry.replace('"type":', '"type" :', 1))
    outcome, text = _check(page)
    assert outcome == "fail"
    assert "roots differ" in text
    page.fill("#proof-entry", entry)

    note = page.input_value("#proof-checkpoint")
    lines = note.split("\n")
    sig_line = next(i for i, line in enumerate(lines) if line.startswith("\u2014 demo.naef.example/log "))
    blob = bytearray(base64.b64decode(lines[sig_line].rsplit(" ", 1)[1]))
    blob[10] ^= 0x01  # one bit of the log's signature
    lines[sig_line] = lines[sig_line].rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(blob)).decode()
    page.fill("#proof-checkpoint", "\n".join(lines))
    outcome, text = _check(page)
    assert outcome == "fail"
    assert "does not verify" in text
    page.fill("#proof-checkpoint", note)

    key = page.input_value("#proof-key")
    page.fill("#proof-key", SignerKey("demo.naef.example/log", b"\x07" * 32).verifier().encode())
    outcome, text = _check(page)
    assert outcome == "fail"
    assert "no signature by the log key" in text
    page.fill("#proof-key", key)
    assert _check(page)[0] == "pass"


def _post_signed(base: str, path: str, body: dict[str, Any], key: SignerKey) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = sign_request(key, origin=ORIGIN, method="POST", url=base + path, body=raw)
    return httpx.post(base + path, content=raw, headers={**headers, "Content-Type": "application/json"})


def test_signer_page_submits_signatures_made_elsewhere_and_in_the_browser(
    page: Any, live_server: str, tmp_path: Path
) -> None:
    proposal = railway_proposal("MDF-0200")
    r = _post_signed(live_server, "/api/proposals", signed_proposal_body(proposal), demo_key("mx-board-1"))
    assert r.status_code == 201, r.text

    # 1. na-board-2 signs on "their own machine" (here: in Python) what the page shows, and pastes the signatures
    page.goto(f"{live_server}/sign/MDF-0200")
    assert "awaiting approvals" in page.inner_text("#proposal-status")
    message = base64.b64decode(page.inner_text("#approval-message-b64").strip())
    signer = demo_key("na-board-2")
    page.select_option("#signer", "na-board-2")
    page.fill("#approval-signature", base64.b64encode(signer.sign(message)).decode())
    page.click("#prepare")
    canonical = base64.b64decode(page.inner_text("#canonical-request-b64").strip())
    # an RFC 9421 signature base (§2.5), in the same form as naef's Python signer (http-message-signatures) writes
    assert canonical.startswith(f'"@method": POST\n"@target-uri": {live_server}/api/approvals\n'
                                '"content-digest": sha-256=:'.encode())
    shown_input = next(line for line in page.inner_text("#request-body").splitlines()
                       if line.startswith("Signature-Input: "))
    page_sig = parse_signature_headers({"Signature-Input": shown_input.removeprefix("Signature-Input: "),
                                        "Signature": "naef=:" + base64.b64encode(bytes(64)).decode() + ":"})
    py_headers = sign_request(signer, origin=ORIGIN, method="POST", url=f"{live_server}/api/approvals", body=b"{}")
    py_sig = parse_signature_headers(py_headers)
    assert (page_sig.label, page_sig.components, page_sig.signer, page_sig.tag) == (
        py_sig.label, py_sig.components, py_sig.signer, py_sig.tag)
    names = [p.split("=")[0] for p in shown_input.split(";")[1:]]
    assert names == [p.split("=")[0] for p in py_headers["Signature-Input"].split(";")[1:]]  # created keyid alg …
    assert canonical.endswith(shown_input.removeprefix("Signature-Input: naef=").encode())
    page.fill("#request-signature", base64.b64encode(signer.sign(canonical)).decode())
    page.click("#submit")
    page.wait_for_selector("#submit-result[data-outcome]")
    assert page.get_attribute("#submit-result", "data-outcome") == "pass", page.inner_text("#submit-result")
    approvals = httpx.get(f"{live_server}/api/proposals/MDF-0200").json()["approvals"]
    assert [a["signer"] for a in approvals] == ["na-board-2"]

    # 2. the others sign in the browser with their key files (read by the page, never sent)
    for name, act in (("mx-board-2", "approve"), ("controller", "approve"), ("na-board-2", "execute")):
        key_file = tmp_path / f"{name}.key"
        key_file.write_text(demo_key(name).encode() + "\n")
        page.goto(f"{live_server}/sign/MDF-0200")
        page.check(f"input[name=action][value={act}]")
        page.locator("#browser-signing summary").click()
        page.set_input_files("#key-file", str(key_file))
        page.click("#sign-here")
        page.wait_for_selector("#submit-result[data-outcome]")
        assert page.get_attribute("#submit-result", "data-outcome") == "pass", page.inner_text("#submit-result")
    shown = httpx.get(f"{live_server}/api/proposals/MDF-0200").json()
    assert shown["status"] == "executed"
    assert sorted(a["signer"] for a in shown["approvals"]) == ["controller", "mx-board-2", "na-board-2"]


def test_paging_through_the_ledger_reaches_every_entry(page: Any, live_server: str, tmp_path: Path) -> None:
    """Issue 14 item 8: the ledger page shows one page of entries (the newest first); clicking "older" walks back to
    entry 0, every entry shown, and "newer" walks forward again. A screenshot of a middle page is kept."""
    limit = 25
    page.goto(live_server + f"/ledger?limit={limit}")
    size = int(page.inner_text("#ledger-size"))
    assert size > 3 * limit
    rows = "#entry-table tbody tr td:first-child"
    seen: list[int] = []
    clicks = 0
    while True:
        shown = [int(t) for t in page.locator(rows).all_inner_texts()]
        assert 0 < len(shown) <= limit
        assert shown == sorted(shown)
        seen += shown
        older = page.locator('#entry-pager a[rel="prev"]')
        if older.count() == 0:
            break
        older.click()
        page.wait_for_load_state("networkidle")
        clicks += 1
        if clicks == 2:
            page.locator("#entry-pager").scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "ledger-paged.png"), full_page=False)
            assert "offset=" in page.url
    assert set(seen) == set(range(size))
    assert clicks == -(-size // limit) - 1
    assert [int(t) for t in page.locator(rows).all_inner_texts()] == list(range(limit))
    page.locator('#entry-pager a[rel="next"]').click()
    page.wait_for_load_state("networkidle")
    assert [int(t) for t in page.locator(rows).all_inner_texts()] == list(range(limit, 2 * limit))
    assert (tmp_path / "ledger-paged.png").stat().st_size > 10_000
