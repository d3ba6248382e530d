"""Issue 19, items 3 and 5: hand-made pipelines whose optimum, confirmed shadow prices and rejection reasons are
known by hand — a prerequisite in time, an impossible timing, a binding share floor — and the check behind every
reason: remove the constraint it names and the project enters."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from naef.mdf.appraisal import appraise_pipeline
from naef.mdf.pipeline import Project
from naef.mdf.selection import Constraints, SectorFloor, select_portfolio

NONE = Constraints(sector_floors=(), migrant_share_min=0.0)
ANNUITY_10Y = sum(1.1 ** -t for t in range(1, 11))  # benefits in years 1..10 after a one-year build, at 10 %


def _p(ident: str, *, sector: str = "road", cost: float = 10e6, benefit: float = 2e6, start: int = 2030, d: int = 1,
       req: tuple[str, ...] = ()) -> Project:
    # reference class small_enterprise: no overrun (expected cost = cost), benefits x 0.85 — computable by hand
    return Project(id=ident, name=ident, sector=sector, state="MX-MIC", cost_usd=cost, start_year_min=start,
                   duration_years=d, annual_benefit_usd=benefit, benefit_years=10, jobs=1.0,
                   reference_class="small_enterprise", requires=req)


def _enpv(cost: float, benefit: float) -> float:
    """ENPV at the start of a one-year project: -C + 0.85 B · annuity (by hand)."""
    return -cost + 0.85 * benefit * ANNUITY_10Y


def _floor_case() -> tuple[list[Project], Constraints]:
    projects = [_p("r1", benefit=3.0e6), _p("r2", benefit=2.8e6),
                _p("e1", sector="education", benefit=2.4e6), _p("e2", sector="education", benefit=2.2e6)]
    return projects, Constraints(sector_floors=(SectorFloor("education", share=0.5),), migrant_share_min=0.0)


def test_a_binding_share_floor_by_hand() -> None:
    projects, floor = _floor_case()
    ap = appraise_pipeline(projects, n_draws=8)
    for p in projects:
        assert ap[p.id].enpv_at_start_usd == pytest.approx(_enpv(p.cost_usd, p.annual_benefit_usd), rel=1e-12)
    sel = select_portfolio(projects, ap, years=[2030], budget_usd=[20e6], constraints=floor,
                           resolve_step_usd=10e6)
    # 20 m buys two projects; half must be education: r1 (best road) and e1 (best education)
    assert sorted(sel.start_years()) == ["e1", "r1"]
    enpv = {p.id: _enpv(p.cost_usd, p.annual_benefit_usd) for p in projects}
    assert sel.objective_usd == pytest.approx(enpv["r1"] + enpv["e1"], rel=1e-9)
    floor_row = next(b for b in sel.binding_constraints if b["kind"] == "sector_floor")
    # 10 m of shortfall allowed: r2 replaces e1, so the floor is worth (ENPV r2 - ENPV e1) / 10 m per dollar
    assert floor_row["binding_in_milp"]
    assert floor_row["confirmed_value"] == pytest.approx((enpv["r2"] - enpv["e1"]) / 10e6, rel=1e-9)
    assert floor_row["status"] == "confirmed"
    # 10 m more received in 2030 buys e2 (r2 would break the floor): worth ENPV e2 / 10 m per dollar
    value = sel.budget_marginal_value[0]
    assert value["confirmed_value_per_usd"] == pytest.approx(enpv["e2"] / 10e6, rel=1e-9)
    why = {r["id"]: r for r in sel.rejected}
    assert why["r2"]["reason"].startswith("excluded by the budget or sector floor education >= 50% of spending: "
                                          "removing any one of them alone brings it into the optimal portfolio")
    assert why["e2"]["excluded_by"] == ["the budget"]


def test_removing_the_constraint_a_reason_names_lets_the_project_in() -> None:
    projects, floor = _floor_case()
    ap = appraise_pipeline(projects, n_draws=8)
    sel = select_portfolio(projects, ap, years=[2030], budget_usd=[20e6], constraints=floor)
    checked = 0
    for r in sel.rejected:
        for name in r["excluded_by"]:
            if name == "the budget":
                other = select_portfolio(projects, ap, years=[2030], budget_usd=[1e12], constraints=floor)
            else:
                other = select_portfolio(projects, ap, years=[2030], budget_usd=[20e6], constraints=NONE)
            assert r["id"] in other.start_years(), (r, name)
            checked += 1
    assert checked >= 3


def test_a_prerequisite_is_finished_before_its_dependent_starts() -> None:
    """The issue's case: a terminal requiring a rail line must not start (nor earn) before the line is built."""
    line = _p("line", cost=20e6, benefit=5e6, start=2030, d=2)
    terminal = _p("terminal", cost=5e6, benefit=2e6, start=2030, req=("line",))
    ap = appraise_pipeline([line, terminal], n_draws=8)
    sel = select_portfolio([line, terminal], ap, years=[2030, 2031, 2032, 2033], budget_usd=[1e9, 0, 0, 0],
                           constraints=NONE)
    # the line is paid for in 2030-2031; the terminal starts in 2032 at the earliest, and starts then
    assert sel.start_years() == {"line": 2030, "terminal": 2032}
    expected = ap["line"].enpv_usd(start_year=2030, base_year=2030) + ap["terminal"].enpv_usd(start_year=2032,
                                                                                              base_year=2030)
    assert sel.objective_usd == pytest.approx(expected, rel=1e-9)


