"""The JSON API on a demo ledger (httpx through FastAPI's TestClient): reads, proofs, runs, errors, disclosures."""

from __future__ import annotations

import io
import json
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from naef.demo import demo_key
from naef.errors import NaefError
from naef.ledger import Ledger
from naef.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from naef.ledger.note import open_checkpoint
from naef.web import create_app
from naef.web.config import WebConfig
from tests.web.conftest import web_config


def _wait_done(client: TestClient, run_id: str, timeout_s: float = 120.0) -> list[dict[str, Any]]:
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get(f"/api/runs/{run_id}").json()
        seen.append(status)
        if status["state"] in ("done", "failed"):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish in {timeout_s} s: {seen[-1]}")


def test_health_and_openapi(client: TestClient) -> None:
    h = client.get("/api/health").json()
    assert h["status"] == "ok"
    assert h["ledger"] is True
    assert h["ledger_size"] > 100
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/runs", "/api/ledger/proofs/inclusion", "/api/ledger/proofs/consistency", "/api/approvals",
                 "/api/proposals", "/api/executions", "/api/disclosures/{name}", "/api/ledger/checkpoints"):
        assert path in schema["paths"], path


def test_entries_match_the_ledger(client: TestClient, demo_db: Path) -> None:
    with Ledger.open(str(demo_db)) as ledger:
        size = ledger.size()
        want = [ledger.get(i) for i in (0, 17, size - 1)]
    page = client.get("/api/ledger/entries", params={"start": 10, "limit": 5}).json()
    assert [e["index"] for e in page["entries"]] == [10, 11, 12, 13, 14]
    assert page["size"] == size
    assert page["next_start"] == 15
    for e in want:
        got = client.get(f"/api/ledger/entries/{e.index}").json()
        assert got["canonical"].encode("utf-8") == e.canonical
        assert got["leaf_hash"] == leaf_hash(e.canonical).hex()
        assert got["type"] == e.type
    typed = client.get("/api/ledger/entries", params={"type": "disbursement_executed", "limit": 500}).json()
    assert typed["entries"]
    assert all(e["type"] == "disbursement_executed" for e in typed["entries"])


def test_inclusion_and_consistency_proofs_verify_against_the_signed_checkpoint(client: TestClient) -> None:
    info = client.get("/api/ledger").json()
    cp = client.get("/api/ledger/checkpoints/latest").json()
    from naef.ledger.keys import VerifierKey

    opened = open_checkpoint(cp["note"], VerifierKey.parse(info["log_key"]))
    assert opened.checkpoint.size == cp["size"]
    root = opened.checkpoint.root_hash
    for index in (0, 1, cp["size"] // 2, cp["size"] - 1):
        entry = client.get(f"/api/ledger/entries/{index}").json()
        proof = client.get("/api/ledger/proofs/inclusion", params={"index": index, "size": cp["size"]}).json()
        path = [bytes.fromhex(h) for h in proof["inclusion_path"]]
        assert verify_inclusion(leaf_hash(entry["canonical"].encode("utf-8")), index, cp["size"], path, root)
        # the same proof does not prove another entry
        other = client.get(f"/api/ledger/entries/{(index + 1) % cp['size']}").json()
        assert not verify_inclusion(leaf_hash(other["canonical"].encode("utf-8")), index, cp["size"], path, root)
    checkpoints = client.get("/api/ledger/checkpoints").json()["checkpoints"]
    assert len(checkpoints) >= 2
    first = checkpoints[0]
    c = client.get("/api/ledger/proofs/consistency", params={"from_size": first["size"], "size": cp["size"]}).json()
    assert verify_consistency(first["size"], cp["size"], [bytes.fromhex(h) for h in c["consistency_path"]],
                              bytes.fromhex(first["root_hash"]), root)


@pytest.mark.parametrize(
    ("url", "status", "needle"),
    [
        ("/api/ledger/entries/100000", 404, "not in the log"),
        ("/api/ledger/entries/-1", 422, "index"),
        ("/api/ledger/entries/abc", 422, "index"),
        ("/api/ledger/proofs/inclusion?index=5&size=3", 400, "index: 5 is not in a tree of size 3"),
        ("/api/ledger/proofs/inclusion?index=0&size=999999", 400, "size"),
        ("/api/ledger/proofs/inclusion", 422, "index"),
        ("/api/ledger/proofs/consistency?from_size=9&size=3", 400, "from-size"),
        ("/api/ledger/entries?type=NOT-A-TYPE", 422, "type"),
        ("/api/ledger/entries?limit=100000", 422, "limit"),
        ("/api/runs/nope", 404, "no such run"),
        ("/api/proposals/MDF-9999", 404, "not in the log"),
        ("/api/approval-message?proposal_id=MDF-9999", 404, "not in the log"),
        ("/api/disclosures/pdf", 422, "name"),
        ("/api/nothing-here", 404, "no such page or endpoint"),
    ],
)
def test_errors_are_json_with_a_clear_message(client: TestClient, url: str, status: int, needle: str) -> None:
    r = client.get(url)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["status"] == status, err
    assert needle in err["message"], err


def test_wrong_method_and_bad_json_are_json_errors(client: TestClient) -> None:
    r = client.delete("/api/ledger")
    assert r.status_code == 405
    assert "method not allowed" in r.json()["error"]["message"]
    r = client.post("/api/runs", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid"
    r = client.post("/api/runs", json={"paths": 10, "colour": "blue"})
    assert r.status_code == 422
    assert "colour" in r.json()["error"]["message"]


def test_a_run_reports_progress_and_its_result_matches_the_engine(client: TestClient) -> None:
    r = client.post("/api/runs", json={"paths": 300, "seed": 7})
    assert r.status_code == 202, r.text
    status = r.json()
    assert r.headers["Location"] == f"/api/runs/{status['id']}"
    assert status["paths_total"] == 300
    assert status["state"] in ("queued", "running", "done")
    seen = _wait_done(client, status["id"])
    assert seen[-1]["state"] == "done", seen[-1]
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    result = client.get(f"/api/runs/{status['id']}/result").json()
    mc = result["monte_carlo"]
    assert mc["run"]["paths"] == 300
    assert mc["run"]["seed"] == 7
    from naef import load_scenario
    from naef.analysis.montecarlo import run_monte_carlo

    direct = run_monte_carlo(load_scenario("baseline"), n_paths=300, seed=7, chunk_size=1_000)
    assert [t["pd"] for t in mc["tranches"]] == [t["pd"] for t in direct.summary["tranches"]]
    pct = result["percentiles"]
    assert len(pct["period_start"]) == len(direct.percentiles)
    want = direct.percentiles["dscr_p50"].to_numpy()
    assert [None if v != v else pytest.approx(v) for v in want] == pct["dscr_p50"]  # NaN (no debt service) -> null
    assert any(v is not None for v in pct["dscr_p50"])
    assert result["sankey"]["links"]
    assert result["stress"]["rows"][0]["name"] == "base"
    latest = client.get("/api/results/latest").json()
    assert latest["source"] == f"run {status['id']}"
    assert next(j["id"] for j in client.get("/api/runs").json()["runs"]) == status["id"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"paths": 0}, "paths"),
        ({"paths": 5_001}, "paths: must be between 1 and 5000"),
        ({"paths": 10, "seed": -1}, "seed"),
        ({"paths": 10, "scenario": "../../etc/passwd"}, "not one of this server's scenarios"),
        ({"paths": 10, "scenario": "/tmp/x.toml"}, "not one of this server's scenarios"),
    ],
)
def test_bad_run_requests_name_the_field(client: TestClient, body: dict[str, Any], needle: str) -> None:
    r = client.post("/api/runs", json=body)
    assert r.status_code in (400, 422), r.text
    assert needle in r.json()["error"]["message"]


