"""The scenario itself (TOML that reloads to the same content hash, else its JSON), the naef version and the
content hash."""

from __future__ import annotations

import urllib.parse

from naef.report.blocks import Code, Section, Text
from naef.report.sections.common import Doc, kind
from naef.scenario.changes import changes_of
from naef.scenario.models import Scenario

__all__ = ["build"]


def build(scenario: Scenario, summary: Doc, scenario_hash: str, version: str,
                      plotly_version: str) -> Section:
    from naef.report.scenario_text import scenario_json, scenario_toml

    name = scenario.scenario.name
    s = Section("scenario", "The scenario, the naef version and the content hash")
    run = summary.get("run", {})
    if kind(summary) == "monte_carlo":
        cmd = f"naef run {name}.toml --paths {run.get('paths')} --seed {run.get('seed')}"
    else:
        cmd = f"naef run {name}.toml"
    s.blocks.append(Text(
        f"Written by naef {version} (Plotly.js {plotly_version} inlined). Scenario '{name}', content hash "
        f"(SHA-256 of its RFC 8785 canonical JSON):"))
    s.blocks.append(Code(scenario_hash, title="content hash"))
    changes = changes_of(scenario)
    if changes:
        listed = "; ".join(f"{key} = {_toml_value(value)}" for key, value in changes.items())
        s.blocks.append(Text(f"Changed from the scenario as loaded (--set, applied before the run; the content hash "
                             f"and the scenario below are the changed ones): {listed}."))
    toml = scenario_toml(scenario, header=f"naef scenario '{name}', written by naef {version} from the validated "
                                          f"scenario\ncontent hash sha256 {scenario_hash}")
    js = scenario_json(scenario)
    if toml is not None:
        s.blocks.append(Text(f"To reproduce this run, save the scenario below as {name}.toml and run `{cmd}` "
                             "(the TOML reloads to the same content hash; checked when this report was written)."))
        s.blocks.append(Code(toml, title=f"{name}.toml", download_name=f"{name}.toml",
                             download_href="data:text/plain;charset=utf-8," + urllib.parse.quote(toml)))
        s.blocks.append(Code(js, title="the same scenario as JSON (the document the hash is computed over)",
                             collapsed=True))
    else:
        s.blocks.append(Text(f"The scenario as JSON (the document its content hash is computed over; the same keys "
                             f"as the TOML file). To reproduce: write it as TOML and run `{cmd}`."))
        s.blocks.append(Code(js, title=f"{name}.json", download_name=f"{name}.json",
                             download_href="data:application/json;charset=utf-8," + urllib.parse.quote(js)))
    return s



def _toml_value(value: object) -> str:
    """A --set value as it would be typed (TOML)."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)
