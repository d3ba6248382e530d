"""Issue 14 item 8: every list endpoint is paginated (bounded limit, next link), and state-changing requests from
another site's pages are refused (Origin / Sec-Fetch-Site) with 403 ``cross_site``, nothing done."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from naef.web import create_app
from naef.web.api import MAX_PAGE
from naef.web.csrf import cross_site_reason, normalise_origin
from tests.web.conftest import web_config


def _walk(client: TestClient, first: str, key: str) -> list[Any]:
    """Follow ``next`` links from ``first``; check the Link header says the same."""
    items: list[Any] = []
    url: str | None = first
    pages = 0
    while url is not None:
        r = client.get(url)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body[key]
        url = body["next"]
        if url is None:
            assert "link" not in r.headers
        else:
            assert r.headers["link"] == f'<{url}>; rel="next"'
        pages += 1
        assert pages < 1000
    return items


@pytest.mark.parametrize(("path", "key"), [("/api/ledger/checkpoints", "checkpoints"),
                                           ("/api/proposals", "proposals")])
def test_lists_page_through_to_the_whole_list(client: TestClient, path: str, key: str) -> None:
    whole = client.get(path, params={"limit": MAX_PAGE}).json()
    assert whole["next"] is None
    assert whole["total"] == len(whole[key]) >= 2
    paged = _walk(client, f"{path}?limit=1", key)
    assert paged == whole[key]
    page = client.get(path, params={"offset": 1, "limit": 1}).json()
    assert (page["offset"], page["limit"], page["total"]) == (1, 1, whole["total"])
    assert page[key] == whole[key][1:2]
    beyond = client.get(path, params={"offset": whole["total"] + 5}).json()
    assert beyond[key] == []
    assert beyond["next"] is None
    for bad in ({"limit": 0}, {"limit": MAX_PAGE + 1}, {"offset": -1}, {"limit": "x"}):
        r = client.get(path, params=bad)
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "invalid"


def test_entries_carry_a_next_link(client: TestClient) -> None:
    r = client.get("/api/ledger/entries", params={"start": 3, "limit": 2, "type": "revenue_collected"})
    body = r.json()
    assert body["next"] == f"/api/ledger/entries?start={body['next_start']}&limit=2&type=revenue_collected"
    assert r.headers["link"] == f'<{body["next"]}>; rel="next"'
    walked = _walk(client, "/api/ledger/entries?limit=500", "entries")
    assert [e["index"] for e in walked] == list(range(body["size"]))


def test_runs_list_is_paginated(client: TestClient) -> None:
    ids = [client.post("/api/runs", json={"paths": 10, "seed": s}).json()["id"] for s in range(3)]
    listed = _walk(client, "/api/runs?limit=2", "runs")
    assert {r["id"] for r in listed} == set(ids)
    assert client.get("/api/runs", params={"limit": 2}).json()["total"] == 3


# ------------------------------------------------------------------------------------------------ cross-site


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "null"},
        {"Origin": "not a url"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
        {"Referer": "https://evil.example/page.html"},  # no Origin, no Sec-Fetch-Site: the Referer's origin counts
        {"Referer": "http://testserver.evil.example/"},
        {"Referer": "not a url"},
        {"Referer": "http://testserver/runs", "Origin": "https://evil.example"},  # Origin, when present, decides
    ],
)
def test_cross_site_form_post_is_refused_with_nothing_started(client: TestClient, headers: dict[str, str]) -> None:
    before = client.get("/api/runs").json()["total"]
    r = client.post("/runs", content=b"paths=10&seed=1", follow_redirects=False,
                    headers={"Content-Type": "application/x-www-form-urlencoded", **headers})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "cross-site request refused" in r.text
    api = client.post("/api/runs", json={"paths": 10}, headers=headers)
    assert api.status_code == 403
    err = api.json()["error"]
    assert err["code"] == "cross_site"
    assert "\n" not in err["message"]
    assert client.get("/api/runs").json()["total"] == before


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "http://testserver"}, {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
     {"Sec-Fetch-Site": "none"}, {"Origin": "https://testserver"}, {"Referer": "http://testserver/runs?x=1"}],
)
def test_same_origin_and_non_browser_posts_pass(client: TestClient, headers: dict[str, str]) -> None:
    r = client.post("/runs", content=b"paths=10&seed=1", follow_redirects=False,
                    headers={"Content-Type": "application/x-www-form-urlencoded", **headers})
    assert r.status_code == 303, r.text


def test_reads_are_not_affected(client: TestClient) -> None:
    assert client.get("/api/health", headers={"Origin": "https://evil.example",
                                              "Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_public_url_is_the_origin_behind_a_proxy(demo_db: Any) -> None:
    with TestClient(create_app(web_config(demo_db, public_url="https://fund.example"))) as c:
        ok = c.post("/api/runs", json={"paths": 10}, headers={"Origin": "https://fund.example"})
        assert ok.status_code == 202
        assert c.post("/api/runs", json={"paths": 10}, headers={"Origin": "http://testserver"}).status_code == 403
        assert c.post("/api/runs", json={"paths": 10}, headers={"Origin": "http://fund.example"}).status_code == 403


def test_rule_as_a_pure_function() -> None:
    h = {"host": "fund.example:8443", "origin": "https://FUND.example:8443"}
    assert cross_site_reason(method="POST", headers=h, public_url=None) is None
    assert cross_site_reason(method="GET", headers={"origin": "https://evil.example"}, public_url=None) is None
    assert cross_site_reason(method="DELETE", headers={"host": "a", "origin": "https://b"}, public_url=None)
    referer = cross_site_reason(method="POST", headers={"host": "a", "referer": "https://b/form"}, public_url=None)
    assert referer == "Referer: 'https://b/form' is not this server's origin (Host: 'a')"
    assert cross_site_reason(method="POST", headers={"referer": "https://fund.example/runs"},
                             public_url="https://fund.example") is None
    assert normalise_origin("https://x.example:443/") == ("https", "x.example")
    assert normalise_origin("http://[::1]:8000") == ("http", "[::1]:8000")
    assert normalise_origin("ftp://x") is None
    assert normalise_origin("http://x:99999") is None
