"""Issue 14 item 2 / issue 20: ``verify-bundle`` runs the rule audit (:func:`naef.ledger.audit.audit`) on the
bundle's complete log, so a third party checks offline — from the bundle alone — that every published
disbursement was proposed, approved by a quorum of registered keys without a conflict of interest, and paid
from money the MDF had received. A forged execution written around the rules (raw SQL) and signed into a
checkpoint is named, with the record that publishes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from naef.disclosure import BundleVerificationError, export_bundle, verify_bundle
from naef.disclosure import bundle as bundle_module
from naef.disclosure import verification as verification_module
from naef.disclosure.errors import DisclosureError
from naef.ledger import transaction as log_module
from naef.ledger.approvals import (
    ENTRY_BENCHMARK_FLAG,
    ENTRY_EXECUTED,
    ENTRY_PROPOSED,
    ENTRY_REFUSED,
    propose,
    sign_proposal,
)
from naef.ledger.audit import audit
from naef.ledger.keys import SignerKey, VerifierKey
from naef.ledger.log import Ledger
from tests.ledger.governed import bootstrap, key
from tests.ledger.test_governed_attacks import PAYEE, forged_execution, proposal


def test_a_demo_bundle_passes_the_rule_audit(illustrative_url: str, log_vkey: VerifierKey, tmp_path: Path) -> None:
    export_bundle(illustrative_url, "iati", tmp_path / "b")
    report = verify_bundle(tmp_path / "b", log_vkey)
    assert report.audit is not None
    assert report.audit.ok
    with Ledger.open(illustrative_url) as ledger:
        cp = ledger.latest_checkpoint()
        assert cp is not None
        direct = audit(ledger.entries(end=cp.size))
    # the audit of the bundle is the audit of the ledger up to the checkpoint
    assert (report.audit.entries, report.audit.governed, report.audit.disbursed_usd) == (
        direct.entries, direct.governed, direct.disbursed_usd)
    assert direct.disbursed_usd > 0
    assert f"disbursed {direct.disbursed_usd} USD" in report.line()


def _forged_ledger(tmp_path: Path, log_signer: SignerKey) -> tuple[str, int]:
    url = str(tmp_path / "forged.db")
    with Ledger.init(url, log_signer.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,), funds_usd="100000000.00")
        propose(ledger, sign_proposal(proposal(), key("mx-1")))
        saved = log_module._RULES
        log_module._RULES = lambda tx, entry, index: None  # a writer with database access, around the gate
        try:
            index = ledger.append(ENTRY_EXECUTED, forged_execution())
        finally:
            log_module._RULES = saved
        ledger.checkpoint(log_signer)
    return url, index


def test_the_exporter_refuses_to_publish_a_log_that_breaks_the_rules(
    tmp_path: Path, log_signer: SignerKey
) -> None:
    url, index = _forged_ledger(tmp_path, log_signer)
    out = tmp_path / "out"
    with pytest.raises(DisclosureError) as info:
        export_bundle(url, "iati", out)
    assert info.value.message.startswith(
        f"--ledger: the log up to checkpoint size {index + 1} breaks the control system's rules: "
        f"entry {index} (disbursement_executed): rule quorum_not_met"
    )
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("forged.db")] == []


def test_a_bundle_with_a_forged_execution_fails_and_names_it(
    tmp_path: Path, log_signer: SignerKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, index = _forged_ledger(tmp_path, log_signer)
    out = tmp_path / "out"
    with monkeypatch.context() as m:  # a publisher whose tool does not audit: the bundle is written
        m.setattr(bundle_module, "audit", lambda entries: audit([]))
        m.setattr(verification_module, "audit", lambda entries: audit([]))  # its staged check too
        export_bundle(url, "iati", out)
    # the forged payment is published, every proof holds, the files re-derive — but the rules do not
    assert b'<transaction-type code="4"/>' in (out / "iati-activities.xml").read_bytes()
    with pytest.raises(BundleVerificationError) as info:
        verify_bundle(out, log_signer.verifier())
    failures = list(info.value.failures)
    assert failures == [
        f"rules: entry {index} (disbursement_executed): rule quorum_not_met: "
        + failures[0].split("rule quorum_not_met: ", 1)[1]
    ]
    # the activity that publishes the payment, and the organisation file that sums it
    assert list(info.value.records) == [
        "iati-activity XE-EXAMPLE-NAEF-MDF-road-1", "iati-organisation XE-EXAMPLE-NAEF-MDF"
    ]


def _forged_red_flag_ledger(tmp_path: Path, log_signer: SignerKey, forgery: str) -> tuple[str, int]:
    """A log with one of the review's red-flag forgeries (F1, F3, F4) written around the gate, then checkpointed."""
    from tests.ledger.governed import around_the_rules
    from tests.ledger.test_derived_entries import flagged_proposal, forged_flag, forged_refusal

    url = str(tmp_path / "forged.db")
    with Ledger.init(url, log_signer.verifier()) as ledger:
        bootstrap(ledger, payees=(PAYEE,), funds_usd="100000000.00")
        propose(ledger, sign_proposal(proposal(), key("mx-1")))
        if forgery == "refusal":
            index = around_the_rules(ledger, ENTRY_REFUSED, forged_refusal())
        elif forgery == "flag":  # a red flag on a proposal within range, right after it
            index = around_the_rules(ledger, ENTRY_BENCHMARK_FLAG, forged_flag("MDF-1"))
        else:
            payload = sign_proposal(flagged_proposal(), key("mx-1")).model_dump(mode="json")
            index = around_the_rules(ledger, ENTRY_PROPOSED, payload)  # its flag left out; a later entry seals it
            propose(ledger, sign_proposal(proposal("MDF-2"), key("mx-1")))
        ledger.checkpoint(log_signer)
    return url, index


@pytest.mark.parametrize(
    ("forgery", "rule"),
    [("flag", "benchmark_mismatch"), ("missing_flag", "missing_benchmark_flag"), ("refusal", "refusal_not_derived")],
)
def test_a_bundle_of_a_forged_red_flag_is_refused_and_fails_verify_bundle(
    tmp_path: Path, log_signer: SignerKey, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    forgery: str, rule: str,
) -> None:
    from tests.cli_main import naef_main

    url, index = _forged_red_flag_ledger(tmp_path, log_signer, forgery)
    out = tmp_path / "out"
    breaks = rf"breaks the control system's rules: entry {index} \(\w+\): rule {rule}"
    with pytest.raises(DisclosureError, match=breaks):
        export_bundle(url, "iati", out)
    assert not out.exists()
    with monkeypatch.context() as m:  # a publisher whose tool does not audit: the bundle is written
        m.setattr(bundle_module, "audit", lambda entries: audit([]))
        m.setattr(verification_module, "audit", lambda entries: audit([]))
        export_bundle(url, "iati", out)
    pub = tmp_path / "log.pub"
    pub.write_text(log_signer.verifier().encode() + "\n")
    code, _, err = naef_main(monkeypatch, capsys, "verify-bundle", str(out), "--key", str(pub))
    assert code == 2
    assert f"rules: entry {index} (" in err
    assert f"rule {rule}" in err
