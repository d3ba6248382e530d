"""Scenario errors: one line naming the key path (``fields[2].decline.di``) and the reason, and teaching the fix.

:func:`validate_strict` validates a scenario's data (parsed TOML, or a derived scenario's dump) with strict types,
for a loaded scenario (``naef.scenario.load``) and a derived one (``Scenario.with_changes``) alike: a string where a
number is expected is refused (``opex_usd_per_bbl = "12"``), TOML integers are still accepted where a float is
expected (``size_usd = 5000000000``). :func:`first_error` turns pydantic's validation error into the one line:

* an unknown key or table names itself and the closest valid key of its table (``difflib``'s ratio >= 0.6):
  "unknown key `coupon_rte` in tranches[0]; did you mean `coupon_rate`?". Such a typo is reported before the
  other errors, as a misspelt key also makes the intended one "missing";
* a rate, share or probability above 1 where the limit is at most 1 adds "rates are fractions: 6.5 % is 0.065";
* a number written as a string says so: "must be a number, not the string '12' (write 12 without quotes)".
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from naef.errors import NaefError

__all__ = ["ScenarioError", "first_error", "frozen", "valid_keys", "validate_strict"]

_M = TypeVar("_M", bound=BaseModel)

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


def frozen(data: Any) -> Any:
    """``data`` with every list as a tuple (scenario models hold tuples; strict validation takes no list for one)."""
    if isinstance(data, dict):
        return {k: frozen(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return tuple(frozen(v) for v in data)
    return data


def validate_strict(model: type[_M], data: Any) -> _M:
    """``model`` validated from ``data`` with strict types (pydantic's strict mode, lists taken as tuples):
    no string is taken for a number or a boolean, no float for a whole number; an integer is taken for a float."""
    return model.model_validate(frozen(data), strict=True)


def _types(tp: Any) -> Iterable[Any]:
    """The alternatives of an annotation with ``Annotated``, ``Optional`` and unions unwrapped."""
    origin = get_origin(tp)
    if origin is Annotated:
        yield from _types(get_args(tp)[0])
    elif origin is Union or origin is types.UnionType:
        for arg in get_args(tp):
            yield from _types(arg)
    else:
        yield tp


def _is_tag(model: type[BaseModel], part: str) -> bool:
    """``part`` is the value of ``model``'s literal tag field (a tagged union's member, as pydantic locates it)."""
    for field in model.model_fields.values():
        for tp in _types(field.annotation):
            if get_origin(tp) is Literal and part in get_args(tp):
                return True
    return False


def _step(annotations: list[Any], part: int | str) -> list[Any]:
    out: list[Any] = []
    for ann in annotations:
        for tp in _types(ann):
            origin = get_origin(tp)
            if origin in (tuple, list) and isinstance(part, int):
                args = [a for a in get_args(tp) if a is not Ellipsis]
                out.extend(args[:1] if len(args) == 1 or Ellipsis in get_args(tp) else args[part:part + 1])
            elif origin is dict and isinstance(part, str):
                out.append(get_args(tp)[1])
            elif isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
                if part in tp.model_fields:
                    out.append(tp.model_fields[part].annotation)
                elif _is_tag(tp, part):
                    out.append(tp)
    return out


def valid_keys(root: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys a table at ``loc`` (pydantic's location under ``root``) may hold, from the models' fields."""
    annotations: list[Any] = [root]
    for part in loc:
        if isinstance(part, str) and part.startswith("function-"):
            continue
        annotations = _step(annotations, part)
    keys: dict[str, None] = {}
    for ann in annotations:
        for tp in _types(ann):
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                keys.update(dict.fromkeys(tp.model_fields))
    return list(keys)


#: key names whose values are fractions (a rate of 6.5 % is 0.065)
_FRACTION_KEY = re.compile(r"(^|_)(rate|pct|share|probabilit(y|ies)|yield)(_|$)")
_NUMBER_TEXT = re.compile(r"^\s*[-+]?(\d[\d_]*\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _unknown(err: Any, root: type[BaseModel] | None) -> str:
    loc = _user_loc(err["loc"])
    where = _format_loc(loc[:-1])
    key = str(loc[-1]) if loc else "?"
    value = err.get("input")
    kind = "table" if isinstance(value, dict) or (
        isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value)) else "key"
    msg = f"unknown {kind} `{key}`" + (f" in {where}" if where else "")
    if root is not None:
        close = difflib.get_close_matches(key, valid_keys(root, tuple(err["loc"][:-1])), n=1, cutoff=0.6)
        if close:
            msg += f"; did you mean `{close[0]}`?"
    return msg


def first_error(exc: ValidationError, root: type[BaseModel] | None = None) -> tuple[str, str]:
    """The first error of ``exc`` as (key path as the user wrote it, reason); an unknown key with the closest valid
    key of ``root``'s table at that place (``root``: the validated model) comes first, as the likely cause."""
    errors = exc.errors(include_url=False)
    # an unknown key close to a valid one is a typo, which also makes the intended key "missing": name the typo
    typo = next((e for e in errors if e["type"] == "extra_forbidden" and "did you mean" in _unknown(e, root)), None)
    err = typo if typo is not None else errors[0]
    path = _format_loc(_user_loc(err["loc"]))
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    kind = err["type"]
    value = err.get("input")
    if kind == "union_tag_invalid":
        msg = f"must be one of {err.get('ctx', {}).get('expected_tags', '?')}"
        path = f"{path}.model"
    elif kind == "union_tag_not_found":
        msg = "required key is missing"
        path = f"{path}.model"
    elif kind == "extra_forbidden":
        msg = _unknown(err, root)
    elif kind == "missing":
        msg = "required key is missing"
    elif kind in ("float_type", "int_type", "bool_type") and isinstance(value, str):
        what = {"float_type": "a number", "int_type": "a whole number", "bool_type": "true or false"}[kind]
        msg = f"must be {what}, not the string {value[:40]!r}"
        bare = value.strip()
        if _NUMBER_TEXT.match(bare) if kind != "bool_type" else bare in ("true", "false"):
            msg += f" (write {bare} without quotes)"
    elif kind not in ("value_error", "assertion_error") and "input" in err:
        shown = repr(value)
        msg = f"{msg} (got {shown[:60]})"
        limit = err.get("ctx", {}).get("le", err.get("ctx", {}).get("lt"))
        last = next((p for p in reversed(err["loc"]) if isinstance(p, str)), "")
        if (kind in ("less_than_equal", "less_than") and isinstance(limit, int | float) and limit <= 1
                and isinstance(value, int | float) and 1 < value <= 100 and _FRACTION_KEY.search(last)):
            msg += f"; rates are fractions: {value:g} % is {value / 100:g}"
    match = _KEY_PREFIX.match(msg)
    if match:
        sub = match.group(1)
        path = f"{path}.{sub}" if path and not sub.startswith(path) else sub
        msg = msg[match.end():]
    return path, msg
