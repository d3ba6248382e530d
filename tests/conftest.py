"""Suite-wide guard: no test reads a file beside the checkout (issue 15).

The static scan in ``tests/test_self_contained.py`` catches the spellings we know; this audit hook catches the
rest at run time: opening any path in the checkout's parent folder that is outside the checkout (and outside the
Python environment, hidden folders and the temporary folder) fails the test that did it, naming the path.
"""

from __future__ import annotations

import os
import site
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = os.path.abspath(Path(__file__).resolve().parents[1])
PARENT = os.path.dirname(ROOT)
_TMP = os.path.abspath(tempfile.gettempdir())


def _inside(path: str, folder: str) -> bool:
    return (path + os.sep).startswith(folder.rstrip(os.sep) + os.sep)


# Only what lies strictly inside the parent folder needs allowing: the checkout, a virtual environment or the
# temporary folder placed beside it.
_ALLOWED = tuple(
    {
        os.path.abspath(p).rstrip(os.sep) + os.sep
        for p in (ROOT, sys.prefix, sys.base_prefix, sys.exec_prefix, _TMP, *site.getsitepackages(),
                  site.getusersitepackages())
        if _inside(os.path.abspath(p), PARENT) and os.path.abspath(p) != PARENT
    }
)
#: Off when the parent folder is the file system's root or the temporary folder itself (a checkout at /tmp/x):
#: there the tests' own temporary files sit beside the checkout and cannot be told apart.
GUARD_ENABLED = PARENT not in {"", os.sep} and _TMP != PARENT


def outside_the_checkout(path: str) -> bool:
    """True for a path in the checkout's parent folder that is not inside the checkout (nor an allowed root)."""
    if not GUARD_ENABLED:
        return False
    full = os.path.abspath(path)
    if not _inside(full, PARENT) or full == PARENT:
        return False
    if full[len(PARENT) + 1:].startswith("."):
        return False  # a hidden folder (a checkout in a home folder: ~/.config, ~/.cache of the libraries)
    return not (full + os.sep).startswith(_ALLOWED)


def _guard(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not args:
        return
    path = args[0]
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if isinstance(path, str) and outside_the_checkout(path):
        raise PermissionError(f"a test opened {path!r}, outside the repository: copy the data into tests/data/")


sys.addaudithook(_guard)
