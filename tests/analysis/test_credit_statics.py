"""Comparative statics of the credit figures on common random numbers (the same seed, so the same prices and
field draws on every path): what must never happen when one input moves."""

from __future__ import annotations

import numpy as np

from naef.analysis.mc_summary import tranche_risk
from naef.analysis.montecarlo import simulate_paths
from naef.engine.metrics import T_AFTER_LF, T_DEFAULT, T_DEFAULT_AT, T_LOSS, T_MIN_DSCR, T_UNPAID_LF, T_WAL
from naef.engine.montecarlo import prepare
from naef.scenario.load import load_scenario
from naef.scenario.models import Scenario

BASELINE = load_scenario("baseline")


def _with(base: Scenario, **sections: dict[str, object]) -> Scenario:
    data = base.model_dump()
    for key, update in sections.items():
        data[key] = {**data[key], **update}
    return Scenario.model_validate(data)


def test_a_longer_horizon_changes_no_tranche_figure_up_to_the_legal_final() -> None:
    """Every legal final of the baseline ends by 2044 (years = 30 runs to 2057): adding six years changes the
    MDF's figures but not one tranche's default, loss, WAL, unpaid amount or rating, path by path."""
    longer = _with(BASELINE, scenario={"years": 36})
    out = []
    for sc in (BASELINE, longer):
        setup = prepare(sc)
        mt, mp, _, _ = simulate_paths(setup, n_paths=3000, seed=7)
        out.append((setup, mt, mp))
    (s30, a, mp30), (s36, b, mp36) = out
    for col in (T_DEFAULT, T_DEFAULT_AT, T_LOSS, T_WAL, T_MIN_DSCR, T_UNPAID_LF):
        np.testing.assert_array_equal(a[:, :, col], b[:, :, col], err_msg=str(col))
    assert (b[:, :, T_AFTER_LF] >= a[:, :, T_AFTER_LF]).all()  # more time to recover after the legal final
    for x, y in zip(tranche_risk(s30, a), tranche_risk(s36, b), strict=True):
        for key in ("pd", "expected_loss", "wal_years", "implied_rating", "implied_rating_pd"):
            assert x[key] == y[key], key
    assert (mp36[:, 0] >= mp30[:, 0]).all()  # the MDF keeps receiving after year 30


N_PATHS = 20_000


def _risk(sc: Scenario, seed: int = 3) -> tuple[list[dict[str, object]], np.ndarray]:
    setup = prepare(sc)
    mt, mp, _, _ = simulate_paths(setup, n_paths=N_PATHS, seed=seed)
    return tranche_risk(setup, mt), mp


def _no_worse(before: list[dict[str, object]], after: list[dict[str, object]]) -> None:
    """``after`` has no tranche with a lower PD or EL than ``before``, beyond two standard errors."""
    for a, b in zip(before, after, strict=True):
        pd_se = float(np.hypot(a["pd_se"], b["pd_se"]))  # type: ignore[arg-type]
        el_se = float(np.hypot(a["expected_loss_se"], b["expected_loss_se"]))  # type: ignore[arg-type]
        assert b["pd"] >= a["pd"] - 2 * pd_se, (a["name"], a["pd"], b["pd"])  # type: ignore[operator]
        assert b["expected_loss"] >= a["expected_loss"] - 2 * el_se, (a["name"], a["expected_loss"],  # type: ignore[operator]
                                                                      b["expected_loss"])


def test_a_later_first_production_never_lowers_any_pd_or_el() -> None:
    """Every field's first production two years later, capex unchanged: no tranche's PD or EL falls."""
    data = BASELINE.model_dump()
    data["fields"] = [{**f, "first_production_year": f["first_production_year"] + 2} for f in data["fields"]]
    base, _ = _risk(BASELINE)
    late, _ = _risk(Scenario.model_validate(data))
    _no_worse(base, late)


def test_scaling_every_tranche_up_never_raises_the_mdf_inflows() -> None:
    """Every tranche 1.2 times larger: the MDF receives no more on average (unused proceeds redeem notes, never
    reach the MDF), within two standard errors of the mean difference on common random numbers."""
    from naef.analysis.sizing import scale_sizes

    _, mp = _risk(BASELINE)
    _, mp_big = _risk(scale_sizes(BASELINE, scale=1.2, tranche=None))
    diff = mp_big[:, 0] - mp[:, 0]
    se = float(diff.std(ddof=1) / np.sqrt(diff.size))
    assert diff.mean() <= 2 * se, (diff.mean(), se)


def test_higher_volatility_never_lowers_any_pd() -> None:
    data = BASELINE.model_dump()
    data["price"]["stochastic"]["sigma"] = BASELINE.price.stochastic.sigma + 0.1  # type: ignore[union-attr]
    base, _ = _risk(BASELINE)
    wild, _ = _risk(Scenario.model_validate(data))
    for a, b in zip(base, wild, strict=True):
        se = float(np.hypot(a["pd_se"], b["pd_se"]))  # type: ignore[arg-type]
        assert b["pd"] >= a["pd"] - 2 * se, (a["name"], a["pd"], b["pd"])  # type: ignore[operator]


def test_a_better_originator_rating_never_worsens_a_rating() -> None:
    """PEMEX at Baa1 instead of B1 (the same uniforms give a later default or none, and a higher cap): no
    tranche's PD or EL rises beyond two standard errors, and no structural or implied rating falls."""
    from naef.analysis.ratings import rating_at_least

    base, _ = _risk(BASELINE)
    better, _ = _risk(_with(BASELINE, originator={"rating": "Baa1"}))
    _no_worse(better, base)
    for a, b in zip(base, better, strict=True):
        for key in ("structural_rating", "implied_rating", "implied_rating_pd"):
            assert rating_at_least(b[key], a[key]), (a["name"], key, a[key], b[key])
