"""Commands of the control system's operations, added to ``naef ledger``: governance, proposals, approvals,
execution, signed beneficial-ownership imports, signed declarations of interest, the MDF's receipts and the
demo.

Approvals are signed on the approver's machine: ``approve`` reads the proposal from the ledger, signs it with
the local ``--key`` file and submits only the signature. Bad input prints one line ``error: ...`` on stderr,
exits 2 and appends nothing; a refused approval or execution is recorded in the log first, then reported the
same way (the message says at which index the refusal was recorded).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from naef.commands.ledger import UrlArg, cli_errors
from naef.demo import baseline_figures, illustrative_figures, run_demo
from naef.ledger.approvals import (
    DisbursementProposal,
    MdfReceipt,
    SignedAmendment,
    amend_governance,
    approve,
    declare_interest,
    draft_amendment,
    execute,
    find_proposal,
    import_bods,
    parse_model,
    proposal_sha256,
    propose,
    record_receipt,
    register_governance,
    sign_amendment,
    sign_approval,
    sign_declaration,
    sign_proposal,
    sign_receipt,
)
from naef.ledger.approvals import control_state as state_of_ledger
from naef.ledger.bods import read_statements
from naef.ledger.errors import LedgerError
from naef.ledger.governance import load_governance
from naef.ledger.interests import ConflictReach, InterestDeclaration
from naef.ledger.keys import read_signer_key
from naef.ledger.log import Ledger

__all__ = ["register"]

KeyOpt = Annotated[
    Path, typer.Option("--key", help="Your private key file (PRIVATE+KEY+...); never uploaded")
]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LedgerError(f"{path}: not JSON ({exc})") from None


def register_governance_cmd(
    url: UrlArg,
    file: Annotated[
        Path, typer.Argument(help="TOML file with a [governance] section (e.g. a scenario file)")
    ],
) -> None:
    """Record the governance (stakeholders, roles, public keys, quorum) in the ledger; once per ledger."""
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LedgerError(f"{file}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise LedgerError(f"{file}: not TOML ({exc})") from None
    if "governance" not in data:
        raise LedgerError(f"{file}: no [governance] section")
    governance = load_governance(data["governance"])
    with Ledger.open(url) as ledger:
        index = register_governance(ledger, governance)
    typer.echo(f"governance with {len(governance.stakeholders)} stakeholders recorded at entry {index}")


def amend_governance_cmd(
    url: UrlArg,
    directions: Annotated[
        str,
        typer.Option(
            "--reach", help="Conflict screen directions, comma-separated: upward (always), downward, sideways"
        ),
    ],
    keys: Annotated[
        list[Path],
        typer.Option("--key", help="An approver's private key; repeat until the governance's quorum signs"),
    ],
    max_links: Annotated[
        int | None, typer.Option("--max-links", help="Most links per downward or sideways leg (default 3)")
    ] = None,
) -> None:
    """Amend the governance's conflict-of-interest reach; signed by a quorum of approvers (one --key each).

    Signatures gathered on the approvers' own machines can instead be recorded with
    `naef ledger append --type governance_amended --payload @signed.json`."""
    data: dict[str, Any] = {"directions": [d.strip() for d in directions.split(",") if d.strip()]}
    if max_links is not None:
        data["max_links"] = max_links
    reach = parse_model(ConflictReach, data, "--reach")
    signers = [read_signer_key(k) for k in keys]
    with Ledger.open(url) as ledger:
        amendment = draft_amendment(state_of_ledger(ledger), reach)
        signed = SignedAmendment(amendment=amendment, signatures=[sign_amendment(amendment, k) for k in signers])
        index = amend_governance(ledger, signed)
    typer.echo(
        f"governance amendment {amendment.sequence} recorded at entry {index}: conflict screen reaches "
        f"{reach.describe()}"
    )


def propose_cmd(
    url: UrlArg,
    file: Annotated[
        Path, typer.Argument(help="JSON proposal: proposal_id, payee, amount_usd, ... unit_cost")
    ],
    key: KeyOpt,
) -> None:
    """Sign a disbursement proposal with your key (you are its proposer) and record it."""
    proposal = parse_model(DisbursementProposal, _read_json(file), str(file))
    signer = read_signer_key(key)
    signed = sign_proposal(proposal, signer)
    with Ledger.open(url) as ledger:
        indexes = propose(ledger, signed)
    typer.echo(
        f"proposal {proposal.proposal_id} recorded at entry {indexes[0]} (sha256 {signed.proposal_sha256})"
    )
    if len(indexes) > 1:
        typer.echo(
            f"benchmark flag recorded at entry {indexes[1]}: execution needs the independent controller's "
            "approval with --justification"
        )


def approve_cmd(
    url: UrlArg,
    proposal_id: Annotated[str, typer.Argument(help="The proposal to approve")],
    key: KeyOpt,
    justification: Annotated[
        str | None, typer.Option("--justification", help="Why an outlier cost is acceptable (controller)")
    ] = None,
    expect_sha256: Annotated[
        str | None,
        typer.Option(
            "--expect-sha256", help="Only sign if the recorded proposal has this SHA-256 (what you read)"
        ),
    ] = None,
) -> None:
    """Read the proposal from the ledger, sign it locally with --key, and submit the signature."""
    signer = read_signer_key(key)
    with Ledger.open(url) as ledger:
        proposal = find_proposal(ledger, proposal_id)
        digest = proposal_sha256(proposal)
        if expect_sha256 is not None and expect_sha256.lower() != digest:
            raise LedgerError(
                f"--expect-sha256: the recorded proposal {proposal_id} has sha256 {digest}; not signing"
            )
        index = approve(ledger, sign_approval(proposal, signer, justification=justification))
    typer.echo(
        f"approval of {proposal_id} ({proposal.amount_usd} USD to {proposal.payee}) by {signer.name} "
        f"recorded at entry {index}"
    )


def execute_cmd(
    url: UrlArg,
    proposal_id: Annotated[str, typer.Argument(help="The proposal to execute")],
) -> None:
    """Record the execution of a disbursement whose approvals meet the quorum (and benchmark rule)."""
    with Ledger.open(url) as ledger:
        index = execute(ledger, proposal_id)
    typer.echo(f"disbursement {proposal_id} executed, recorded at entry {index}")


def import_bods_cmd(
    url: UrlArg,
    file: Annotated[Path, typer.Argument(help="JSON array of BODS 0.4 statements")],
    key: Annotated[
        Path, typer.Option("--key", help="Your private key (a registrar or the independent controller)")
    ],
    schema_dir: Annotated[
        Path | None, typer.Option("--schema-dir", help="Directory of the BODS 0.4 schema files")
    ] = None,
) -> None:
    """Validate every statement against the BODS 0.4 schema, sign each with --key, then append all (or
    nothing)."""
    statements = read_statements(file)
    if not isinstance(statements, list):
        raise LedgerError(f"{file}: expected a JSON array of BODS statements")
    signer = read_signer_key(key)
    with Ledger.open(url) as ledger:
        indexes = import_bods(ledger, statements, signer=signer, schema_dir=schema_dir, source=str(file))
    typer.echo(f"{len(indexes)} BODS statements recorded at entries {indexes.start}-{indexes.stop - 1}")


def declare_interest_cmd(
    url: UrlArg,
    declarant: Annotated[str, typer.Option("--declarant", help="Stakeholder making the declaration")],
    key: Annotated[Path, typer.Option("--key", help="The declarant's own private key (signs the declaration)")],
    party: Annotated[str, typer.Option("--party", help="BODS recordId of the person or entity")],
    nature: Annotated[str, typer.Option("--nature", help="What the interest is (shareholding, spouse, ...)")],
    party_name: Annotated[str, typer.Option("--party-name", help="Name of the person or entity")] = "",
    on: Annotated[
        str | None, typer.Option("--on", help="Date of the declaration, YYYY-MM-DD (default today)")
    ] = None,
) -> None:
    """Record a stakeholder's declaration of interest in a person or entity."""
    data: dict[str, object] = {
        "declarant": declarant,
        "party": party,
        "party_name": party_name,
        "nature": nature,
        "declared_on": on or date.today().isoformat(),
    }
    declaration = parse_model(InterestDeclaration, data, "declaration")
    signed = sign_declaration(declaration, read_signer_key(key))
    with Ledger.open(url) as ledger:
        index = declare_interest(ledger, signed)
    typer.echo(f"declaration of interest by {declarant} in {party} recorded at entry {index}")


