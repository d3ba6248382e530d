"""The tie rule (``naef.mdf.ties``): on hand-made programmes full of ties, the portfolio :func:`break_ties` chooses is
the one brute-force enumeration picks by the rule's own words (every portfolio listed, the tied ones kept, the first
in the rule's order taken), and :func:`in_a_tied_portfolio` says yes exactly for the projects some tied portfolio
includes; through :func:`select_portfolio`, the same portfolio and the same reasons for every order of the projects,
twins included."""

from __future__ import annotations

import itertools
import string
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naef.mdf.milp import Model, Row, solve_mip
from naef.mdf.pipeline import Project
from naef.mdf.selection import Constraints, SelectionError, select_portfolio
from naef.mdf.ties import _MAX_RADIX, TIE_REL, _blocks, break_ties, in_a_tied_portfolio
from tests.mdf.strategies import appraisals_of, small_problem

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NONE = Constraints(sector_floors=(), migrant_share_min=0.0)


@st.composite
def tie_model(draw: st.DrawFn) -> Model:
    """2-5 projects with 1-3 starts each, small integer values (many ties), ids in another order than the columns',
    one start per project and 1-2 knapsack rows with small integer weights."""
    n = draw(st.integers(2, 5))
    ids = draw(st.lists(st.text(string.ascii_lowercase, min_size=1, max_size=2), min_size=n, max_size=n,
                        unique=True))
    var_p: list[int] = []
    var_s: list[int] = []
    for i in range(n):
        first = draw(st.integers(2030, 2032))
        for s in range(first, first + draw(st.integers(1, 3))):
            var_p.append(i)
            var_s.append(s)
    nv = len(var_p)
    obj = np.array([draw(st.integers(-1, 4)) for _ in range(nv)], dtype=float) * 1e6
    vp = np.array(var_p)
    rows = [Row(f"one start of {ids[i]}", "one_start", "one start", (vp == i).astype(float), 1.0, "project", {})
            for i in range(n)]
    for k in range(draw(st.integers(1, 2))):
        w = np.array([draw(st.integers(0, 3)) for _ in range(nv)], dtype=float) * 1e6
        rows.append(Row(f"budget {k}", "budget", "the budget", w, draw(st.integers(0, 6)) * 1e6, "US$", {}))
    return Model(var_p=var_p, var_s=var_s, obj=obj, rows=rows, project_ids=ids)


def _feasible_portfolios(m: Model) -> list[tuple[dict[int, int], float]]:
    """Every portfolio (project -> start) meeting the rows, with its value."""
    vp, n = np.asarray(m.var_p), len(m.project_ids)
    options = [[None, *np.flatnonzero(vp == i)] for i in range(n)]
    a = np.vstack([r.coeffs for r in m.rows])
    b = np.array([r.rhs for r in m.rows])
    out = []
    for combo in itertools.product(*options):
        x = np.zeros(len(vp))
        for j in combo:
            if j is not None:
                x[j] = 1.0
        if np.all(a @ x <= b + 1e-9):
            out.append(({m.var_p[j]: m.var_s[j] for j in combo if j is not None}, float(m.obj @ x)))
    return out


