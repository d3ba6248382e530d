"""Loading a scenario from TOML (a file, a text, or the name of a shipped scenario) into a validated model.

I/O lives here and nowhere else in ``naef.scenario``. Every failure is a :class:`ScenarioError` whose message is
one line naming the key path (``fields[2].decline.di``) and the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import rfc8785
from pydantic import ValidationError

from naef.errors import NaefError
from naef.resources import (
    SHIPPED_HISTORIES,
    broken_install,
    history_source,
    read_package_text,
    resolve_history,
)
from naef.scenario.changes import changes_of, parse_assignments
from naef.scenario.errors import ScenarioError, first_error, validate_strict
from naef.scenario.models import Scenario

__all__ = [
    "ScenarioError",
    "content_hash",
    "load_scenario",
    "load_with_assignments",
    "scenario_identity",
    "shipped_scenarios",
]

def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped inside the package (``baseline`` is the study's proposal)."""
    folder = resources.files("naef.scenario").joinpath("scenarios")
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\- ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=")


def _key_at_error(text: str, message: str) -> str:
    """The key path of the line a TOML syntax error points at (``tranches[1].size_usd``), if it can be told.

    ``tomllib`` reports only "(at line N, column M)"; this reads the table headers above that line (counting the
    entries of ``[[arrays]]``) and the ``key =`` on it.
    """
    found = re.search(r"at line (\d+)", message)
    if not found:
        return ""
    lines = text.splitlines()
    lineno = int(found.group(1))
    table = ""
    counts: dict[str, int] = {}
    for line in lines[: lineno - 1]:
        header = _HEADER.match(line)
        if header:
            name = header.group(2).replace(" ", "")
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = f"{name}[{counts[name]}]"
            else:
                table = name
    key = _KEY.match(lines[lineno - 1]) if 0 < lineno <= len(lines) else None
    if key is None:
        return table
    name = key.group(1).replace(" ", "")
    return f"{table}.{name}" if table else name


def _attach_history(data: dict[str, Any], origin: str, base: Path) -> None:
    """A bootstrap price model names its history as ``history_csv`` (a ``Date,Price`` file, relative to the
    scenario's folder); the returns are read here so the validated scenario holds them (and its hash covers them)."""
    price = data.get("price")
    model = price.get("stochastic") if isinstance(price, dict) else None
    if not isinstance(model, dict) or "history_csv" not in model:
        return
    from naef.scenario.history import load_historical_returns

    key = "price.stochastic.history_csv"
    if model.get("model") != "bootstrap":
        raise ScenarioError(f"{origin}: {key}: only used with model = 'bootstrap'", path=key)
    if "history" in model:
        raise ScenarioError(f"{origin}: {key}: give history_csv or history, not both", path=key)
    name = model.pop("history_csv")
    if not isinstance(name, str):
        raise ScenarioError(f"{origin}: {key}: must be a file name", path=key)
    path = Path(name) if Path(name).is_absolute() else base / name
    shipped = name in SHIPPED_HISTORIES and not path.exists()
    try:
        if shipped:
            path = resolve_history(name)  # a series shipped with naef, by name (e.g. "brent-daily")
        history = load_historical_returns(path).model_dump()
        if shipped:
            # a stable source (not the install folder), so that the content hash is the same on every machine
            history["source"] = history_source(name) or str(path)
        model["history"] = history
    except NaefError as exc:
        raise ScenarioError(f"{origin}: {key}: {exc}", path=key) from None


def _parse(text: str, origin: str, base: Path | None = None) -> Scenario:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        path = _key_at_error(text, str(exc))
        where = f"{path}: " if path else ""
        raise ScenarioError(f"{origin}: {where}TOML syntax error: {exc}", path=path) from None
    _attach_history(data, origin, base if base is not None else Path.cwd())
    try:
        return validate_strict(Scenario, data)
    except ValidationError as exc:
        path, msg = first_error(exc, Scenario)
        raise ScenarioError(f"{origin}: {path or '(top level)'}: {msg}", path=path) from None


def load_scenario(source: str | Path) -> Scenario:
    """Load and validate a scenario.

    ``source`` is a path to a TOML file, the TOML text itself, or the name of a shipped scenario
    (see :func:`shipped_scenarios`; ``"baseline"`` is the study's proposal).
    """
    if isinstance(source, Path):
        return _parse(_read(source), str(source), source.parent)
    if "\n" in source or ("=" in source and not Path(source).is_file()):
        return _parse(source, "<text>")
    if source in shipped_scenarios():
        text = read_package_text("naef.scenario", "scenarios", f"{source}.toml")
        return _parse(text, f"{source}.toml")
    return _parse(_read(Path(source)), source, Path(source).parent)


def load_with_assignments(source: str | Path, assignments: Sequence[str] | None, option: str = "--set") -> Scenario:
    """Load the scenario ``source`` (:func:`load_scenario`) and apply ``KEY=VALUE`` assignments (a key path and a
    TOML value: ``--set`` of every command and of ``naef serve``), validated as a whole
    (:meth:`naef.scenario.models.Scenario.with_changes`). A bad assignment (no ``=``, an unknown key, a value of the
    wrong type or one a rule refuses) raises a ScenarioError naming ``option`` and the assignment."""
    scenario = load_scenario(source)
    if not assignments:
        return scenario
    sets = list(assignments)
    changes = parse_assignments(sets, option)
    try:
        return scenario.with_changes(changes)
    except ScenarioError as exc:
        raise ScenarioError(f"{option} {_argument_of(sets, exc.path)}: {exc}", path=exc.path) from None


def _argument_of(sets: list[str], path: str | None) -> str:
    """The ``--set`` argument an error's key path belongs to (the last one whose key is a prefix of the path, or
    the path of the key), else all of them."""
    norm = _norm(path or "")
    found = [a for a in sets if norm and (norm.startswith(_norm(a.partition("=")[0]))
                                          or _norm(a.partition("=")[0]).startswith(norm))]
    return found[-1] if found else " ".join(sets)


def _norm(key: str) -> str:
    return key.strip().replace("[", ".").replace("]", "")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        shipped = ", ".join(shipped_scenarios())
        if not shipped:
            raise broken_install("scenario/scenarios/baseline.toml", "is missing") from None
        raise ScenarioError(f"{path}: no such scenario file (shipped scenarios: {shipped})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot be read: {exc}") from None


def content_hash(scenario: Scenario) -> str:
    """SHA-256 (hex) of the scenario's RFC 8785 canonical JSON: equal for equal validated inputs."""
    return hashlib.sha256(rfc8785.dumps(scenario.model_dump(mode="json"))).hexdigest()


def scenario_identity(scenario: Scenario) -> dict[str, Any]:
    """The ``scenario`` block every summary starts with: name, content hash and time grid."""
    head = scenario.scenario
    identity: dict[str, Any] = {
        "name": head.name,
        "content_hash_sha256": content_hash(scenario),
        "start": head.start.isoformat(),
        "years": head.years,
        "periods_per_year": head.periods_per_year,
    }
    changes = changes_of(scenario)
    if changes:
        # the --set / with_changes key paths and values the scenario was derived with (the hash covers the result)
        identity["changes"] = {key: _jsonable(value) for key, value in changes.items()}
    return identity


def _jsonable(value: object) -> object:
    """A --set value as JSON: TOML dates and times as ISO text, arrays and tables element by element."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value
