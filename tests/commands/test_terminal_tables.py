"""Tables at 80 columns and piped (issue 17, item 6): nothing is cut ("tran…", "Seni…") and no row wraps over
several lines; a table that fits is printed as it is. The one helper (``naef.commands.common.print_table``) and the
real command, piped, as a person redirecting it to a file would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from naef.commands.common import print_table

HEADERS = ("tranche", "rank", "size", "PD at legal final", "EL", "implied rating", "WAL", "min DSCR p5", "unpaid p50")
ROWS = (("Senior_A1", "1", "25.00", "0.12 % ± 0.03 %", "0.010 % ± 0.002 %", "Aa2", "6.25", "1.20×", "0.00"),
        ("Mezzanine", "2", "5.00", "1.12 % ± 0.30 %", "0.510 % ± 0.020 %", "Baa2", "8.25", "1.00×", "0.00"))


def _table() -> Table:
    t = Table(title="NAEF tranches: risk (± one Monte Carlo standard error)", show_edge=False)
    for h in HEADERS:
        t.add_column(h, justify="left" if h == "tranche" else "right")
    for r in ROWS:
        t.add_row(*r)
    return t


def _printed(width: int) -> str:
    console = Console(width=width, force_terminal=False, color_system=None)
    with console.capture() as cap:
        print_table(_table(), console)
    return cap.get()


def _lines_with(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


@pytest.mark.parametrize("width", [40, 60, 80, 100, 120, 200])
def test_nothing_is_cut_at_any_width(width: int) -> None:
    text = _printed(width)
    assert "…" not in text
    assert all(len(line) <= width for line in text.splitlines())
    for h in HEADERS:
        assert h in text, f"header {h!r} cut or wrapped at {width} columns"
    for row in ROWS:
        for cell in row:
            assert cell in text, f"cell {cell!r} cut or wrapped at {width} columns"


def test_a_table_that_fits_is_printed_as_a_table() -> None:
    wide = _printed(200)
    header = _lines_with(wide, "implied rating")
    assert len(header) == 1
    assert all(h in header[0] for h in HEADERS)  # one header line: a table, not the vertical layout
    assert len(_lines_with(wide, "Senior_A1")) == 1


def test_at_80_columns_each_row_is_a_block_of_header_value_lines() -> None:
    text = _printed(80)
    # each cell on the line of its header, once per row: the vertical layout
    assert len(_lines_with(text, "PD at legal final")) == len(ROWS)
    for row in ROWS:
        for h, cell in zip(HEADERS, row, strict=True):
            assert any(line.split() == [*h.split(), *cell.split()] for line in text.splitlines()), (h, cell)


@pytest.mark.parametrize("columns", ["80", None])
def test_a_monte_carlo_piped_to_a_file_cuts_nothing(tmp_path: Path, columns: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = columns
    # stdout is a pipe, not a terminal (Rich then prints 80 wide unless COLUMNS says otherwise)
    proc = subprocess.run([sys.executable, "-c", "import naef.cli; naef.cli.main()", "run", "--paths", "200",
                           "--out", str(tmp_path / "run")], capture_output=True, env=env, cwd=tmp_path, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    text = proc.stdout.decode()
    assert "tranche" in text
    assert "…" not in text
    # the closing "Wrote …" line keeps each path whole (soft wrap: a path broken across lines cannot be copied);
    # every other line, the tables' included, fits 80 columns
    lines = [line for line in text.splitlines() if not line.startswith("Wrote ")]
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    wrote = [line for line in text.splitlines() if line.startswith("Wrote ")]
    assert len(wrote) == 1
    assert str(tmp_path / "run" / "summary.json") in wrote[0]
    for tranche in ("A1", "A2", "A3", "B"):
        assert any(line.split() == ["tranche", tranche] for line in text.splitlines()), tranche