def test_an_impossible_timing_is_a_stated_rejection() -> None:
    line = _p("line", cost=20e6, benefit=5e6, start=2031, d=2)
    terminal = _p("terminal", cost=5e6, benefit=2e6, start=2030, req=("line",))
    ap = appraise_pipeline([line, terminal], n_draws=8)
    sel = select_portfolio([line, terminal], ap, years=[2030, 2031, 2032], budget_usd=[1e9, 0, 0],
                           constraints=NONE)
    assert sel.start_years() == {"line": 2031}
    reason = next(r["reason"] for r in sel.rejected if r["id"] == "terminal")
    assert reason == ("prerequisites too late: terminal can start only after line is finished, in 2033 at the "
                      "earliest, and would then be paid for until 2033, after the budget's last year 2032")


def test_a_degenerate_price_is_marked_not_reported_as_binding_value() -> None:
    """One project that fits with room to spare: the LP may price nothing; a budget worth nothing is not 'confirmed'."""
    projects = [_p("a", benefit=3e6)]
    ap = appraise_pipeline(projects, n_draws=8)
    sel = select_portfolio(projects, ap, years=[2030], budget_usd=[15e6], constraints=NONE)
    assert sel.start_years() == {"a": 2030}
    assert all(b["status"] != "confirmed" for b in sel.binding_constraints)
    assert sel.budget_marginal_value[0]["confirmed_value_per_usd"] == 0.0


def test_budget_value_of_a_dollar_received_is_the_sum_of_later_duals() -> None:
    projects = [_p(f"q{i}", benefit=(2 + 0.1 * i) * 1e6, start=2030 + i % 2) for i in range(6)]
    ap = appraise_pipeline(projects, n_draws=8)
    sel = select_portfolio(projects, ap, years=[2030, 2031, 2032], budget_usd=[15e6, 10e6, 5e6], constraints=NONE)
    lam = {b["year"]: b["lp_shadow_price"] for b in sel.binding_constraints if b["kind"] == "budget"}
    for v in sel.budget_marginal_value:
        assert v["lp_value_per_usd"] == pytest.approx(sum(x for y, x in lam.items() if y >= v["year"]), abs=1e-12)
    values = [v["lp_value_per_usd"] for v in sel.budget_marginal_value]
    assert values == sorted(values, reverse=True)  # money earlier is worth at least as much
    confirmed = [v["confirmed_value_per_usd"] for v in sel.budget_marginal_value]
    assert all(a >= b - 1e-9 for a, b in itertools.pairwise(confirmed))  # in the MILP too
    assert np.isfinite(values).all()


def test_a_priced_budget_that_a_finite_step_does_not_realise_is_degenerate() -> None:
    """The issue's misreport: an LP price that no finite re-solve confirms is marked 'degenerate', not binding value.
    Two projects of 10 m and 15 m of budget: the LP funds a and half of b (budget dual = ENPV_b / 10 m > 0); the
    MILP funds a alone, and 1 m more money buys nothing (b needs 10 m)."""
    projects = [_p("a", benefit=3e6), _p("b", benefit=2e6)]
    ap = appraise_pipeline(projects, n_draws=8)
    sel = select_portfolio(projects, ap, years=[2030], budget_usd=[15e6], constraints=NONE, resolve_step_usd=1e6)
    assert sel.start_years() == {"a": 2030}
    value = sel.budget_marginal_value[0]
    assert value["lp_value_per_usd"] == pytest.approx(_enpv(10e6, 2e6) / 10e6, rel=1e-6)
    assert value["confirmed_value_per_usd"] == 0.0
    assert value["status"] == "degenerate"
    # with 5 m more (a whole b), the re-solve confirms ENPV_b / 5 m per dollar
    sel5 = select_portfolio(projects, ap, years=[2030], budget_usd=[15e6], constraints=NONE, resolve_step_usd=5e6)
    assert sel5.budget_marginal_value[0]["confirmed_value_per_usd"] == pytest.approx(_enpv(10e6, 2e6) / 5e6,
                                                                                       rel=1e-9)
    assert sel5.budget_marginal_value[0]["status"] == "confirmed"


def test_the_migrant_share_is_named_when_it_is_what_keeps_a_project_out() -> None:
    """The issue's 6-project case: a project 'crowded out by projects with more ENPV' was in fact excluded by the
    migrant-state share. Three slots of 10 m; at least half of spending in migrant-sending states (MX-MIC): the best
    plan takes n1, m1 and m2, and n2 (better than m2) is kept out by the share."""
    def at(ident: str, state: str, benefit: float) -> Project:
        return Project(**{**_p(ident, benefit=benefit).__dict__, "state": state})

    projects = [at("n1", "MX-NLE", 4.0e6), at("n2", "MX-NLE", 3.6e6), at("m1", "MX-MIC", 3.4e6),
                at("m2", "MX-MIC", 3.0e6), at("m3", "MX-MIC", 1.0e6), at("n3", "MX-NLE", 1.0e6)]
    ap = appraise_pipeline(projects, n_draws=8)
    share = Constraints(sector_floors=(), migrant_share_min=0.5)
    sel = select_portfolio(projects, ap, years=[2030], budget_usd=[30e6], constraints=share)
    assert sorted(sel.start_years()) == ["m1", "m2", "n1"]
    why = {r["id"]: r for r in sel.rejected}
    assert "migrant-sending states >= 50% of spending" in why["n2"]["excluded_by"]
    assert "crowded out" not in why["n2"]["reason"]
    without = select_portfolio(projects, ap, years=[2030], budget_usd=[30e6], constraints=NONE)
    assert "n2" in without.start_years()
    assert why["m3"]["reason"].startswith("negative expected NPV")
    share_row = next(b for b in sel.binding_constraints if b["kind"] == "migrant_share")
    assert share_row["status"] in ("confirmed", "degenerate")
