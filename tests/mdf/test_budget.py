"""The budget at a confidence: quantiles of cumulative inflows, carried forward; --budget-usd-by-year parsing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from naef.mdf.budget import BudgetError, budget_at_confidence, budget_for_schedule, joint_probability, parse_budget
from naef.mdf.prices import PriceBasis


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 50), st.integers(1, 8)), elements=st.floats(0, 1e9)),
       st.floats(0.01, 0.99))
def test_budget_is_the_quantile_of_cumulative_inflows(inflows: np.ndarray, c: float) -> None:  # type: ignore[type-arg]
    years = list(range(2030, 2030 + inflows.shape[1]))
    y, b = budget_at_confidence(years, inflows, confidence=c)
    assert y == years
    assert np.all(b >= 0)
    cum = np.cumsum(inflows, axis=1)
    q = np.quantile(cum, 1 - c, axis=0)
    assert np.cumsum(b) == pytest.approx(q, rel=1e-9, abs=1e-3)
    # at least a share c of paths has received the cumulative budget by every year (year by year)
    for j in range(len(years)):
        assert (cum[:, j] >= np.cumsum(b)[j] - 1e-3).mean() >= c - 1.0 / inflows.shape[0] - 1e-9


def test_higher_confidence_means_a_smaller_budget() -> None:
    rng = np.random.default_rng(1)
    inflows = rng.lognormal(0, 1, (500, 10)) * 1e8
    b50 = budget_at_confidence(list(range(10)), inflows, confidence=0.5)[1]
    b90 = budget_at_confidence(list(range(10)), inflows, confidence=0.9)[1]
    assert b90.sum() < b50.sum()


def test_parse_budget() -> None:
    years, amounts = parse_budget("2031:2e9, 2030:1_000_000,2033:0")
    assert years == [2030, 2031, 2032, 2033]
    assert amounts.tolist() == [1e6, 2e9, 0.0, 0.0]


@pytest.mark.parametrize(("text", "message"), [
    ("", "--budget-usd-by-year: give at least one YEAR:AMOUNT"),
    ("2030", "--budget-usd-by-year: '2030' is not YEAR:AMOUNT"),
    ("abc:1", "--budget-usd-by-year: 'abc' is not a year"),
    ("2030:x", "--budget-usd-by-year: 'x' (year 2030) is not an amount"),
    ("2030:-1", "--budget-usd-by-year: the amount for 2030 must be a finite number >= 0 (got '-1')"),
    ("2030:1,2030:2", "--budget-usd-by-year: year 2030 given twice"),
])
def test_bad_budgets(text: str, message: str) -> None:
    with pytest.raises(BudgetError) as exc:
        parse_budget(text)
    assert str(exc.value) == message


def test_bad_confidence() -> None:
    with pytest.raises(BudgetError, match="--confidence: must be strictly between 0 and 1"):
        budget_at_confidence([2030], np.ones((3, 1)), confidence=1.0)


def test_joint_probability_is_a_direct_count_over_paths() -> None:
    rng = np.random.default_rng(3)
    inflows = rng.gamma(2.0, 1e8, size=(500, 8))
    b = budget_for_schedule(list(range(2030, 2038)), inflows, confidence=0.8)
    cum = np.cumsum(inflows, axis=1)
    need = np.cumsum(b.budget_usd)
    count = sum(all(cum[i, j] >= need[j] - 1e-9 * need[j] for j in range(8)) for i in range(500))
    assert b.joint_probability == count / 500
    assert joint_probability(inflows, need) == count / 500
    assert b.joint_probability < 0.8  # year by year is not jointly


def test_the_schedule_basis_funds_every_year_together() -> None:
    rng = np.random.default_rng(4)
    inflows = rng.gamma(2.0, 1e8, size=(2000, 10))
    year = budget_for_schedule(list(range(2030, 2040)), inflows, confidence=0.8, basis="year")
    sched = budget_for_schedule(list(range(2030, 2040)), inflows, confidence=0.8, basis="schedule")
    assert sched.joint_probability >= 0.8 > year.joint_probability
    assert sched.per_year_confidence > 0.8
    assert np.all(np.cumsum(sched.budget_usd) <= np.cumsum(year.budget_usd) + 1e-6)
    assert year.warning is None


def test_too_few_paths_for_the_percentile_are_warned_with_the_mc_error() -> None:
    rng = np.random.default_rng(5)
    b = budget_for_schedule([2030, 2031], rng.gamma(2.0, 1e8, size=(20, 2)), confidence=0.8)
    assert b.warning is not None
    assert b.warning.startswith("only 20 paths (4 below the P20 percentile)")
    assert b.mc_error_usd > 0
    with pytest.raises(BudgetError, match="--confidence-basis"):
        budget_for_schedule([2030], np.ones((5, 1)), confidence=0.8, basis="joint")


def test_constant_dollar_budgets_are_the_nominal_ones_deflated() -> None:
    years = list(range(2030, 2036))
    nominal = np.array([[1e8, 2e8, 0.0, 3e8, 1e8, 5e7]])
    basis = PriceBasis(price_year=2024, inflation_rate=0.025)
    _, b_nominal = budget_at_confidence(years, nominal, confidence=0.5)
    _, b_constant = budget_at_confidence(years, basis.to_constant(nominal, years), confidence=0.5)
    assert b_constant == pytest.approx(b_nominal / 1.025 ** (np.array(years) - 2024), rel=1e-12)
