"""The study layer from Python: ``naef.monte_carlo``, ``naef.size``, ``naef.stress``, ``naef.sensitivity`` and
``naef.run`` return what the engine and the analysis compute directly, and the files the CLI writes."""

from __future__ import annotations

import json

import pytest

import naef
from naef.analysis.montecarlo import run_monte_carlo
from naef.analysis.sizing import size_search
from naef.engine.run_arguments import MonteCarloError
from naef.engine.simulate import simulate
from naef.scenario.load import scenario_identity
from naef.studies.monte_carlo import monte_carlo_units
from naef.studies.stress import stress_scenario

BASELINE = naef.load_scenario("baseline")


def test_monte_carlo_from_python_is_the_analysis_run() -> None:
    settings = naef.RunSettings(seed=3, paths=300, chunk_size=128)
    ticks: list[int] = []
    study = naef.monte_carlo(BASELINE, settings, progress=ticks.append)
    direct = run_monte_carlo(BASELINE, n_paths=300, seed=3, chunk_size=300)
    # the same paths whatever the chunk size: only the recorded chunk size differs
    assert {**study.summary, "run": {**study.summary["run"], "chunk_size": 300}} == direct.summary
    assert sum(ticks) == monte_carlo_units(BASELINE, settings)
    files = study.files()
    assert set(files) == {"summary.json", "percentiles.csv"}
    assert json.loads(files["summary.json"]) == json.loads(json.dumps(study.summary))
    assert study.summary["paths"] == 300
    assert study.summary["run"]["seed"] == 3
    tables = study.tables()
    assert set(tables) == {"percentiles", "cashflows", "p50_cashflows"}
    assert len(tables["p50_cashflows"]) == len(tables["cashflows"]) == len(tables["percentiles"])
    assert study.deterministic.summary == simulate(BASELINE).summary


def test_size_from_python_is_the_search() -> None:
    settings = naef.RunSettings(seed=2, paths=256)
    senior = BASELINE.tranches[0].name
    # the structure alone (no originator default, no cap): the search finds a size
    sc = BASELINE.with_changes({"originator.rating": "Aaa", "sovereign.country_ceiling": "Aaa",
                                "uncertainty.originator": False})
    study = naef.size(sc, settings, target_rating="Ba3", tranche=senior)
    direct = size_search(sc, target_rating="Ba3", tranche=senior, n_paths=256, seed=2)
    assert study.result.basis == direct.basis == "both"  # one default basis for the study and the search
    assert study.result == direct
    assert study.best is not None
    assert study.best.passes
    assert all(e.passes == (e.scale <= study.best.scale) for e in study.evaluations)
    written = json.loads(study.files()["size.json"])
    assert written.pop("scenario") == scenario_identity(sc)  # which scenario (and its changes) was sized
    assert written == direct.to_dict()
    assert list(study.tables()["evaluations"]["scale"]) == [e.scale for e in direct.evaluations]


def test_size_refuses_an_unknown_basis_and_rating() -> None:
    with pytest.raises(naef.NaefError, match="--basis"):
        naef.size(BASELINE, naef.RunSettings(paths=16), basis="spread")
    with pytest.raises(naef.NaefError, match="--target-rating"):
        naef.size(BASELINE, naef.RunSettings(paths=16), target_rating="AAA+")


def test_a_derived_scenario_runs_and_differs() -> None:
    richer = BASELINE.with_changes({"tranches[0].coupon_rate": BASELINE.tranches[0].coupon_rate + 0.02})
    a = naef.run(BASELINE).summary["tranches"][0]
    b = naef.run(richer).summary["tranches"][0]
    assert b["coupon_rate"] == pytest.approx(a["coupon_rate"] + 0.02)
    assert b["interest_paid_usd"] > a["interest_paid_usd"]


