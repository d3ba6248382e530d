"""``naef compare A B [C ...]``: designs side by side (:mod:`naef.studies.compare`), printed as one table (the
inputs that differ, then the headline results) and written as ``compare.json``, ``compare.html`` and
``compare.xlsx`` (:mod:`naef.report.compare`) into a run folder of kind ``compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from naef.commands.common import (
    ChunkSizeOption,
    PathsOption,
    SeedOption,
    SetOption,
    ThreadsOption,
    console,
    load_with_sets,
    progress_bar,
)
from naef.studies.settings import DEFAULT_CHUNK_SIZE, DEFAULT_PATHS, DEFAULT_SEED, RunSettings

__all__ = ["register"]

HELP = "\n\n".join([
    "Compare two or more designs side by side. Each argument is a scenario file, a shipped scenario's name, or the "
    "folder of an earlier `naef run` (read back, not re-run; out/<scenario>/latest works).",
    "Scenarios are run as Monte Carlos of --paths paths with --seed (the same seed for all: common random numbers, "
    "so differences are the designs', not the draws'); --set changes every scenario given by name or file.",
    "Prints the inputs that differ (key paths) and the headline results (issuance; per tranche rating, PD, EL, WAL, "
    "min DSCR; MDF P10/P50/P90 and PV; PEMEX's capex funding; the binding constraint), and writes compare.json, "
    "compare.html (self-contained, overlaid fan charts, differences highlighted), compare.xlsx and run.json into "
    "out/compare/compare-<UTC time>/ (or --out).",
])


def compare_command(
    inputs: Annotated[list[str], typer.Argument(help="Scenarios (files or shipped names) or run folders.",
                                                show_default=False)],
    paths: PathsOption = DEFAULT_PATHS,
    seed: SeedOption = DEFAULT_SEED,
    chunk_size: ChunkSizeOption = DEFAULT_CHUNK_SIZE,
    threads: ThreadsOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder: empty, or an earlier comparison's.",
                                             show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar and no table.")] = False,
    sets: SetOption = None,
) -> None:
    """Compare designs (help above)."""
    from naef.commands.run_folder import RunFolder
    from naef.report.compare import compare_files, compare_rows
    from naef.scenario.changes import parse_assignments
    from naef.scenario.load import scenario_identity
    from naef.studies.compare import compare, compare_units, resolve_input

    settings = RunSettings(seed=seed, paths=paths, chunk_size=chunk_size, threads=threads)
    changes = parse_assignments(sets or [])
    simulated = False  # whether any input is simulated here (run folders are read back, not re-run)
    for i, source in enumerate(inputs):  # every argument checked before anything runs
        item = resolve_input(source, str(i))
        simulated = simulated or item.folder is None
        if item.folder is None and sets:
            load_with_sets(source, sets)  # a bad --set names itself
    folder = RunFolder("compare", "compare", out)
    with progress_bar(compare_units(inputs, settings), description="paths", quiet=quiet) as advance:
        result = compare(inputs, settings, changes=changes, progress=advance)
    doc = result.summary
    files = result.files()
    files.update(compare_files(doc, result.tables()))
    # run.json records the seed and paths only when this command simulated something with them
    written = folder.write(files, scenarios=[scenario_identity(r.input.scenario) for r in result.runs],
                           seed=seed if simulated else None,
                           paths=paths if simulated else None,
                           sets=sets or [], changes=changes)
    if quiet:
        return
    labels = [r.input.label for r in result.runs]
    t = Table(title="Comparison (highlighted: values that differ)", show_edge=False)
    t.add_column("", overflow="fold")
    for label in labels:
        t.add_column(label, justify="right", overflow="fold")
    section = None
    for row in compare_rows(doc):
        if row.section != section:
            section = row.section
            t.add_row(Text("inputs that differ" if section == "inputs" else "headline results", style="bold"),
                      *([""] * len(labels)))
        style = "bold yellow" if row.differs else ""
        t.add_row(Text(row.label, style=style), *(Text(x, style=style) for x in row.texts))
    console.print(t)
    console.print(Text(f"Common random numbers: {doc['common_random_numbers_note']}."), soft_wrap=True)
    console.print(Text(f"Wrote {written / 'compare.html'}, {written / 'compare.xlsx'}, {written / 'compare.json'} and "
                       f"{written / 'run.json'}."), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``compare`` to ``app``."""
    app.command("compare", help=HELP)(compare_command)
