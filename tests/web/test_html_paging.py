"""The portal's HTML lists come a page at a time (issue 14 item 8): the ledger page's entries, checkpoints and
proposals, and the /sign list — ``offset``/``limit`` validated (a bad value is a 4xx page with one line naming the
parameter, never a 500), previous/next links that walk the whole list once, a bounded page size."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from naef.demo import demo_key
from naef.ledger.approvals import SignedAmendment, amend_governance, control_state, draft_amendment, sign_amendment
from naef.ledger.governance import APPROVING_ROLES
from naef.ledger.interests import ConflictReach
from naef.ledger.log import Ledger
from naef.web import create_app
from naef.web.paging import MAX_HTML_PAGE
from tests.web.conftest import web_config

ROW = {
    "entry": re.compile(r'<tr><td class="n"><a href="/ledger/entries/(\d+)">'),
    "checkpoint": re.compile(r'<tr><td class="n">(\d+)</td><td class="mono">'),
    "proposal": re.compile(r'<tr><td><a href="/sign/([^"]+)">[^<]+</a> <a class="note"'),
    "sign": re.compile(r'<tr><td><a href="/sign/([^"]+)">[^<]+</a></td>'),
}


def _table(html: str, table_id: str) -> str:
    start = html.index(f'id="{table_id}"')
    return html[start:html.index("</table>", start)]


def _link(html: str, pager_id: str, rel: str) -> str | None:
    m = re.search(rf'id="{pager_id}"[^\n]*?<a href="([^"]+)" rel="{rel}"', html)
    return None if m is None else unescape(m.group(1))


def _walk(client: TestClient, first: str, table_id: str, row: str, pager_id: str, rel: str) -> list[str]:
    """Follow the ``rel`` links from ``first``; the rows of every page, in the order visited."""
    rows: list[str] = []
    url: str | None = first
    for _ in range(1000):
        if url is None:
            return rows
        r = client.get(url)
        assert r.status_code == 200, r.text
        rows += ROW[row].findall(_table(r.text, table_id))
        url = _link(r.text, pager_id, rel)
    raise AssertionError("the links never end")


def test_the_ledger_entries_page_back_to_the_first_entry(client: TestClient) -> None:
    size = int(client.get("/api/ledger").json()["size"])
    assert size > 3 * 50  # the demo has more entries than a page of the default size
    latest = client.get("/ledger?limit=40")
    assert latest.status_code == 200
    first_shown = [int(i) for i in ROW["entry"].findall(_table(latest.text, "entry-table"))]
    assert first_shown == list(range(size - 40, size))  # the newest page first
    assert _link(latest.text, "entry-pager", "next") is None
    older = _walk(client, "/ledger?limit=40", "entry-table", "entry", "entry-pager", "prev")
    # every entry; the oldest page is a full page from entry 0, so it repeats what the page after it began with
    assert {int(i) for i in older} == set(range(size))
    assert len(older) == size + (-size % 40)
    # and forwards from the first page to the last
    forward = _walk(client, "/ledger?offset=0&limit=40", "entry-table", "entry", "entry-pager", "next")
    assert [int(i) for i in forward] == list(range(size))
    # the older name of offset still works
    assert ROW["entry"].findall(_table(client.get("/ledger?start=5&limit=3").text, "entry-table")) == ["5", "6", "7"]


def test_checkpoints_and_proposals_page_on_the_ledger_page(client: TestClient) -> None:
    checkpoints = [str(c["size"]) for c in client.get("/api/ledger/checkpoints?limit=500").json()["checkpoints"]]
    assert len(checkpoints) >= 2
    walked = _walk(client, "/ledger?checkpoints_limit=1", "checkpoint-table", "checkpoint", "checkpoint-pager", "next")
    assert walked == checkpoints[::-1]  # newest first, each once
    proposals = [p["proposal_id"] for p in client.get("/api/proposals?limit=500").json()["proposals"]]
    assert len(proposals) >= 2
    walked = _walk(client, "/ledger?proposals_limit=1", "proposal-table", "proposal", "proposal-pager", "next")
    assert walked == proposals
    # one list's links keep the other lists' windows
    page = client.get("/ledger?proposals_limit=1&checkpoints_limit=1&limit=7").text
    nxt = _link(page, "proposal-pager", "next")
    assert nxt is not None
    assert "checkpoints_limit=1" in nxt
    assert "limit=7" in nxt


def test_the_sign_list_pages(client: TestClient) -> None:
    proposals = [p["proposal_id"] for p in client.get("/api/proposals?limit=500").json()["proposals"]]
    assert _walk(client, "/sign?limit=2", "sign-table", "sign", "sign-pager", "next") == proposals
    last = client.get(f"/sign?offset={len(proposals) - 1}&limit=2").text
    assert _link(last, "sign-pager", "next") is None
    assert _link(last, "sign-pager", "prev") is not None


TOO_MANY = f"query limit: Input should be less than or equal to {MAX_HTML_PAGE}"


@pytest.mark.parametrize(
    ("query", "status", "line"),
    [
        ("/ledger?limit=0", 422, "query limit: Input should be greater than or equal to 1"),
        (f"/ledger?limit={MAX_HTML_PAGE + 1}", 422, TOO_MANY),
        ("/ledger?offset=-1", 422, "query offset: Input should be greater than or equal to 0"),
        ("/ledger?offset=abc", 422, "query offset: Input should be a valid integer"),
        ("/ledger?offset=99999999999999999999999", 422, "query offset: Input should be"),
        ("/ledger?checkpoints_limit=x", 422, "query checkpoints_limit: Input should be a valid integer"),
        ("/ledger?proposals_offset=-5", 422, "query proposals_offset: Input should be greater than or equal to 0"),
        ("/ledger?offset=100000", 400, "offset: 100000 is past the end of the list"),
        ("/ledger?checkpoints_offset=5000", 400, "checkpoints_offset: 5000 is past the end of the list"),
        ("/ledger?proposals_offset=5000", 400, "proposals_offset: 5000 is past the end of the list"),
        ("/sign?limit=1000", 422, TOO_MANY),
        ("/sign?offset=5000", 400, "offset: 5000 is past the end of the list"),
    ],
)
def test_a_bad_window_is_a_4xx_page_with_one_line(client: TestClient, query: str, status: int, line: str) -> None:
    r = client.get(query)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    message = re.search(r'<p class="result fail" id="error-message">(.*?)</p>', r.text, re.S)
    assert message is not None
    text = unescape(message.group(1))
    assert "\n" not in text.strip()  # one line
    assert line in text


def test_the_governance_endpoint_shows_the_conflict_screens_reach(client: TestClient) -> None:
    """The web API agrees with the CLI and `audit` on the reach in force: the demo registers none, so upward only
    (the default, 3 links for the wider directions once enabled), and no amendment."""
    body = client.get("/api/governance").json()
    assert body["conflict_reach"] == {"directions": ["upward"], "max_links": 3}
    assert body["amendments"] == []


def test_an_amended_reach_shows_on_the_governance_endpoint(demo_db: Path) -> None:
    with Ledger.open(str(demo_db)) as ledger:
        state = control_state(ledger)
        wider = ConflictReach(directions=("upward", "sideways"), max_links=2)
        draft = draft_amendment(state, wider)
        approvers = [s.name for s in state.governance.stakeholders if s.role in APPROVING_ROLES]
        index = amend_governance(ledger, SignedAmendment(
            amendment=draft, signatures=[sign_amendment(draft, demo_key(n)) for n in approvers]))
    with TestClient(create_app(web_config(demo_db))) as c:
        body = c.get("/api/governance").json()
        assert body["conflict_reach"] == {"directions": ["upward", "sideways"], "max_links": 2}
        assert body["amendments"] == [index]
        assert c.get("/api/ledger/audit").json()["ok"] is True
