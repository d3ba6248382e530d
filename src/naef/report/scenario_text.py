"""A validated scenario written back as TOML (for the report's last section), checked to reload to the same
content hash.

``scenario_toml`` writes the scenario's fields (``Scenario.model_dump()``) as TOML 1.0: tables and arrays of
tables for nested models, inline arrays for lists of numbers (decks, capex by year), dates as TOML local dates;
keys whose value is ``None`` are left out (the loader then applies the same default). It then loads the text
with ``naef.scenario.load_scenario`` and compares content hashes; when they differ (a value TOML cannot carry)
it returns ``None`` and the caller shows the canonical JSON instead. The original file's comments are not kept:
the sources of the figures are in the shipped scenario files and ``docs/baseline.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from naef.errors import NaefError
from naef.scenario.load import content_hash, load_scenario
from naef.scenario.models import Scenario

__all__ = ["scenario_json", "scenario_toml"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class _NotTomlError(Exception):
    """A value that TOML cannot carry."""


def _key(k: object) -> str:
    s = str(k)
    return s if _BARE_KEY.match(s) else _string(s)


def _string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007F")


def _inline(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_inline(x)}" for k, x in v.items() if x is not None) + " }"
    if isinstance(v, Sequence):
        if any(x is None for x in v):
            raise _NotTomlError("null inside an array")
        return "[" + ", ".join(_inline(x) for x in v) + "]"
    raise _NotTomlError(f"cannot write {type(v).__name__}")


def _is_table_array(v: object) -> bool:
    return (isinstance(v, Sequence) and not isinstance(v, str) and len(v) > 0
            and all(isinstance(x, Mapping) for x in v))


def _table(path: list[str], d: Mapping[str, Any], out: list[str]) -> None:
    later: list[tuple[str, Any]] = []
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, Mapping) or _is_table_array(v):
            later.append((k, v))
        else:
            out.append(f"{_key(k)} = {_inline(v)}")
    for k, v in later:  # sub-tables and arrays of tables after the scalars, in the model's order
        name = ".".join(_key(p) for p in [*path, k])
        if isinstance(v, Mapping):
            out.append("")
            out.append(f"[{name}]")
            _table([*path, k], v, out)
            continue
        for item in v:
            out.append("")
            out.append(f"[[{name}]]")
            _table([*path, k], item, out)


def scenario_json(scenario: Scenario) -> str:
    """The scenario's JSON (``model_dump(mode="json")``, the document its content hash is computed over),
    indented."""
    return json.dumps(scenario.model_dump(mode="json"), indent=2, ensure_ascii=False, allow_nan=False)


def scenario_toml(scenario: Scenario, *, header: str = "") -> str | None:
    """The scenario as TOML that reloads to the same content hash, or ``None`` when it cannot be written so
    (module docstring). ``header`` (lines of text) goes first, as comments."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    body: list[str] = []
    try:
        _table([], scenario.model_dump(), body)
    except _NotTomlError:
        return None
    text = "\n".join([*lines, *body]).strip("\n") + "\n"
    try:
        again = load_scenario(text)
    except NaefError:
        return None
    return text if content_hash(again) == content_hash(scenario) else None