def _rule_key(m: Model, portfolio: dict[int, int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The rule in its own words: projects in id order, included before left out if worth something (a positive
    value at its best start), left out before included if not; then their starts, earlier first (the smaller key
    comes first)."""
    order = sorted(range(len(m.project_ids)), key=lambda i: m.project_ids[i])
    vp = np.asarray(m.var_p)
    worth = {i: bool((vp == i).any() and m.obj[vp == i].max() > 0) for i in order}
    return (tuple((0 if i in portfolio else 1) if worth[i] else (1 if i in portfolio else 0) for i in order),
            tuple(portfolio[i] for i in order if i in portfolio))


def _tied(listed: list[tuple[dict[int, int], float]]) -> tuple[float, list[dict[int, int]]]:
    best = max(v for _, v in listed)
    return best, [p for p, v in listed if v >= best - TIE_REL * max(abs(best), 1.0)]


def _chosen(m: Model, x: np.ndarray[Any, Any]) -> dict[int, int]:
    return {m.var_p[j]: m.var_s[j] for j in range(len(x)) if x[j] > 0.5}


@FAST
@given(tie_model())
def test_the_rule_chooses_the_portfolio_brute_force_picks_by_its_words(m: Model) -> None:
    listed = _feasible_portfolios(m)
    status, x = solve_mip(m, m.rows, time_limit=30)
    if not listed:
        assert status == 2
        return
    assert status == 0
    assert x is not None
    best, tied = _tied(listed)
    assert float(m.obj @ x) == pytest.approx(best, abs=1e-3)
    expected = min(tied, key=lambda p: _rule_key(m, p))
    result = break_ties(m, m.rows, x, optimum_usd=best, time_limit=30)
    assert result.settled
    assert _chosen(m, result.x) == expected
    # the projects some tied portfolio includes, and only those
    for i in range(len(m.project_ids)):
        assert in_a_tied_portfolio(m, m.rows, best, i, time_limit=30) == any(i in p for p in tied)


def _two_projects_one_slot_a_year() -> Model:
    """``b`` (columns 0-2) and ``a`` (columns 3-5), each startable in 2030-2032 and worth US$ 5 M in every year;
    one slot in 2030 and one in 2031."""
    var_p, var_s = [0, 0, 0, 1, 1, 1], [2030, 2031, 2032, 2030, 2031, 2032]
    vp, vs = np.array(var_p), np.array(var_s)
    rows = [Row(f"one start {i}", "one_start", "one start", (vp == i).astype(float), 1.0, "project", {})
            for i in range(2)]
    rows += [Row(f"slot {y}", "budget", "slot", (vs == y).astype(float), 1.0, "project", {}) for y in (2030, 2031)]
    return Model(var_p=var_p, var_s=var_s, obj=np.full(6, 5e6), rows=rows, project_ids=["b", "a"])


def test_start_years_tie_and_the_earliest_start_of_the_first_id_wins() -> None:
    """Two projects worth the same in every year, one slot a year: ``a`` (second column block) takes 2030, ``b``
    the next free year."""
    m = _two_projects_one_slot_a_year()
    rows, var_p = m.rows, m.var_p
    for start in range(6):  # whatever optimum the solver gives first
        for other in range(6):
            x = np.zeros(6)
            x[start] = x[other] = 1.0
            if var_p[start] == var_p[other] or not all(r.coeffs @ x <= r.rhs for r in rows):
                continue
            assert _chosen(m, break_ties(m, rows, x, optimum_usd=10e6, time_limit=30).x) == {1: 2030, 0: 2031}


def test_blocks_keep_the_order_and_stay_exact() -> None:
    radix = [2] * 60 + [25] * 12 + [1, 7]
    blocks = _blocks(list(range(len(radix))), radix)
    assert [i for b in blocks for i in b] == list(range(len(radix)))
    assert len(blocks[0]) == 24
    for b in blocks:
        assert np.prod([float(radix[i]) for i in b]) <= _MAX_RADIX


def test_sixty_twins_the_first_ids_by_the_rule_across_blocks() -> None:
    """60 identical projects and room for 55: the first 55 ids, whichever 55 the solver found (three blocks)."""
    ids = [f"p{k:02d}" for k in range(60)][::-1]
    vp = np.arange(60)
    rows = [Row(f"one start {i}", "one_start", "one start", (vp == i).astype(float), 1.0, "project", {})
            for i in range(60)]
    rows.append(Row("budget", "budget", "the budget", np.full(60, 1e6), 55e6, "US$", {}))
    m = Model(var_p=list(range(60)), var_s=[2030] * 60, obj=np.full(60, 1e6), rows=rows, project_ids=ids)
    x = np.zeros(60)
    x[:55] = 1.0  # the columns of the last 55 ids
    chosen = _chosen(m, break_ties(m, rows, x, optimum_usd=55e6, time_limit=30).x)
    assert sorted(ids[i] for i in chosen) == [f"p{k:02d}" for k in range(55)]


def _twin(p: Project, ident: str) -> Project:
    return Project(**{**p.__dict__, "id": ident, "name": ident, "requires": (), "excludes": ()})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problem(max_projects=6), st.randoms(use_true_random=False))
def test_every_order_of_the_projects_gives_the_same_portfolio_and_reasons(problem: dict[str, Any],
                                                                        rnd: Any) -> None:
    projects = list(problem["projects"])
    projects += [_twin(p, f"t{k}") for k, p in enumerate(projects[:3])]  # twins: equal cost and value
    for k in range(len(projects) - 1):  # links between the projects too, named in the reasons
        if k % 3 == 0:
            projects[k] = Project(**{**projects[k].__dict__, "excludes": (projects[k + 1].id,)})
    ap = appraisals_of(projects)
    answers = set()
    for _ in range(3):
        rnd.shuffle(projects)
        try:
            sel = select_portfolio(projects, ap, years=problem["years"], budget_usd=problem["budget"],
                                   constraints=problem["constraints"])
        except SelectionError:  # an infeasible programme is refused whatever the order
            answers.add(("refused", ()))
            continue
        assert sel.ties_settled
        answers.add((tuple(sorted(sel.start_years().items())),
                     tuple(sorted((r["id"], r["reason"], r["tied"]) for r in sel.rejected))))
    assert len(answers) == 1, answers


def test_a_twin_left_out_is_said_to_be_tied() -> None:
    def p(ident: str) -> Project:
        return Project(id=ident, name=ident, sector="road", state="MX-MIC", cost_usd=10e6, start_year_min=2030,
                       duration_years=1, annual_benefit_usd=3e6, benefit_years=10, jobs=1.0,
                       reference_class="small_enterprise")

    for order in (["zeta", "alpha"], ["alpha", "zeta"]):
        projects = [p(i) for i in order]
        sel = select_portfolio(projects, appraisals_of(projects), years=[2030], budget_usd=[10e6], constraints=NONE)
        assert [s["id"] for s in sel.selected] == ["alpha"]
        (rejected,) = sel.rejected
        assert rejected["id"] == "zeta"
        assert rejected["tied"]
        assert rejected["reason"].startswith("tied: a portfolio of the same value")


def test_a_reason_names_its_constraints_in_the_same_order_whatever_the_pipelines_order() -> None:
    def p(ident: str, benefit: float, exc: tuple[str, ...] = ()) -> Project:
        return Project(id=ident, name=ident, sector="road", state="MX-MIC", cost_usd=10e6, start_year_min=2030,
                       duration_years=1, annual_benefit_usd=benefit, benefit_years=10, jobs=1.0,
                       reference_class="small_enterprise", excludes=exc)

    base = [p("x", 2.5e6, ("b", "a")), p("a", 3e6), p("b", 3e6), p("y", 2.5e6, ("c",)), p("c", 3e6)]
    answers = set()
    for order in itertools.permutations(range(len(base))):
        projects = [base[k] for k in order]
        sel = select_portfolio(projects, appraisals_of(projects), years=[2030], budget_usd=[50e6], constraints=NONE)
        why = {r["id"]: (r["reason"], tuple(r["excluded_by"])) for r in sel.rejected}
        answers.add((tuple(sorted(sel.start_years())), why["x"], why["y"]))
    assert len(answers) == 1
    ((chosen, x, y),) = answers
    assert chosen == ("a", "b", "c")
    assert x[0].startswith("excluded by its exclusion with a (chosen) and its exclusion with b (chosen); without it")
    assert y == (y[0], ("c excludes y",))


def test_a_hard_knapsack_of_equal_values_gets_the_rules_portfolio_in_every_column_order() -> None:
    """52 projects worth US$ 1 M each and one budget row (a reviewer's case): the rule includes, in id order, each
    project that still leaves room for a portfolio of the best count. With a relative gap on the tie steps HiGHS
    stopped up to 2^22 short of their minimum and returned p38 in place of p32, in one column order of ten."""
    costs = np.array([14, 56, 37, 27, 12, 17, 72, 15, 67, 65, 63, 76, 54, 63, 17, 86, 15, 99, 28, 88, 74, 31, 5, 59,
                      15, 53, 28, 77, 98, 57, 90, 13, 45, 89, 55, 56, 98, 94, 41, 31, 38, 27, 23, 98, 96, 21, 72, 80,
                      73, 57, 8, 57], dtype=float) * 1e6
    n, budget = len(costs), 469e6
    best_count = int(np.searchsorted(np.cumsum(np.sort(costs)), budget, side="right"))
    expected, spent = [], 0.0
    for i in range(n):  # the rule's words for equal values: in, if a portfolio of the best count still fits
        need = best_count - len(expected) - 1
        if need >= 0 and spent + costs[i] + np.sort(costs[i + 1:])[:need].sum() <= budget:
            expected.append(i)
            spent += costs[i]
    rng = np.random.default_rng(7)
    for _ in range(4):
        perm = rng.permutation(n)  # column j is project perm[j]
        vp = np.arange(n)
        rows = [Row(f"one {j}", "one_start", "one", (vp == j).astype(float), 1.0, "project", {}) for j in range(n)]
        rows.append(Row("budget", "budget", "the budget", costs[perm], budget, "US$", {}))
        m = Model(var_p=list(range(n)), var_s=[2030] * n, obj=np.full(n, 1e6), rows=rows,
                  project_ids=[f"p{k:02d}" for k in perm])
        status, x = solve_mip(m, rows, time_limit=60)
        assert status == 0
        assert x is not None
        assert int(x.sum()) == best_count
        result = break_ties(m, rows, x, optimum_usd=best_count * 1e6, time_limit=60)
        assert result.settled
        assert sorted(int(perm[j]) for j in np.flatnonzero(result.x > 0.5)) == expected


def _two_rivals(value_a: float, value_b: float) -> tuple[Model, np.ndarray[Any, Any]]:
    """Projects ``a`` and ``b``, room for one; x = ``b`` chosen."""
    vp = np.arange(2)
    rows = [Row("one", "budget", "the budget", np.ones(2), 1.0, "project", {})]
    m = Model(var_p=[0, 1], var_s=[2030, 2030], obj=np.array([value_a, value_b]), rows=rows, project_ids=["a", "b"])
    return m, (vp == 1).astype(float)


@pytest.mark.parametrize(("shortfall", "tied"), [(0.5, True), (0.9, True), (1.1, False), (3.0, False)])
def test_the_tolerance_is_a_hundred_millionth_of_the_optimum(shortfall: float, tied: bool) -> None:
    """``a`` worth ``shortfall`` tolerances less than ``b``: tied (the rule takes ``a``, first id) or not."""
    m, x = _two_rivals(1e8 * (1 - shortfall * TIE_REL), 1e8)
    assert TIE_REL == 1e-8
    assert _chosen(m, break_ties(m, m.rows, x, optimum_usd=1e8, time_limit=30).x) == ({0: 2030} if tied else
                                                                                      {1: 2030})
    assert in_a_tied_portfolio(m, m.rows, 1e8, 0, time_limit=30) is tied


def test_a_project_that_loses_money_within_the_tolerance_is_not_added() -> None:
    """``a`` loses US$ 1 (well within the tolerance of a US$ 1 bn optimum) and fits beside ``b``: the rule leaves
    it out (it prefers a project in only when it is worth something), and so keeps the optimum."""
    m = Model(var_p=[0, 1], var_s=[2030, 2030], obj=np.array([-1.0, 1e9]), project_ids=["a", "b"],
              rows=[Row("budget", "budget", "the budget", np.ones(2), 2.0, "project", {})])
    result = break_ties(m, m.rows, np.array([0.0, 1.0]), optimum_usd=1e9, time_limit=30)
    assert _chosen(m, result.x) == {1: 2030}


def test_a_budget_step_that_buys_nothing_is_degenerate_not_confirmed() -> None:
    """Two twins and room for one, with money for half of a third project: a budget step of 0.1 % buys nothing, so
    every budget row's re-solve gains nothing (their sums over other columns differ only by rounding)."""
    def p(ident: str, cost: float, benefit: float) -> Project:
        return Project(id=ident, name=ident, sector="road", state="MX-MIC", cost_usd=cost, start_year_min=2030,
                       duration_years=1, annual_benefit_usd=benefit, benefit_years=10, jobs=1.0,
                       reference_class="small_enterprise")

    projects = [p("tw-b", 2e9, 1e9), p("tw-a", 2e9, 1e9), p("c", 1.5e9, 0.6e9)]
    sel = select_portfolio(projects, appraisals_of(projects), years=[2030], budget_usd=[2.75e9], constraints=NONE)
    assert [s["id"] for s in sel.selected] == ["tw-a"]
    assert sel.budget_marginal_value
    for b in sel.budget_marginal_value:
        assert b["confirmed_value_per_usd"] == 0.0


def test_gains_are_measured_from_the_optimum_not_from_the_portfolio_the_rule_chose() -> None:
    """``a`` is worth half a tolerance less than ``b`` and room is for one: the rule takes ``a`` (first id), worth
    less than the optimum by half a tolerance. A budget step that buys nothing must gain nothing: measured from
    ``a``'s value, the re-solve's ``b`` would show a gain."""
    annuity = sum(1.1 ** -t for t in range(1, 11))  # small_enterprise: expected cost = cost, benefits x 0.85

    def p(ident: str, benefit: float) -> Project:
        return Project(id=ident, name=ident, sector="road", state="MX-MIC", cost_usd=1e8, start_year_min=2030,
                       duration_years=1, annual_benefit_usd=benefit, benefit_years=10, jobs=1.0,
                       reference_class="small_enterprise")

    b = p("b", 1e8)
    enpv_b = appraisals_of([b])["b"].enpv_usd(start_year=2030, base_year=2030)
    a = p("a", 1e8 - 0.5 * TIE_REL * enpv_b / (0.85 * annuity))
    ap = appraisals_of([a, b])
    assert 0 < enpv_b - ap["a"].enpv_usd(start_year=2030, base_year=2030) < TIE_REL * enpv_b
    sel = select_portfolio([a, b], ap, years=[2030], budget_usd=[1.5e8], constraints=NONE, resolve_step_usd=1e3)
    assert [s["id"] for s in sel.selected] == ["a"]
    assert sel.budget_marginal_value
    assert all(v["confirmed_value_per_usd"] == 0.0 for v in sel.budget_marginal_value)
    assert all(c["status"] != "confirmed" for c in sel.binding_constraints)


def test_a_re_solve_gain_within_the_tolerance_is_none() -> None:
    """Base optimum ``c`` (0.3); without the exclusion of ``a`` and ``b``, {a, b} is worth 0.1 + 0.2 =
    0.30000000000000004 in floating point: a gain of rounding only, which must count as none."""
    from naef.mdf.explain import _Resolver

    rows = [Row("budget", "budget", "the budget", np.array([1.0, 1.0, 2.0]), 2.0, "US$", {}),
            Row("a excludes b", "excludes", "a excludes b", np.array([1.0, 1.0, 0.0]), 1.0, "project", {})]
    m = Model(var_p=[0, 1, 2], var_s=[2030] * 3, obj=np.array([0.1, 0.2, 0.3]), rows=rows,
              project_ids=["a", "b", "c"])
    assert 0.1 + 0.2 > 0.3
    rv = _Resolver(m, np.array([0.0, 0.0, 1.0]), time_limit=30, optimum_usd=0.3)
    assert rv.gain("without:link", rv.relaxed({1: np.inf})) == (0.0, True)


def test_a_re_solve_gain_is_measured_from_the_optimum() -> None:
    """The rule chose ``a``, half a tolerance below the optimum ``b``; with room for one more unit ``c`` adds US$ 10:
    the gain is 10, not 10.5."""
    from naef.mdf.explain import _Resolver

    rows = [Row("budget", "budget", "the budget", np.ones(3), 1.0, "US$", {}),
            Row("a excludes b", "excludes", "a excludes b", np.array([1.0, 1.0, 0.0]), 1.0, "project", {})]
    m = Model(var_p=[0, 1, 2], var_s=[2030] * 3, obj=np.array([1e8 - 0.5e8 * TIE_REL, 1e8, 10.0]), rows=rows,
              project_ids=["a", "b", "c"])
    rv = _Resolver(m, np.array([1.0, 0.0, 0.0]), time_limit=30, optimum_usd=1e8)
    gain, proven = rv.gain("budget+1", rv.relaxed({0: 2.0}))
    assert proven
    assert gain == pytest.approx(10.0, abs=1e-6)


def test_portfolios_just_below_the_floor_do_not_mislead_the_solver() -> None:
    """A reviewer's case: tied {p0, p2}, {p1, p2}, {p2, p3} (US$ 19,999,997) and {p0, p1} US$ 3 (15 tolerances)
    below; the rule takes {p0, p2}. With HiGHS's presolve and default tolerances the first step's solve reported an
    optimum of 6 where 10 was feasible, and the rule returned {p1, p2} as settled."""
    obj = np.array([9999997.0, 9999997.0, 10000000.0, 9999997.0])
    vp = np.arange(4)
    rows = [Row(f"one {i}", "one_start", "one", (vp == i).astype(float), 1.0, "project", {}) for i in range(4)]
    rows.append(Row("budget", "budget", "the budget", np.array([1.0, 3.0, 1.0, 3.0]) * 1e6, 4e6, "US$", {}))
    m = Model(var_p=[0, 1, 2, 3], var_s=[2030] * 4, obj=obj, rows=rows, project_ids=["p0", "p1", "p2", "p3"])
    for start in ([1.0, 0, 1, 0], [0, 1.0, 1, 0], [0, 0, 1, 1.0]):
        result = break_ties(m, rows, np.array(start), optimum_usd=19999997.0, time_limit=30)
        assert result.settled
        assert _chosen(m, result.x) == {0: 2030, 2: 2030}
    assert in_a_tied_portfolio(m, rows, 19999997.0, 0, time_limit=30) is True


@pytest.mark.parametrize("shortfall", [0.3, 1.5, 5.0, 30.0, 300.0])
def test_values_a_few_tolerances_apart_by_brute_force(shortfall: float) -> None:
    """Seeded programmes whose projects are worth the same less ``shortfall`` tolerances on some columns (the value
    row binding among the portfolios near the floor): the rule's portfolio and the tied projects, by brute force."""
    for seed in range(25):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(3, 9))
        var_p = [i for i in range(n) for _ in range(int(rng.integers(1, 3)) if n <= 6 else 1)]
        var_s = [2030 + var_p[:j].count(var_p[j]) for j in range(len(var_p))]
        base = rng.choice([1e7, 2e7, 3e7], size=n)
        unit = TIE_REL * base.sum() / 2
        obj = np.array([base[i] - rng.choice([0.0, 0.0, shortfall]) * unit for i in var_p])
        vp = np.array(var_p)
        rows = [Row(f"one {i}", "one_start", "one", (vp == i).astype(float), 1.0, "project", {}) for i in range(n)]
        rows.append(Row("budget", "budget", "the budget", rng.integers(1, 4, size=n)[vp] * 1e6,
                        float(rng.integers(2, 2 * n)) * 1e6, "US$", {}))
        m = Model(var_p=var_p, var_s=var_s, obj=obj, rows=rows,
                  project_ids=[f"p{k}" for k in rng.permutation(n)])
        _, tied = _tied(_feasible_portfolios(m))
        status, x = solve_mip(m, rows, time_limit=30)
        assert status == 0
        assert x is not None
        result = break_ties(m, rows, x, optimum_usd=float(obj @ x), time_limit=30)
        assert result.settled, seed
        assert _chosen(m, result.x) == min(tied, key=lambda p: _rule_key(m, p)), seed
        for i in range(n):
            assert in_a_tied_portfolio(m, rows, float(obj @ x), i, time_limit=30) == any(i in p for p in tied), seed


def test_many_portfolios_just_below_the_floor_are_refused_without_cutting_each() -> None:
    """A reviewer's case: ``a`` (first id) is worth US$ 50 less than ``z`` on a US$ 1 bn optimum (inside HiGHS's
    default feasibility tolerance on the value row, outside the tie tolerance) and excludes it; ten projects worth
    US$ 1 each fit with either. With the default tolerances about 2^10 portfolios with ``a`` passed the row and each
    had to be cut off (51 solves, unsettled); with tolerances of 1e-10 none passes."""
    import naef.mdf.ties as ties_mod

    ids = ["a"] + [f"s{k:02d}" for k in range(10)] + ["z"]
    n = len(ids)
    obj = np.array([1e9 - 50.0] + [1.0] * 10 + [1e9])
    vp = np.arange(n)
    rows = [Row(f"one {i}", "one_start", "one", (vp == i).astype(float), 1.0, "project", {}) for i in range(n)]
    rows.append(Row("a excludes z", "excludes", "a excludes z", ((vp == 0) | (vp == n - 1)).astype(float), 1.0,
                    "project", {}))
    m = Model(var_p=list(range(n)), var_s=[2030] * n, obj=obj, rows=rows, project_ids=ids)
    x = np.ones(n)
    x[0] = 0.0
    calls = []
    original = ties_mod.solve_mip

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    ties_mod.solve_mip = counting
    try:
        result = break_ties(m, rows, x, optimum_usd=float(obj @ x), time_limit=30)
        assert in_a_tied_portfolio(m, rows, float(obj @ x), 0, time_limit=30) is False
    finally:
        ties_mod.solve_mip = original
    assert result.settled
    assert _chosen(m, result.x) == {i: 2030 for i in range(1, n)}
    assert len(calls) <= 4


def test_without_the_starts_step_the_projects_are_still_the_rules() -> None:
    """``starts=False`` (explain's removal re-solves) chooses the same projects, leaving their starts as found."""
    m = _two_projects_one_slot_a_year()
    rows = m.rows
    x = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 0.0])  # b in 2032, a in 2031: both chosen, neither at the rule's start
    assert _chosen(m, break_ties(m, rows, x, optimum_usd=10e6, time_limit=30, starts=False).x) == {0: 2032, 1: 2031}
    assert _chosen(m, break_ties(m, rows, x, optimum_usd=10e6, time_limit=30).x) == {1: 2030, 0: 2031}


