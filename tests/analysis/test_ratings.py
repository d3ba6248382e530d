"""Tests of naef.analysis.ratings: shipped idealized tables, interpolation, implied-rating rule, PD/EL."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from naef.analysis.ratings import (
    BELOW_SCALE,
    MOODYS_RATINGS,
    IdealizedTable,
    RatingError,
    default_probability,
    expected_loss,
    idealized_value,
    idealized_values,
    implied_rating,
    implied_ratings,
    load_table,
    rating_at_least,
)
from naef.errors import NaefError

EL = load_table("moodys_idealized_el")
PD = load_table("moodys_idealized_pd")


# --- the shipped tables ------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", [EL, PD], ids=["el", "pd"])
def test_table_covers_aaa_to_b3_and_years_1_to_10(table: IdealizedTable) -> None:
    assert table.ratings == MOODYS_RATINGS
    assert table.horizons_years.tolist() == [float(y) for y in range(1, 11)]
    assert table.rates.shape == (16, 10)


@pytest.mark.parametrize("table", [EL, PD], ids=["el", "pd"])
def test_table_strictly_increasing_down_the_scale_and_with_horizon(table: IdealizedTable) -> None:
    assert np.all(np.diff(table.rates, axis=0) > 0.0)
    assert np.all(np.diff(table.rates, axis=1) > 0.0)


def test_expected_loss_table_is_default_table_times_55_percent_severity() -> None:
    np.testing.assert_allclose(EL.rates, 0.55 * PD.rates, rtol=1e-9, atol=0.0)


def test_ten_year_default_column_equals_moodys_rating_factors() -> None:
    # Moody's WARF rating factors (CLO methodology) are the 10-year idealized PDs times 10,000.
    warf = [1, 10, 20, 40, 70, 120, 180, 260, 360, 610, 940, 1350, 1766, 2220, 2720, 3490]
    np.testing.assert_allclose(PD.rates[:, 9] * 10_000, warf, rtol=1e-12)


def test_four_year_el_bands_quoted_for_a3_and_ba2() -> None:
    # "A3 (notional expected loss of 0.19-0.297% over a four year horizon)" and "Ba2 (expected loss of
    # 2.31-3.74%)" (PPP Online, book 1360): the band of rating r is (EL_{r-1}(4), EL_r(4)].
    assert EL.row("A2")[3] == pytest.approx(0.0019, abs=0.000005)  # 0.18975 % rounds to 0.19 %
    assert EL.row("A3")[3] == pytest.approx(0.00297, rel=1e-12)
    assert EL.row("Ba1")[3] == pytest.approx(0.0231, rel=1e-12)
    assert EL.row("Ba2")[3] == pytest.approx(0.0374, rel=1e-12)
    assert implied_rating(expected_loss=0.0025, wal_years=4.0) == "A3"  # the text's example: 0.25 % -> A3
    assert implied_rating(expected_loss=0.03, wal_years=4.0) == "Ba2"  # 3 % -> Ba2


def test_selected_published_cells() -> None:
    assert PD.row("Aaa")[0] == pytest.approx(0.000001)  # 0.0001 %
    assert PD.row("Baa3")[0] == pytest.approx(0.0042)
    assert EL.row("Aaa")[9] == pytest.approx(0.000055)  # 0.0055 %
    assert EL.row("Baa2")[9] == pytest.approx(0.0198)
    assert EL.row("B3")[9] == pytest.approx(0.19195)


def test_table_is_read_only() -> None:
    with pytest.raises(ValueError, match="read-only"):
        EL.rates[0, 0] = 0.5


def test_table_validation_rejects_non_monotone_rates_and_bad_order() -> None:
    rates = np.array([[0.01, 0.02], [0.005, 0.03]])
    with pytest.raises(RatingError, match="increase"):
        IdealizedTable("bad", "expected_loss", ("Aaa", "Aa1"), np.array([1.0, 2.0]), rates)
    good = np.array([[0.01, 0.02], [0.02, 0.03]])
    with pytest.raises(RatingError, match="best first"):
        IdealizedTable("bad", "expected_loss", ("Aa1", "Aaa"), np.array([1.0, 2.0]), good)
    with pytest.raises(RatingError, match="unknown rating names"):
        IdealizedTable("bad", "expected_loss", ("AAA", "AA+"), np.array([1.0, 2.0]), good)
    with pytest.raises(RatingError, match="horizons"):
        IdealizedTable("bad", "expected_loss", ("Aaa", "Aa1"), np.array([1.0, 3.0]), good)


# --- interpolation and extrapolation -----------------------------------------------------------------------


@pytest.mark.parametrize("table", [EL, PD], ids=["el", "pd"])
def test_interpolation_reproduces_table_at_integer_years(table: IdealizedTable) -> None:
    got = idealized_values(horizon_years=np.arange(1.0, 11.0), table=table)
    # exactly, so that ties at the table's figures are well defined
    np.testing.assert_array_equal(got, table.rates)


def test_interpolation_is_linear_in_log_between_years() -> None:
    r3, r4 = EL.row("Baa2")[2], EL.row("Baa2")[3]
    got = idealized_value(rating="Baa2", horizon_years=3.25)
    assert got == pytest.approx(math.exp(0.75 * math.log(r3) + 0.25 * math.log(r4)), rel=1e-12)
    assert r3 < got < r4


def test_below_one_year_is_proportional_to_time() -> None:
    assert idealized_value(rating="A2", horizon_years=0.5) == pytest.approx(0.5 * EL.row("A2")[0], rel=1e-12)
    assert idealized_value(rating="A2", horizon_years=0.0) == 0.0


def test_beyond_ten_years_constant_hazard_of_year_ten() -> None:
    r9, r10 = EL.row("Ba1")[8], EL.row("Ba1")[9]
    h = math.log((1 - r9) / (1 - r10))
    got = idealized_value(rating="Ba1", horizon_years=15.0)
    assert got == pytest.approx(1 - (1 - r10) * math.exp(-5 * h), rel=1e-12)
    # survival ratio over each further year equals year 10's
    s = [1 - idealized_value(rating="Ba1", horizon_years=y) for y in (10.0, 11.0, 12.0)]
    assert s[1] / s[0] == pytest.approx((1 - r10) / (1 - r9), rel=1e-12)
    assert s[2] / s[1] == pytest.approx((1 - r10) / (1 - r9), rel=1e-12)


@given(st.floats(0.0, 40.0), st.floats(0.0, 40.0))
def test_interpolated_rates_increase_with_horizon_and_down_the_scale(t1: float, t2: float) -> None:
    lo, hi = sorted((t1, t2))
    a = idealized_values(horizon_years=lo)
    b = idealized_values(horizon_years=hi)
    assert np.all(b >= a)
    if hi > 1e-6:  # (below that the smallest rates underflow towards subnormal numbers)
        assert np.all(np.diff(b) > 0)  # strictly worse down the scale at any positive horizon
        assert np.all((b > 0) & (b < 1))


def test_continuity_at_joins() -> None:
    for t in (1.0, 10.0):
        left = idealized_values(horizon_years=t - 1e-9)
        right = idealized_values(horizon_years=t + 1e-9)
        np.testing.assert_allclose(left, right, rtol=1e-6)


# --- implied rating ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [1, 3, 7, 10])
def test_el_equal_to_a_rating_figure_gets_that_rating_and_just_above_gets_next(year: int) -> None:
    for i, name in enumerate(MOODYS_RATINGS):
        el = EL.rates[i, year - 1]
        assert implied_rating(expected_loss=el, wal_years=float(year)) == name
        nxt = MOODYS_RATINGS[i + 1] if i + 1 < len(MOODYS_RATINGS) else BELOW_SCALE
        assert implied_rating(expected_loss=el * (1 + 1e-9), wal_years=float(year)) == nxt


def test_boundaries() -> None:
    assert implied_rating(expected_loss=0.0, wal_years=5.0) == "Aaa"
    assert implied_rating(expected_loss=0.0, wal_years=0.01) == "Aaa"
    assert implied_rating(expected_loss=1.0, wal_years=30.0) == BELOW_SCALE
    assert implied_rating(expected_loss=0.25, wal_years=5.0) == BELOW_SCALE


def test_longer_wal_tolerates_more_loss() -> None:
    # 1 % EL is Ba1-range at 2 years but investment grade at 10 years
    assert implied_rating(expected_loss=0.01, wal_years=2.0) == "Ba1"
    assert implied_rating(expected_loss=0.01, wal_years=10.0) == "Baa1"


def test_pd_table_can_be_used_by_name() -> None:
    assert implied_rating(expected_loss=0.036, wal_years=10.0, table="moodys_idealized_pd") == "Baa2"


def test_vectorised_matches_scalar_and_broadcasts() -> None:
    rng = np.random.default_rng(3)
    el = rng.uniform(0, 0.3, size=200) ** 2
    wal = rng.uniform(0.2, 25, size=200)
    vec = implied_ratings(expected_loss=el, wal_years=wal)
    assert vec.shape == (200,)
    assert [
        implied_rating(expected_loss=e, wal_years=w) for e, w in zip(el, wal, strict=True)
    ] == vec.tolist()
    grid = implied_ratings(expected_loss=np.array([[0.0], [0.02]]), wal_years=np.array([1.0, 5.0, 10.0]))
    assert grid.shape == (2, 3)
    assert grid[0].tolist() == ["Aaa"] * 3


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.05, 30.0))
def test_implied_rating_monotone_in_expected_loss(e1: float, e2: float, wal: float) -> None:
    lo, hi = sorted((e1, e2))
    assert rating_at_least(
        implied_rating(expected_loss=lo, wal_years=wal), implied_rating(expected_loss=hi, wal_years=wal)
    )


@pytest.mark.parametrize(
    ("el", "wal", "match"),
    [
        (-0.01, 5.0, "expected_loss"),
        (1.5, 5.0, "expected_loss"),
        (float("nan"), 5.0, "expected_loss"),
        (0.01, 0.0, "wal_years"),
        (0.01, float("inf"), "wal_years"),
    ],
)
def test_bad_inputs(el: float, wal: float, match: str) -> None:
    with pytest.raises(RatingError, match=match):
        implied_rating(expected_loss=el, wal_years=wal)


def test_unknown_table_names_value_and_lists_valid() -> None:
    with pytest.raises(RatingError, match=r"'sp'.*moodys_idealized_el, moodys_idealized_pd"):
        implied_rating(expected_loss=0.01, wal_years=5.0, table="sp")


# --- rating names and ordering -----------------------------------------------------------------------------


def test_rating_at_least_ordering() -> None:
    assert rating_at_least("Aaa", "Aaa")
    assert rating_at_least("Aaa", "B3")
    assert rating_at_least("A2", "A3")
    assert not rating_at_least("A3", "A2")
    assert rating_at_least("B3", BELOW_SCALE)
    assert not rating_at_least(BELOW_SCALE, "B3")
    names = [*MOODYS_RATINGS, BELOW_SCALE]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            assert rating_at_least(a, b) == (i <= j)


@pytest.mark.parametrize("bad", ["AAA", "aaa", "BBB", "Caa1", "", "Baa 2"])
def test_unknown_rating_name_is_named_and_valid_ones_listed(bad: str) -> None:
    with pytest.raises(RatingError) as info:
        rating_at_least(bad, "Aaa")
    msg = str(info.value)
    assert repr(bad) in msg
    assert "Aaa, Aa1, Aa2" in msg
    assert "B3" in msg
    assert "\n" not in msg
    assert isinstance(info.value, NaefError)
    with pytest.raises(RatingError, match="unknown"):
        idealized_value(rating=bad, horizon_years=3.0)


# --- Monte Carlo PD and EL with standard errors ------------------------------------------------------------


def test_default_probability_and_binomial_standard_error() -> None:
    d = np.array([True] * 30 + [False] * 970)
    p, se = default_probability(d)
    assert p == pytest.approx(0.03)
    assert se == pytest.approx(math.sqrt(0.03 * 0.97 / 1000))
    assert default_probability(np.zeros(10, dtype=bool)) == (0.0, 0.0)
    assert default_probability(np.ones((4, 5), dtype=bool)) == (1.0, 0.0)


def test_default_probability_se_covers_truth_in_simulation() -> None:
    rng = np.random.default_rng(11)
    p, se = default_probability(rng.random(200_000) < 0.02)
    assert abs(p - 0.02) < 4 * se


def test_expected_loss_and_sample_standard_error() -> None:
    x = np.array([0.0, 0.0, 0.5, 1.0])
    el, se = expected_loss(x)
    assert el == pytest.approx(0.375)
    assert se == pytest.approx(np.std(x, ddof=1) / 2.0)
    assert expected_loss([0.2]) == (0.2, 0.0)


def test_pd_el_bad_inputs() -> None:
    with pytest.raises(RatingError, match="defaulted"):
        default_probability(np.array([0, 1, 0]))
    with pytest.raises(RatingError, match="defaulted"):
        default_probability(np.array([], dtype=bool))
    with pytest.raises(RatingError, match="loss_fraction"):
        expected_loss([0.1, 1.2])
    with pytest.raises(RatingError, match="loss_fraction"):
        expected_loss([])
