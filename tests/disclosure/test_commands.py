"""``naef disclose`` and ``naef verify-bundle``: bundles from the demo ledger, and bad input as one line on stderr
with exit code 2 and nothing half-written.

The commands are registered on a test app; the conversion NaefError → exit 2 is ``naef.cli.main``'s, so the
exit-code tests run ``main`` with ``naef.cli.app`` swapped for the test app.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from naef.commands.disclose import register
from naef.demo import demo_key
from naef.ledger.keys import SIG_COSIGNATURE_V1, VerifierKey
from tests.cli_main import naef_main

from .conftest import DemoLayout, LedgerFactory

app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)


@app.callback()
def _root() -> None:
    """Test app (a callback keeps the commands subcommands, as in ``naef``)."""


register(app)


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[Any, str, str]:
    """``naef *args`` through the real ``naef.cli.main()``: (exit code, stdout, stderr)."""
    return naef_main(monkeypatch, capsys, *args)


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".naef-tmp") or ".old-" in p.name]


@pytest.mark.parametrize("fmt", ["iati", "oc4ids", "eiti"])
def test_disclose_then_verify(
    demo_url: str, log_vkey: VerifierKey, demo_layout: DemoLayout, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "bundle"
    res = CliRunner().invoke(app, ["disclose", fmt, "--ledger", demo_url, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"wrote {fmt} bundle {out}: ")
    assert f"checkpoint demo.naef.example/log size {demo_layout.size}" in res.stdout
    pub = tmp_path / "log.pub"
    pub.write_text(log_vkey.encode() + "\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["verify-bundle", str(out), "--key", str(pub)])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"ok: {fmt} bundle {out}: ")
    # the key string works as well as the file
    res = CliRunner().invoke(app, ["verify-bundle", str(out), "--key", log_vkey.encode()])
    assert res.exit_code == 0, res.output


def test_verify_with_an_older_bundle(
    demo_url: str, log_vkey: VerifierKey, demo_layout: DemoLayout, tmp_path: Path
) -> None:
    runner = CliRunner()
    for name, size in (("old", "73"), ("new", str(demo_layout.size))):
        res = runner.invoke(app, ["disclose", "eiti", "--ledger", demo_url, "--out", str(tmp_path / name),
                                  "--size", size])
        assert res.exit_code == 0, res.output
    witnesses = [demo_key(n).verifier(SIG_COSIGNATURE_V1).encode() for n in ("controller", "observer-1")]
    res = runner.invoke(app, ["verify-bundle", str(tmp_path / "new"), "--key", log_vkey.encode(),
                              "--older", str(tmp_path / "old"), "--witness", witnesses[0], "--witness", witnesses[1]])
    assert res.exit_code == 0, res.output
    assert "consistent with the older bundle (size 73)" in res.stdout


@pytest.mark.parametrize(
    ("ledger", "message"),
    [
        ("{tmp}/missing.db", "error: --ledger '{tmp}/missing.db': no such ledger file {tmp}/missing.db"),
        ("bogus://somewhere", "error: --ledger: URL 'bogus://somewhere': only sqlite:/// and postgresql+psycopg://"),
        ("{tmp}/not-a-ledger.db", "error: --ledger"),
        ("postgresql://nobody@127.0.0.1:1/x",
         "error: --ledger: URL 'postgresql://nobody@127.0.0.1:1/x': cannot connect"),
    ],
)
def test_a_ledger_that_cannot_be_opened_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, ledger: str, message: str
) -> None:
    (tmp_path / "not-a-ledger.db").write_text("this is not a database", encoding="utf-8")
    url = ledger.format(tmp=tmp_path)
    out = tmp_path / "out"
    code, stdout, err = run_main(monkeypatch, capsys, "disclose", "iati", "--ledger", url, "--out", str(out))
    assert code == 2
    assert stdout == ""
    assert err.startswith(message.format(tmp=tmp_path)), err
    assert err.count("\n") == 1
    assert not out.exists()
    assert not (tmp_path / "missing.db").exists()  # nothing created on the way
    assert leftovers(tmp_path) == []


def test_an_unknown_format_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], demo_url: str, tmp_path: Path
) -> None:
    code, stdout, err = run_main(monkeypatch, capsys, "disclose", "xbrl", "--ledger", demo_url,
                                 "--out", str(tmp_path / "out"))
    assert (code, stdout) == (2, "")
    assert err == "error: format: unknown format 'xbrl' (choose iati, oc4ids, eiti)\n"
    assert not (tmp_path / "out").exists()


def test_an_output_folder_that_is_not_empty_needs_force(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], demo_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.pdf").write_bytes(b"%PDF")
    code, stdout, err = run_main(monkeypatch, capsys, "disclose", "oc4ids", "--ledger", demo_url, "--out", str(out))
    assert (code, stdout) == (2, "")
    assert err == f"error: --out {out}: exists and is not empty (pass --force to replace it)\n"
    assert [p.name for p in out.iterdir()] == ["report.pdf"]
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, _, err = run_main(monkeypatch, capsys, "disclose", "oc4ids", "--ledger", demo_url,
                            "--out", str(tmp_path / "file"))
    assert code == 2
    assert err == f"error: --out {tmp_path / 'file'}: exists and is not a folder\n"
    code, stdout, _ = run_main(monkeypatch, capsys, "disclose", "oc4ids", "--ledger", demo_url, "--out", str(out),
                               "--force")
    assert code in (0, None)
    assert stdout.startswith("wrote oc4ids bundle")
    assert not (out / "report.pdf").exists()
    assert leftovers(tmp_path) == []


def test_a_failed_export_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], make_ledger: LedgerFactory, tmp_path: Path
) -> None:
    # a ledger with revenue only: nothing to publish as IATI, after the ledger was opened and read
    url = make_ledger("revenue", [("revenue_collected", {"period": "2031Q1", "amount_usd": "1.00", "source": "PEMEX"}),
                                  ("checkpoint", {})])
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = run_main(monkeypatch, capsys, "disclose", "iati", "--ledger", url, "--out", str(out))
    assert code == 2
    assert err.startswith("error: ledger: no MDF disbursement proposal up to checkpoint size 1")
    assert list(out.iterdir()) == []
    assert leftovers(tmp_path) == []


def test_a_bundle_with_a_missing_proof_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], demo_url: str, log_vkey: VerifierKey,
    demo_layout: DemoLayout, tmp_path: Path,
) -> None:
    out = tmp_path / "b"
    assert run_main(monkeypatch, capsys, "disclose", "iati", "--ledger", demo_url, "--out", str(out))[0] in (0, None)
    listed = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["entries"]
    # the first entry the records use (the payees' BODS statements come before the proposals)
    assert listed == sorted(listed)
    assert listed[0] < demo_layout.proposed["MDF-0001"]
    assert demo_layout.proposed["MDF-0001"] in listed
    shutil.rmtree(out / "proofs" / "inclusion")
    code, stdout, err = run_main(monkeypatch, capsys, "verify-bundle", str(out), "--key", log_vkey.encode())
    assert (code, stdout) == (2, "")
    assert err.startswith(
        f"error: bundle {out}: proofs/inclusion/{listed[0]}.json is missing (and {len(listed) - 1} more): "
    )
    assert err.count("\n") == 1


def test_a_changed_value_exits_2_naming_the_record(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], demo_url: str, log_vkey: VerifierKey,
    demo_layout: DemoLayout, tmp_path: Path,
) -> None:
    out = tmp_path / "b"
    assert run_main(monkeypatch, capsys, "disclose", "oc4ids", "--ledger", demo_url, "--out", str(out))[0] in (0, None)
    path = out / "oc4ids-project-package.json"
    package = json.loads(path.read_text(encoding="utf-8"))
    package["projects"][2]["parties"][1]["name"] = "Someone Else SA"
    path.write_text(json.dumps(package), encoding="utf-8")
    code, stdout, err = run_main(monkeypatch, capsys, "verify-bundle", str(out), "--key", log_vkey.encode())
    assert (code, stdout) == (2, "")
    schools = ", ".join(map(str, demo_layout.entries["MDF-0003"]))
    assert err.startswith(f"error: bundle {out}: verification failed: project oc4ids-naefmdf-schools-chihuahua "
                          f"(ledger entries 11, {schools}): /parties/1/name: "
                          "the file has 'Someone Else SA', the ledger gives 'Escuelas del Norte SA (fictional)'")
    assert err.count("\n") == 1


def test_verify_bad_key_or_folder_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], log_vkey: VerifierKey, tmp_path: Path
) -> None:
    code, _, err = run_main(monkeypatch, capsys, "verify-bundle", str(tmp_path), "--key", "not+a+key")
    assert code == 2
    assert err.startswith("error: verifier key")
    code, _, err = run_main(monkeypatch, capsys, "verify-bundle", str(tmp_path / "nope"), "--key", log_vkey.encode())
    assert (code, err) == (2, f"error: bundle {tmp_path / 'nope'}: not a folder\n")
    code, _, err = run_main(monkeypatch, capsys, "verify-bundle", str(tmp_path), "--key", log_vkey.encode())
    assert (code, err) == (2, f"error: bundle {tmp_path}: manifest.json is missing\n")


def test_a_stale_or_incomplete_bundle_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], demo_url: str, log_vkey: VerifierKey,
    demo_layout: DemoLayout, tmp_path: Path,
) -> None:
    out = tmp_path / "old"
    assert run_main(monkeypatch, capsys, "disclose", "iati", "--ledger", demo_url, "--out", str(out),
                    "--size", str(demo_layout.sizes[-2]))[0] in (0, None)
    witness = demo_key("controller").verifier(SIG_COSIGNATURE_V1).encode()
    code, stdout, _ = run_main(monkeypatch, capsys, "verify-bundle", str(out), "--key", log_vkey.encode(),
                               "--witness", witness)
    assert code in (0, None)
    assert "; last entry recorded 20" in stdout
    assert "; cosigned by controller at 20" in stdout
    code, stdout, err = run_main(monkeypatch, capsys, "verify-bundle", str(out), "--key", log_vkey.encode(),
                                 "--witness", witness, "--not-older-than", "2034-01-01")
    assert (code, stdout) == (2, "")
    assert "stale: the bundle's freshest time is 20" in err
    assert "(the latest witness cosignature), older than --not-older-than 2034-01-01T00:00:00Z" in err
    assert err.count("\n") == 1
    code, _, err = run_main(monkeypatch, capsys, "verify-bundle", str(out), "--key", log_vkey.encode(),
                            "--not-older-than", "last week")
    assert (code, err) == (2, "error: --not-older-than: 'last week' is not a date (YYYY-MM-DD) or an RFC 3339 "
                              "date-time\n")
    # an entry taken out of entries.jsonl is named by its index
    lines = (out / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    (out / "entries.jsonl").write_text("\n".join(lines[:40] + lines[41:]) + "\n", encoding="utf-8")
    code, _, err = run_main(monkeypatch, capsys, "verify-bundle", str(out), "--key", log_vkey.encode())
    assert code == 2
    last = demo_layout.sizes[-2] - 1
    assert f"ledger entry 40 missing from entries.jsonl: a bundle holds every entry of its checkpoint (0 to {last})" \
        in err
    assert err.count("\n") == 1


def test_an_organisation_identifier_needs_an_approved_prefix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], demo_url: str, log_vkey: VerifierKey,
    tmp_path: Path,
) -> None:
    out = tmp_path / "b"
    code, stdout, err = run_main(monkeypatch, capsys, "disclose", "iati", "--ledger", demo_url, "--out", str(out),
                                 "--org-id", "XX-NAEF-MDF")
    assert (code, stdout) == (2, "")
    assert err.startswith("error: --org-id 'XX-NAEF-MDF': does not start with an approved registration-agency prefix")
    assert err.count("\n") == 1
    assert not out.exists()
    # a trailing space is named as such, not as a missing prefix
    code, stdout, err = run_main(monkeypatch, capsys, "disclose", "iati", "--ledger", demo_url, "--out", str(out),
                                 "--org-id", "XE-EXAMPLE-MDF ")
    assert (code, stdout) == (2, "")
    assert err == ("error: --org-id 'XE-EXAMPLE-MDF ': holds U+0020 SPACE at position 14; an org-id has no "
                   "whitespace, control or invisible characters\n")
    assert not out.exists()
    # a Mexican taxpayer-register identifier is approved; the bundle records it and verifies
    code, _, _ = run_main(monkeypatch, capsys, "disclose", "iati", "--ledger", demo_url, "--out", str(out),
                          "--org-id", "MX-RFC-FMD270101AB1")
    assert code in (0, None)
    xml = (out / "iati-activities.xml").read_text(encoding="utf-8")
    assert '<reporting-org ref="MX-RFC-FMD270101AB1" type="15">' in xml
    assert "<iati-identifier>MX-RFC-FMD270101AB1-road-oaxaca-coast</iati-identifier>" in xml
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["publisher"] == "MX-RFC-FMD270101AB1"
    code, stdout, _ = run_main(monkeypatch, capsys, "verify-bundle", str(out), "--key", log_vkey.encode())
    assert code in (0, None)
    assert stdout.startswith("ok: iati bundle")
    # a manifest whose publisher has no approved prefix cannot be checked
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["publisher"] = "XX-NAEF-MDF"
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, _, err = run_main(monkeypatch, capsys, "verify-bundle", str(out), "--key", log_vkey.encode())
    assert code == 2
    assert "manifest.json: publisher 'XX-NAEF-MDF': does not start with an approved" in err


def test_the_shipped_registration_agencies_include_the_example_and_mexican_prefixes() -> None:
    from naef.disclosure.orgid import approved_prefixes, publisher

    assert {"XE-EXAMPLE", "MX-RFC", "GB-COH", "XM-DAC"} <= approved_prefixes()
    assert len(approved_prefixes()) > 500
    assert publisher("XE-EXAMPLE-NAEF-MDF").scheme == "XE-EXAMPLE"
    assert publisher("XE-EXAMPLE-NAEF-MDF").uid == "NAEF-MDF"
