"""The repository is self-contained: nothing under ``src/`` or ``tests/`` reads the workspace folder that sits beside
this checkout on the developers' machines (issue 15). Data the package needs ships in ``src/naef/data/``; data the
tests need lives in ``tests/data/``."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import pytest

import naef.resources
from naef.analysis import ratings
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


@pytest.fixture
def broken_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[str], None]]:
    """Make naef read its package data from a copy of ``naef/data`` with one file removed (a broken install)."""
    real = resources.files("naef")
    copy = tmp_path / "naef"
    shutil.copytree(Path(str(real.joinpath("data"))), copy / "data")

    def remove(relative: str) -> None:
        (copy / relative).unlink()
        monkeypatch.setattr(
            naef.resources, "_files", lambda package: copy if package == "naef" else resources.files(package)
        )
        ratings.load_table.cache_clear()  # a table loaded by an earlier test must not hide the missing file

    yield remove
    ratings.load_table.cache_clear()


@pytest.mark.parametrize(
    ("relative", "argv"),
    [
        ("data/bods-0.4/components.json", ("ledger", "demo", "{tmp}/demo.db")),
        ("data/stress_episodes.toml", ("stress", "--out", "{tmp}/stress")),
        ("data/mdf_pipeline.csv", ("portfolio", "--out", "{tmp}/portfolio", "--paths", "20")),
        ("data/ratings/moodys_idealized_cumulative_expected_loss_rates.csv", ("size", "--target-rating", "Baa3")),
    ],
)
def test_each_missing_shipped_file_is_one_line_naming_it(
    broken_install: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    relative: str,
    argv: tuple[str, ...],
) -> None:
    broken_install(relative)
    code, _, err = naef_main(monkeypatch, capsys, *(a.format(tmp=tmp_path) for a in argv))
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert f"naef/{relative} is missing" in lines[0]
    assert re.search(r"naef \S+: shipped data file", lines[0]), lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "demo.db").exists()


def test_a_corrupt_rating_table_is_named(broken_install: Callable[[str], None]) -> None:
    broken_install("data/ratings/README.md")  # switch to the copy; then corrupt one table in it
    copy = naef.resources._files("naef")
    (Path(str(copy)) / "data/ratings/moodys_idealized_cumulative_default_rates.csv").write_text("garbage\n1,x\n")
    ratings.load_table.cache_clear()
    try:
        with pytest.raises(DataFileError, match=r"naef/data/ratings/moodys_idealized_cumulative_default_rates\.csv "
                                                 r"cannot be parsed"):
            ratings.load_table("moodys_idealized_pd")
    finally:
        ratings.load_table.cache_clear()


def test_a_shipped_history_has_the_same_hash_wherever_naef_is_installed(tmp_path: Path) -> None:
    from naef.scenario import load_scenario
    from naef.scenario.load import content_hash

    text = _bootstrap_toml("brent-monthly")
    a = load_scenario(text)
    assert a.price.stochastic is not None
    assert a.price.stochastic.history.source == "naef:brent-monthly"  # type: ignore[union-attr]
    # the same series given by its path in the package gives the same returns (only the source differs)
    b = load_scenario(_bootstrap_toml(str(data_path("eia", "brent-monthly.csv"))))
    assert b.price.stochastic.history.log_returns == a.price.stochastic.history.log_returns  # type: ignore[union-attr]
    assert content_hash(a) != content_hash(b)
    assert content_hash(a) == content_hash(load_scenario(text))


def _bootstrap_toml(history: str) -> str:
    from naef.scenario.load import shipped_scenarios

    assert "baseline" in shipped_scenarios()
    base = naef.resources.read_package_text("naef.scenario", "scenarios", "baseline.toml")
    ou = '[price.stochastic]\nmodel = "ou"\nkappa = 0.20\nlong_run_usd_per_bbl = 66.8\nsigma = 0.47\n'
    assert ou in base
    return base.replace(ou, f'[price.stochastic]\nmodel = "bootstrap"\nhistory_csv = "{history}"\nblock_months = 12\n')


def test_opening_a_file_beside_the_checkout_fails(tmp_path: Path) -> None:
    """The run-time guard of ``tests/conftest.py``: a file in the checkout's parent folder cannot be opened."""
    from tests.conftest import GUARD_ENABLED, PARENT, ROOT, outside_the_checkout

    if not GUARD_ENABLED:
        pytest.skip(f"the checkout's parent folder {PARENT} is the temporary folder or the root: no guard there")
    beside = os.path.join(PARENT, "sha" + "red", "data", "x.csv")
    assert outside_the_checkout(beside)
    assert not outside_the_checkout(os.path.join(ROOT, "tests", "data", "README.md"))
    assert not outside_the_checkout(str(tmp_path / "x"))
    with pytest.raises(PermissionError, match="outside the repository"):
        open(beside, encoding="utf-8")  # noqa: SIM115 - the open itself is what is refused
