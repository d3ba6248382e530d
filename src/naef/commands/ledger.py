"""Commands of the log: ``naef ledger init|append|checkpoint|add-witness|cosign|prove|verify|audit|export``.

The logic lives in :mod:`naef.ledger`; these functions parse arguments, print results and turn a
:class:`~naef.errors.NaefError` into one line on stderr and exit code 2. See ``docs/ledger.md``.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer

from naef.errors import NaefError
from naef.ledger.approvals.errors import ApprovalRefusedError
from naef.ledger.audit import audit
from naef.ledger.errors import LedgerError
from naef.ledger.keys import read_signer_key, read_verifier_key
from naef.ledger.log import Ledger

__all__ = ["UrlArg", "cli_errors", "ledger_app"]

ledger_app = typer.Typer(
    help="The control system's tamper-evident, publicly verifiable log.", no_args_is_help=True
)

P = ParamSpec("P")
R = TypeVar("R")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def cli_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a command; a NaefError becomes ``error: <message>`` on stderr and exit code 2 (a refusal that was
    recorded in the log says at which entry)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ApprovalRefusedError as exc:
            _fail(f"{exc.message} (refusal recorded at entry {exc.index})")
        except NaefError as exc:
            _fail(exc.message)

    return wrapper


def _echo_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, sort_keys=True))


# ------------------------------------------------------------------------------------------------ ledger

UrlArg = Annotated[
    str, typer.Argument(help="sqlite:///path.db, a plain file path, or postgresql+psycopg://...")
]


@ledger_app.command("init")
@cli_errors
def ledger_init(
    url: UrlArg,
    key: Annotated[Path, typer.Option("--key", help="The log's key: its .key or .pub file")],
) -> None:
    """Create the ledger schema and record the log's public key (the checkpoint origin is the key's name)."""
    vkey = read_verifier_key(key)
    Ledger.init(url, vkey).close()
    typer.echo(f"initialised {url} for log {vkey.encode()}")


def _read_payload(payload: str) -> Any:
    source = "--payload"
    text = payload
    if payload.startswith("@"):
        path = Path(payload[1:])
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise LedgerError(f"--payload: cannot read {path} ({exc.strerror})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LedgerError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc


@ledger_app.command("append")
@cli_errors
def ledger_append(
    url: UrlArg,
    entry_type: Annotated[str, typer.Option("--type", help="Entry type, e.g. revenue_collected")],
    payload: Annotated[str, typer.Option("--payload", help="JSON object, or @file holding one")],
    time: Annotated[str | None, typer.Option("--time", help="RFC 3339 time (default: now)")] = None,
) -> None:
    """Validate and append one entry; prints its index and leaf hash once it is committed.

    Governed types (governance, proposals, approvals, refusals, executions, declarations of interest, ownership
    statements, benchmark flags, the MDF's receipts) pass the control system's rules like any other way in: an
    entry that breaks one is refused naming the rule, nothing appended.
    """
    data = _read_payload(payload)
    with Ledger.open(url) as ledger:
        index = ledger.append(entry_type, data, time=time)
        entry = ledger.get(index)
    _echo_json({"index": index, "leaf_hash": entry.leaf_hash.hex()})


@ledger_app.command("checkpoint")
@cli_errors
def ledger_checkpoint(
    url: UrlArg,
    key: Annotated[Path, typer.Option("--key", help="The log's private key file")],
) -> None:
    """Sign the current tree size and root as a C2SP checkpoint; prints the signed note."""
    signer = read_signer_key(key)
    with Ledger.open(url) as ledger:
        sys.stdout.write(ledger.checkpoint(signer))


@ledger_app.command("add-witness")
@cli_errors
def ledger_add_witness(
    url: UrlArg,
    key: Annotated[
        Path, typer.Option("--key", help="The witness's cosigner public key (keys new --cosigner)")
    ],
) -> None:
    """Register a witness whose cosignatures verify will check."""
    vkey = read_verifier_key(key)
    with Ledger.open(url) as ledger:
        ledger.add_witness(vkey)
    typer.echo(f"witness {vkey.encode()} added")


@ledger_app.command("cosign")
@cli_errors
def ledger_cosign(
    url: UrlArg,
    key: Annotated[Path, typer.Option("--key", help="The witness's private key file")],
    size: Annotated[int | None, typer.Option("--size", help="Checkpoint size (default: latest)")] = None,
) -> None:
    """As a registered witness, check and cosign a stored checkpoint (cosignature/v1); prints the note."""
    signer = read_signer_key(key)
    with Ledger.open(url) as ledger:
        sys.stdout.write(ledger.cosign(signer, size=size))


@ledger_app.command("prove")
@cli_errors
def ledger_prove(
    url: UrlArg,
    index: Annotated[int | None, typer.Option("--index", help="Entry index for an inclusion proof")] = None,
    size: Annotated[int | None, typer.Option("--size", help="Tree size (default: current)")] = None,
    from_size: Annotated[
        int | None, typer.Option("--from-size", help="Older tree size for a consistency proof")
    ] = None,
) -> None:
    """Print an RFC 9162 inclusion proof (--index) or consistency proof (--from-size) as JSON (hex hashes)."""
    if (index is None) == (from_size is None):
        raise LedgerError("prove: give exactly one of --index (inclusion) or --from-size (consistency)")
    with Ledger.open(url) as ledger:
        if index is not None:
            _echo_json(ledger.inclusion_proof(index, size).to_json())
        else:
            assert from_size is not None
            _echo_json(ledger.consistency_proof(from_size, size).to_json())


@ledger_app.command("verify")
@cli_errors
def ledger_verify(
    url: UrlArg,
    from_checkpoint: Annotated[
        Path | None, typer.Option("--from-checkpoint", help="A previously published signed checkpoint")
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="Trusted log public key (default: the one in the database)")
    ] = None,
) -> None:
    """Recompute every hash, node and checkpoint; exit 2 naming the first bad entry or checkpoint."""
    published: str | None = None
    if from_checkpoint is not None:
        try:
            published = from_checkpoint.read_text(encoding="utf-8")
        except OSError as exc:
            raise LedgerError(f"--from-checkpoint: cannot read {from_checkpoint} ({exc.strerror})") from exc
    trusted = read_verifier_key(key) if key is not None else None
    with Ledger.open(url) as ledger:
        report = ledger.verify(from_checkpoint=published, trusted_key=trusted)
    extra = (
        f", consistent with published checkpoint of size {report.published_checkpoint_size}"
        if report.published_checkpoint_size is not None
        else ""
    )
    typer.echo(
        f"ok: {report.entries} entries, {report.nodes} nodes, {report.checkpoints} checkpoints, "
        f"{report.cosignatures} cosignatures; root {report.root_hash.hex()}{extra}"
    )


@ledger_app.command("audit")
@cli_errors
def ledger_audit(
    url: UrlArg,
    key: Annotated[
        Path | None, typer.Option("--key", help="Trusted log public key (default: the one in the database)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Verify the log, then replay it under the control system's rules: signatures, quorum, conflicts of
    interest, benchmark justifications, payees, the MDF's balance. Exit 2 naming the first entry that breaks a
    rule."""
    trusted = read_verifier_key(key) if key is not None else None
    with Ledger.open(url) as ledger:
        ledger.verify(trusted_key=trusted)
        report = audit(ledger.entries())
    if as_json:
        _echo_json(report.to_json())
    if not report.ok:
        _fail(report.line())
    if not as_json:
        typer.echo(report.line())


@ledger_app.command("export")
@cli_errors
def ledger_export(
    url: UrlArg,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="One JSON object per entry (the default and only format)")
    ] = True,
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout)")] = None,
) -> None:
    """Write every entry as {"index", "entry" (canonical JSON text), "leaf_hash" (hex)}, one per line."""
    del jsonl  # accepted for compatibility: JSON Lines is the only format
    with Ledger.open(url) as ledger:
        fh = sys.stdout if out is None else out.open("w", encoding="utf-8")
        try:
            for e in ledger.entries():
                line = {
                    "index": e.index,
                    "entry": e.canonical.decode("utf-8"),
                    "leaf_hash": e.leaf_hash.hex(),
                }
                fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        finally:
            if out is not None:
                fh.close()
