"""Reference unit costs: the shipped table is complete and sourced; the flag rule at and around the bounds."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from naef.ledger.benchmarking import BenchmarkError, UnitCostClaim, check_unit_cost, load_unit_costs

TABLE = load_unit_costs()
REQUIRED_TYPES = {
    "road_new_two_lane",
    "railway_high_speed",
    "railway_conventional",
    "seaport_container_terminal",
    "airport_terminal",
    "school_construction",
    "scholarship",
    "small_enterprise_loans",
}


def claim(project_type: str, unit_cost: float, quantity: float = 10.0) -> UnitCostClaim:
    ref = TABLE[project_type]
    return UnitCostClaim(
        project_type=project_type,
        unit=ref.unit,
        quantity=quantity,
        contract_cost_usd=Decimal(str(round(unit_cost * quantity, 2))),
    )


def test_shipped_table_covers_the_project_types_and_names_sources() -> None:
    assert set(TABLE) >= REQUIRED_TYPES
    for ref in TABLE.values():
        assert ref.source.strip()
        assert 0 < ref.low_usd <= ref.high_usd
        if ref.illustrative:
            assert "illustrative" in ref.source.lower() or "order of magnitude" in ref.source.lower()
            assert ref.replace_with, (
                f"{ref.project_type}: an illustrative range must say what should replace it"
            )


def test_published_figures_are_as_cited() -> None:
    # World Bank (2014), High-Speed Railways in China: A Look at Construction Costs: USD 17-21 M/km in China,
    # USD 25-39 M/km in Europe.
    hsr = TABLE["railway_high_speed"]
    assert (hsr.low_usd, hsr.high_usd, hsr.illustrative) == (17_000_000, 39_000_000, False)
    # FHWA HERS urban widening USD 2.4-6.9 M per lane-mile (2006 USD), per lane-km
    widening = TABLE["road_widening_urban"]
    assert widening.low_usd == pytest.approx(2.4e6 / 1.609344, rel=1e-3)
    assert widening.high_usd == pytest.approx(6.9e6 / 1.609344, rel=1e-3)


@pytest.mark.parametrize(
    ("unit_cost", "reason"),
    [
        (17_000_000, "within_range"),  # bounds are inclusive
        (39_000_000, "within_range"),
        (39_000_100, "above_range"),
        (16_999_900, "below_range"),
    ],
)
def test_flag_rule_at_the_bounds(unit_cost: float, reason: str) -> None:
    result = check_unit_cost(claim("railway_high_speed", unit_cost), TABLE)
    assert result.reason == reason
    assert result.flagged is (reason != "within_range")
    assert result.unit_cost_usd == pytest.approx(unit_cost)


@given(
    st.sampled_from(sorted(TABLE)),
    st.floats(min_value=1e-3, max_value=1e3),
    st.floats(min_value=0.5, max_value=1e4),
)
def test_flagged_iff_outside_the_range(project_type: str, factor: float, quantity: float) -> None:
    ref = TABLE[project_type]
    unit_cost = ref.low_usd * factor
    c = claim(project_type, unit_cost, quantity)
    result = check_unit_cost(c, TABLE)
    per_unit = float(c.contract_cost_usd) / quantity
    assert result.flagged == (per_unit < ref.low_usd or per_unit > ref.high_usd)


def test_missing_figures_are_flagged_and_bad_claims_refused() -> None:
    result = check_unit_cost(None, TABLE)
    assert result.flagged
    assert result.reason == "no_unit_cost"
    with pytest.raises(
        BenchmarkError, match=r"unit_cost\.unit: 'km' does not match the reference unit 'lane_km'"
    ):
        check_unit_cost(
            UnitCostClaim(
                project_type="road_new_two_lane", unit="km", quantity=1, contract_cost_usd=Decimal(1)
            ),
            TABLE,
        )
    with pytest.raises(BenchmarkError, match="unknown project type 'moon_base'"):
        check_unit_cost(
            UnitCostClaim(project_type="moon_base", unit="km", quantity=1, contract_cost_usd=Decimal(1)),
            TABLE,
        )
    with pytest.raises(ValueError, match="quantity"):
        UnitCostClaim(
            project_type="scholarship", unit="student_year", quantity=0, contract_cost_usd=Decimal(1)
        )


def test_bad_table_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "costs.toml"
    bad.write_text(
        '[road]\ndescription="x"\nunit="km"\nlow_usd=5\nhigh_usd=1\nprice_year=2020\nillustrative=true\nsource="s"\n'
    )
    with pytest.raises(BenchmarkError, match=r"costs.toml: road.*low_usd 5.0 is above high_usd 1.0"):
        load_unit_costs(bad)
    bad.write_text('[road]\nunit="km"\n')
    with pytest.raises(BenchmarkError, match=r"road.description: Field required"):
        load_unit_costs(bad)
