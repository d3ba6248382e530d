"""What every command shares: consoles, number formats (from ``naef.report.format``), atomic output folders and
the progress bar."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from naef.errors import CliError

# the one number formatter (naef.report.format): US dollars in billions without the unit ("75.00", the column
# says "USD bn"), and a number in a format string ("—" for none, never "-0.00")
from naef.report.format import bn as usd_bn
from naef.report.format import plain as num

__all__ = [
    "WRITTEN",
    "ChunkSizeOption",
    "OptionalPathsOption",
    "PathsOption",
    "ProgressHandle",
    "SchedulerOption",
    "SeedOption",
    "ThreadsOption",
    "WorkersOption",
    "console",
    "err_console",
    "num",
    "progress_bar",
    "usd_bn",
    "write_outputs",
]

#: ``--workers N``: run on a local Dask cluster of N worker processes (naef.parallel)
WorkersOption = Annotated[
    int | None, typer.Option("--workers", help="Run on a local Dask cluster of N worker processes.")
]
#: ``--scheduler ADDRESS``: run on an existing Dask cluster
SchedulerOption = Annotated[
    str | None, typer.Option("--scheduler", help="Run on an existing Dask cluster (tcp://host:8786).")
]

# the run arguments (naef.studies.RunSettings validates them): declared once, used by every command that runs paths
_PATHS = typer.Option("--paths", help="Monte Carlo paths (of each evaluation, where the command makes several).")
#: ``--paths N``
PathsOption = Annotated[int, _PATHS]
#: ``--paths N`` where leaving it out means no Monte Carlo (``naef run``)
OptionalPathsOption = Annotated[int | None, _PATHS]
#: ``--seed S``
SeedOption = Annotated[
    int, typer.Option("--seed", help="Seed of every random stream (the same seed draws the same paths).")
]
#: ``--chunk-size K``
ChunkSizeOption = Annotated[
    int, typer.Option("--chunk-size", help="Paths simulated at once (results do not depend on it).")
]
#: ``--threads T``
ThreadsOption = Annotated[
    int | None, typer.Option("--threads", help="Threads of the compiled kernel (default: all cores).")
]

console = Console()
err_console = Console(stderr=True)


#: the files this process has moved into place (what an interruption reports as kept: ``naef.cli.main``)
WRITTEN: list[Path] = []


def write_outputs(out: Path, files: dict[str, str | bytes]) -> None:
    """Write all files into ``out`` at once: staged in a temporary folder beside them, then moved in (each file
    moved is recorded in :data:`WRITTEN`)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"--out {out}: cannot create the folder ({exc.strerror})") from None
    if not out.is_dir():
        raise CliError(f"--out {out}: not a folder")
    stage = Path(tempfile.mkdtemp(prefix=".naef-", dir=out))
    try:
        for name, content in files.items():
            if isinstance(content, bytes):
                (stage / name).write_bytes(content)
            else:
                (stage / name).write_text(content, encoding="utf-8")
        for name in files:
            (stage / name).replace(out / name)
            WRITTEN.append(out / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


class ProgressHandle:
    """What :func:`progress_bar` yields: call it with ``n`` to advance; :meth:`set_total` when the work learns its
    true bound (a bisection's, ``naef size``), so the bar's count and ETA are never against a made-up total."""

    def __init__(self, advance: Callable[[int], None], set_total: Callable[[int], None]) -> None:
        self._advance, self._set_total = advance, set_total

    def __call__(self, n: int) -> None:
        self._advance(n)

    def set_total(self, total: int) -> None:
        """The work's bound (done plus the most still to do)."""
        self._set_total(total)


@contextmanager
def progress_bar(total: int, *, description: str, quiet: bool) -> Iterator[ProgressHandle]:
    """A Rich progress bar with ETA on stderr (nothing when ``quiet``); yields a :class:`ProgressHandle`."""
    if quiet:
        yield ProgressHandle(lambda n: None, lambda n: None)
        return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("ETA"), TimeRemainingColumn(), console=err_console, transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield ProgressHandle(lambda n: bar.advance(task, n), lambda n: bar.update(task, total=n))
