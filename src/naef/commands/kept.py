"""What this process has written: the files a command has moved into place, which an interruption (Ctrl-C,
SIGTERM) reports as kept (``naef.cli.main``). One list for every writer (``write_outputs``, run folders)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["WRITTEN"]

#: the files this process has moved into place, in order
WRITTEN: list[Path] = []
