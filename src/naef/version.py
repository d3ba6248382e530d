"""naef's version, from the installed package's metadata (a module of its own, so that reading it loads nothing
else: ``naef/__init__`` and every layer import it from here)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("naef")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
    __version__ = "0.0.0+unknown"