def test_a_removal_re_solve_measures_its_ties_from_the_optimum_not_from_the_rules_portfolio() -> None:
    """A third reviewer's case: ``a`` half a tolerance and ``0c`` 1.2 tolerances below ``b`` (pairwise exclusive, two
    units each), two one-unit twins, three units of budget: the rule takes {a, tw0}. Without the link ``a excludes
    b`` the optimum is unchanged and ``0c`` is still 1.2 tolerances short of it; measured from {a, tw0}'s value (half
    a tolerance lower) it passed for tied there and its reason said the link's removal brought it in."""
    def p(ident: str, cost: float, benefit: float, exc: tuple[str, ...] = ()) -> Project:
        return Project(id=ident, name=ident, sector="road", state="MX-MIC", cost_usd=cost, start_year_min=2030,
                       duration_years=1, annual_benefit_usd=benefit, benefit_years=10, jobs=1.0,
                       reference_class="small_enterprise", excludes=exc)

    annuity = sum(1.1 ** -t for t in range(1, 11))  # small_enterprise: ENPV = -cost + 0.85 benefit x annuity
    b, tw = p("b", 2e7, 6e6, ("0c",)), [p(f"tw{k}", 1e7, 2.2e6) for k in range(2)]
    ap0 = appraisals_of([b, tw[0]])
    tol = TIE_REL * (ap0["b"].enpv_at_start_usd + ap0["tw0"].enpv_at_start_usd)
    a = p("a", 2e7, 6e6 - 0.5 * tol / (0.85 * annuity), ("b",))
    c = p("0c", 2e7, 6e6 - 1.2 * tol / (0.85 * annuity), ("a",))
    projects = [a, b, c, *tw]
    ap = appraisals_of(projects)
    sel = select_portfolio(projects, ap, years=[2030], budget_usd=[3e7 * (1 + 1e-9)], constraints=NONE)
    assert sorted(sel.start_years()) == ["a", "tw0"]
    why = {r["id"]: r for r in sel.rejected}
    assert why["b"]["tied"]
    assert not why["0c"]["tied"]
    assert why["0c"]["excluded_by"] == []


