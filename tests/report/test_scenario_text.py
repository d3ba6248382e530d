"""The scenario written back as TOML reloads to the same content hash (the report's last section)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

import naef
from naef.report.scenario_text import scenario_json, scenario_toml
from naef.scenario.load import content_hash
from naef.scenario.models import Scenario
from tests.engine.strategies import scenarios


def test_baseline_round_trips() -> None:
    sc = naef.load_scenario("baseline")
    text = scenario_toml(sc, header="first line\nsecond line")
    assert text is not None
    assert text.startswith("# first line\n# second line\n")
    assert content_hash(naef.load_scenario(text)) == content_hash(sc)
    assert "start = 2027-01-01" in text  # a TOML date, not a string
    assert text.index("[[fields]]") < text.index("[[tranches]]")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_random_scenarios_round_trip(sc: Scenario) -> None:
    text = scenario_toml(sc)
    assert text is not None
    assert content_hash(naef.load_scenario(text)) == content_hash(sc)


def test_json_is_the_hashed_document() -> None:
    import hashlib
    import json

    import rfc8785

    sc = naef.load_scenario("baseline")
    doc = json.loads(scenario_json(sc))
    assert hashlib.sha256(rfc8785.dumps(doc)).hexdigest() == content_hash(sc)