def record_receipt_cmd(
    url: UrlArg,
    receipt_id: Annotated[str, typer.Option("--id", help="Unique receipt id, e.g. RCPT-2031Q1")],
    amount_usd: Annotated[str, typer.Option("--amount-usd", help="Amount received, USD (e.g. 1250000.00)")],
    period: Annotated[str, typer.Option("--period", help="Period or date of the receipt, e.g. 2031Q1")],
    source: Annotated[str, typer.Option("--source", help="Who paid, e.g. 'NAEF waterfall residual'")],
    recorder: Annotated[str, typer.Option("--recorder", help="You: a registrar or the independent controller")],
    key: KeyOpt,
    reference: Annotated[str | None, typer.Option("--reference", help="Bank or trustee reference")] = None,
) -> None:
    """Record money received by the MDF, signed with your key; disbursements never exceed what was received."""
    data: dict[str, object] = {
        "receipt_id": receipt_id,
        "period": period,
        "amount_usd": amount_usd,
        "source": source,
        "reference": reference,
        "recorder": recorder,
    }
    receipt = parse_model(MdfReceipt, data, "receipt")
    signed = sign_receipt(receipt, read_signer_key(key))
    with Ledger.open(url) as ledger:
        index = record_receipt(ledger, signed)
        balance = state_of_ledger(ledger).balance_usd
    typer.echo(f"receipt {receipt_id} of {receipt.amount_usd} USD recorded at entry {index}; MDF balance {balance} USD")


