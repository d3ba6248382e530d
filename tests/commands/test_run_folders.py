"""Runs never mix (issue 17, item 3): a folder of its own per run, ``run.json``, ``latest``, ``naef runs``.

Checked: without ``--out`` a run writes ``out/<scenario>/<kind>-<UTC time>/`` and ``latest`` points at the newest
(a symbolic link, or a text file naming the folder where links fail); ``run.json`` holds the command line, naef
version, scenario hash, seed, paths, ``--set`` overrides, start and end time and the files; ``--out`` must be empty or
a folder naef wrote for the same kind (else exit 2 naming the stray files, nothing written); writing a folder again
leaves no file of the earlier run; ``naef runs`` lists the runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

import naef
from naef.commands.run_folder import LATEST, RunFolder
from naef.errors import CliError
from naef.scenario import content_hash, load_scenario
from naef.studies.runs import RUN_FILE, find_runs, read_run
from tests.cli_main import naef_main

SCENARIO = [{"name": "s", "content_hash_sha256": "0" * 64}]


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[Any, str, str]:
    return naef_main(monkeypatch, capsys, *argv)


def test_default_folders_latest_and_run_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    code, out, err = _main(monkeypatch, capsys, "run", "--set", "tranches[0].coupon_rate=0.07")
    assert code in (0, None), err
    after = dt.datetime.now(dt.UTC)
    group = tmp_path / "out" / "baseline"
    (first,) = [p for p in group.iterdir() if p.name != LATEST]
    assert first.name.startswith("run-")
    assert (group / LATEST).is_symlink()
    assert (group / LATEST).resolve() == first.resolve()
    assert f"out/baseline/{first.name}/summary.json" in out.replace("\n", "")
    doc = json.loads((first / RUN_FILE).read_text("utf-8"))
    assert doc["kind"] == "run"
    assert doc["command_line"] == ["naef", "run", "--set", "tranches[0].coupon_rate=0.07"]
    assert doc["naef_version"] == naef.__version__
    changed = load_scenario("baseline").with_changes({"tranches[0].coupon_rate": 0.07})
    assert doc["scenario"]["content_hash_sha256"] == content_hash(changed)
    assert doc["scenario"]["name"] == "baseline"
    assert (doc["seed"], doc["paths"]) == (None, None)  # a deterministic run draws nothing
    assert doc["set"] == ["tranches[0].coupon_rate=0.07"]
    assert doc["changes"] == {"tranches[0].coupon_rate": 0.07}
    started = dt.datetime.strptime(doc["started_utc"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    finished = dt.datetime.strptime(doc["finished_utc"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert before <= started <= finished <= after
    assert doc["files"] == sorted(p.name for p in first.iterdir() if p.name != RUN_FILE)
    assert first.name == "run-" + started.strftime("%Y%m%dT%H%M%SZ")
    # a second run: a new folder beside the first, latest moves to it, the first is untouched
    mtimes = {p.name: p.stat().st_mtime_ns for p in first.iterdir()}
    code, _, err = _main(monkeypatch, capsys, "run", "--quiet")
    assert code in (0, None), err
    folders = sorted(p for p in group.iterdir() if p.name != LATEST)
    assert len(folders) == 2
    second = next(p for p in folders if p != first)
    assert (group / LATEST).resolve() == second.resolve()
    assert {p.name: p.stat().st_mtime_ns for p in first.iterdir()} == mtimes
    # naef runs lists both, oldest first
    code, listing, _ = _main(monkeypatch, capsys, "runs", "--json")
    assert code in (0, None)
    runs = json.loads(listing)
    assert [Path(r["folder"]).name for r in runs] == [p.name for p in sorted(folders, key=lambda p: (
        json.loads((p / RUN_FILE).read_text())["started_utc"], str(p)))]
    code, table, _ = _main(monkeypatch, capsys, "runs")
    assert "tranches[0].coupon_rate=0.07" in table
    assert first.name in table.replace("\n", "")


def test_latest_falls_back_to_a_text_pointer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError("symbolic links are not supported here")

    monkeypatch.setattr(os, "symlink", no_links)
    folder = RunFolder("stress", "s", root=tmp_path)
    written = folder.write({"a.json": "{}"}, scenarios=SCENARIO)
    latest = tmp_path / "s" / LATEST
    assert not latest.is_symlink()
    assert latest.read_text("utf-8").strip() == written.name
    again = RunFolder("stress", "s", root=tmp_path, started=folder.started).write({"a.json": "{}"}, scenarios=SCENARIO)
    assert again.name == written.name + "-2"  # same second: a new folder, never the old one
    assert latest.read_text("utf-8").strip() == again.name


def test_rewriting_a_folder_leaves_no_file_of_the_earlier_run(tmp_path: Path) -> None:
    out = tmp_path / "o"
    RunFolder("sensitivity", "s", out).write({"a.json": "1", "b.csv": "x", "report.pdf": b"%PDF"}, scenarios=SCENARIO)
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "b.csv", "report.pdf", RUN_FILE]
    RunFolder("sensitivity", "s", out).write({"a.json": "2"}, scenarios=SCENARIO)
    assert sorted(p.name for p in out.iterdir()) == ["a.json", RUN_FILE]
    assert (out / "a.json").read_text() == "2"
    record = read_run(out)
    assert record is not None
    assert record.files == ("a.json",)
    assert [r.folder for r in find_runs(tmp_path)] == [out]


@pytest.mark.parametrize(("setup", "kind", "words"), [
    ({"notes.txt": "mine"}, "run", ("holds files naef did not write", "notes.txt")),
    ({"a.csv": "", "b.csv": "", "c.csv": "", "d.csv": "", "e.csv": "", "f.csv": ""}, "run", ("and 1 more",)),
])
def test_foreign_folders_are_refused(setup: dict[str, str], kind: str, words: tuple[str, ...],
                                     tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    for name, text in setup.items():
        (out / name).write_text(text)
    with pytest.raises(CliError, match=r"^--out ") as exc:
        RunFolder(kind, "s", out)
    for w in words:
        assert w in str(exc.value)


def test_stray_file_in_a_naef_folder_and_another_kind_are_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    code, _, err = _main(monkeypatch, capsys, "stress", "--episode", "crash_2020", "--out", str(out))
    assert code in (0, None), err
    doc = json.loads((out / RUN_FILE).read_text("utf-8"))
    assert doc["kind"] == "stress"
    assert set(doc["files"]) >= {"stress.json", "stress_paths.csv", "report.html", "results.xlsx"}
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # another kind of run into it: refused, one line, nothing touched
    code, _, err = _main(monkeypatch, capsys, "run", "--out", str(out))
    assert code == 2
    assert err.strip().split("\n") == [f"error: --out {out}: holds a stress run, not a deterministic run; give an "
                                       "empty folder or one of a deterministic run"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # a file naef did not write beside the run's: refused naming it
    (out / "my-notes.txt").write_text("keep me")
    code, _, err = _main(monkeypatch, capsys, "stress", "--episode", "crash_2020", "--out", str(out))
    assert code == 2
    assert "my-notes.txt" in err
    assert len(err.strip().split("\n")) == 1
    (out / "my-notes.txt").unlink()
    # the same kind again: allowed, its files replaced
    code, _, err = _main(monkeypatch, capsys, "stress", "--episode", "slump_2014", "--out", str(out))
    assert code in (0, None), err
    assert "slump_2014" in (out / "stress.json").read_text("utf-8")
    assert sorted(p.name for p in out.iterdir()) == sorted(before)


def test_runs_on_a_missing_folder_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _main(monkeypatch, capsys, "runs", str(tmp_path / "nope"))
    assert code == 2
    assert "no such folder" in err
    code, out, _ = _main(monkeypatch, capsys, "runs", str(tmp_path))
    assert code in (0, None)
    assert "No runs under" in out