def test_runs_are_rate_limited_and_the_queue_is_bounded(demo_db: Path) -> None:
    app = create_app(web_config(demo_db, run_rate_per_minute=1, run_burst=2, max_queued_runs=5))
    with TestClient(app) as c:
        codes = [c.post("/api/runs", json={"paths": 50}).status_code for _ in range(3)]
        assert codes[:2] == [202, 202]
        assert codes[2] == 429
        r = c.post("/api/runs", json={"paths": 50})
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0
        assert "rate limit" in r.json()["error"]["message"]
    app = create_app(web_config(demo_db, max_queued_runs=1))
    with TestClient(app) as c:
        gate = threading.Event()
        app.state.naef.jobs.call(gate.wait)  # hold the worker: the first run stays queued
        first = c.post("/api/runs", json={"paths": 10})
        second = c.post("/api/runs", json={"paths": 10})
        gate.set()
        assert first.status_code == 202
        assert second.status_code == 429
        assert second.json()["error"]["code"] == "busy"
        assert _wait_done(c, first.json()["id"])[-1]["state"] == "done"


def test_result_of_an_unfinished_run_is_409(demo_db: Path) -> None:
    app = create_app(web_config(demo_db))
    with TestClient(app) as c:
        state = app.state.naef
        gate = threading.Event()
        state.jobs.call(gate.wait)  # hold the worker so the next run stays queued
        run = c.post("/api/runs", json={"paths": 20}).json()
        r = c.get(f"/api/runs/{run['id']}/result")
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "not_done"
        gate.set()
        assert _wait_done(c, run["id"])[-1]["state"] == "done"


def test_without_a_ledger_ledger_endpoints_answer_503() -> None:
    with TestClient(create_app(web_config(None))) as c:
        r = c.get("/api/ledger")
        assert r.status_code == 503
        assert "--ledger" in r.json()["error"]["message"]
        assert c.get("/api/health").json()["ledger"] is False
        assert c.get("/ledger").status_code == 200  # the page says so instead


