"""The portal's pages read without JavaScript: server-rendered HTML with the numbers in tables; the run form posts
without scripts; scripts only from this server (Content-Security-Policy)."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from naef.web.app import plotly_js_path

APPROVAL = "/ledger/entries/{approval}"
"""The page of the demo's first disbursement approval (fixture ``approval_entry``)."""
PAGES = ["/", "/risk", "/mdf", "/ledger", APPROVAL, "/sign", "/sign/MDF-0003"]


def _text(page: str) -> str:
    """The page without its scripts and tags: what a reader without JavaScript sees."""
    page = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_and_scripts_come_from_this_server(client: TestClient, approval_entry: str, path: str) -> None:
    path = approval_entry if path == APPROVAL else path
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    for src in re.findall(r'<script[^>]*src="([^"]+)"', r.text):
        assert src.startswith("/static/"), src
        assert client.get(src).status_code == 200, src
    assert not re.search(r"<script(?![^>]*(src=|type=\"application/json\"))", r.text), "inline script"
    assert " on" + "click=" not in r.text


def test_plotly_is_served_from_the_installed_package(client: TestClient) -> None:
    r = client.get("/static/plotly.min.js")
    assert r.status_code == 200
    assert r.content == plotly_js_path().read_bytes()


def test_reading_without_javascript(client: TestClient, approval_entry: str) -> None:
    index = _text(client.get("/").text)
    assert "NAEF securities issued" in index
    assert "USD 75.00 bn" in index
    assert "Collection account → Mexican Development Fund" in index
    mdf = _text(client.get("/mdf").text)
    for needle in ("seaport", "Veracruz", "MX-OAX", "150,000,000.00", "inferred"):
        assert needle in mdf, needle
    ledger = _text(client.get("/ledger").text)
    assert "demo.naef.example/log" in ledger
    assert "MDF-0002" in ledger
    assert "conflict_of_interest" in ledger
    entry = _text(client.get(approval_entry).text)
    assert "disbursement_approved" in entry
    assert "inclusion_path" in entry
    sign = _text(client.get("/sign/MDF-0003").text)
    assert "naef disbursement approval v1" in sign
    assert "benchmark flag" in sign
    risk = _text(client.get("/risk").text)
    assert "collapse_2008" in risk
    assert "Tranches" in risk


def test_the_run_form_works_without_javascript(client: TestClient) -> None:
    r = client.post("/runs", content=b"paths=150&seed=2&scenario=baseline",
                    headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("/risk?run=")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = client.get(location).text
        if 'id="job-state">done' in page:
            break
        assert 'http-equiv="refresh"' in page  # a running run's page reloads by itself
        time.sleep(0.2)
    else:
        raise AssertionError("the run did not finish")
    text = _text(page)
    assert "150 paths" in text
    assert "implied rating" in text
    assert "P50" in text
    bad = client.post("/runs", content=b"paths=lots", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert bad.status_code == 400
    assert "whole numbers" in bad.text


@pytest.mark.parametrize(("path", "status"), [("/ledger/entries/99999", 404), ("/sign/NOPE", 404),
                                              ("/nowhere", 404), ("/risk?run=zzz", 404),
                                              ("/ledger/entries/-3", 422)])
def test_portal_errors_are_pages(client: TestClient, path: str, status: int) -> None:
    r = client.get(path)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert 'id="error-message"' in r.text


def test_pages_without_a_ledger(tmp_path: Path) -> None:
    from naef.web import create_app
    from tests.web.conftest import web_config

    with TestClient(create_app(web_config(None))) as c:
        for path in ("/ledger", "/mdf", "/sign"):
            assert "runs without a ledger" in c.get(path).text
        assert c.get("/ledger/entries/1").status_code == 503


def test_ledger_text_is_escaped_in_pages(client: TestClient) -> None:
    from naef.demo import demo_key
    from naef.ledger.approvals import DisbursementProposal
    from tests.web.conftest import signed_post, signed_proposal_body

    evil = "<script>alert(1)</script>"
    proposal = DisbursementProposal(proposal_id="MDF-0666", payee="demo-x", payee_name=f"Payee {evil}",
                                    amount_usd="5.00", project_id="road-puebla-1", purpose=f"works {evil}",
                                    proposer="mx-board-1")
    r = signed_post(client, "/api/proposals", signed_proposal_body(proposal), demo_key("mx-board-1"))
    assert r.status_code == 201, r.text
    for path in ("/mdf", "/ledger", "/sign", "/sign/MDF-0666", f"/ledger/entries/{r.json()['indexes'][0]}"):
        page = client.get(path).text
        assert evil not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "\\u003cscript\\u003e" in page, path


def test_a_failed_run_says_why_and_stops_reloading(client: TestClient) -> None:
    from naef.errors import NaefError

    def fail(progress: object) -> dict[str, object]:
        raise NaefError("fields[0].decline.di: must be positive")

    state = client.app.state.naef  # type: ignore[attr-defined]
    job = state.jobs.submit(kind="monte_carlo", scenario="baseline", paths=1, seed=1, total_units=1, work=fail)
    deadline = time.monotonic() + 30
    while client.get(f"/api/runs/{job.id}").json()["state"] != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    status = client.get(f"/api/runs/{job.id}").json()
    assert status["error"] == "fields[0].decline.di: must be positive"
    r = client.get(f"/api/runs/{job.id}/result")
    assert r.status_code == 409
    assert "must be positive" in r.json()["error"]["message"]
    page = client.get(f"/risk?run={job.id}").text
    assert "must be positive" in page
    assert 'http-equiv="refresh"' not in page