def test_a_link_between_two_other_projects_is_named_as_a_link() -> None:
    from naef.mdf.explain import _phrase
    from naef.mdf.milp import build_model
    from naef.mdf.selection import DEFAULT_CONSTRAINTS

    def p(ident: str, req: tuple[str, ...] = (), exc: tuple[str, ...] = ()) -> Project:
        return Project(id=ident, name=ident, sector="road", state="MX-MIC", cost_usd=1e7, start_year_min=2030,
                       duration_years=1, annual_benefit_usd=3e6, benefit_years=10, jobs=1.0,
                       reference_class="small_enterprise", requires=req, excludes=exc)

    projects = [p("a", exc=("b",)), p("b"), p("c"), p("d", req=("a",))]
    m = build_model(projects, appraisals_of(projects), [2030, 2031], np.array([1e8, 1e8]), DEFAULT_CONSTRAINTS, 2030)
    assert _phrase("a excludes b", "excludes", projects[2], set(), m) == "the link 'a excludes b'"
    assert _phrase("d requires a", "requires", projects[2], set(), m) == "the link 'd requires a'"
    assert _phrase("a excludes b", "excludes", projects[1], {"a"}, m) == "its exclusion with a (chosen)"
    assert _phrase("d requires a", "requires", projects[3], set(), m) == "its requirement a, which was not chosen"


