"""Commands of the keys: ``naef keys new|pub`` (C2SP signed-note key strings, Ed25519)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from naef.commands.ledger import cli_errors
from naef.ledger.keys import SIG_COSIGNATURE_V1, SIG_ED25519, generate_key, read_signer_key, write_key_pair

__all__ = ["keys_app"]

keys_app = typer.Typer(help="Ed25519 keys as C2SP signed-note key strings.", no_args_is_help=True)


@keys_app.command("new")
@cli_errors
def keys_new(
    name: Annotated[str, typer.Argument(help="Key name, e.g. naef.example/fund-log (no spaces, no '+')")],
    out: Annotated[Path, typer.Option("--out", help="Directory for NAME.key and NAME.pub")] = Path("."),
    cosigner: Annotated[
        bool, typer.Option("--cosigner", help="Write the witness (cosignature/v1, type 0x04) public key")
    ] = False,
) -> None:
    """Generate an Ed25519 key pair: NAME.key (private, mode 0600) and NAME.pub (verifier key)."""
    key = generate_key(name)
    private_path, public_path = write_key_pair(key, out, cosigner=cosigner)
    typer.echo(f"private key: {private_path}")
    typer.echo(f"public key:  {public_path}")
    typer.echo(key.verifier(SIG_COSIGNATURE_V1 if cosigner else SIG_ED25519).encode())


@keys_app.command("pub")
@cli_errors
def keys_pub(
    keyfile: Annotated[Path, typer.Argument(help="A PRIVATE+KEY+... file")],
    cosigner: Annotated[
        bool, typer.Option("--cosigner", help="Print the cosignature/v1 (0x04) form")
    ] = False,
) -> None:
    """Print the verifier key of a private key."""
    typer.echo(read_signer_key(keyfile).verifier(SIG_COSIGNATURE_V1 if cosigner else SIG_ED25519).encode())


