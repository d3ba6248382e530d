"""Where a command writes: a folder of its own for every run, ``run.json`` in it, and ``latest``.

Without ``--out`` a run writes to ``out/<scenario>/<kind>-<UTC timestamp>/`` (``-2``, ``-3``, ... when two runs
start in the same second) and ``out/<scenario>/latest`` then points at it: a relative symbolic link, or, where
links cannot be made (some Windows and network file systems), a text file holding the folder's name. With
``--out DIR`` the folder must be empty (or not exist), or have been written by naef for the same kind of run: its
``run.json`` lists the files that run wrote, they are replaced, and no file of the earlier run is left. Anything else
(a file naef did not write, a folder of another kind) exits with code 2 naming the stray files, before anything
is computed or written. Files are staged in a hidden folder beside them and moved in at the end; ``run.json`` is
written last (:mod:`naef.studies.runs` describes it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naef.commands.kept import WRITTEN, stage_files
from naef.errors import CliError
from naef.studies.runs import KINDS, RUN_FILE, RunFolderError, read_run, run_document

__all__ = ["DEFAULT_ROOT", "LATEST", "RunFolder", "command_line", "set_command_line"]

#: where runs go without --out (relative to the working directory)
DEFAULT_ROOT = Path("out")
#: the link (or text pointer) to the newest run of a scenario
LATEST = "latest"

_COMMAND_LINE: list[str] = []


def set_command_line(args: Sequence[str]) -> None:
    """Remember the command line being run (``naef.cli`` records it when a command starts)."""
    _COMMAND_LINE[:] = ["naef", *args]


def command_line() -> list[str]:
    """The command line being run, as recorded (else ``sys.argv`` with ``naef`` as the program)."""
    return list(_COMMAND_LINE) if _COMMAND_LINE else ["naef", *sys.argv[1:]]


def _stray(folder: Path, kind: str, option: str) -> None:
    """CliError unless ``folder`` may receive a ``kind`` run (module docstring)."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise CliError(f"{option} {folder}: not a folder")
    entries = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".naef-"))
    if not entries:
        return
    try:
        record = read_run(folder)
    except RunFolderError as exc:
        raise CliError(f"{option} {folder}: {exc}") from None
    if record is None:
        raise CliError(f"{option} {folder}: holds files naef did not write ({_listing(entries)}); give an empty "
                       "folder or one naef wrote for the same kind of run")
    if record.kind != kind:
        raise CliError(f"{option} {folder}: holds a {_LABEL.get(record.kind, record.kind)}, not a "
                       f"{_LABEL.get(kind, kind)}; give an empty folder or one of a {_LABEL.get(kind, kind)}")
    stray = [e for e in entries if e != RUN_FILE and e not in record.files]
    if stray:
        raise CliError(f"{option} {folder}: holds files naef did not write ({_listing(stray)}); remove them or give "
                       "another folder")


_LABEL = {"run": "deterministic run", "montecarlo": "Monte Carlo run", "size": "size search",
          "stress": "stress run", "sensitivity": "sensitivity analysis", "portfolio": "portfolio run",
          "compare": "comparison"}


def _listing(names: Sequence[str], most: int = 5) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class RunFolder:
    """The folder of one run: ``kind`` (one of :data:`naef.studies.runs.KINDS`), ``group`` (the scenario's name:
    the folder under ``out/``), ``out`` (``--out``, or None for the default folder). Made when the command starts
    (so a bad ``--out`` exits before anything is computed); :meth:`write` writes the files and run.json."""

    kind: str
    group: str
    out: Path | None = None
    option: str = "--out"
    root: Path = DEFAULT_ROOT
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CliError(f"run folder: unknown kind {self.kind!r}")
        if self.out is not None:
            _stray(self.out, self.kind, self.option)

    @property
    def group_folder(self) -> Path:
        """``out/<scenario>``: the default folders' parent, where ``latest`` lives."""
        return self.root / _safe(self.group)

    def write(self, files: Mapping[str, str | bytes], *, scenarios: Sequence[Mapping[str, Any]],
              seed: int | None = None, paths: int | None = None, sets: Sequence[str] = (),
              changes: Mapping[str, Any] | None = None, inputs: Mapping[str, Any] | None = None) -> Path:
        """Write ``files`` and ``run.json`` into the run's folder (module docstring); returns the folder."""
        from naef import __version__

        if RUN_FILE in files:
            raise CliError(f"run folder: a command may not write {RUN_FILE} itself")
        if self.out is not None:
            _stray(self.out, self.kind, self.option)  # again: the folder may have changed while computing
            folder = self.out
        else:
            folder = self.group_folder / f"{self.kind}-{_timestamp(self.started)}"
        try:
            (folder if self.out is not None else folder.parent).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(f"{self.option} {folder}: cannot create the folder ({exc.strerror})") from None
        stage_parent = folder if self.out is not None else folder.parent
        stage = stage_files(files, beside=stage_parent)
        try:
            doc = run_document(
                kind=self.kind, command_line=command_line(), version=__version__, scenarios=scenarios, seed=seed,
                paths=paths, sets=sets, changes=changes or {}, started=self.started,
                finished=dt.datetime.now(dt.UTC), files=list(files), inputs=inputs)
            (stage / RUN_FILE).write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
            if self.out is None:
                umask = os.umask(0)
                os.umask(umask)
                stage.chmod(0o777 & ~umask)  # mkdtemp made it private; a run folder is an ordinary folder
                folder = _rename_unique(stage, folder)
            else:
                earlier = read_run(folder)
                if (folder / RUN_FILE).exists():
                    (folder / RUN_FILE).unlink()  # the folder is not a finished run while files move
                for name in files:
                    (stage / name).replace(folder / name)
                for name in earlier.files if earlier is not None else ():
                    if name not in files and (folder / name).is_file():
                        (folder / name).unlink()  # a file of the earlier run this one does not write
                (stage / RUN_FILE).replace(folder / RUN_FILE)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        WRITTEN.extend([folder / name for name in files] + [folder / RUN_FILE])
        if self.out is None:
            point_latest(self.group_folder, folder.name)
        return folder


def _safe(name: str) -> str:
    """A scenario name as a folder name (path separators and leading dots replaced)."""
    cleaned = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 else c for c in name).strip()
    return cleaned.lstrip(".") or "scenario"


def _rename_unique(stage: Path, folder: Path) -> Path:
    """Move the staged folder to ``folder`` (or ``folder-2``, ``-3``, ... if taken); returns where it went."""
    for n in range(1, 1000):
        target = folder if n == 1 else folder.with_name(f"{folder.name}-{n}")
        try:
            stage.rename(target)  # atomic; fails on an existing non-empty folder
            return target
        except OSError:
            if target.exists():
                continue
            raise
    raise CliError(f"{folder}: 999 runs started in the same second")


def point_latest(group: Path, name: str) -> None:
    """Make ``group/latest`` point at ``group/name``: a relative symbolic link, replaced atomically; where links
    cannot be made, a text file holding ``name``. A real folder called ``latest`` is left alone."""
    latest = group / LATEST
    if latest.is_dir() and not latest.is_symlink():
        return
    tmp = group / f".{LATEST}-{os.getpid()}"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(name, tmp, target_is_directory=True)
        os.replace(tmp, latest)
    except (OSError, NotImplementedError):
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.write_text(name + "\n", encoding="utf-8")
        os.replace(tmp, latest)