def demo_cmd(
    url: UrlArg,
    years: Annotated[int, typer.Option("--years", min=2, max=30, help="Years of operations")] = 7,
    figures: Annotated[
        str, typer.Option("--figures", help="baseline (deterministic run of the baseline) or illustrative")
    ] = "baseline",
    schema_dir: Annotated[
        Path | None, typer.Option("--schema-dir", help="Directory of the BODS 0.4 schema files")
    ] = None,
    keys_dir: Annotated[
        Path | None,
        typer.Option("--keys-dir", help="Folder for the public key files (default: the SQLite file's folder)"),
    ] = None,
) -> None:
    """Build a new ledger with several years of the baseline's operations, signed with DEMO keys.

    All or nothing: the ledger is built in a staging database and moved into place at once. Writes the public
    keys of the log and of the witnesses (NAME.pub, as `naef keys new` does) and prints the command that
    checks a disclosure bundle with them."""
    kind: Literal["baseline", "illustrative"]
    if figures == "baseline":
        kind = "baseline"
    elif figures == "illustrative":
        kind = "illustrative"
    else:
        raise LedgerError(f"--figures: {figures!r} is not baseline or illustrative")
    chosen = baseline_figures(years=years) if kind == "baseline" else illustrative_figures(years=years)
    report = run_demo(url, figures=chosen, years=years, schema_dir=schema_dir, keys_dir=keys_dir)
    for line in report.lines():
        typer.echo(line)


_COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("register-governance", register_governance_cmd),
    ("amend-governance", amend_governance_cmd),
    ("propose", propose_cmd),
    ("approve", approve_cmd),
    ("execute", execute_cmd),
    ("import-bods", import_bods_cmd),
    ("declare-interest", declare_interest_cmd),
    ("record-receipt", record_receipt_cmd),
    ("demo", demo_cmd),
)


def register(ledger_app: typer.Typer) -> None:
    """Add the operations commands to ``ledger_app`` (idempotent: commands already there are not re-added)."""
    present = {c.name for c in ledger_app.registered_commands}
    for name, fn in _COMMANDS:
        if name not in present:
            ledger_app.command(name)(cli_errors(fn))
