"""Ctrl-C (issue 17, item 6): one line, "interrupted: nothing written" or the files kept, and exit code 130
(128 + SIGINT), no traceback. A real process and a real SIGINT, and in process for the files-kept line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import naef.commands.common as common
import naef.studies.run
from tests.cli_main import naef_main

READY = "import sys, naef.cli; print('ready', file=sys.stderr, flush=True); naef.cli.main()"


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_ctrl_c_during_a_monte_carlo_prints_one_line_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", READY, "run", "--paths", "2000000", "--out", str(out)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    assert proc.stderr.readline().strip() == b"ready"  # imported: the interruption lands inside the command
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT, stderr.decode()
    assert stderr.decode().strip() == "interrupted: nothing written"
    assert stdout == b""
    assert not out.exists() or list(out.iterdir()) == []


def test_an_interruption_after_files_were_moved_in_names_them(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        common.write_outputs(tmp_path, {"a.json": "{}\n"})
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "WRITTEN", [])
    monkeypatch.setattr(naef.studies.run, "run", interrupted)
    code, out, err = naef_main(monkeypatch, capsys, "run", "baseline", "--out", str(tmp_path))
    assert code == 130
    assert err.strip() == f"interrupted: kept a.json (in {tmp_path}); the rest was not written"
    assert out == ""


def test_an_interruption_before_any_file_says_nothing_written(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(common, "WRITTEN", [])
    monkeypatch.setattr(naef.studies.run, "run", interrupted)
    code, _, err = naef_main(monkeypatch, capsys, "run", "baseline")
    assert code == 130
    assert err == "interrupted: nothing written\n"