def test_run_files_are_the_simulation() -> None:
    result = naef.run(BASELINE)
    sim = simulate(BASELINE)
    files = result.files()
    assert json.loads(files["summary.json"]) == json.loads(json.dumps(sim.summary))
    assert files["cashflows.csv"] == sim.table.to_csv(index=False, float_format="%.6f")
    oracle = naef.run(BASELINE, naef.RunSettings(engine="reference"))
    assert oracle.settings.engine == "reference"
    assert oracle.summary["totals"]["to_mdf_usd"] == pytest.approx(sim.summary["totals"]["to_mdf_usd"], rel=1e-9)


def test_stress_from_python_is_the_replay() -> None:
    study = naef.stress(BASELINE, episodes=["crash_2020"])
    assert study.summary == stress_scenario(BASELINE, episodes=["crash_2020"]).summary
    assert [p["name"] for p in study.summary["paths"]] == ["base", "crash_2020"]
    assert set(study.files()) == {"stress.json", "stress_paths.csv"}
    with pytest.raises(naef.NaefError, match="mode"):
        naef.stress(BASELINE, mode="sideways")  # type: ignore[arg-type]


def test_sensitivity_from_python() -> None:
    study = naef.sensitivity(BASELINE, naef.RunSettings(paths=64, seed=1), method="tornado",
                             inputs=["price_level", "capex_multiplier"])
    assert study.summary["run"]["evaluations"] == 5
    assert [f["name"] for f in study.summary["factors"]] == ["price_level", "capex_multiplier"]
    assert set(study.files()) == {"sensitivity.json", "sensitivity.csv"}
    sobol = naef.sensitivity(BASELINE, naef.RunSettings(paths=32, seed=1), method="sobol",
                             inputs=["price_level", "capex_multiplier"], samples=4)
    assert sobol.summary["run"]["samples"] == 4
    assert sobol.summary["run"]["evaluations"] == 4 * (2 + 2)
    with pytest.raises(naef.NaefError, match="--inputs: unknown input 'nope'"):
        naef.sensitivity(BASELINE, naef.RunSettings(paths=64), inputs=["nope"])
    with pytest.raises(naef.NaefError, match="--samples"):
        naef.sensitivity(BASELINE, naef.RunSettings(paths=64), method="tornado", samples=8)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"paths": 0}, "--paths: must be at least 1 (got 0)"),
    ({"paths": 100_000_001}, "--paths: at most 100,000,000"),
    ({"seed": -1}, "--seed: must be between 0 and 2^63 - 1"),
    ({"seed": 2**63}, "--seed: must be between 0 and 2^63 - 1"),
    ({"chunk_size": 0}, "--chunk-size: must be at least 1"),
    ({"threads": 0}, "--threads: must be at least 1"),
    ({"workers": 0}, "--workers: must be at least 1"),
    ({"workers": 2, "scheduler": "tcp://x:1"}, "--workers: give --workers"),
    ({"engine": "gpu"}, "--engine: unknown engine 'gpu'"),
    ({"paths": 1.5}, "--paths: must be a whole number"),
    ({"seed": True}, "--seed: must be a whole number"),
])
def test_run_settings_are_validated_once_on_construction(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(MonteCarloError) as err:
        naef.RunSettings(**kwargs)  # type: ignore[arg-type]
    assert message in str(err.value)


def test_run_settings_changes_are_validated_again() -> None:
    s = naef.RunSettings(paths=10)
    assert s.with_changes(seed=5).seed == 5
    assert s.seed == 1
    with pytest.raises(MonteCarloError, match="--paths"):
        s.with_changes(paths=-3)
    assert not s.distributed
    assert naef.RunSettings(workers=1).distributed


def test_the_flows_of_a_study_are_the_one_builders() -> None:
    """The study's flows are ``naef.analysis.flows.swap_flows`` of its deterministic table: what report.html and
    the portal draw."""
    from naef.analysis.flows import balance_usd, swap_flows

    study = naef.run(BASELINE)
    flows = study.flows()
    assert flows == swap_flows(simulate(BASELINE).table)
    assert all(abs(v) <= 1.0 for v in balance_usd(flows).values())
    mc = naef.monte_carlo(BASELINE, naef.RunSettings(paths=32, seed=1))
    assert mc.flows() == flows
