"""Appraisal against numpy-financial (npv, irr), the expected NPV against its sample, and the reference classes."""

from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naef.mdf.appraisal import (
    DEFAULT_SOCIAL_DISCOUNT_RATE,
    REFERENCE_CLASSES,
    appraise,
    appraise_pipeline,
    eirr,
    lognormal_params,
    npv,
    project_flows,
)
from naef.mdf.pipeline import Project


def _project(cost: float, benefit: float, d: int, life: int, om: float = 0.0, ref: str = "road") -> Project:
    return Project(id="x", name="x", sector="road", state="MX-MIC", cost_usd=cost, start_year_min=2030,
                   duration_years=d, annual_benefit_usd=benefit, benefit_years=life, jobs=0.0, reference_class=ref,
                   om_usd_per_year=om)


projects = st.builds(
    _project,
    # amounts a project can have: US$ 1 or more (or exactly 0), no subnormal floats, on which numpy-financial's
    # eigenvalue root finder fails (LinAlgError) while naef's Brent search does not
    cost=st.floats(1e6, 1e9), benefit=st.one_of(st.just(0.0), st.floats(1.0, 3e8)), d=st.integers(1, 6),
    life=st.integers(1, 40), om=st.one_of(st.just(0.0), st.floats(1.0, 1e7)),
    ref=st.sampled_from(sorted(REFERENCE_CLASSES)),
)


