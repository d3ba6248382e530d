"""Names a package loads on first use (PEP 562), so that importing the package stays light.

A package lists where each public name lives and sets ``__getattr__ = lazy_names(__name__, homes)``; the first
``package.name`` imports ``homes[name]`` and keeps the value in the package (later lookups do not come here). A home
equal to ``package.name`` is a subpackage or submodule, returned itself. Used by ``naef.ledger`` and ``naef.report``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``name`` imported from ``homes[name]`` on first use;
    ``AttributeError`` for a name it does not list."""

    def lookup(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(home)
        value = module if home == f"{package}.{name}" else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    return lookup
