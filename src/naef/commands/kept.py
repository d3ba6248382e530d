"""What this process writes and has written: the one stager of output files (written into a private folder beside
their destination, then moved in), and the files a command has moved into place, which an interruption (Ctrl-C,
SIGTERM) reports as kept (``naef.cli.main``). One list for every writer (``write_outputs``, run folders)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["WRITTEN", "stage_files"]

#: the files this process has moved into place, in order
WRITTEN: list[Path] = []


def stage_files(files: Mapping[str, str | bytes], *, beside: Path) -> Path:
    """A new private folder ``.naef-*`` in ``beside`` holding ``files`` (text as UTF-8, bytes as they are), to be
    moved into place once all are written, so an interruption never leaves a half-written output. On an error
    while writing, the folder is removed and the error raised."""
    stage = Path(tempfile.mkdtemp(prefix=".naef-", dir=beside))
    try:
        for name, content in files.items():
            if isinstance(content, bytes):
                (stage / name).write_bytes(content)
            else:
                (stage / name).write_text(content, encoding="utf-8")
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return stage
