"""Numba's on-disk cache of the compiled kernels, kept true to every source they are built from.

Numba stamps a function compiled with ``cache=True`` with a hash of *its own* source file and reloads the cached
machine code while that file is unchanged (``numba.core.caching``: ``_SourceFileBackedLocatorMixin.
get_source_stamp``). A kernel also freezes into its machine code what it calls from other files — the fused Monte
Carlo kernel (``kernel.py``) inlines the waterfall of ``waterfall_kernel.py`` and the collections and metrics of
``path_kernels.py`` — and the global constants it imports (``metrics.py``). A change to one of those files alone
leaves the caller's cache in place, so the old rules keep running (seen in issue 18's work: an edited
``waterfall_path`` kept giving the old results through the cached fused kernel until the cache was removed by
hand); after ``pip install --upgrade`` the ``__pycache__`` files, which no wheel lists, survive the same way.

Here one SHA-256 over the sources of every module in :data:`KERNEL_MODULES` is kept in the cache directory
(:data:`STAMP_NAME`); when a kernel module is imported and the stamp differs, the cached files of all those
modules are removed before Numba can load any of them (it loads at a function's first call, not at import), and
the new stamp is written. The price is one recompilation after a change to any kernel source.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Protocol

__all__ = ["KERNEL_MODULES", "STAMP_NAME", "drop_stale", "ensure_fresh", "sources_digest"]

#: every module whose source a cached kernel's machine code depends on (``tests/engine/test_kernel_cache.py``
#: checks that this covers every ``naef`` module the kernel modules import)
KERNEL_MODULES = (
    "naef.engine.kernel",
    "naef.engine.path_kernels",
    "naef.engine.waterfall_kernel",
    "naef.engine.waterfall_lanes",
    "naef.engine.metric_lanes",
    "naef.engine.metric_kernels",
    "naef.engine.metrics",
    "naef.engine.aligned",
)
#: the file in the cache directory holding the digest the cached kernels were built from
STAMP_NAME = "naef-kernels.sha256"


class _Stats(Protocol):
    cache_path: str


class _CachedDispatcher(Protocol):
    @property
    def stats(self) -> _Stats: ...


def _source(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"{module}: source not found")
    return Path(spec.origin)


def sources_digest(modules: tuple[str, ...] = KERNEL_MODULES) -> str:
    """SHA-256 (hex) over each module's name and source bytes, in the order given."""
    h = hashlib.sha256()
    for module in modules:
        data = _source(module).read_bytes()
        h.update(module.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def drop_stale(cache_dir: Path, *, digest: str, stems: tuple[str, ...]) -> int:
    """When ``cache_dir``'s stamp is not ``digest``: remove the Numba cache files (``<stem>.<function>-<line>.…
    .nbi`` / ``.nbc``) of every module stem in ``stems``, then write the stamp (atomically). Returns the number of
    files removed. A directory that cannot be written is left as it is (Numba then does not cache there either)."""
    stamp = cache_dir / STAMP_NAME
    try:
        if stamp.read_text(encoding="ascii").strip() == digest:
            return 0
    except (OSError, UnicodeDecodeError):
        pass
    removed = 0
    try:
        for path in cache_dir.iterdir():
            if path.suffix in (".nbi", ".nbc") and path.name.split(".", 1)[0] in stems:
                try:
                    path.unlink()
                    removed += 1
                except FileNotFoundError:  # another process removed it first
                    pass
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".naef-stamp-")
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(digest + "\n")
        os.replace(tmp, stamp)
    except OSError:
        return removed
    return removed


@cache
def _ensure_dir(cache_dir: str) -> int:
    stems = tuple(m.rsplit(".", 1)[1] for m in KERNEL_MODULES)
    return drop_stale(Path(cache_dir), digest=sources_digest(), stems=stems)


def ensure_fresh(dispatcher: _CachedDispatcher) -> int:
    """Called by each kernel module when it is imported, with one of its cached functions: make the cache
    directory that function uses hold nothing built from other sources than today's (once per directory and
    process). Returns the number of stale files removed."""
    return _ensure_dir(dispatcher.stats.cache_path)
