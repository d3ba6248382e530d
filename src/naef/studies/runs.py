"""Run folders: what a folder written by a naef command holds and how it is recognised.

Every command that writes files writes them into a folder of its own, with ``run.json`` beside them: the command
line, the naef version, the scenario's name and content hash, the seed and paths, the ``--set`` overrides, the
start and end time (UTC) and the list of the files written. ``run.json`` is what makes a folder naef's: a folder
may be written again only by the same kind of run (its listed files are replaced, none is left from the earlier
run), and ``naef runs`` and ``naef compare`` read it back. The folder layout by default is
``out/<scenario>/<kind>-<UTC timestamp>/`` with ``out/<scenario>/latest`` pointing at the newest run
(``naef.commands.run_folder`` writes them; this module only reads and describes them).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from naef.errors import NaefError

__all__ = ["KINDS", "RUN_FILE", "RUN_FORMAT", "RunFolderError", "RunRecord", "find_runs", "read_run", "run_document",
           "utc_text"]

#: the file that makes a folder a naef run folder
RUN_FILE = "run.json"
#: version of run.json's layout
RUN_FORMAT = 1
#: the kinds of run folder: a deterministic run, a Monte Carlo, and the studies that write files
KINDS = ("run", "montecarlo", "size", "stress", "sensitivity", "portfolio", "compare")


class RunFolderError(NaefError):
    """A run folder that cannot be read or used (its message names the folder and the reason)."""


def utc_text(moment: dt.datetime) -> str:
    """A UTC time as ISO 8601 with seconds and ``Z`` (``2026-12-06T23:01:02Z``)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_document(
    *,
    kind: str,
    command_line: Sequence[str],
    version: str,
    scenarios: Sequence[Mapping[str, Any]],
    seed: int | None,
    paths: int | None,
    sets: Sequence[str],
    changes: Mapping[str, Any],
    started: dt.datetime,
    finished: dt.datetime,
    files: Sequence[str],
    inputs: Mapping[str, Any] | None = None,
) -> dict[str, object]:
    """``run.json``: ``scenarios`` are the summaries' ``scenario`` blocks (name, content_hash_sha256, ...; one
    for every command but ``compare``); ``sets`` the ``--set`` arguments as typed and ``changes`` what they
    parsed to; ``files`` the names written beside it."""
    if kind not in KINDS:
        raise RunFolderError(f"run.json: unknown kind {kind!r} (one of {', '.join(KINDS)})")
    return {
        "naef_run_format": RUN_FORMAT,
        "kind": kind,
        "command_line": list(command_line),
        "naef_version": version,
        "scenario": dict(scenarios[0]) if len(scenarios) == 1 else None,
        "scenarios": [dict(s) for s in scenarios],
        "seed": seed,
        "paths": paths,
        "set": list(sets),
        "changes": dict(changes),
        "started_utc": utc_text(started),
        "finished_utc": utc_text(finished),
        "files": sorted(files),
        # the scenario as validated (its JSON, the document the content hash is computed over): what naef compare
        # reads back
        "scenario_inputs": dict(inputs) if inputs is not None else None,
    }


@dataclass(frozen=True)
class RunRecord:
    """A run folder and its ``run.json``."""

    folder: Path
    document: Mapping[str, Any]

    @property
    def kind(self) -> str:
        return str(self.document.get("kind", "?"))

    @property
    def files(self) -> tuple[str, ...]:
        listed = self.document.get("files")
        return tuple(str(f) for f in listed) if isinstance(listed, list) else ()

    @property
    def scenario_names(self) -> tuple[str, ...]:
        return tuple(str(s.get("name", "?")) for s in self.document.get("scenarios") or ()
                     if isinstance(s, Mapping))

    @property
    def started_utc(self) -> str:
        return str(self.document.get("started_utc", ""))


def read_run(folder: Path) -> RunRecord | None:
    """The run of ``folder`` (``None`` when it holds no ``run.json``); RunFolderError when run.json is not a
    naef run document."""
    path = folder / RUN_FILE
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{path}: not a naef run.json ({exc})") from None
    if not isinstance(doc, dict) or doc.get("naef_run_format") != RUN_FORMAT or doc.get("kind") not in KINDS:
        raise RunFolderError(f"{path}: not a naef run.json (no naef_run_format {RUN_FORMAT} and known kind)")
    return RunRecord(folder=folder, document=doc)


def _walk(root: Path, depth: int) -> Iterator[Path]:
    yield root
    if depth == 0:
        return
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()
                          and not p.name.startswith("."))
    except OSError:
        return
    for child in children:
        yield from _walk(child, depth - 1)


def find_runs(root: Path, *, depth: int = 3) -> list[RunRecord]:
    """The run folders under ``root`` (itself included, ``depth`` levels down; ``latest`` links are not followed
    twice), oldest first; folders whose run.json is unreadable are skipped."""
    runs = []
    for folder in _walk(root, depth):
        try:
            record = read_run(folder)
        except RunFolderError:
            continue
        if record is not None:
            runs.append(record)
    return sorted(runs, key=lambda r: (r.started_utc, str(r.folder)))
