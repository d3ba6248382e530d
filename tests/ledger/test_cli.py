"""``naef keys ...`` and ``naef ledger ...`` through Typer's test runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from naef.commands.keys import keys_app
from naef.commands.ledger import ledger_app
from naef.ledger import Ledger
from naef.ledger.keys import SIG_COSIGNATURE_V1, read_signer_key, read_verifier_key
from naef.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from naef.ledger.note import open_checkpoint

app = typer.Typer()
app.add_typer(ledger_app, name="ledger")
app.add_typer(keys_app, name="keys")


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    for name, extra in (("naef.test/log", []), ("naef.test/controller", ["--cosigner"])):
        code, out, _ = run("keys", "new", name, "--out", str(tmp_path), *extra)
        assert code == 0, out
    return tmp_path


def test_keys_new(keys: Path) -> None:
    private = keys / "naef.test_log.key"
    public = keys / "naef.test_log.pub"
    assert private.stat().st_mode & 0o777 == 0o600
    assert private.read_text().startswith("PRIVATE+KEY+naef.test/log+")
    assert read_verifier_key(public) == read_signer_key(private).verifier()
    witness = read_verifier_key(keys / "naef.test_controller.pub")
    assert witness.sig_type == SIG_COSIGNATURE_V1
    code, out, _ = run("keys", "pub", str(keys / "naef.test_controller.key"), "--cosigner")
    assert code == 0
    assert out.strip() == witness.encode()
    code, _, err = run("keys", "new", "naef.test/log", "--out", str(keys))
    assert code == 2
    assert "already exists" in err
    code, _, err = run("keys", "new", "bad name", "--out", str(keys))
    assert code == 2
    assert err.startswith("error: key name")


def test_full_cycle(db_url: str, keys: Path, tmp_path: Path) -> None:
    key, pub = str(keys / "naef.test_log.key"), str(keys / "naef.test_log.pub")
    code, out, err = run("ledger", "init", db_url, "--key", pub)
    assert code == 0, err
    payload_file = tmp_path / "p.json"
    payload_file.write_text(json.dumps({"period": "2031Q2", "amount_usd": 2.5, "source": "PEMEX"}))
    for i in range(6):
        payload = f"@{payload_file}" if i % 2 else json.dumps({"period": "Q", "amount_usd": i, "source": "PEMEX"})
        code, out, err = run(
            "ledger",
            "append",
            db_url,
            "--type",
            "revenue_collected",
            "--payload",
            payload,
            "--time",
            "2031-06-30T00:00:00Z",
        )
        assert code == 0, err
        assert json.loads(out)["index"] == i
    code, note3, _ = run("ledger", "checkpoint", db_url, "--key", key)
    assert code == 0
    cp = open_checkpoint(note3, read_verifier_key(pub)).checkpoint
    assert cp.size == 6
    assert cp.origin == "naef.test/log"
    published = tmp_path / "published.checkpoint"
    published.write_text(note3)
    run(
        "ledger",
        "append",
        db_url,
        "--type",
        "revenue_collected",
        "--payload",
        '{"period": "Q", "amount_usd": 9, "source": "PEMEX"}',
    )
    # witness
    code, _, err = run("ledger", "add-witness", db_url, "--key", str(keys / "naef.test_controller.pub"))
    assert code == 0, err
    assert run("ledger", "checkpoint", db_url, "--key", key)[0] == 0
    code, cosigned, err = run("ledger", "cosign", db_url, "--key", str(keys / "naef.test_controller.key"))
    assert code == 0, err
    assert "\u2014 naef.test/controller " in cosigned
    # proofs
    code, out, _ = run("ledger", "prove", db_url, "--index", "3", "--size", "6")
    p = json.loads(out)
    assert verify_inclusion(
        bytes.fromhex(p["leaf_hash"]), 3, 6, [bytes.fromhex(h) for h in p["inclusion_path"]], cp.root_hash
    )
    code, out, _ = run("ledger", "prove", db_url, "--from-size", "6")
    c = json.loads(out)
    assert c["size2"] == 7
    assert bytes.fromhex(c["root1"]) == cp.root_hash
    assert verify_consistency(
        6, 7, [bytes.fromhex(h) for h in c["consistency_path"]], cp.root_hash, bytes.fromhex(c["root2"])
    )
    # verify, also against the published checkpoint and a pinned key
    code, out, err = run("ledger", "verify", db_url, "--from-checkpoint", str(published), "--key", pub)
    assert code == 0, err
    assert out.startswith("ok: 7 entries")
    assert "2 checkpoints, 1 cosignatures" in out
    assert "published checkpoint of size 6" in out
    # export
    out_file = tmp_path / "export.jsonl"
    code, _, _ = run("ledger", "export", db_url, "--jsonl", "--out", str(out_file))
    lines = [json.loads(x) for x in out_file.read_text().splitlines()]
    assert [x["index"] for x in lines] == list(range(7))
    for x in lines:
        assert leaf_hash(x["entry"].encode("utf-8")).hex() == x["leaf_hash"]
    assert json.loads(lines[1]["entry"])["payload"]["amount_usd"] == "2.50"
    code, out, _ = run("ledger", "export", db_url, "--jsonl")
    assert code == 0
    assert len(out.splitlines()) == 7
    # JSON Lines is the default: without --jsonl, the same bytes
    code, plain, err = run("ledger", "export", db_url)
    assert code == 0, err
    assert plain == out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "revenue_collected", "--payload", "{not json"], "--payload: not valid JSON"),
        (["--type", "revenue_collected", "--payload", "@/no/such/file.json"], "--payload: cannot read"),
        (["--type", "revenue_collected", "--payload", '{"period": "Q"}'], "payload.amount_usd"),
        (["--type", "unknown_thing", "--payload", "{}"], "unknown entry type 'unknown_thing'"),
        # no money moves around the quorum: governed types cannot be appended generically
        (
            [
                "--type",
                "disbursement_executed",
                "--payload",
                '{"proposal_id": "p1", "proposal_sha256": "' + "0" * 64 + '", "payee": "x", "amount_usd": 5, '
                '"approvals": [], "benchmark_flagged": false}',
            ],
            "entry 0 (disbursement_executed): rule unknown_proposal",
        ),
        (["--type", "disbursement_approved", "--payload", "{}"], "entry disbursement_approved: payload.proposal_id"),
        (
            ["--type", "governance_registered", "--payload", '{"stakeholders": [{"name": "x"}]}'],
            "entry governance_registered: payload.stakeholders",
        ),
        (["--type", "revenue_collected", "--payload", "[]"], "must be a JSON object"),
        (
            [
                "--type",
                "revenue_collected",
                "--payload",
                '{"period":"Q","amount_usd":1,"source":"X"}',
                "--time",
                "noon",
            ],
            "time: 'noon'",
        ),
    ],
)
def test_bad_input_exits_2_and_appends_nothing(db_url: str, keys: Path, args: list[str], message: str) -> None:
    assert run("ledger", "init", db_url, "--key", str(keys / "naef.test_log.pub"))[0] == 0
    code, _out, err = run("ledger", "append", db_url, *args)
    assert code == 2
    assert err.startswith("error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    with Ledger.open(db_url) as led:
        assert led.size() == 0


def test_other_errors(sqlite_url: str, keys: Path) -> None:
    code, _, err = run("ledger", "verify", sqlite_url)
    assert code == 2
    assert "no ledger here" in err
    assert run("ledger", "init", sqlite_url, "--key", str(keys / "naef.test_log.pub"))[0] == 0
    code, _, err = run("ledger", "checkpoint", sqlite_url, "--key", str(keys / "naef.test_controller.key"))
    assert code == 2
    assert "is not this log's key" in err
    code, _, err = run("ledger", "prove", sqlite_url)
    assert code == 2
    assert "exactly one of --index" in err
    code, _, err = run("ledger", "prove", sqlite_url, "--index", "0")
    assert code == 2
    assert "size: 0 is not between 1" in err
    code, out, err = run("ledger", "export", sqlite_url)
    assert code == 0, err
    assert out.count("\n") == len(out.splitlines())  # whole JSON lines only
    code, _, err = run("ledger", "verify", sqlite_url, "--from-checkpoint", "/no/such/checkpoint")
    assert code == 2
    assert "cannot read" in err
    code, _, err = run("ledger", "cosign", sqlite_url, "--key", str(keys / "naef.test_controller.key"))
    assert code == 2
    assert "not a registered witness" in err
    code, _, err = run("ledger", "init", "mysql://u@h/db", "--key", str(keys / "naef.test_log.pub"))
    assert code == 2
    assert "only sqlite" in err
