"""The budget at a confidence: quantiles of cumulative inflows, carried forward; --budget-usd-by-year parsing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from naef.mdf.budget import BudgetError, budget_at_confidence, parse_budget


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
