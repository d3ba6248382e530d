"""Tests of naef.analysis.sensitivity: Sobol' indices on the Ishigami function, tornado on a linear model."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from naef.analysis.sensitivity import SensitivityError, TornadoRow, sobol_analyze, sobol_sample, tornado
from naef.errors import NaefError

A, B = 7.0, 0.1
ISHIGAMI: dict[str, Any] = {"names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}


def ishigami(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Ishigami & Homma (1990): sin x1 + a sin^2 x2 + b x3^4 sin x1, inputs uniform on [-pi, pi]."""
    out: npt.NDArray[np.float64] = (
        np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])
    )
    return out


def ishigami_analytic() -> tuple[list[float], list[float]]:
    """Closed-form first- and total-order indices (Sobol' & Levitan 1999; Saltelli et al. 2008, Primer)."""
    v1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * math.pi**8 * 8 / 225
    v = v1 + v2 + v13
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def test_analytic_values_are_the_textbook_ones() -> None:
    s1, st = ishigami_analytic()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=5e-5)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=5e-5)


# Tolerance for the estimates at n = 2**13 (40,960 model runs), seed 12345: 0.02 absolute on every index,
# about the size of SALib's 95 % bootstrap half-widths at this n.
SOBOL_TOL = 0.02


def test_sobol_on_ishigami_matches_analytic_indices() -> None:
    x = sobol_sample(ISHIGAMI, 2**13, 12345)
    assert x.shape == (2**13 * 5, 3)
    res = sobol_analyze(ISHIGAMI, ishigami(x), seed=7)
    s1, st = ishigami_analytic()
    assert res["names"] == ["x1", "x2", "x3"]
    np.testing.assert_allclose(res["S1"], s1, atol=SOBOL_TOL)
    np.testing.assert_allclose(res["ST"], st, atol=SOBOL_TOL)
    for key in ("S1_conf", "ST_conf"):
        assert res[key].shape == (3,)
        assert np.all((res[key] > 0) & (res[key] < 0.05))
    # x3 acts only through its interaction with x1
    assert res["ST"][2] - res["S1"][2] > 0.2


def test_second_order_design_has_its_shape_and_same_first_order_result() -> None:
    x = sobol_sample(ISHIGAMI, 2**12, 3, calc_second_order=True)
    assert x.shape == (2**12 * 8, 3)
    res = sobol_analyze(ISHIGAMI, ishigami(x), calc_second_order=True)
    s1, st = ishigami_analytic()
    np.testing.assert_allclose(res["S1"], s1, atol=0.03)
    np.testing.assert_allclose(res["ST"], st, atol=0.03)


def test_sample_is_reproducible_and_seed_dependent() -> None:
    a = sobol_sample(ISHIGAMI, 64, 1)
    np.testing.assert_array_equal(a, sobol_sample(ISHIGAMI, 64, 1))
    assert not np.array_equal(a, sobol_sample(ISHIGAMI, 64, 2))
    assert np.all((a >= -math.pi) & (a <= math.pi))


def test_distributions_are_passed_to_salib() -> None:
    problem = {
        "names": ["price_usd_per_bbl", "decline", "overrun"],
        "bounds": [[70.0, 15.0], [0.05, 0.20], [0.0, 0.25, 0.6, 0.3]],
        "dists": ["norm", "unif", "truncnorm"],
    }
    x = sobol_sample(problem, 2**12, 5)
    assert x[:, 0].mean() == pytest.approx(70.0, abs=0.3)
    assert x[:, 0].std() == pytest.approx(15.0, rel=0.02)
    assert x[:, 1].min() >= 0.05
    assert x[:, 1].max() <= 0.20
    assert x[:, 2].min() >= 0.0
    assert x[:, 2].max() <= 0.6


