"""Scenario errors: one line naming the key path (``fields[2].decline.di``) and the reason.

:func:`first_error` turns pydantic's validation error into that line, for a loaded scenario
(``naef.scenario.load``) and a derived one (``Scenario.with_changes``) alike.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from naef.errors import NaefError

__all__ = ["ScenarioError", "first_error"]

_KEY_PREFIX = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])?(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])?)*): ")


class ScenarioError(NaefError):
    """A scenario that cannot be read or is not valid; ``path`` is the offending key path, if any."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.path = path


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


#: tables that are tagged unions: pydantic puts the tag into the error location, which the user never wrote
_UNION_TABLES = ("stochastic", "stochastic_differential")


def _user_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The location as the user wrote it: no validator names, no union tags."""
    out: list[int | str] = []
    for part in loc:
        if isinstance(part, str) and (part.startswith("function-") or part == "[key]"):
            continue
        if out and out[-1] in _UNION_TABLES and part in _TAGS:
            continue
        out.append(part)
    return tuple(out)


_TAGS = frozenset({"gbm", "ou", "schwartz_smith", "bootstrap", "fixed"})


def first_error(exc: ValidationError) -> tuple[str, str]:
    """The first error of ``exc`` as (key path as the user wrote it, reason)."""
    err = exc.errors(include_url=False)[0]
    path = _format_loc(_user_loc(err["loc"]))
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    kind = err["type"]
    if kind == "union_tag_invalid":
        msg = f"must be one of {err.get('ctx', {}).get('expected_tags', '?')}"
        path = f"{path}.model"
    elif kind == "union_tag_not_found":
        msg = "required key is missing"
        path = f"{path}.model"
    elif kind == "extra_forbidden":
        msg = "unknown key"
    elif kind == "missing":
        msg = "required key is missing"
    elif kind not in ("value_error", "assertion_error") and "input" in err:
        shown = repr(err["input"])
        msg = f"{msg} (got {shown[:60]})"
    match = _KEY_PREFIX.match(msg)
    if match:
        sub = match.group(1)
        path = f"{path}.{sub}" if path and not sub.startswith(path) else sub
        msg = msg[match.end():]
    return path, msg
