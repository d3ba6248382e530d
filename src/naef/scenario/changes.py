"""Deriving a scenario from another in Python: ``scenario.with_changes({"tranches[0].coupon_rate": 0.07})``.

Each key is a path as the scenario's errors name it (tables by dots, arrays of tables by ``[i]``); the value
replaces what is there. The changed inputs are validated again as a whole, so a derived scenario obeys every rule a
loaded one does; a key that does not exist, or a value a rule refuses, raises :class:`ScenarioError` naming the
key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Self, cast

from pydantic import BaseModel, ValidationError

from naef.scenario.errors import ScenarioError, first_error, validate_strict

__all__ = ["WithChanges", "parse_key"]

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")
_INDEX = re.compile(r"\[(\d+)\]")


def parse_key(key: str) -> list[str | int]:
    """``"tranches[0].coupon_rate"`` as ``["tranches", 0, "coupon_rate"]`` (ScenarioError if malformed)."""
    if not isinstance(key, str) or not key:
        raise ScenarioError(f"with_changes: {key!r}: a key is a path such as 'tranches[0].coupon_rate'", path=str(key))
    out: list[str | int] = []
    for part in key.split("."):
        m = _PART.fullmatch(part)
        if m is None:
            raise ScenarioError(f"{key}: not a key path (write tables with dots and arrays as name[i])", path=key)
        out.append(m.group(1))
        out.extend(int(i) for i in _INDEX.findall(m.group(2)))
    return out


def _set(data: dict[str, Any], key: str, value: object) -> None:
    parts = parse_key(key)
    node: Any = data
    walked = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(node, list):
                raise ScenarioError(f"{key}: {walked} is not an array", path=key)
            if not 0 <= part < len(node):
                raise ScenarioError(f"{key}: {walked} has {len(node)} entries (index {part} is out of range)", path=key)
            walked += f"[{part}]"
        else:
            if node is None:
                raise ScenarioError(f"{key}: {walked} is not set (give the whole table as {walked!r})", path=key)
            if not isinstance(node, dict):
                raise ScenarioError(f"{key}: {walked} is not a table", path=key)
            if part not in node:
                raise ScenarioError(f"{key}: unknown key", path=key)
            walked += ("." if walked else "") + part
        if last:
            node[part] = value
        else:
            node = node[part]


def _thaw(value: Any) -> Any:
    """A dumped model with its tuples as lists (so entries can be replaced; validation makes them tuples again)."""
    if isinstance(value, dict):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_thaw(v) for v in value]
    return value


class WithChanges:
    """Adds :meth:`with_changes` to a pydantic model (the scenario)."""

    def with_changes(self, changes: Mapping[str, object]) -> Self:
        """A copy with the values at ``changes``' key paths replaced, validated again (ScenarioError naming the
        key on an unknown path or a refused value); the original is unchanged."""
        model = cast(BaseModel, self)
        if not isinstance(changes, Mapping):
            raise ScenarioError("with_changes: give a mapping of key paths to values")
        data = _thaw(model.model_dump())
        for key, value in changes.items():
            _set(data, key, value)
        try:
            return cast(Self, validate_strict(type(model), data))
        except ValidationError as exc:
            path, msg = first_error(exc, type(model))
            raise ScenarioError(f"{path or '(top level)'}: {msg}", path=path) from None
