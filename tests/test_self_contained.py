"""The repository is self-contained: nothing under ``src/`` or ``tests/`` reads the workspace folder that sits beside
this checkout on the developers' machines (issue 15). Data the package needs ships in ``src/naef/data/``; data the
tests need lives in ``tests/data/``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from naef.resources import SHIPPED_HISTORIES, DataFileError, data_path, read_data_text, resolve_history
from tests.cli_main import naef_main

ROOT = Path(__file__).resolve().parents[1]
# spelled in pieces so that this file does not match itself
_SHARED = "sha" + "red"
PATTERNS = [
    re.compile(r"\.\./" + _SHARED + r"\b"),  # the relative path to the folder beside the checkout
    re.compile(r"/work/" + _SHARED + r"\b"),  # an absolute path of one machine
    re.compile(r"""["']""" + _SHARED + r"""["']\s*/\s*["']data["']"""),  # a Path joined from its parts
]


def _text_files() -> list[Path]:
    out = []
    for top in ("src", "tests", ".ci"):
        for path in (ROOT / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".db", ".png"}:
                out.append(path)
    return out


def test_no_file_refers_to_the_folder_beside_the_checkout() -> None:
    offenders = []
    for path in _text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if any(p.search(line) for p in PATTERNS):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == [], "\n".join(offenders)


def test_the_scan_would_catch_each_spelling() -> None:
    """The patterns match the ways the old code spelled the path (so the test above can fail)."""
    samples = [
        "VECTORS = Path(__file__).resolve().parents[2] / '..' / '" + _SHARED + "' / 'data'",
        'EIA = Path(__file__).parents[2].parent / "' + _SHARED + '" / "data" / "eia-oil-prices"',
        "copies in ``../" + _SHARED + "/data/specs/``",
        "(``/work/" + _SHARED + "/data/eia-oil-prices/brent-monthly.csv``)",
    ]
    for sample in samples:
        assert any(p.search(sample) for p in PATTERNS), sample


def test_every_shipped_history_is_in_the_package() -> None:
    for name, relative in SHIPPED_HISTORIES.items():
        path = resolve_history(name)
        assert path == data_path(*relative.split("/"))
        assert path.read_text(encoding="utf-8").startswith("Date,Price\n"), name
    # a path is a path
    assert resolve_history("prices/my.csv") == Path("prices/my.csv")


def test_a_missing_shipped_file_names_the_file_and_the_version() -> None:
    try:
        read_data_text("eia", "no-such-series.csv")
    except DataFileError as exc:
        message = str(exc)
    else:  # pragma: no cover - the assertion below reports it
        message = ""
    assert re.fullmatch(
        r"naef \S+: shipped data file naef/data/eia/no-such-series\.csv is missing"
        r" \(a broken install: reinstall naef\)",
        message,
    ), message


def test_calibrate_runs_on_a_shipped_series_by_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("calibrate", "--history", "brent-monthly", "--model", "gbm", "--json")
    code, out, err = naef_main(monkeypatch, capsys, *argv)
    assert code == 0, err
    fit = json.loads(out)
    assert fit["model"] == "gbm"
    assert "brent-monthly.csv" in fit["source"]


def test_a_broken_install_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shipped series whose file is gone (simulated by pointing the table at a name that is not shipped)."""
    monkeypatch.setitem(SHIPPED_HISTORIES, "brent-daily", "eia/vanished.csv")
    code, out, err = naef_main(monkeypatch, capsys, "calibrate", "--history", "brent-daily", "--model", "gbm")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "naef/data/eia/vanished.csv is missing" in err
    assert "Traceback" not in err
