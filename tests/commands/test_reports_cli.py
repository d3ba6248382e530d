"""Every command with an output folder writes the report and the workbook; --pdf adds a PDF (or says why not)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

NAEF = Path(sys.executable).parent / "naef"


def run_naef(*args: str, cwd: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NAEF), *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
        env={"PATH": path if path is not None else f"{NAEF.parent}:/usr/bin:/bin", "HOME": str(cwd),
             "LANG": "C.UTF-8"},
    )


@pytest.mark.parametrize("args", [
    ["size", "--target-rating", "A3", "--paths", "200", "--quiet"],
    ["stress", "--episode", "collapse_2008", "--json"],
    ["sensitivity", "--method", "tornado", "--paths", "100", "--inputs", "price_level,capex_multiplier", "--quiet"],
])
def test_commands_write_the_report_and_the_workbook(tmp_path: Path, args: list[str]) -> None:
    proc = run_naef(*args, "--out", "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "<script src" not in html
    assert 'data-source="summary"' in html
    assert zipfile.is_zipfile(tmp_path / "o" / "results.xlsx")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_run_pdf(tmp_path: Path) -> None:
    proc = run_naef("run", "--out", "o", "--quiet", "--pdf", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "report.pdf").read_bytes().startswith(b"%PDF")


def test_pdf_without_chromium_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    proc = run_naef("run", "--out", "o", "--quiet", "--pdf", cwd=tmp_path, path=str(NAEF.parent))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "chromium" in lines[0].lower()
    assert not (tmp_path / "o").exists()
