"""``naef disclose`` and ``naef verify-bundle``: publish the ledger as IATI, OC4IDS or EITI-style tables in a bundle
that anyone can verify offline (see ``docs/disclosure.md``).

The work is done by :mod:`naef.disclosure` (imported when a command runs). Bad input — a ledger URL that cannot
be opened, an unknown format, an output folder that exists and is not empty without ``--force``, a bundle with
missing proofs — and a bundle that fails verification raise :class:`naef.errors.NaefError` subclasses, which
``naef.cli.main`` prints as one line on stderr with exit code 2. An export is written to a temporary folder
beside ``--out`` and renamed into place only once it verifies, so a failure leaves nothing half-written.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["disclose_command", "register", "verify_bundle_command"]

DISCLOSE_HELP = "\n\n".join(
    [
        "Export the ledger in a disclosure format, as a bundle verifiable offline.",
        "FORMAT: iati (IATI 2.03 activities of the MDF's projects), oc4ids (OC4IDS 0.9.4 project package with "
        "parties and beneficial owners) or eiti (revenue tables: PEMEX to government and to NAEF, NAEF to the "
        "MDF; CSV and Excel).",
        "The export is made at the ledger's latest signed checkpoint (or --size). The bundle holds the export, "
        "the signed checkpoint, the ledger entries behind every record with their RFC 9162 inclusion proofs, "
        "and consistency proofs from the ledger's earlier checkpoints.",
        "--out must not exist or be empty unless --force. Bad input prints one line and exits with code 2.",
    ]
)

VERIFY_HELP = "\n\n".join(
    [
        "Verify a disclosure bundle offline, without the database.",
        "Checks the checkpoint's signature by --key, that the bundle holds the whole log up to the checkpoint (its "
        "tree hash is the signed root: a missing entry is named), every used entry's inclusion proof, and "
        "re-derives every published record from all entries of the types the format reads: a changed or left-out "
        "value fails and is named. With --older, also checks that this bundle's checkpoint extends the older "
        "bundle's (a forked log fails); with --witness (repeatable), that each witness cosigned the checkpoint; "
        "with --not-older-than DATE, that the latest entry or a witness's cosignature is not older than DATE.",
        "Prints one line: ok, or what failed (exit code 2).",
    ]
)


def disclose_command(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="iati, oc4ids or eiti")],
    ledger: Annotated[
        str, typer.Option("--ledger", help="Ledger URL: sqlite:///path.db, a plain file path, or postgresql+psycopg://")
    ],
    out: Annotated[Path, typer.Option("--out", help="Bundle folder to write")],
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists and is not empty")] = False,
    size: Annotated[
        int | None, typer.Option("--size", help="Export at the stored checkpoint of this size (default: latest)")
    ] = None,
    org_id: Annotated[
        str | None,
        typer.Option(
            "--org-id",
            help="The publisher's organisation identifier, with an approved registration-agency prefix "
            "(org-id.guide; default XE-EXAMPLE-NAEF-MDF, the example prefix)",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Publication date YYYY-MM-DD (default today, UTC; not after today): ledger dates after it are "
            "published as planned, never as actual",
        ),
    ] = None,
) -> None:
    """Export FORMAT from the ledger into a verifiable bundle."""
    from naef.disclosure import export_bundle
    from naef.disclosure.errors import DisclosureError
    from naef.disclosure.model import MDF_ORG_REF

    published = None
    if as_of is not None:
        try:
            published = date.fromisoformat(as_of) if len(as_of) == 10 else None
        except ValueError:
            published = None
        if published is None:
            raise DisclosureError(f"--as-of {as_of!r}: expected a date YYYY-MM-DD")
    report = export_bundle(
        ledger, fmt, out, force=force, size=size, org_id=org_id or MDF_ORG_REF, as_of=published
    )
    typer.echo(report.line())


def verify_bundle_command(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The bundle folder")],
    key: Annotated[str, typer.Option("--key", help="The log's public key: a .pub file or the key string")],
    older: Annotated[
        Path | None, typer.Option("--older", help="An older bundle of the same log, to check consistency with")
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option("--witness", help="A witness's cosigner public key (file or string) that must have cosigned"),
    ] = None,
    not_older_than: Annotated[
        str | None,
        typer.Option(
            "--not-older-than",
            help="Refuse a bundle whose latest entry and witness cosignatures are all before this date (YYYY-MM-DD) "
            "or RFC 3339 time",
        ),
    ] = None,
) -> None:
    """Verify a disclosure bundle offline."""
    from naef.disclosure import verify_bundle
    from naef.disclosure.completeness import parse_instant
    from naef.ledger.keys import read_verifier_key

    witnesses = [read_verifier_key(w) for w in witness or []]
    limit = parse_instant(not_older_than) if not_older_than is not None else None
    report = verify_bundle(folder, read_verifier_key(key), older=older, witnesses=witnesses, not_older_than=limit)
    typer.echo(report.line())


def register(app: typer.Typer) -> None:
    """Add ``disclose`` and ``verify-bundle`` to ``app``."""
    app.command("disclose", help=DISCLOSE_HELP)(disclose_command)
    app.command("verify-bundle", help=VERIFY_HELP)(verify_bundle_command)
