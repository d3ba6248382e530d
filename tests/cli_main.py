"""Run the real ``naef`` command in process: ``naef.cli.main()`` with ``sys.argv`` set (every command registered)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

import naef.cli


def naef_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[Any, str, str]:
    """``naef *argv`` through ``naef.cli.main()``: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["naef", *argv])
    with pytest.raises(SystemExit) as exc:
        naef.cli.main()
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err