@pytest.mark.parametrize(
    ("problem", "match"),
    [
        ({"names": [], "bounds": []}, "problem.names"),
        ({"names": ["a", "a"], "bounds": [[0, 1], [0, 1]]}, "duplicated"),
        ({"names": ["a", "b"], "bounds": [[0, 1]]}, "problem.bounds"),
        ({"names": ["a"], "bounds": [[1, 0]]}, r"problem.bounds\[a\]: low must be < high"),
        ({"names": ["a"], "bounds": [[0, 1, 2]]}, r"problem.bounds\[a\]: unif takes 2"),
        ({"names": ["a"], "bounds": [["x", 1]]}, r"problem.bounds\[a\]"),
        ({"names": ["a"], "bounds": [[0, 1]], "dists": ["gamma"]}, r"problem.dists\[a\].*'gamma'.*unif"),
        ({"names": ["a"], "bounds": [[0, 1]], "dists": ["unif", "norm"]}, "problem.dists"),
        ({"names": ["a"], "bounds": [[0.0, -1.0]], "dists": ["norm"]}, "problem"),
    ],
)
def test_bad_problems(problem: dict[str, Any], match: str) -> None:
    with pytest.raises(SensitivityError, match=match) as info:
        sobol_sample(problem, 8, 0)
    assert isinstance(info.value, NaefError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("n", [0, 1, 3, 100, 2.0])
def test_sample_size_must_be_a_power_of_two(n: Any) -> None:
    with pytest.raises(SensitivityError, match="power of 2"):
        sobol_sample(ISHIGAMI, n, 0)


def test_bad_outputs() -> None:
    with pytest.raises(SensitivityError, match="multiple of 5"):
        sobol_analyze(ISHIGAMI, np.ones(41))
    with pytest.raises(SensitivityError, match="1-D"):
        sobol_analyze(ISHIGAMI, np.ones((40, 1)))
    with pytest.raises(SensitivityError, match="finite"):
        sobol_analyze(ISHIGAMI, np.full(40, np.nan))
    with pytest.raises(SensitivityError, match="conf_level"):
        sobol_analyze(ISHIGAMI, np.arange(40.0), conf_level=1.5)


# --- tornado ---------------------------------------------------------------------------------------------


def linear(x: dict[str, float]) -> float:
    return 3.0 * x["a"] - 2.0 * x["b"] + 0.5 * x["c"] + 10.0


def test_tornado_on_linear_function_swings_exactly() -> None:
    base = {"a": 1.0, "b": 2.0, "c": 0.5}
    rows = tornado(linear, base, {"c": (0.0, 1.0), "a": (0.0, 2.0), "b": (-1.0, 4.0)})
    assert [r.name for r in rows] == ["b", "a", "c"]
    b, a, c = rows
    assert b == TornadoRow("b", -1.0, 4.0, 3.0 + 2.0 + 0.25 + 10.0, 3.0 - 8.0 + 0.25 + 10.0, 10.0)
    assert a == TornadoRow("a", 0.0, 2.0, 0.0 - 4.0 + 0.25 + 10.0, 6.0 - 4.0 + 0.25 + 10.0, 6.0)
    assert c.swing == 0.5
    assert c.output_high - c.output_low == pytest.approx(0.5)
    assert base == {"a": 1.0, "b": 2.0, "c": 0.5}  # the base case is not modified


def test_tornado_ties_keep_input_order_and_func_sees_one_change() -> None:
    seen: list[dict[str, float]] = []

    def f(x: dict[str, float]) -> float:
        seen.append(dict(x))
        return x["p"] + x["q"]

    rows = tornado(f, {"p": 0.0, "q": 0.0}, {"q": (-1.0, 1.0), "p": (1.0, -1.0)})
    assert [r.name for r in rows] == ["q", "p"]
    assert rows[1].output_low == 1.0
    assert rows[1].output_high == -1.0
    assert seen == [{"p": 0.0, "q": -1.0}, {"p": 0.0, "q": 1.0}, {"p": 1.0, "q": 0.0}, {"p": -1.0, "q": 0.0}]


def test_tornado_bad_inputs() -> None:
    with pytest.raises(SensitivityError, match=r"\['z'\]"):
        tornado(linear, {"a": 1.0, "b": 1.0, "c": 1.0}, {"z": (0.0, 1.0)})
    with pytest.raises(SensitivityError, match="at least one"):
        tornado(linear, {"a": 1.0, "b": 1.0, "c": 1.0}, {})
    with pytest.raises(SensitivityError, match="non-finite"):
        tornado(lambda x: math.inf, {"a": 1.0}, {"a": (0.0, 1.0)})
    with pytest.raises(SensitivityError, match=r"swings\[a\]"):
        tornado(linear, {"a": 1.0, "b": 1.0, "c": 1.0}, {"a": (0.0,)})  # type: ignore[dict-item]
