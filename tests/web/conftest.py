"""Fixtures of the web tests: a demo ledger (``naef ledger demo``, built once per session and copied for each
test), an app on it, signed-request helpers with the demo stakeholders' keys."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install 'naef[web]')")

import uvicorn
from fastapi.testclient import TestClient

from naef.demo import DEMO_LOG_KEY_NAME, demo_key, run_demo
from naef.ledger.approvals import DisbursementProposal, import_bods, sign_approval, sign_proposal
from naef.ledger.benchmarking import UnitCostClaim
from naef.ledger.keys import SignerKey
from naef.ledger.log import Ledger
from naef.web import WebConfig, create_app
from naef.web.signing import sign_request
from tests.ledger.governed import entity_statement

ORIGIN = DEMO_LOG_KEY_NAME


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo ledger (baseline figures, 7 years), built once, with the BODS records of the payees the tests
    propose to (a payee must be a BODS entity or person in the ledger)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    run_demo(str(path))
    with Ledger.open(str(path)) as ledger:
        payees = [entity_statement(p) for p in ("demo-ferrocarril-bajio", "demo-x")]
        import_bods(ledger, payees, signer=demo_key("controller"))
    return path


@pytest.fixture(scope="session")
def approval_entry(demo_template: Path) -> str:
    """The page of the demo's first disbursement approval (read from the ledger, so it follows the demo's layout)."""
    with Ledger.open(str(demo_template)) as ledger:
        first = next(iter(ledger.entries(entry_type="disbursement_approved")))
    return f"/ledger/entries/{first.index}"


def copy_ledger(src: Path, dest: Path) -> Path:
    """A consistent copy of an SQLite ledger (the backup API copies the WAL's committed pages too)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
        a.backup(b)
    return dest


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo ledger for one test."""
    return copy_ledger(demo_template, tmp_path / "ledger.db")


def web_config(db: Path | None, **overrides: Any) -> WebConfig:
    """Small limits so that tests stay fast."""
    base: dict[str, Any] = {"ledger_url": None if db is None else str(db), "max_paths": 5_000,
                            "default_paths": 200, "chunk_size": 1_000, "write_rate_per_minute": 600.0,
                            "write_burst": 100}
    base.update(overrides)
    return WebConfig(**base)




@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient]:
    """A TestClient on an app over a fresh copy of the demo ledger."""
    with TestClient(create_app(web_config(demo_db))) as c:
        yield c


def signed_post(client: TestClient, path: str, body: dict[str, Any] | bytes, key: SignerKey, **kwargs: Any) -> Any:
    """POST ``body`` (JSON) to ``path`` signed with ``key`` (RFC 9421, naef's signer); kwargs go to
    sign_request."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    origin = kwargs.pop("origin", ORIGIN)
    url = str(client.base_url).rstrip("/") + path
    headers = sign_request(key, origin=origin, method="POST", url=url, body=raw, **kwargs)
    return client.post(path, content=raw, headers={**headers, "Content-Type": "application/json"})


def railway_proposal(proposal_id: str = "MDF-0100", proposer: str = "mx-board-1") -> DisbursementProposal:
    """A proposal whose unit cost is inside the reference range (USD 6 M per route-km of conventional rail)."""
    return DisbursementProposal(
        proposal_id=proposal_id,
        payee="demo-ferrocarril-bajio",
        payee_name="Ferrocarril del Bajío SA (fictional)",
        amount_usd="30000000.00",
        project_id="rail-jalisco-freight",
        purpose="first section: 50 route-km of freight line",
        proposer=proposer,
        unit_cost=UnitCostClaim(project_type="railway_conventional", unit="route_km", quantity=50,
                                contract_cost_usd="300000000.00"),
    )


def signed_proposal_body(proposal: DisbursementProposal) -> dict[str, Any]:
    """The body of POST /api/proposals: the proposal signed by its proposer's demo key."""
    return sign_proposal(proposal, demo_key(proposal.proposer)).model_dump(mode="json")


def approval_body(proposal: DisbursementProposal, signer: str, justification: str | None = None) -> dict[str, Any]:
    """The body of POST /api/approvals by ``signer`` (demo key)."""
    return sign_approval(proposal, demo_key(signer), justification=justification).model_dump(mode="json")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def live_server(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """uvicorn serving the app over a copy of the demo ledger, in a thread of this process."""
    db = copy_ledger(demo_template, tmp_path_factory.mktemp("live") / "ledger.db")
    app = create_app(web_config(db))
    app.state.naef.overview.result(timeout=120)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)
