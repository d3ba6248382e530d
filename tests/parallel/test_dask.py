"""Distribution on a real local Dask cluster (worker processes): bit-identical results in process, on one worker and
on two; a worker killed mid-run changes nothing; the command line's --workers/--scheduler and their errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from naef.analysis.montecarlo import run_monte_carlo, simulate_paths
from naef.engine.montecarlo import prepare
from naef.parallel import DaskRunner, InProcessRunner, ParallelError, dask_runner, local_cluster
from naef.parallel.runner import WORKER_MALLOC_ENV
from naef.scenario.load import load_scenario

distributed = pytest.importorskip("distributed")

BASELINE = load_scenario("baseline")
NAEF = Path(sys.executable).parent / "naef"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = local_cluster(2)
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a[:3], b[:3], strict=True))


def test_two_workers_give_the_in_process_result_bit_for_bit(client: Any) -> None:
    setup = prepare(BASELINE)
    local = simulate_paths(setup, n_paths=3000, seed=12, chunk_size=500)
    remote = simulate_paths(setup, n_paths=3000, seed=12, chunk_size=500, runner=DaskRunner(client))
    assert _same(local, remote)
    # and the summary built from them, hedge comparison included
    a = run_monte_carlo(BASELINE, n_paths=1000, seed=4, chunk_size=300).summary
    b = run_monte_carlo(BASELINE, n_paths=1000, seed=4, chunk_size=300, runner=DaskRunner(client)).summary
    assert a == b


def test_one_worker_gives_the_same_result() -> None:
    setup = prepare(BASELINE)
    local = simulate_paths(setup, n_paths=1200, seed=3, chunk_size=400)
    with dask_runner(workers=1) as runner:
        assert isinstance(runner, DaskRunner)
        remote = simulate_paths(setup, n_paths=1200, seed=3, chunk_size=400, runner=runner)
    assert _same(local, remote)


def test_local_workers_keep_the_allocators_dynamic_thresholds(client: Any) -> None:
    """Not Dask's MALLOC_TRIM_THRESHOLD_=65536 (every array >= 128 kB mmap-ed afresh, page faults per chunk) but the
    thresholds glibc reaches in a plain process, in every worker."""
    import os

    envs = client.run(lambda: {k: os.environ.get(k) for k in WORKER_MALLOC_ENV})
    assert len(envs) == 2
    assert all(env == WORKER_MALLOC_ENV for env in envs.values())


def test_a_worker_killed_mid_run_changes_nothing(client: Any) -> None:
    setup = prepare(BASELINE)
    expected = simulate_paths(setup, n_paths=8000, seed=21, chunk_size=250)
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    done = {"chunks": 0, "killed": False}

    def progress(n: int) -> None:
        done["chunks"] += 1
        if done["chunks"] == 3 and not done["killed"]:
            os.kill(victim, signal.SIGKILL)
            done["killed"] = True

    got = simulate_paths(setup, n_paths=8000, seed=21, chunk_size=250, runner=DaskRunner(client),
                         progress=progress)
    assert done["killed"]
    assert _same(expected, got)
    client.wait_for_workers(2, timeout=300)  # the nanny restarts the killed worker for the other tests


def test_map_scenarios_keeps_order(client: Any) -> None:
    from naef.analysis.factor_analysis import model_outputs_of_json
    from naef.analysis.sizing import scale_sizes

    variants = [scale_sizes(BASELINE, scale=s, tranche=None) for s in (0.4, 0.8, 1.2)]
    local = InProcessRunner().map_scenarios(model_outputs_of_json, variants, 300, 2, progress=None)
    remote = DaskRunner(client).map_scenarios(model_outputs_of_json, variants, 300, 2, progress=None)
    assert local == remote
    els = [r["senior_el"] for r in remote]
    assert els == sorted(els)


def test_missing_dask_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ParallelError, match=r"pip install 'naef\[dask\]'"), dask_runner(workers=2):
        pass


def test_bad_worker_counts_and_both_options() -> None:
    with pytest.raises(ParallelError, match="--workers"), dask_runner(workers=0):
        pass
    with pytest.raises(ParallelError, match="not both"), dask_runner(workers=1, scheduler="tcp://127.0.0.1:1"):
        pass


def run_naef(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NAEF), *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
        env={"PATH": str(NAEF.parent), "HOME": str(cwd), "LANG": "C.UTF-8"},
    )


def test_run_with_workers_writes_the_same_files(tmp_path: Path) -> None:
    a = run_naef("run", "--paths", "2000", "--chunk-size", "500", "--out", "a", "--quiet", cwd=tmp_path)
    b = run_naef("run", "--paths", "2000", "--chunk-size", "500", "--workers", "2", "--out", "b", "--quiet",
                 cwd=tmp_path)
    assert a.returncode == 0, a.stderr
    assert b.returncode == 0, b.stderr
    assert (tmp_path / "a" / "percentiles.csv").read_bytes() == (tmp_path / "b" / "percentiles.csv").read_bytes()
    assert json.loads((tmp_path / "a" / "summary.json").read_text()) == json.loads(
        (tmp_path / "b" / "summary.json").read_text())


def test_run_on_an_existing_scheduler(client: Any, tmp_path: Path) -> None:
    address = client.scheduler.address
    a = run_naef("size", "--target-rating", "A3", "--paths", "300", "--json", cwd=tmp_path)
    b = run_naef("size", "--target-rating", "A3", "--paths", "300", "--json", "--scheduler", address, cwd=tmp_path)
    assert a.returncode == 0, a.stderr
    assert b.returncode == 0, b.stderr
    assert json.loads(a.stdout) == json.loads(b.stdout)


@pytest.mark.parametrize(("args", "needle"), [
    (["run", "--paths", "100", "--workers", "0"], "--workers"),
    (["run", "--workers", "2"], "--workers"),
    (["run", "--paths", "100", "--scheduler", "tcp://127.0.0.1:9"], "--scheduler"),
])
def test_bad_distribution_options_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = run_naef(*args, "--out", "o", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert not (tmp_path / "o").exists()


def test_streamed_run_on_two_workers_equals_the_in_process_stream(client: Any) -> None:
    """Per-chunk summaries merged on the workers: counts and sketches identical to the in-process stream (integer
    additions), means equal to rounding; the summary equals the kept run's within the sketch's bound."""
    from naef.analysis.montecarlo import stream_paths

    setup = prepare(BASELINE)
    local, l_hist, _ = stream_paths(setup, n_paths=2600, seed=9, chunk_size=300)
    remote, r_hist, _ = stream_paths(setup, n_paths=2600, seed=9, chunk_size=300, runner=DaskRunner(client))
    assert np.array_equal(l_hist, r_hist)
    assert remote.n_paths == local.n_paths == 2600
    assert np.array_equal(remote.defaults, local.defaults)
    assert np.array_equal(remote.default_periods, local.default_periods)
    assert remote.eod == local.eod
    assert remote.nothing_to_mdf == local.nothing_to_mdf
    for a, b in zip(remote.path_sketches, local.path_sketches, strict=True):
        assert np.array_equal(a.counts, b.counts)
    np.testing.assert_allclose(remote.path_sums, local.path_sums, rtol=1e-12)
    np.testing.assert_allclose(remote.loss_mean, local.loss_mean, rtol=1e-12, atol=1e-15)
    assert np.array_equal(remote.head_mdf_pv, local.head_mdf_pv)
