"""Tests of naef.analysis.stress: episodes as shipped and as EIA published them, the replay on quarterly, monthly and
annual grids (scaled to the spot or at levels, the deck after the episode), user decks and their errors, and the
stress results: against the base case, the deterministic run and the Monte Carlo's own per-path metrics."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from naef import load_scenario, simulate
from naef.analysis.stress import (
    StressResult,
    base_path,
    deck_path,
    episode_path,
    run_stress,
    scenario_deck_usd_per_bbl,
)
from naef.analysis.stress_inputs import (
    StressError,
    UserDeck,
    load_episodes,
    parse_deck_csv,
    read_deck_csv,
    replay_usd_per_bbl,
    select_episodes,
)
from naef.engine.mc_types import MonteCarloSetup
from naef.engine.montecarlo import deterministic_setup_inputs, prepare, run_chunk
from naef.engine.montecarlo_reference import run_chunk_reference
from naef.engine.waterfall import cash_identity_residual
from naef.errors import NaefError
from naef.scenario.history import read_monthly_prices
from naef.scenario.models import Hedge, Scenario
from tests import data_paths

EIA = data_paths.EIA
REQUIRED = ("collapse_2008", "slump_2014", "crash_2020")


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario("baseline")


@pytest.fixture(scope="module")
def setup(baseline: Scenario) -> MonteCarloSetup:
    return prepare(baseline)


def with_grid(sc: Scenario, periods_per_year: int) -> Scenario:
    return sc.model_copy(update={"scenario": sc.scenario.model_copy(update={"periods_per_year": periods_per_year})})


def flat_deck(setup: MonteCarloSetup, price: float, name: str) -> UserDeck:
    text = "Date,Price\n" + "".join(f"{d.isoformat()},{price!r}\n" for d in setup.grid.starts)
    return parse_deck_csv(text, source=f"{name}.csv", grid=setup.grid, name=name)


def row(result: StressResult, name: str) -> dict[str, Any]:
    return next(p for p in result.summary["paths"] if p["name"] == name)


# ---- episodes ---------------------------------------------------------------------------------------------


def test_episodes_load_as_shipped() -> None:
    raw = tomllib.loads(resources.files("naef").joinpath("data/stress_episodes.toml").read_text("utf-8"))
    lib = load_episodes()
    assert set(REQUIRED) <= set(lib.names)
    assert lib.names == tuple(e["name"] for e in raw["episode"])
    for ep, r in zip(lib.episodes, raw["episode"], strict=True):
        assert ep.quarters == tuple(r["quarters"])
        assert ep.brent_usd_per_bbl == tuple(r["brent_usd_per_bbl"])
        assert ep.wti_usd_per_bbl == tuple(r["wti_usd_per_bbl"])
        assert ep.title
    assert "eia.gov" in lib.meta["source_url"]
    assert lib.meta["unit"] == "usd_per_bbl"


def quarterly_means(path: Path) -> dict[str, float]:
    prices = read_monthly_prices(path)
    groups: dict[str, list[float]] = {}
    for month, p in zip(prices.months, prices.prices_usd_per_bbl, strict=True):
        groups.setdefault(f"{month[:4]}Q{(int(month[5:]) - 1) // 3 + 1}", []).append(float(p))
    return {q: sum(v) / 3 for q, v in groups.items() if len(v) == 3}


@pytest.mark.parametrize("benchmark", ["brent", "wti"])
def test_levels_replay_is_the_eia_quarterly_averages(baseline: Scenario, benchmark: str) -> None:
    """Round trip: EIA monthly CSV → quarterly means → shipped figures → the replayed path at levels."""
    sc = baseline.model_copy(update={"price": baseline.price.model_copy(update={"benchmark": benchmark})})
    s = prepare(sc)
    eia = quarterly_means(EIA / f"{benchmark}-monthly.csv")
    for ep in load_episodes().episodes:
        path = episode_path(s, ep, mode="levels")
        m = len(ep.quarters)
        assert path.replay_periods == m
        assert path.scale_factor == 1.0
        assert path.benchmark_usd_per_bbl[:m].tolist() == list(getattr(ep, f"{benchmark}_usd_per_bbl"))
        np.testing.assert_allclose(path.benchmark_usd_per_bbl[:m], [eia[q] for q in ep.quarters], atol=0.0051)


def test_scaled_path_starts_at_the_spot_and_keeps_the_shape(setup: MonteCarloSetup) -> None:
    deck = scenario_deck_usd_per_bbl(setup)
    for ep in load_episodes().episodes:
        q = np.array(ep.brent_usd_per_bbl)
        path = episode_path(setup, ep, mode="scaled")
        b = path.benchmark_usd_per_bbl
        m = q.size
        assert b[0] == setup.spot_usd_per_bbl == 65.0  # the baseline deck on 1 Jan 2027
        np.testing.assert_allclose(b[:m] / b[0], q / q[0], rtol=1e-13)
        assert path.scale_factor == pytest.approx(65.0 / q[0])
        # after the episode, the scenario's deck resumes (not the last episode price)
        assert b[m:].tolist() == deck[m:].tolist()
        assert b[m] != b[m - 1]


def test_scaled_2008_falls_as_deep_as_2008() -> None:
    ep = load_episodes().get("collapse_2008")
    s = prepare(load_scenario("baseline"))
    b = episode_path(s, ep, mode="scaled").benchmark_usd_per_bbl
    assert b.min() == pytest.approx(65.0 * 44.43 / 121.40)
    assert int(np.argmin(b)) == 3  # 2009Q1 is the episode's fourth quarter → the scenario's 2027-10-01 quarter


def test_monthly_grid_repeats_each_quarter_over_its_three_months(baseline: Scenario) -> None:
    s = prepare(with_grid(baseline, 12))
    ep = load_episodes().get("crash_2020")
    path = episode_path(s, ep, mode="levels")
    q = np.array(ep.brent_usd_per_bbl)
    m = 3 * q.size
    assert path.replay_periods == m
    assert path.benchmark_usd_per_bbl[:m].tolist() == np.repeat(q, 3).tolist()
    assert path.benchmark_usd_per_bbl[m:].tolist() == scenario_deck_usd_per_bbl(s)[m:].tolist()


def test_annual_grid_averages_four_quarters_and_fills_a_partial_year_with_the_deck(baseline: Scenario) -> None:
    s = prepare(with_grid(baseline, 1))
    deck = scenario_deck_usd_per_bbl(s)
    ep = load_episodes().get("collapse_2008")  # 11 quarters: two whole years and three quarters
    q = np.array(ep.brent_usd_per_bbl)
    path = episode_path(s, ep, mode="levels")
    b = path.benchmark_usd_per_bbl
    assert path.replay_periods == 3
    assert b[0] == pytest.approx(q[0:4].mean(), rel=1e-15)
    assert b[1] == pytest.approx(q[4:8].mean(), rel=1e-15)
    assert b[2] == pytest.approx((q[8:11].sum() + deck[2]) / 4, rel=1e-15)
    assert b[3:].tolist() == deck[3:].tolist()


def test_replay_is_cut_at_the_horizon_and_rejects_other_grids() -> None:
    deck = np.full(3, 50.0)
    out, covered = replay_usd_per_bbl(quarterly_usd_per_bbl=np.arange(1.0, 11.0), deck_usd_per_bbl=deck,
                                      periods_per_year=4)
    assert covered == 3
    assert out.tolist() == [1.0, 2.0, 3.0]
    assert deck.tolist() == [50.0, 50.0, 50.0]  # not modified
    with pytest.raises(StressError, match="periods_per_year"):
        replay_usd_per_bbl(quarterly_usd_per_bbl=np.ones(4), deck_usd_per_bbl=deck, periods_per_year=2)


def test_wti_scenarios_replay_the_wti_series(baseline: Scenario) -> None:
    sc = baseline.model_copy(update={"price": baseline.price.model_copy(update={"benchmark": "wti"})})
    ep = load_episodes().get("slump_2014")
    b = episode_path(prepare(sc), ep, mode="levels").benchmark_usd_per_bbl
    assert b[0] == ep.wti_usd_per_bbl[0] != ep.brent_usd_per_bbl[0]


def test_select_episodes_names_the_option() -> None:
    lib = load_episodes()
    assert [e.name for e in select_episodes(["crash_2020", "collapse_2008"], lib)] == ["crash_2020", "collapse_2008"]
    with pytest.raises(StressError, match=r"^--episode: unknown episode 'dotcom' \(shipped: collapse_2008"):
        select_episodes(["dotcom"], lib)
    with pytest.raises(StressError, match="--episode: 'crash_2020' is given twice"):
        select_episodes(["crash_2020", "crash_2020"], lib)
    assert issubclass(StressError, NaefError)


def test_unknown_mode_is_refused(setup: MonteCarloSetup) -> None:
    with pytest.raises(StressError, match="mode"):
        episode_path(setup, load_episodes().episodes[0], mode="log")  # type: ignore[arg-type]


# ---- user decks -------------------------------------------------------------------------------------------


def test_deck_rows_set_their_periods_and_the_deck_fills_the_rest(setup: MonteCarloSetup) -> None:
    text = "period_start,price\n2027-01,40\n2027-02-15,50\n2027-07-01,30.5\n2056-12-31,0\n"
    deck = parse_deck_csv(text, source="d.csv", grid=setup.grid)
    assert deck.name == "d.csv"
    assert deck.rows == 4
    assert deck.periods_given == 3
    b = deck_path(setup, deck).benchmark_usd_per_bbl
    base = scenario_deck_usd_per_bbl(setup)
    assert b[0] == 45.0  # two rows in the first quarter: their mean
    assert b[1] == base[1]
    assert b[2] == 30.5
    assert b[-1] == 0.0
    assert b[3:-1].tolist() == base[3:-1].tolist()


def test_read_deck_csv_handles_a_byte_order_mark(setup: MonteCarloSetup, tmp_path: Path) -> None:
    p = tmp_path / "bom.csv"
    p.write_text("\ufeffDate,Price\n2027-04-01,12\n", encoding="utf-8")
    deck = read_deck_csv(p, grid=setup.grid)
    assert deck.period_usd_per_bbl[1] == 12.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"--deck d\.csv: empty file"),
        ("\n\n", r"--deck d\.csv: empty file"),
        ("Date,Price\n", r"--deck d\.csv: no price rows"),
        ("when,what\n2027-01-01,1\n", r"--deck d\.csv:1: expected the header 'Date,Price' or 'period_start,price'"),
        ("Date,Price\n2027-01-01,60,1\n", r"--deck d\.csv:2: expected 2 fields"),
        ("Date,Price\n2027-13-01,60\n", r"--deck d\.csv:2: bad date '2027-13-01'"),
        ("Date,Price\n2027-01-01,cheap\n", r"--deck d\.csv:2: bad price 'cheap'"),
        ("Date,Price\n2027-01-01,nan\n", r"--deck d\.csv:2: bad price 'nan'"),
        ("Date,Price\n2027-01-01,60\n2027-04-01,-5\n", r"--deck d\.csv:3: negative price -5"),
        ("Date,Price\n2027-04-01,60\n2027-01-01,60\n", r"--deck d\.csv:3: date 2027-01-01 is not after"),
        ("Date,Price\n2026-12-31,60\n", r"--deck d\.csv:2: date 2026-12-31 is outside the scenario's horizon "
                                        r"\(2027-01-01 to 2057-01-01, end excluded\)"),
        ("Date,Price\n2057-01-01,60\n", r"--deck d\.csv:2: date 2057-01-01 is outside"),
        ('Date,Price\n"2027-01-01,60\n', r"--deck d\.csv:2: "),
    ],
)
def test_deck_errors_name_file_and_line(setup: MonteCarloSetup, text: str, message: str) -> None:
    with pytest.raises(StressError, match=message) as exc:
        parse_deck_csv(text, source="d.csv", grid=setup.grid)
    assert "\n" not in str(exc.value)


def test_unreadable_deck_files(setup: MonteCarloSetup, tmp_path: Path) -> None:
    with pytest.raises(StressError, match=r"^--deck .*missing\.csv: cannot read the file"):
        read_deck_csv(tmp_path / "missing.csv", grid=setup.grid)
    (tmp_path / "bin.csv").write_bytes(b"Date,Price\n\xff\xfe\n")
    with pytest.raises(StressError, match=r"bin\.csv: not UTF-8"):
        read_deck_csv(tmp_path / "bin.csv", grid=setup.grid)


# ---- results ----------------------------------------------------------------------------------------------


def test_2008_collapse_lowers_the_mdf_inflows_of_the_baseline(setup: MonteCarloSetup) -> None:
    ep = load_episodes().get("collapse_2008")
    res = run_stress(setup, [episode_path(setup, ep, mode="scaled")])
    base, stressed = row(res, "base"), row(res, "collapse_2008")
    assert stressed["mdf"]["inflows_usd"] < base["mdf"]["inflows_usd"]
    assert stressed["mdf"]["inflows_pv_usd"] < base["mdf"]["inflows_pv_usd"]
    loss = base["mdf"]["inflows_usd"] - stressed["mdf"]["inflows_usd"]
    assert stressed["mdf"]["loss_vs_base_usd"] == loss > 0
    assert stressed["mdf"]["loss_vs_base_share"] == pytest.approx(loss / base["mdf"]["inflows_usd"])
    assert 0.0 < stressed["mdf"]["loss_vs_base_pv_share"] < 1.0
    assert base["mdf"]["loss_vs_base_usd"] == 0.0
    assert stressed["mode"] == "scaled"
    assert stressed["deck_resumes_date"] == "2029-10-01"  # 11 quarters from 2027-01-01
    assert stressed["benchmark_usd_per_bbl"]["min_date"] == "2027-10-01"


def test_all_episodes_run_and_every_path_keeps_the_cash_identity(setup: MonteCarloSetup) -> None:
    lib = load_episodes()
    paths = [episode_path(setup, e, mode=m) for e in lib.episodes for m in ("scaled", "levels")]
    with pytest.raises(StressError, match="used twice"):
        run_stress(setup, paths)
    res = run_stress(setup, paths[::2])
    assert [p["name"] for p in res.summary["paths"]] == ["base", *lib.names]
    scale = max(float(np.abs(res.collections.collections_usd).max()), 1.0)
    assert float(np.abs(cash_identity_residual(res.waterfall)).max()) <= 1e-9 * scale * 10


def test_flat_10_dollar_deck_defaults_the_senior_tranches_and_200_does_not(setup: MonteCarloSetup) -> None:
    low, high = flat_deck(setup, 10.0, "low"), flat_deck(setup, 200.0, "high")
    res = run_stress(setup, [deck_path(setup, low), deck_path(setup, high)])
    lo, hi = row(res, "low"), row(res, "high")
    senior = [t for t in lo["tranches"] if t["seniority"] == 1]
    assert senior
    assert all(t["defaulted"] for t in senior)
    assert all(t["loss"] > 0.0 for t in senior)
    assert all(t["default_date"] is not None and t["first_shortfall_date"] is not None for t in senior)
    assert all(t["first_shortfall_date"] <= t["default_date"] for t in senior)
    assert all(t["interest_shortfall_max_usd"] > 0.0 for t in senior)
    assert lo["event_of_default_date"] is not None
    assert lo["mdf"]["loss_vs_base_share"] > 0.5
    assert all(not t["defaulted"] and t["loss"] == 0.0 and t["first_shortfall_date"] is None
               and t["interest_shortfall_max_usd"] == 0.0 and t["principal_unpaid_at_legal_final_usd"] == 0.0
               for t in hi["tranches"])
    assert hi["event_of_default_date"] is None
    assert hi["mdf"]["loss_vs_base_usd"] < 0.0  # the MDF gains
    assert hi["min_dscr"] > row(res, "base")["min_dscr"]


def test_a_deck_equal_to_the_scenario_deck_is_the_base_case_exactly(setup: MonteCarloSetup) -> None:
    base_prices = scenario_deck_usd_per_bbl(setup)
    text = "Date,Price\n" + "".join(f"{d.isoformat()},{float(p)!r}\n" for d, p in zip(setup.grid.starts, base_prices,
                                                                                 strict=True))
    same = parse_deck_csv(text, source="same.csv", grid=setup.grid)
    assert same.periods_given == setup.grid.n
    res = run_stress(setup, [deck_path(setup, same)])
    base, deck = row(res, "base"), row(res, "same.csv")
    ignore = {"name", "kind", "title", "source", "replay_periods"}
    assert {k: v for k, v in deck.items() if k not in ignore} == {k: v for k, v in base.items() if k not in ignore}
    table = res.paths_table
    a = table[table["path"] == "base"].drop(columns="path").reset_index(drop=True)
    b = table[table["path"] == "same.csv"].drop(columns="path").reset_index(drop=True)
    assert a.equals(b)


def test_paths_of_the_wrong_length_or_with_bad_prices_are_refused(setup: MonteCarloSetup) -> None:
    short = replace(base_path(setup), name="short", benchmark_usd_per_bbl=np.ones(3))
    with pytest.raises(StressError, match="stress path 'short'"):
        run_stress(setup, [short])
    bad = replace(base_path(setup), name="bad", benchmark_usd_per_bbl=np.full(setup.grid.n, -1.0))
    with pytest.raises(StressError, match="finite and >= 0"):
        run_stress(setup, [bad])


def test_base_case_is_the_deterministic_run(baseline: Scenario, setup: MonteCarloSetup) -> None:
    res = run_stress(setup, [])
    det = simulate(baseline).summary
    b = row(res, "base")
    assert b["mdf"]["inflows_usd"] == pytest.approx(det["totals"]["to_mdf_usd"], rel=1e-12)
    assert b["mdf"]["inflows_pv_usd"] == pytest.approx(det["totals"]["to_mdf_pv_usd"], rel=1e-12)
    assert b["mdf"]["first_inflow_date"] == det["totals"]["first_mdf_period"]
    assert b["min_dscr"] == pytest.approx(det["min_dscr"], rel=1e-12)
    for t, d in zip(b["tranches"], det["tranches"], strict=True):
        assert t["name"] == d["name"]
        assert t["legal_final_date"] == d["legal_final_date"]  # the baseline's legal final is its maturity
        assert t["interest_shortfall_end_usd"] == d["interest_shortfall_usd"]
        assert t["wal_years"] == pytest.approx(d["wal_years"], rel=1e-12)
        assert t["min_dscr"] == pytest.approx(d["min_dscr"], rel=1e-12)
    assert res.paths_table["benchmark_usd_per_bbl"].tolist() == base_path(setup).benchmark_usd_per_bbl.tolist()


def hedged(sc: Scenario) -> Scenario:
    put = Hedge(kind="put", share_of_expected_production=0.5, put_strike_usd_per_bbl=55.0, first_year=2027,
                last_year=2031)
    return sc.model_copy(update={"hedges": (put,)})


def stress_and_inputs(sc: Scenario, flat_usd_per_bbl: tuple[float, ...]) -> tuple[MonteCarloSetup, StressResult,
                                                                                    Any]:
    s = prepare(sc)
    paths = [episode_path(s, e, mode="scaled") for e in load_episodes().episodes]
    paths += [deck_path(s, flat_deck(s, p, f"flat{p:g}")) for p in flat_usd_per_bbl]
    res = run_stress(s, paths)
    return s, res, deterministic_setup_inputs(s, np.stack([p.benchmark_usd_per_bbl for p in res.paths]))


@pytest.mark.parametrize("hedge", [False, True])
def test_a_stress_path_is_the_monte_carlo_path_with_the_same_prices(baseline: Scenario, hedge: bool) -> None:
    """Bit for bit the fused kernel's metrics (the same compiled collections, waterfall and metrics), and the
    pure-Python oracle's up to rounding; the flat $30 deck under a put sits on a knife edge (B short of interest
    once class A is repaid to within 1e-5 US$), decided the same way by all three."""
    s, res, inputs = stress_and_inputs(hedged(baseline) if hedge else baseline, (10.0, 20.0, 30.0, 45.0))
    chunk = run_chunk(s, inputs, threads=1)
    np.testing.assert_array_equal(res.metrics_tranche, chunk.metrics_tranche)
    np.testing.assert_array_equal(res.metrics_path, chunk.metrics_path)
    ref = run_chunk_reference(s, inputs)
    np.testing.assert_allclose(res.metrics_tranche, ref.metrics_tranche, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(res.metrics_path, ref.metrics_path, rtol=1e-9, atol=1e-3)
    np.testing.assert_array_equal(res.metrics_path[:, 3], ref.metrics_path[:, 3])  # event-of-default periods
    for p in res.summary["paths"]:
        assert sum(res.paths_table.loc[res.paths_table["path"] == p["name"], "collections_usd"]) == pytest.approx(
            p["collections_usd"], rel=1e-12)
    if hedge:
        assert row(res, "collapse_2008")["hedge_net_usd"] > 0.0  # the put pays in the collapse
        assert row(res, "flat10")["hedge_net_usd"] > row(res, "collapse_2008")["hedge_net_usd"]


def test_summary_is_json_clean(setup: MonteCarloSetup) -> None:
    import json

    res = run_stress(setup, [deck_path(setup, flat_deck(setup, 10.0, "low"))])
    text = json.dumps(res.summary, allow_nan=False)
    assert json.loads(text) == res.summary
    doc = res.summary
    assert doc["run"]["after_episode"] == "the scenario's deck resumes"
    assert doc["episodes_source"]["source_url"].startswith("https://www.eia.gov/")
    assert doc["scenario"]["benchmark"] == "brent"
    assert not math.isnan(doc["run"]["spot_usd_per_bbl"])
    assert len(res.paths_table) == 2 * setup.grid.n


def test_at_year_lays_the_episode_in_the_repayment_years(setup: MonteCarloSetup) -> None:
    lib = load_episodes()
    ep = lib.get("collapse_2008")
    deck = scenario_deck_usd_per_bbl(setup)
    early = episode_path(setup, ep, mode="scaled")
    late = episode_path(setup, ep, mode="scaled", at_year=2036)
    k = setup.grid.period_of(dt.date(2036, 1, 1))
    np.testing.assert_array_equal(late.benchmark_usd_per_bbl[:k], deck[:k])
    q = ep.prices_usd_per_bbl(setup.scenario.price.benchmark)
    np.testing.assert_allclose(late.benchmark_usd_per_bbl[k : k + q.size], deck[k] * q / q[0], rtol=1e-12)
    np.testing.assert_array_equal(late.benchmark_usd_per_bbl[k + q.size :], deck[k + q.size :])
    assert late.replay_start_period == k
    # early in the horizon the pledged exports and the grace periods carry the debt; in 2036 the shock reaches the
    # repayment years: it lowers the collections and the DSCR below the base case's (since the lock-up's cash now
    # prepays the senior notes, the baseline's debt is low enough by then to be paid without a shortfall, and the
    # pledged export receivables, not the MDF, absorb the fall: PEMEX gets fewer of them back)
    short = [t for p in run_stress(setup, [early]).summary["paths"][1:] for t in p["tranches"]
             if t["first_shortfall_date"]]
    assert not short
    base_doc, late_doc = run_stress(setup, [late]).summary["paths"]
    assert late_doc["min_dscr"] < base_doc["min_dscr"]
    assert late_doc["collections_usd"] < base_doc["collections_usd"]
    with pytest.raises(StressError, match="--at-year"):
        episode_path(setup, ep, mode="scaled", at_year=1990)
