"""Issue 19, item 1: one price basis — deflators, CPI conversions and the scenario's inflation bounds."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from naef.mdf.prices import (
    DEFAULT_INFLATION_RATE,
    PriceBasis,
    PriceError,
    check_inflation_rate,
    cpi_ratio,
    deflators,
)
from naef.scenario.load import load_scenario
from naef.scenario.models import Mdf


def test_nominal_inflows_are_deflated_to_the_price_year() -> None:
    basis = PriceBasis(price_year=2024, inflation_rate=0.02)
    out = basis.to_constant(np.array([[102.0, 104.04, 100.0]]), [2025, 2026, 2024])
    assert out == pytest.approx(np.array([[100.0, 100.0, 100.0]]), rel=1e-12)
    assert deflators([2023], price_year=2024, inflation_rate=0.02)[0] == pytest.approx(1 / 1.02)
    assert basis.label == "constant 2024 US$"
    assert "real" in basis.describe()


def test_cpi_conversions_use_the_bls_averages_then_the_assumed_rate() -> None:
    assert cpi_ratio(from_year=2009, to_year=2024, inflation_rate=0.02) == pytest.approx(313.689 / 214.537)
    assert cpi_ratio(from_year=2024, to_year=2026, inflation_rate=0.03) == pytest.approx(1.03 ** 2)
    with pytest.raises(PriceError, match="price year 1990: no US CPI-U average"):
        cpi_ratio(from_year=1990, to_year=2024, inflation_rate=0.02)


@pytest.mark.parametrize("rate", [-0.051, 0.501, float("nan")])
def test_inflation_outside_minus_5_to_50_percent_is_refused(rate: float) -> None:
    with pytest.raises(PriceError, match=r"mdf.inflation_rate: must be between -5 % and 50 %"):
        check_inflation_rate(rate)
    with pytest.raises(ValidationError, match="inflation_rate"):
        Mdf(inflation_rate=rate)


def test_the_scenario_default_is_the_sourced_rate() -> None:
    assert load_scenario("baseline").mdf.inflation_rate == DEFAULT_INFLATION_RATE == 0.02
