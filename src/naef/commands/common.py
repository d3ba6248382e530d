"""What every command shares: consoles, number formats (from ``naef.format``), atomic output folders and
the progress bar."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from naef.commands.kept import WRITTEN, stage_files
from naef.errors import CliError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from naef.commands.run_folder import RunFolder
    from naef.scenario.models import Scenario

# the one number formatter (naef.format): US dollars in billions without the unit ("75.00", the column
# says "USD bn"), and a number in a format string ("—" for none, never "-0.00")
from naef.format import bn as usd_bn
from naef.format import plain as num

__all__ = [
    "WRITTEN",
    "ChunkSizeOption",
    "OptionalPathsOption",
    "PathsOption",
    "PdfOption",
    "ProgressHandle",
    "SchedulerOption",
    "SeedOption",
    "SetOption",
    "ThreadsOption",
    "WorkersOption",
    "console",
    "err_console",
    "load_with_sets",
    "num",
    "print_table",
    "progress_bar",
    "usd_bn",
    "write_outputs",
    "write_sets",
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

#: ``--set KEY=VALUE`` (repeatable): every command that takes a scenario
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="KEY=VALUE", show_default=False, help=(
        "Change one input of the scenario (repeatable): a key path and a TOML value, e.g. --set "
        "tranches[0].coupon_rate=0.07 --set price.stochastic.sigma=0.45 --set 'fields[Zama].capex_usd=[1e9,2e9]'. "
        "Recorded in the summary, the report and run.json; the content hash is the changed scenario's.")),
]

#: ``--pdf``: also print the report to PDF with headless Chromium
PdfOption = Annotated[
    bool, typer.Option("--pdf", help="Also write report.pdf (needs Chromium: Debian's chromium package).")
]

console = Console()
err_console = Console(stderr=True)


def _fits(table: Table, to: Console) -> bool:
    """``table`` at its natural width (every header and cell on one line) fits ``to``'s width."""
    unbounded = to.options.update_width(1_000_000)  # Rich clamps a measurement to the width it is given
    return Measurement.get(to, unbounded, table).maximum <= to.width


def _compact(table: Table) -> Table:
    """``table`` with no box lines and one space between columns (Rich's ``box=None``, ``pad_edge=False``)."""
    table.box = None
    table.padding = (0, 1)
    table.pad_edge = False
    table.show_edge = False
    return table


def _vertical(table: Table) -> Table:
    """``table`` turned on its side: one block per row, each line a header and its value (a header is never cut;
    a long value folds onto the next line)."""
    out = Table.grid(padding=(0, 2))
    out.add_column("header", no_wrap=True, style="dim")
    out.add_column("value", overflow="fold")
    columns = table.columns
    cells = [list(c.cells) for c in columns]
    for i in range(table.row_count):
        style = table.rows[i].style or ""
        if i:
            out.add_row("", "")
        for j, column in enumerate(columns):
            header = column.header if isinstance(column.header, str | Text) else str(column.header)
            out.add_row(header, cells[j][i], style=style if j else f"bold {style}".strip())
    return out


def print_table(table: Table, to: Console | None = None) -> None:
    """Print a command's table so that nothing is cut at any width (an 80-column terminal, or stdout piped to a
    file, which Rich prints 80 wide): as it is when it fits (or has two columns, a figure and its value); else
    compact (no box lines, one space between columns, Rich's own ``box=None``); else vertically, one block per row
    with a header and its value on each line.

    Every command prints its tables through here (Rich would otherwise shorten headers to "tran…" and wrap each
    row over several lines)."""
    to = to if to is not None else console
    if len(table.columns) <= 2:
        # a figure-and-value table: wrapping its values by words is its natural layout (Rich cuts no word that fits)
        to.print(table)
        return
    if not _fits(table, to):
        _compact(table)
        if not _fits(table, to):
            if table.title:
                to.print(table.title, style="italic")  # the whole width, not the grid's
            to.print(_vertical(table))
            return
    to.print(table)





def load_with_sets(source: str, sets: list[str] | None, option: str = "--set") -> Scenario:
    """Load the scenario ``source`` (a file or a shipped name) and apply the ``--set`` arguments
    (:func:`naef.scenario.load.load_with_assignments`); a bad argument raises a ScenarioError naming it."""
    from naef.scenario.load import load_with_assignments

    return load_with_assignments(source, sets, option)


def write_outputs(out: Path, files: dict[str, str | bytes]) -> None:
    """Write all files into ``out`` at once: staged in a temporary folder beside them, then moved in (each file
    moved is recorded in :data:`WRITTEN`)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"--out {out}: cannot create the folder ({exc.strerror})") from None
    if not out.is_dir():
        raise CliError(f"--out {out}: not a folder")
    stage = stage_files(files, beside=out)
    try:
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


def write_sets(folder: RunFolder, files: Mapping[str, str | bytes], scenario: Scenario, sets: list[str] | None, *,
               seed: int | None = None, paths: int | None = None) -> Path:
    """Write a study's ``files`` and ``run.json`` into its run folder (``naef.commands.run_folder``), recording the
    scenario (name, content hash, ``--set`` changes), the seed and paths; returns the folder."""
    from naef.scenario.changes import changes_of
    from naef.scenario.load import scenario_identity

    return folder.write(files, scenarios=[scenario_identity(scenario)], seed=seed, paths=paths, sets=sets or [],
                        changes=changes_of(scenario), inputs=scenario.model_dump(mode="json"))


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
