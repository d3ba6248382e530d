"""``Scenario.with_changes``: a derived scenario, validated again; a bad key or value names the key."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naef.scenario import ScenarioError, content_hash, load_scenario
from naef.scenario.changes import parse_key

BASE = load_scenario("baseline")


def test_a_change_is_applied_and_the_original_kept() -> None:
    old = BASE.tranches[0].coupon_rate
    derived = BASE.with_changes({"tranches[0].coupon_rate": 0.07, "scenario.discount_rate": 0.05})
    assert derived.tranches[0].coupon_rate == 0.07
    assert derived.scenario.discount_rate == 0.05
    assert BASE.tranches[0].coupon_rate == old
    assert derived.tranches[1:] == BASE.tranches[1:]
    assert content_hash(derived) != content_hash(BASE)
    assert type(derived) is type(BASE)


def test_no_change_is_the_same_scenario() -> None:
    same = BASE.with_changes({})
    assert same == BASE
    assert content_hash(same) == content_hash(BASE)


def test_a_whole_table_can_be_replaced() -> None:
    derived = BASE.with_changes({"fields[0].decline": {"model": "hyperbolic", "di": 0.2, "b": 0.4}})
    assert (derived.fields[0].decline.di, derived.fields[0].decline.b) == (0.2, 0.4)


@pytest.mark.parametrize(("changes", "key", "reason"), [
    ({"tranches[0].coupon": 0.07}, "tranches[0].coupon", "unknown key"),
    ({"tranches[99].coupon_rate": 0.07}, "tranches[99].coupon_rate", "out of range"),
    ({"tranches.coupon_rate": 0.07}, "tranches.coupon_rate", "is not a table"),
    ({"scenario[0]": 1}, "scenario[0]", "is not an array"),
    ({"tranches[0].coupon_rate": -0.5}, "tranches[0].coupon_rate", "greater than or equal to 0"),
    ({"tranches[0].coupon_rate": "seven"}, "tranches[0].coupon_rate", "must be a number"),
    ({"a..b": 1}, "a..b", "not a key path"),
])
def test_a_bad_change_names_the_key(changes: dict[str, object], key: str, reason: str) -> None:
    with pytest.raises(ScenarioError) as err:
        BASE.with_changes(changes)
    assert err.value.path == key
    assert str(err.value).startswith(key)
    assert reason in str(err.value)
    assert "\n" not in str(err.value)


def test_a_rule_across_keys_is_checked_again() -> None:
    """Changes go through every validator of the scenario, not only the field's own type."""
    with pytest.raises(ScenarioError):
        BASE.with_changes({"tranches[0].name": BASE.tranches[1].name})  # two tranches with one name


@given(st.lists(st.tuples(st.sampled_from(["tranches", "fields", "price", "scenario"]),
                          st.one_of(st.none(), st.integers(0, 9)),
                          st.sampled_from(["coupon_rate", "di", "deck", "name"])), min_size=1, max_size=3))
@settings(max_examples=50, deadline=None)
def test_parse_key_round_trips(parts: list[tuple[str, int | None, str]]) -> None:
    text = ".".join(f"{a}[{i}].{b}" if i is not None else f"{a}.{b}" for a, i, b in parts)
    expected: list[str | int] = []
    for a, i, b in parts:
        expected += [a, *([i] if i is not None else []), b]
    assert parse_key(text) == expected
