"""Outcomes along paths: never more spent than received (property), delays when short, jobs and GDP formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from naef.mdf.outcomes import GdpAssumptions, OutcomeError, builds_physical_capital, simulate_outcomes
from naef.mdf.pipeline import SECTORS, Project


def _p(i: int, *, cost: float, d: int, start: int, sector: str = "road", state: str = "MX-MIC",
       jobs: float = 100.0) -> Project:
    return Project(id=f"p{i}", name="", sector=sector, state=state, cost_usd=cost, start_year_min=start,
                   duration_years=d, annual_benefit_usd=0.0, benefit_years=1, jobs=jobs,
                   reference_class="small_enterprise" if sector == "small_enterprise" else sector)


@st.composite
def portfolios(draw: st.DrawFn) -> tuple[list[Project], dict[str, int], list[int], np.ndarray]:  # type: ignore[type-arg]
    n_years = draw(st.integers(1, 12))
    years = list(range(2030, 2030 + n_years))
    n = draw(st.integers(1, 8))
    projects = [_p(i, cost=draw(st.floats(1e6, 5e8)), d=draw(st.integers(1, 5)),
                   start=draw(st.sampled_from(years)), sector=draw(st.sampled_from(SECTORS))) for i in range(n)]
    starts = {p.id: p.start_year_min for p in projects}
    paths = draw(st.integers(1, 20))
    inflows = draw(arrays(np.float64, (paths, n_years), elements=st.floats(0, 3e8)))
    return projects, starts, years, inflows


@settings(max_examples=200, deadline=None)
@given(portfolios())
def test_never_spends_more_than_received(case: tuple[list[Project], dict[str, int], list[int], np.ndarray]) -> None:  # type: ignore[type-arg]
    projects, starts, years, inflows = case
    out = simulate_outcomes(projects, starts, years=years, inflows_usd=inflows)
    received, spent = np.cumsum(inflows, axis=1), np.cumsum(out.spent_usd, axis=1)
    assert np.all(spent <= received + 1e-6)
    assert np.all(out.balance_usd >= -1e-6)
    assert out.balance_usd[:, -1] == pytest.approx(received[:, -1] - spent[:, -1], abs=1e-3)
    # no project is paid more than its drawn cost, nor before its planned start
    assert np.all(out.spent_by_project_usd <= out.cost_usd * (1 + 1e-9))
    finished = out.finish_index >= 0
    assert np.allclose(out.spent_by_project_usd[finished], out.cost_usd[finished])
    for k, pid in enumerate(out.project_ids):
        fi = out.finish_index[:, k]
        assert np.all(fi[fi >= 0] >= years.index(starts[pid]))
    assert np.all(np.diff(out.finished_by_year(), axis=1) >= 0)


def test_projects_are_delayed_when_cash_is_short() -> None:
    projects = [_p(0, cost=100.0, d=2, start=2030), _p(1, cost=100.0, d=1, start=2030)]
    starts = {"p0": 2030, "p1": 2030}
    inflows = np.array([[60.0, 60.0, 60.0, 60.0], [300.0, 0.0, 0.0, 0.0]])
    out = simulate_outcomes(projects, starts, years=[2030, 2031, 2032, 2033], inflows_usd=inflows,
                            cost_multipliers=np.ones((2, 2)))
    # path 0: p0 (first in order) takes 50, p1 gets 10; then p0 50 + p1 10; then p1 60; then p1 20 -> done 2033
    assert out.spent_usd[0].tolist() == [60.0, 60.0, 60.0, 20.0]
    assert out.finish_index[0].tolist() == [1, 3]
    # path 1: enough money at once: p0 still takes two years (its pace), p1 one
    assert out.finish_index[1].tolist() == [1, 0]
    assert out.balance_usd[1].tolist() == [150.0, 100.0, 100.0, 100.0]


def test_jobs_and_gdp() -> None:
    projects = [_p(0, cost=1e9, d=2, start=2030, jobs=1000.0, state="MX-OAX"),
                _p(1, cost=1e8, d=1, start=2030, sector="small_enterprise", state="MX-GRO", jobs=50.0)]
    starts = {"p0": 2030, "p1": 2030}
    inflows = np.full((3, 3), 2e9)
    g = GdpAssumptions(output_elasticity=0.1, public_capital_to_gdp=0.5, gdp_usd=2e12)
    out = simulate_outcomes(projects, starts, years=[2030, 2031, 2032], inflows_usd=inflows,
                            cost_multipliers=np.ones((3, 2)), gdp=g)
    assert out.job_years_by_state["MX-OAX"] == pytest.approx(np.full(3, 2000.0))
    assert out.job_years_by_state["MX-GRO"] == pytest.approx(np.full(3, 50.0))
    # road finished in 2031 adds 1e9 of public capital; the enterprise fund is not public capital
    assert not builds_physical_capital(projects[1])
    assert out.gdp_effect_usd[0].tolist() == pytest.approx([0.0, 0.1 * 1e9 / 1e12 * 2e12, 0.1 * 1e9 / 1e12 * 2e12])


def test_bad_inputs() -> None:
    p = [_p(0, cost=1.0, d=1, start=2030)]
    with pytest.raises(OutcomeError, match="inflows: expected an array"):
        simulate_outcomes(p, {"p0": 2030}, years=[2030, 2031], inflows_usd=np.ones((2, 3)))
    with pytest.raises(OutcomeError, match="portfolio: unknown project id 'zz'"):
        simulate_outcomes(p, {"zz": 2030}, years=[2030], inflows_usd=np.ones((2, 1)))
    with pytest.raises(OutcomeError, match="output elasticity"):
        simulate_outcomes(p, {"p0": 2030}, years=[2030], inflows_usd=np.ones((2, 1)),
                          gdp=GdpAssumptions(output_elasticity=2.0))


def test_overruns_never_add_capital_nor_jobs() -> None:
    """Issue 19: with every cost multiplier doubled (and money enough to finish), the GDP effect and the job-years
    are unchanged — only the planned capital counts."""
    projects = [_p(0, cost=4e8, d=2, start=2030, jobs=500.0), _p(1, cost=1e8, d=1, start=2031, sector="railway")]
    starts = {"p0": 2030, "p1": 2031}
    inflows = np.full((4, 4), 5e9)
    base = simulate_outcomes(projects, starts, years=[2030, 2031, 2032, 2033], inflows_usd=inflows,
                             cost_multipliers=np.full((4, 2), 1.3))
    doubled = simulate_outcomes(projects, starts, years=[2030, 2031, 2032, 2033], inflows_usd=inflows,
                                cost_multipliers=np.full((4, 2), 2.6))
    assert np.array_equal(base.finish_index, doubled.finish_index)
    assert doubled.gdp_effect_usd == pytest.approx(base.gdp_effect_usd, rel=1e-12)
    assert doubled.job_years_by_state["MX-MIC"] == pytest.approx(base.job_years_by_state["MX-MIC"], rel=1e-12)
    assert doubled.spent_usd.sum() == pytest.approx(2 * base.spent_usd.sum())  # overruns do cost money
    g = GdpAssumptions()
    assert base.gdp_effect_usd[0, -1] == pytest.approx(g.output_elasticity * 5e8 / g.public_capital_to_gdp)


def test_human_capital_is_its_own_outcome_not_public_physical_capital() -> None:
    scholarships = Project(id="s", name="", sector="education", state="MX-OAX", cost_usd=3e7, start_year_min=2030,
                           duration_years=1, annual_benefit_usd=0.0, benefit_years=1, jobs=10.0,
                           reference_class="human_capital")
    school = _p(1, cost=5e7, d=1, start=2030, sector="education")
    out = simulate_outcomes([scholarships, school], {"s": 2030, "p1": 2030}, years=[2030, 2031],
                            inflows_usd=np.full((2, 2), 1e9), cost_multipliers=np.ones((2, 2)))
    g = GdpAssumptions()
    assert out.gdp_effect_usd[:, -1] == pytest.approx(np.full(2, g.output_elasticity * 5e7 / g.public_capital_to_gdp))
    assert out.human_capital_usd[:, -1] == pytest.approx(np.full(2, 3e7))


def test_a_dependent_is_never_funded_before_its_prerequisite_is_finished() -> None:
    line = _p(0, cost=100.0, d=2, start=2030)
    terminal = Project(**{**_p(1, cost=10.0, d=1, start=2032).__dict__, "requires": ("p0",)})
    years = [2030, 2031, 2032, 2033, 2034]
    # path 0: plenty of money; path 1: the line is short of money and finishes late; path 2: it never finishes
    inflows = np.array([[1e3, 0, 0, 0, 0], [50.0, 10.0, 10.0, 40.0, 10.0], [10.0, 10.0, 10.0, 10.0, 10.0]])
    out = simulate_outcomes([line, terminal], {"p0": 2030, "p1": 2032}, years=years, inflows_usd=inflows,
                            cost_multipliers=np.ones((3, 2)))
    k_line, k_term = out.project_ids.index("p0"), out.project_ids.index("p1")
    assert out.finish_index[0].tolist()[k_line] == 1
    assert out.finish_index[0].tolist()[k_term] == 2
    assert out.finish_index[1, k_line] == 3
    assert out.finish_index[1, k_term] == 4  # waits for the line
    assert out.finish_index[2, k_line] == -1
    assert out.spent_by_project_usd[2, k_term] == 0.0  # never funded
    on_time = out.on_schedule()
    assert on_time[0].all()
    assert not on_time[1].any()
    assert out.all_on_schedule_share() == pytest.approx(1 / 3)


def test_the_public_capital_stock_is_the_icsd_ratio_not_a_placeholder() -> None:
    from naef.mdf.outcomes import public_capital_to_gdp

    year, ratio = public_capital_to_gdp()
    assert year == 2019
    assert ratio == pytest.approx(16726.7 / 24203.6)  # IMF ICSD 2021: kgov_n / GDP_n, Mexico 2019
    assert GdpAssumptions().public_capital_to_gdp == ratio
