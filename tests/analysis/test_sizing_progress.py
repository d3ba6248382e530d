"""The sizing search knows its bound (issue 17, item 6: ``naef size``'s bar showed "2/40" and finished at 12): after
every evaluation the total it reports is the simulations made plus the most it can still make, the total never
grows, never falls below what is then made, and ends at exactly what was made."""

from __future__ import annotations

import itertools
import math

import pytest

from naef.analysis.sizing import SizeEvaluation, _bracket_and_bisect, max_evaluations, size_search
from naef.scenario.load import load_scenario
from naef.studies.size import SIZE_UNITS


def _fake(threshold: float, made: list[float]) -> object:
    def evaluate(scale: float) -> SizeEvaluation:
        made.append(scale)
        return SizeEvaluation(scale, scale * 1e9, 0.0, 0.0, 0.0, 0.0, "Aaa", scale <= threshold)

    return evaluate


@pytest.mark.parametrize("threshold", [0.0001, 0.0007, 0.013, 0.3, 0.999, 1.0, 1.37, 5.5, 63.9, 64.0, 1000.0])
def test_the_bound_holds_and_tightens(threshold: float) -> None:
    made: list[float] = []
    told: list[tuple[int, int]] = []  # (evaluations made, most still to make)
    kw = {"rel_tol": 0.002, "max_scale": 64.0, "min_scale": 1 / 1024}
    _bracket_and_bisect(_fake(threshold, made), bound=lambda n: told.append((len(made), n)),  # type: ignore[arg-type]
                        **kw)
    assert told, "the search reported no bound"
    assert len(made) <= max_evaluations(**kw) == 20
    for done, remaining in told:
        assert done + remaining >= len(made), "a bound below the evaluations actually made"
    totals = [d + r for d, r in told]
    assert all(b <= a for a, b in itertools.pairwise(totals)), totals
    assert totals[-1] == len(made)


def test_the_bisection_bound_is_the_hand_count() -> None:
    # a doubling bracket [1, 2] to a relative width of 0.002: 1/2^k <= 0.002 first at k = 9 (2^9 = 512)
    assert max_evaluations(rel_tol=0.002, max_scale=64.0, min_scale=1 / 1024) == 1 + 10 + 9
    assert math.ceil(math.log2(1 / 0.002)) == 9
    assert 2 * max_evaluations(rel_tol=0.002, max_scale=64.0, min_scale=1 / 1024) == SIZE_UNITS


def test_size_search_ends_its_total_at_the_simulations_made() -> None:
    done: list[int] = []
    totals: list[int] = []
    uncapped = load_scenario("baseline").with_changes({"originator.rating": "Aaa", "sovereign.country_ceiling": "Aaa",
                                                       "uncertainty.originator": False})
    size_search(uncapped, target_rating="A2", basis="both", n_paths=200, seed=2, rel_tol=0.05,
                progress=done.append, progress_total=totals.append)
    assert totals[-1] == sum(done)
    assert all(b <= a for a, b in itertools.pairwise(totals)), totals
    assert totals[0] <= 2 * max_evaluations(rel_tol=0.05, max_scale=64.0, min_scale=1 / 1024)


def test_a_search_the_rating_cap_stops_still_ends_its_total_at_the_simulations_made() -> None:
    # the baseline's PEMEX (B1) caps every rating at Ba2: the answer is the cap, and the search beside it runs on the
    # structural ratings; the bar still ends at exactly the simulations made
    done: list[int] = []
    totals: list[int] = []
    result = size_search(load_scenario("baseline"), target_rating="A2", basis="both", n_paths=200, seed=2,
                         rel_tol=0.05, progress=done.append, progress_total=totals.append)
    assert result.binding == "cap"
    assert result.best is None
    assert result.structural is not None
    assert totals[-1] == sum(done) > 0
