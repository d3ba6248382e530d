"""The demo ledger: several years of operations, every rule exercised, verifiable, deterministic."""

from __future__ import annotations

import hashlib
import os
import shlex
import stat
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from naef.commands.ledger import ledger_app
from naef.commands.ledger_ops import register
from naef.demo import (
    DEMO_LOG_KEY_NAME,
    DEMO_SEED,
    baseline_figures,
    demo_bods_statements,
    demo_key,
    illustrative_figures,
    run_demo,
)
from naef.ledger.audit import audit
from naef.ledger.bods import validate_statements
from naef.ledger.errors import LedgerError
from naef.ledger.keys import SIG_COSIGNATURE_V1, VerifierKey
from naef.ledger.log import Ledger
from tests.cli_main import naef_main


def test_demo_keys_are_the_documented_derivation() -> None:
    # recomputed with the cryptography package directly: seed = SHA-256(DEMO_SEED || "\n" || name)
    seed = hashlib.sha256(DEMO_SEED + b"\ncontroller").digest()
    public = (
        Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    assert demo_key("controller").public_key == public


def test_demo_bods_statements_are_valid_bods() -> None:
    from datetime import date

    statements = demo_bods_statements(on=date(2027, 3, 31))
    assert validate_statements(statements) == statements


def test_demo_fills_a_verifiable_ledger(db_url: str, tmp_path: Path) -> None:
    figures = illustrative_figures(years=3)
    report = run_demo(db_url, figures=figures, years=3, keys_dir=tmp_path)
    with Ledger.open(db_url) as ledger:
        entries = list(ledger.entries())
        verified = ledger.verify()
        checkpoints = ledger.checkpoints()
    assert verified.size == report.size == len(entries)
    counts = Counter(e.type for e in entries)
    assert counts["revenue_collected"] == 12
    assert counts["securities_issued"] == 1
    assert counts["governance_registered"] == 1
    assert counts["beneficial_ownership_statement"] == 8  # the ownership chain and every payee's record
    # every waterfall payment to the MDF is a signed receipt; the MDF never spends more than it received
    residuals = [e.payload for e in entries if e.type == "waterfall_payment" and e.payload["step"] == "mdf_residual"]
    assert counts["mdf_receipt"] == len(residuals) == 12
    audited = audit(entries)
    assert audited.ok, audited.line()
    assert audited.received_usd == sum(Decimal(r["amount_usd"]) for r in residuals)
    assert audited.disbursed_usd == Decimal("267000000.00")
    assert audited.balance_usd >= 0
    assert counts["interest_declaration"] == 1
    assert counts["disbursement_proposed"] == counts["disbursement_executed"] == 4
    assert counts["benchmark_flag"] == 1
    assert len(checkpoints) == 3
    assert verified.cosignatures == 6
    refusals = [e.payload for e in entries if e.type == "disbursement_refused"]
    assert [r["reason_code"] for r in refusals] == ["conflict_of_interest", "benchmark_unjustified"]
    chain = refusals[0]["chain"]
    assert chain["path"] == ["demo-person-ana", "demo-holding", "demo-constructora"]  # depth 2
    assert refusals[0]["signer"] == "na-board-1"
    flag = next(e.payload for e in entries if e.type == "benchmark_flag")
    assert flag["proposal_id"] == "MDF-0003"
    assert flag["reason"] == "above_range"
    executed = {e.payload["proposal_id"]: e.payload for e in entries if e.type == "disbursement_executed"}
    assert "na-board-1" not in executed["MDF-0002"]["approvals"]
    assert executed["MDF-0003"]["benchmark_flagged"] is True
    assert any("DEMO keys" in line for line in report.lines())
    # deterministic: the same figures give the same tree on a fresh SQLite file
    again = run_demo(str(tmp_path / "again.db"), figures=figures, years=3)
    assert again.root_hash_hex == report.root_hash_hex
    with pytest.raises(LedgerError, match="needs an empty ledger"):
        run_demo(db_url, figures=figures, years=3, keys_dir=tmp_path)


def test_baseline_figures_come_from_the_engine() -> None:
    figures = baseline_figures(years=3)
    assert len(figures.quarters) == 12
    assert "baseline" in figures.source
    assert {i.tranche for i in figures.issuances} >= {"A1"}
    # MDF residuals and collections are non-negative amounts in cents
    for q in figures.quarters:
        assert q.collections_usd >= 0
        assert all(
            p.amount_usd > 0 and p.amount_usd == p.amount_usd.quantize(p.amount_usd) for p in q.payments
        )


def test_demo_command_writes_the_keys_and_the_printed_commands_verify_a_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ("ledger", "demo", "demo.db", "--years", "2", "--figures", "illustrative")
    code, out, err = naef_main(monkeypatch, capsys, *args)
    assert code in (0, None), err
    pubs = sorted(p.name for p in tmp_path.glob("*.pub"))
    assert pubs == ["controller.pub", "demo.naef.example_log.pub", "observer-1.pub"]
    # the same format as `naef keys new`: one verifier-key line; the log's is Ed25519, the witnesses' cosignature/v1
    log_pub = VerifierKey.parse((tmp_path / "demo.naef.example_log.pub").read_text())
    assert log_pub == demo_key(DEMO_LOG_KEY_NAME).verifier()
    assert VerifierKey.parse((tmp_path / "controller.pub").read_text()).sig_type == SIG_COSIGNATURE_V1
    assert f"public key of the log: {tmp_path / 'demo.naef.example_log.pub'}" in out
    commands = [line.strip() for line in out.splitlines() if line.strip().startswith("naef ")]
    assert [c.split()[1] for c in commands] == ["disclose", "verify-bundle"]
    assert "--key " in commands[1]
    assert commands[1].count("--witness ") == 2
    for command in commands:  # run exactly what was printed
        code, out, err = naef_main(monkeypatch, capsys, *shlex.split(command)[1:])
        assert code in (0, None), f"{command}: {err}"
    assert out.startswith("ok"), out
    # no staging file is left beside the ledger
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".pub")) == ["demo-bundle", "demo.db"]


