"""``naef runs [DIR]``: the runs written under a folder (default ``out``), oldest first, read from their
``run.json`` (:mod:`naef.studies.runs`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from naef.commands.common import console
from naef.errors import CliError

__all__ = ["register"]


def runs_command(
    folder: Annotated[Path, typer.Argument(help="Where to look (default: out).")] = Path("out"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs' run.json documents as a JSON list.")] = False,
) -> None:
    """List the runs naef wrote under FOLDER: when, what kind, which scenario (and its --set changes), seed, paths
    and the folder."""
    from naef.studies.runs import find_runs

    if not folder.exists():
        raise CliError(f"runs: {folder}: no such folder")
    if not folder.is_dir():
        raise CliError(f"runs: {folder}: not a folder")
    found = find_runs(folder)
    if as_json:
        typer.echo(json.dumps([{"folder": str(r.folder), **r.document} for r in found], indent=2))
        return
    if not found:
        console.print(Text(f"No runs under {folder} (a run folder holds run.json)."))
        return
    if console.width < 120:  # a narrow terminal or a pipe: one block per run, nothing cut
        console.print(Text(f"Runs under {folder} (oldest first; times UTC)"))
        for r in found:
            d = r.document
            mc = "" if d.get("paths") is None else f", {d['paths']:,} paths, seed {d.get('seed')}"
            sets = " ".join(f"--set {s}" for s in d.get("set") or [])
            console.print(Text(f"{r.started_utc}  {r.kind}  {', '.join(r.scenario_names)}{mc}"
                               + (f"  {sets}" if sets else "")), soft_wrap=True)
            console.print(Text(f"    {r.folder}"), soft_wrap=True)
        return
    t = Table(title=f"Runs under {folder} (oldest first; times UTC)", show_edge=False)
    for col in ("started", "kind", "scenario", "hash", "seed", "paths", "--set", "folder"):
        t.add_column(col, justify="right" if col in ("seed", "paths") else "left", overflow="fold")
    for r in found:
        d = r.document
        hashes = [str(s.get("content_hash_sha256") or s.get("content_hash") or "")[:12]
                  for s in d.get("scenarios") or [] if isinstance(s, dict)]
        t.add_row(Text(r.started_utc), Text(r.kind), Text(", ".join(r.scenario_names)), Text(", ".join(hashes)),
                  Text("—" if d.get("seed") is None else str(d["seed"])),
                  Text("—" if d.get("paths") is None else f"{d['paths']:,}"),
                  Text(" ".join(str(s) for s in d.get("set") or []) or "—"), Text(str(r.folder)))
    console.print(t)


def register(app: typer.Typer) -> None:
    """Add ``runs`` to ``app``."""
    app.command("runs")(runs_command)
