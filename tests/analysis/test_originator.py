"""The originator and the sovereign (issue 13 item 4): the default time, its effect on the cash, the cap on
every implied rating, and sizing under the cap."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from naef.analysis.mc_summary import tranche_risk
from naef.analysis.montecarlo import simulate_paths
from naef.analysis.ratings import MOODYS_RATINGS, idealized_value, notches_above, rating_at_least, rating_cap
from naef.analysis.sizing import size_search
from naef.engine.montecarlo import draw_inputs, prepare
from naef.engine.originator import cumulative_default_probability, default_periods
from naef.engine.simulate import deterministic_inputs, grid_of, operations
from naef.scenario.exports import pledge_warnings
from naef.scenario.load import load_scenario
from naef.scenario.models import Scenario

BASELINE = load_scenario("baseline")


def _with(base: Scenario, **sections: dict[str, object]) -> Scenario:
    data = base.model_dump()
    for key, update in sections.items():
        data[key] = {**data[key], **update} if isinstance(data[key], dict) else update
    return Scenario.model_validate(data)


@pytest.mark.parametrize("rating", ["Aaa", "A2", "Baa2", "Ba2", "B1", "B3"])
def test_default_time_follows_the_idealized_table_read_by_the_ratings_module(rating: str) -> None:
    t = np.array([0.0, 0.25, 1.0, 1.5, 4.75, 10.0, 12.5, 30.0])
    want = [idealized_value(rating=rating, horizon_years=x, table="moodys_idealized_pd") for x in t]
    np.testing.assert_allclose(cumulative_default_probability(rating, t), want, rtol=1e-12, atol=0.0)


def test_inverse_cdf_default_periods_by_hand_and_monotone_in_the_rating() -> None:
    t_end = np.array([0.25, 0.5, 0.75, 1.0])  # one year of quarters
    f = cumulative_default_probability("B3", t_end)  # B3 1-year PD 12.19 %: F = 0.1219 t within the year
    u = np.array([0.0, f[0], f[0] + 1e-12, f[3], f[3] + 1e-9, 0.9])
    assert default_periods("B3", t_end, u).tolist() == [0, 0, 1, 3, 4, 4]  # 4 = no default within the horizon
    rng = np.random.default_rng(5)
    draws = rng.random(5000)
    grid = np.arange(1, 121) / 4.0
    later = [default_periods(r, grid, draws) for r in MOODYS_RATINGS]
    for worse, better in zip(later[1:], later[:-1], strict=True):
        assert (better >= worse).all()  # a better rating defaults later on every path, or not at all
    share = float(np.mean(later[MOODYS_RATINGS.index("B1")] < 40))  # within 10 years
    assert share == pytest.approx(idealized_value(rating="B1", horizon_years=10.0, table="moodys_idealized_pd"),
                                  abs=3 * np.sqrt(0.22 * 0.78 / 5000))


def test_after_the_originator_defaults_exports_stop_and_fields_run_at_their_continuity() -> None:
    sc = BASELINE
    grid = grid_of(sc)
    base = deterministic_inputs(sc, grid)
    k = 20
    hit = replace(base, originator_default_period=np.array([k]))
    a, b = operations(sc, grid, base), operations(sc, grid, hit)
    c = sc.originator.operating_continuity
    np.testing.assert_array_equal(a.pledged_exports_usd[:, :k], b.pledged_exports_usd[:, :k])
    assert (b.pledged_exports_usd[:, k:] == 0.0).all()
    assert (a.pledged_exports_usd[:, k:] > 0).any()
    np.testing.assert_allclose(b.oil_bbl[:, k:], c * a.oil_bbl[:, k:], rtol=1e-12)
    np.testing.assert_array_equal(b.oil_bbl[:, :k], a.oil_bbl[:, :k])
    kept = _with(sc, originator={"exports_stop_on_default": False})
    d = operations(kept, grid, hit)
    np.testing.assert_allclose(d.pledged_exports_usd, a.pledged_exports_usd, rtol=1e-12)


def test_rating_cap_by_hand() -> None:
    assert notches_above("B1", 2) == "Ba2"
    assert notches_above("Aa1", 3) == "Aaa"
    cap = rating_cap(BASELINE)  # PEMEX B1 + 2 = Ba2, below Mexico's ceiling A3
    assert (cap.originator_plus_uplift, cap.country_ceiling, cap.cap, cap.binds) == ("Ba2", "A3", "Ba2",
                                                                                     "originator")
    strong = _with(BASELINE, originator={"rating": "A1"})  # A1 + 2 = Aa2, above the ceiling
    assert (rating_cap(strong).cap, rating_cap(strong).binds) == ("A3", "country_ceiling")


def _pemex_finance_like(originator: dict[str, object]) -> Scenario:
    """Small notes (USD 0.5 bn, five years, level) against large pledged receivables (300,000 bbl/d) and the
    baseline's fields: a future-flow programme far from its collateral's size, as PEMEX Finance was."""
    data = BASELINE.model_dump()
    t = {**data["tranches"][0], "name": "PF", "size_usd": 5e8, "amortization": "level", "maturity_years": 5,
         "grace_years": 0, "legal_final_years": 5, "target_dscr": None, "seniority": 1}
    data["tranches"] = [t]
    data["collateral"] = {"source": "incremental_plus_exports", "pledged_exports_bpd": 300_000.0}
    data["originator"] = {**data["originator"], **originator}
    return Scenario.model_validate(data)


def test_pemex_finance_like_notes_rate_aaa_structurally_and_are_capped() -> None:
    for originator, cap, binds in (({}, "Ba2", "originator"), ({"rating": "A1"}, "A3", "country_ceiling")):
        setup = prepare(_pemex_finance_like(originator))
        mt, _, _, _ = simulate_paths(setup, n_paths=2000, seed=11)
        (row,) = tranche_risk(setup, mt)
        assert row["structural_rating"] == "Aaa", row  # on the EL basis
        assert (row["implied_rating"], row["implied_rating_binds"]) == (cap, binds)
        assert rating_at_least(cap, row["implied_rating_pd"])


def test_size_names_the_cap_when_it_is_below_the_target() -> None:
    res = size_search(_pemex_finance_like({}), target_rating="Baa3", n_paths=256, seed=1, rel_tol=0.05)
    assert res.best is None
    assert res.binding == "cap"
    assert res.evaluations == ()
    assert res.to_dict()["rating_cap"]["cap"] == "Ba2"
    # beside the cap: what the structure alone supports, the same search on the structural ratings (both bases)
    structural = res.structural
    assert structural is not None
    assert structural.el is not None
    assert structural.pd is not None
    # small notes against large receivables: on expected loss the structure passes Baa3 at its full size (PEMEX's
    # default before the fields produce leaves a 2-3 % PD, so the PD basis may not)
    assert structural.el.best is not None
    assert structural.el.best.scale >= 1.0
    # structural ratings, not capped: above the Ba2 the cap allows
    assert any(rating_at_least(e.implied_rating, "Baa3") for e in structural.el.evaluations)
    assert res.to_dict()["structural"]["el"]["size_usd"] == structural.el.best.size_usd
    ok = size_search(_pemex_finance_like({"rating": "A1"}), target_rating="Baa3", basis="el", n_paths=256, seed=1,
                     rel_tol=0.05)
    assert ok.best is not None
    assert rating_at_least(ok.best.implied_rating, "Baa3")
    assert all(rating_at_least("A3", e.implied_rating) for e in ok.evaluations)  # never above the cap


def test_baseline_pledge_is_warned_against_pemex_projected_exports() -> None:
    (line,) = pledge_warnings(BASELINE)
    assert line.startswith("collateral.pledged_exports_bpd: the pledge is more than 50% of PEMEX's crude exports")
    assert "400,000 of 393,100 bbl/d" in line
    small = _with(BASELINE, collateral={"pledged_exports_bpd": 150_000.0})
    assert pledge_warnings(small) == []


def test_a_profile_by_year_steps_and_reaches_the_kernel() -> None:
    sc = _with(BASELINE, collateral={"source": "incremental_plus_exports", "pledged_exports_bpd": 0.0,
                                     "pledged_exports_profile": [[2030, 150_000.0], [2035, 100_000.0]]})
    c = sc.collateral
    assert [c.pledged_bpd_in_year(y) for y in (2029, 2030, 2034, 2035, 2050)] == [0, 150_000, 150_000, 100_000,
                                                                                  100_000]
    setup = prepare(sc)
    pledged = setup.kernel_fields[12]
    years = np.array([d.year for d in setup.grid.starts])
    np.testing.assert_allclose(pledged, np.select([years < 2030, years < 2035], [0.0, 150_000.0], 100_000.0)
                               * setup.grid.days)
    inputs = draw_inputs(setup, seed=2, first_path=0, n_paths=4)
    assert inputs.originator_default_period is not None
    assert inputs.originator_default_period.shape == (4,)