@settings(max_examples=200, deadline=None)
@given(projects, st.floats(0.0, 0.3))
def test_npv_matches_numpy_financial(project: Project, rate: float) -> None:
    capex, ben, om = project_flows(project, cost_multiplier=1.3, benefit_ratio=0.8)
    values = ben - capex - om
    assert npv(rate=rate, values=values) == pytest.approx(float(npf.npv(rate, values)), rel=1e-9, abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(projects)
def test_eirr_matches_numpy_financial(project: Project) -> None:
    a = appraise(project)
    rc = REFERENCE_CLASSES[project.reference_class]
    capex, ben, om = project_flows(project, cost_multiplier=1 + rc.overrun_mean, benefit_ratio=rc.benefit_ratio_mean)
    values = ben - capex - om
    ref = float(npf.irr(values))
    if a.eirr is None:
        assert math.isnan(ref) or not -0.99 < ref < 100  # no root where eirr searches
        return
    # a root: NPV changes sign across it (near r = -1 NPV is so steep that its value at the root says little)
    delta = 1e-9 * (1.0 + abs(a.eirr))
    assert npv(rate=a.eirr - delta, values=values) * npv(rate=a.eirr + delta, values=values) <= 0.0
    signs = np.sign(values[values != 0])
    one_root = int(np.count_nonzero(signs[1:] != signs[:-1])) == 1
    # the same root; where numpy-financial's polynomial roots lose digits, ours must be the better root
    if not math.isnan(ref) and ref > -0.99 and one_root and a.eirr != pytest.approx(ref, abs=1e-6):
        assert abs(npv(rate=a.eirr, values=values)) <= abs(npv(rate=ref, values=values))
        assert a.eirr == pytest.approx(ref, abs=1e-4)


@settings(max_examples=100, deadline=None)
@given(projects)
def test_expected_npv_bcr_and_eirr_agree(project: Project) -> None:
    a = appraise(project)
    r = DEFAULT_SOCIAL_DISCOUNT_RATE
    assert (a.enpv_at_start_usd > 0) == (a.bcr > 1) or abs(a.enpv_at_start_usd) < 1e-6 * project.cost_usd
    if a.eirr is not None and abs(a.enpv_at_start_usd) > 1e-6 * project.cost_usd:
        assert (a.eirr > r) == (a.enpv_at_start_usd > 0)
    assert a.enpv_usd(start_year=2035, base_year=2030) == pytest.approx(a.enpv_at_start_usd / 1.1**5)


def test_expected_npv_is_the_mean_of_the_sampled_npvs() -> None:
    p = _project(200e6, 40e6, 3, 25, om=2e6, ref="railway")
    a = appraise_pipeline([p], n_draws=200_000)["x"]
    rc = REFERENCE_CLASSES["railway"]
    mu_m, s_m = lognormal_params(1 + rc.overrun_mean, rc.overrun_sd)
    mu_k, s_k = lognormal_params(rc.benefit_ratio_mean, rc.benefit_ratio_sd)
    z = np.random.default_rng(3).standard_normal((2, 200_000))
    m, k = np.exp(mu_m + s_m * z[0]), np.exp(mu_k + s_k * z[1])
    sample = np.array([npv(rate=0.1, values=project_flows(p, cost_multiplier=mm, benefit_ratio=kk)[1]
                           - project_flows(p, cost_multiplier=mm, benefit_ratio=kk)[0]
                           - project_flows(p, cost_multiplier=mm, benefit_ratio=kk)[2])
                       for mm, kk in zip(m[:2000], k[:2000], strict=True)])
    assert a.npv_p10_at_start_usd < a.enpv_at_start_usd < a.npv_p90_at_start_usd
    assert sample.mean() == pytest.approx(a.enpv_at_start_usd, rel=0.1)
    assert a.expected_cost_usd == pytest.approx(200e6 * 1.447)


@pytest.mark.parametrize(("mean", "sd"), [(1.204, 0.299), (0.485, 0.28), (1.0, 0.0)])
def test_lognormal_has_the_stated_moments(mean: float, sd: float) -> None:
    mu, s = lognormal_params(mean, sd)
    x = np.exp(mu + s * np.random.default_rng(0).standard_normal(400_000))
    assert x.mean() == pytest.approx(mean, rel=5e-3)
    assert x.std() == pytest.approx(sd, rel=2e-2, abs=1e-9)


def test_reference_classes_cite_their_sources() -> None:
    assert REFERENCE_CLASSES["road"].overrun_mean == 0.204
    assert REFERENCE_CLASSES["railway"].overrun_mean == 0.447
    assert REFERENCE_CLASSES["railway"].benefit_ratio_mean == pytest.approx(1 / 2.06)
    for rc in REFERENCE_CLASSES.values():
        assert rc.cost_source
        assert rc.benefit_source
        if rc.cost_illustrative:
            assert "ILLUSTRATIVE" in rc.cost_source or "illustrative" in rc.cost_source or rc.overrun_sd == 0


def test_eirr_none_without_a_sign_change() -> None:
    assert eirr([-1.0, -2.0]) is None
    assert eirr([1.0, 2.0]) is None
    assert eirr([-100.0, 110.0]) == pytest.approx(0.10)


@settings(max_examples=100, deadline=None)
@given(project=projects, r1=st.floats(0.0, 0.3), dr=st.floats(0.001, 0.3))
def test_a_higher_discount_rate_never_raises_a_positive_benefit_projects_enpv(project: Project, r1: float,
                                                                              dr: float) -> None:
    """Comparative statics (issue 19), for a project worth doing (ENPV >= 0 at the lower rate) whose net benefits
    (expected benefits above O&M) are positive: with capex in years 0..d-1 and net benefits after, g(r) =
    (1 + r)^(d-1) · NPV(r) is strictly decreasing in r, so NPV(r2) <= NPV(r1) whenever NPV(r1) >= 0. (Over a
    multi-year build a tiny benefit can make a negative ENPV less negative at a higher rate: not a counterexample.)"""
    rc = REFERENCE_CLASSES[project.reference_class]
    if rc.benefit_ratio_mean * project.annual_benefit_usd < project.om_usd_per_year:
        return  # net benefits negative: not a positive-benefit project
    low = appraise(project, rate=r1).enpv_at_start_usd
    if low < 0:
        return
    high = appraise(project, rate=r1 + dr).enpv_at_start_usd
    assert high <= low + 1e-6 * max(1.0, abs(low))