def test_disclosure_downloads(client: TestClient, demo_db: Path, tmp_path: Path) -> None:
    formats = {f["name"]: f for f in client.get("/api/disclosures").json()}
    from naef.web.api import DisclosureName
    from naef.web.disclosures import FORMATS

    assert set(FORMATS) == set(formats) == set(DisclosureName.__args__)
    assert formats["ledger.jsonl"]["available"]
    assert formats["checkpoint.txt"]["available"]
    cp = client.get("/api/ledger/checkpoints/latest").json()
    note = client.get("/api/disclosures/checkpoint.txt")
    assert note.status_code == 200
    assert note.text == cp["note"]
    lines = client.get("/api/disclosures/ledger.jsonl").text.splitlines()
    assert len(lines) == cp["size"]
    with Ledger.open(str(demo_db)) as ledger:
        for line in (lines[0], lines[-1]):
            row = json.loads(line)
            e = ledger.get(row["index"])
            assert row["entry"].encode("utf-8") == e.canonical
            assert row["leaf_hash"] == e.leaf_hash.hex()
    for name in ("iati", "oc4ids", "eiti"):
        r = client.get(f"/api/disclosures/{name}")
        if not formats[name]["available"]:
            assert r.status_code == 501
            assert "not installed" in r.json()["error"]["message"]
            continue
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/zip"
        folder = tmp_path / name
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            assert {"manifest.json", "checkpoint.txt", "entries.jsonl"} <= set(z.namelist())
            z.extractall(folder)
        # unzipped, the download is a naef.disclosure bundle: checked offline with the log key
        from naef.disclosure.bundle import verify_bundle
        from naef.ledger.keys import VerifierKey

        report = verify_bundle(folder, VerifierKey.parse(client.get("/api/ledger").json()["log_key"]))
        assert report is not None
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["checkpoint"]["size"] == cp["size"]


def test_mdf_projects_by_sector_and_state(client: TestClient) -> None:
    mdf = client.get("/api/mdf").json()
    projects = {p["project_id"]: p for p in mdf["projects"]}
    assert projects["road-oaxaca-coast"]["sector"] == "road"
    assert projects["road-oaxaca-coast"]["state"] == "MX-OAX"
    assert projects["road-oaxaca-coast"]["state_inferred"]
    assert projects["port-veracruz-terminal"]["disbursed_usd"] == "150000000.00"
    assert mdf["by_sector"]["education"]["projects"] == 2
    assert mdf["disbursed_usd"] == "267000000.00"  # the demo's four executed disbursements


def test_proposals_and_approval_message(client: TestClient) -> None:
    proposals = {p["proposal_id"]: p for p in client.get("/api/proposals", params={"limit": 500}).json()["proposals"]}
    assert set(proposals) == {"MDF-0001", "MDF-0002", "MDF-0003", "MDF-0004"}
    assert all(p["status"] == "executed" for p in proposals.values())
    assert proposals["MDF-0002"]["refusals"][0]["reason_code"] == "conflict_of_interest"
    from naef.ledger.approvals import approval_message, find_proposal

    msg = client.get("/api/approval-message", params={"proposal_id": "MDF-0001", "justification": "ok"}).json()
    import base64

    with Ledger.open(str(client.app.state.naef.config.ledger_url)) as ledger:  # type: ignore[attr-defined]
        proposal = find_proposal(ledger, "MDF-0001")
    assert base64.b64decode(msg["message_b64"]) == approval_message(proposal, "ok")
    key = demo_key("mx-board-2")
    assert key.verifier().verify_raw(base64.b64decode(msg["message_b64"]), key.sign(approval_message(proposal, "ok")))


def test_an_app_serving_again_after_a_shutdown_still_runs_jobs(demo_db: Path) -> None:
    """An app object can outlive one lifespan (a test client, a server restarted in process): a run started after
    its shutdown is queued, not a 500 (found by schemathesis in CI)."""
    app = create_app(web_config(demo_db))
    with TestClient(app) as first:
        assert first.get("/api/runs").status_code == 200
    with TestClient(app) as again:
        r = again.post("/api/runs", json={"paths": 50, "seed": 3})
        assert r.status_code == 202, r.text


@pytest.mark.parametrize("interval", [0, -0.5, float("nan"), float("inf"), "0.5"])
def test_a_bad_thread_switch_interval_is_refused_naming_the_field(interval: Any) -> None:
    """Review of wt-web: ``sys.setswitchinterval`` raises on 0 or less from inside ``create_app``; the config
    refuses such a value when it is made, with the field's name."""
    with pytest.raises(NaefError, match="thread_switch_interval_ms: must be a positive number"):
        WebConfig(thread_switch_interval_ms=interval)


def test_the_thread_switch_interval_is_set_when_the_app_is_made() -> None:
    before = sys.getswitchinterval()
    try:
        create_app(WebConfig(thread_switch_interval_ms=2.0))
        assert sys.getswitchinterval() == pytest.approx(0.002)
        create_app(WebConfig(thread_switch_interval_ms=None))  # None leaves it
        assert sys.getswitchinterval() == pytest.approx(0.002)
    finally:
        sys.setswitchinterval(before)
