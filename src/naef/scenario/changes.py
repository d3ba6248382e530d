"""Deriving a scenario from another in Python: ``scenario.with_changes({"tranches[0].coupon_rate": 0.07})``, and
from the command line: ``--set KEY=VALUE`` (:func:`parse_assignments`).

Each key is a path as the scenario's errors name it (tables by dots, arrays of tables by ``[i]``, or by an entry's
``name`` as ``fields[Zama]``); the value replaces what is there. The changed inputs are validated again as a whole,
so a derived scenario obeys every rule a loaded one does; a key that does not exist, or a value a rule refuses,
raises :class:`ScenarioError` naming the key. The derived scenario remembers its changes (:func:`changes_of`): the
summaries' ``scenario.changes`` and the report list them; its content hash is that of the changed inputs.

``--set`` values are TOML values (TOML 1.0, https://toml.io/en/v1.0.0#keyvalue-pair): ``0.07``, ``[1e9, 2e9]``,
``"text"``, ``true``, ``2031-01-01``; a value that is not TOML is taken as a bare string (``--set
scenario.name=test``).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self, cast

from pydantic import BaseModel, ValidationError

from naef.scenario.errors import ScenarioError, first_error, validate_strict

__all__ = ["Named", "WithChanges", "changes_of", "parse_assignments", "parse_key"]

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\[\]]+\])*)")
_INDEX = re.compile(r"\[([^\[\]]+)\]")


@dataclass(frozen=True)
class Named:
    """An entry of an array of tables chosen by its ``name`` (``fields[Zama]``)."""

    name: str


def parse_key(key: str) -> list[str | int | Named]:
    """``"tranches[0].coupon_rate"`` as ``["tranches", 0, "coupon_rate"]``, ``"fields[Zama].capex_usd"`` as
    ``["fields", Named("Zama"), "capex_usd"]`` (ScenarioError if malformed)."""
    if not isinstance(key, str) or not key:
        raise ScenarioError(f"with_changes: {key!r}: a key is a path such as 'tranches[0].coupon_rate'", path=str(key))
    out: list[str | int | Named] = []
    for part in key.split("."):
        m = _PART.fullmatch(part)
        if m is None:
            raise ScenarioError(f"{key}: not a key path (write tables with dots and arrays as name[i] or "
                                "name[entry name])", path=key)
        out.append(m.group(1))
        for index in _INDEX.findall(m.group(2)):
            text = index.strip()
            out.append(int(text) if text.isdigit() else Named(text.strip("\"'")))
    return out


def parse_assignments(assignments: Iterable[str], option: str = "--set") -> dict[str, object]:
    """``["tranches[0].coupon_rate=0.07", ...]`` as ``{"tranches[0].coupon_rate": 0.07, ...}``: each value parsed
    as a TOML value (a bare string when it is not one). ScenarioError naming ``option`` and the argument when one
    has no ``=``, an empty key or a malformed key path; a key given twice keeps the last value."""
    out: dict[str, object] = {}
    for text in assignments:
        key, sep, raw = text.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise ScenarioError(f"{option} {text}: write KEY=VALUE, e.g. {option} tranches[0].coupon_rate=0.07")
        try:
            parse_key(key)
        except ScenarioError as exc:
            raise ScenarioError(f"{option} {text}: {exc}", path=key) from None
        if not raw:
            raise ScenarioError(f"{option} {text}: no value after '='", path=key)
        try:
            value: object = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[key] = value
    return out


def changes_of(model: object) -> dict[str, object]:
    """The changes a scenario was derived with (``with_changes``, ``--set``), in order; empty for a loaded one."""
    private = getattr(model, "__pydantic_private__", None) or {}
    return dict(private.get("_changes", ()))


def _set(data: dict[str, Any], key: str, value: object) -> None:
    parts = parse_key(key)
    node: Any = data
    walked = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, Named):
            if not isinstance(node, list):
                raise ScenarioError(f"{key}: {walked} is not an array", path=key)
            names = [e.get("name") for e in node if isinstance(e, dict)]
            if part.name not in names:
                raise ScenarioError(f"{key}: {walked} has no entry named {part.name!r} (names: "
                                    f"{', '.join(str(n) for n in names)})", path=key)
            walked += f"[{names.index(part.name)}]"
            if last:
                node[names.index(part.name)] = value
            else:
                node = node[names.index(part.name)]
            continue
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
                close = difflib.get_close_matches(part, [str(k) for k in node], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ScenarioError(f"{key}: unknown key{hint}", path=key)
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
            derived = validate_strict(type(model), data)
        except ValidationError as exc:
            path, msg = first_error(exc, type(model))
            raise ScenarioError(f"{path or '(top level)'}: {msg}", path=path) from None
        recorded = changes_of(model) | {key: _thaw(value) for key, value in changes.items()}
        private = getattr(derived, "__pydantic_private__", None)
        if isinstance(private, dict) and "_changes" in private:
            private["_changes"] = tuple(recorded.items())
        return cast(Self, derived)
