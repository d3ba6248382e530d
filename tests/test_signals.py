"""SIGTERM (what ``timeout``, ``kill``, systemd and container runtimes send) unwinds ``naef`` like Ctrl-C: an
unfinished ``naef ledger demo`` leaves nothing behind and the process exits with 128 + 15. Real processes, real
signals (found in the review of issue 15: the staging files stayed after a SIGTERM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

NAEF = [sys.executable, "-c", "import naef.cli; naef.cli.main()"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigterm_during_the_demo_leaves_nothing_behind(tmp_path: Path) -> None:
    proc = subprocess.Popen([*NAEF, "ledger", "demo", "demo.db"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    # wait until the demo is writing its staging database (after the imports, inside the build)
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.name.endswith(".building") for p in tmp_path.iterdir()):
            break
        time.sleep(0.01)
    else:
        proc.kill()
        pytest.fail(f"the demo ended (code {proc.returncode}) before its staging file was seen")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert b"Traceback" not in err