@pytest.mark.parametrize("stage", ["disbursement", "keys"])
def test_a_demo_that_fails_midway_leaves_nothing_behind(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    import naef.demo.ledger as demo_module

    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    if stage == "disbursement":
        calls = []

        def broken(*args: object) -> None:
            calls.append(1)
            if len(calls) == 2:
                raise LedgerError("simulated failure in the middle of the demo")
            original(*args)  # type: ignore[arg-type]

        original = demo_module._disburse
        monkeypatch.setattr(demo_module, "_disburse", broken)
    else:

        def broken_write(path: Path, text: str) -> None:
            if path.name.startswith("observer"):
                raise OSError(28, "No space left on device")
            original_write(path, text)

        original_write = demo_module._write_atomically
        monkeypatch.setattr(demo_module, "_write_atomically", broken_write)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises((LedgerError, OSError)):
        run_demo(db_url, figures=illustrative_figures(years=2), years=2, keys_dir=keys_dir)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no ledger file, no staging file, no key
    with pytest.raises(LedgerError, match="no ledger here"):
        Ledger.open(db_url)
    if db_url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(db_url)
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
            ).all()
        engine.dispose()
        assert tables == []
    # and the same call without the fault builds the ledger
    monkeypatch.undo()
    report = run_demo(db_url, figures=illustrative_figures(years=2), years=2, keys_dir=keys_dir)
    with Ledger.open(db_url) as ledger:
        assert ledger.verify().size == report.size


def test_the_demo_replaces_an_empty_ledger_but_never_another_database(tmp_path: Path) -> None:
    import sqlite3

    empty = tmp_path / "empty.db"
    Ledger.init(str(empty), demo_key("someone")).close()
    assert run_demo(str(empty), figures=illustrative_figures(years=2), years=2).size > 0
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE precious (x)")
    con.commit()
    con.close()
    with pytest.raises(LedgerError, match="not a ledger; not replacing it"):
        run_demo(str(other), figures=illustrative_figures(years=2), years=2)
    assert sqlite3.connect(other).execute("SELECT name FROM sqlite_master").fetchall() == [("precious",)]
    (tmp_path / "controller.pub").write_text("someone+00000000+AAAA\n")
    with pytest.raises(LedgerError, match="holds another key"):
        run_demo(str(tmp_path / "new.db"), figures=illustrative_figures(years=2), years=2)
    assert not (tmp_path / "new.db").exists()


def test_demo_command(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(ledger_app, name="ledger")
    register(ledger_app)
    runner = CliRunner()
    url = str(tmp_path / "demo.db")
    result = runner.invoke(app, ["ledger", "demo", url, "--years", "2", "--figures", "illustrative"])
    assert result.exit_code == 0, result.output
    assert "DEMO keys" in result.output
    assert "conflict_of_interest" in result.output
    result = runner.invoke(app, ["ledger", "demo", url, "--years", "2", "--figures", "illustrative"])
    assert result.exit_code == 2
    assert "needs an empty ledger" in result.output
    result = runner.invoke(app, ["ledger", "demo", str(tmp_path / "x.db"), "--figures", "guess"])
    assert result.exit_code == 2
    assert "--figures" in result.output


def test_the_demo_files_get_the_usual_file_mode(tmp_path: Path) -> None:
    """The database and the public keys are made through temporary files (0600): they end with the mode a new
    file gets under the umask, like the keys ``naef keys new`` writes (found in the review of issue 15)."""
    old = os.umask(0o022)
    try:
        run_demo(str(tmp_path / "demo.db"), figures=illustrative_figures(years=2), years=2, keys_dir=tmp_path)
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert "demo.db" in modes
    assert set(modes.values()) == {0o644}, modes
