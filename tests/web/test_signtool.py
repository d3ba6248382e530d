"""``python -m naef.web.signtool``: sign base64 bytes locally; send a signed write request to a live server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from naef.demo import demo_key
from naef.web.signtool import main
from tests.web.conftest import approval_body, railway_proposal, signed_proposal_body


def _key_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.key"
    path.write_text(demo_key(name).encode() + "\n")
    return path


def test_sign_prints_the_ed25519_signature(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = b"naef disbursement approval v1\n{}"
    assert main(["sign", "--key", str(_key_file(tmp_path, "controller")),
                 "--message", base64.b64encode(message).decode()]) == 0
    signature = base64.b64decode(capsys.readouterr().out.strip())
    assert demo_key("controller").verifier().verify_raw(message, signature)
    assert main(["sign", "--key", str(_key_file(tmp_path, "observer-1")), "--message", "not base64!"]) == 2
    assert "not standard base64" in capsys.readouterr().err


def test_post_sends_a_signed_request(live_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proposal = railway_proposal("MDF-0300")
    body = tmp_path / "proposal.json"
    body.write_text(json.dumps(signed_proposal_body(proposal)))
    assert main(["post", f"{live_server}/api/proposals", "--key", str(_key_file(tmp_path, "mx-board-1")),
                 "--body", str(body)]) == 0
    assert json.loads(capsys.readouterr().out)["signer"] == "mx-board-1"
    approval = tmp_path / "approval.json"
    approval.write_text(json.dumps(approval_body(proposal, "mx-board-1")))  # the proposer itself: refused, 409
    assert main(["post", f"{live_server}/api/approvals", "--key", str(_key_file(tmp_path, "mx-board-1")),
                 "--body", str(approval)]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "self_approval"
    shown = httpx.get(f"{live_server}/api/proposals/MDF-0300").json()
    assert shown["refusals"][0]["reason_code"] == "self_approval"