def test_a_small_knapsack_that_misled_highs_presolve_even_with_tight_tolerances() -> None:
    """Room for 3 units: ``p04`` (US$ 30 M, 2 units) and one of the twins ``p01`` and ``p07`` (US$ 20 M, 1 unit) are
    tied; the rule takes ``p01``. With presolve on — default or tight tolerances alike — HiGHS's first step returned
    {p04, p07} as optimal (a reviewer's seeded case), which is why the rule's solves run without presolve."""
    ids = ["p01", "p06", "p02", "p00", "p07", "p04", "p05", "p03"]
    obj = np.array([2e7, 2e7, 1e7, 2e7, 2e7, 3e7, 2e7, 1e7]) - 1.125
    units = np.array([1.0, 2, 2, 3, 1, 2, 3, 2]) * 1e6
    vp = np.arange(8)
    rows = [Row(f"one {i}", "one_start", "one", (vp == i).astype(float), 1.0, "project", {}) for i in range(8)]
    rows.append(Row("budget", "budget", "the budget", units, 3e6, "US$", {}))
    m = Model(var_p=list(range(8)), var_s=[2030] * 8, obj=obj, rows=rows, project_ids=ids)
    for twin in (0, 4):
        x = np.zeros(8)
        x[[twin, 5]] = 1.0
        result = break_ties(m, rows, x, optimum_usd=float(obj @ x), time_limit=30)
        assert result.settled
        assert sorted(ids[i] for i in _chosen(m, result.x)) == ["p01", "p04"]
