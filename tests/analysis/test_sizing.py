"""``size_search`` on both bases: each basis's search is the one run alone, and the smaller size binds."""

from __future__ import annotations

import pytest

from naef.analysis.sizing import SizingError, size_search
from naef.scenario.load import load_scenario

BASELINE = load_scenario("baseline")
#: the baseline without the originator's default and without the rating cap (an Aaa originator under an Aaa
#: ceiling): the structure alone, so that these tests of the search see sizes that pass
UNCAPPED = BASELINE.with_changes({"originator.rating": "Aaa", "sovereign.country_ceiling": "Aaa",
                                  "uncertainty.originator": False})


def test_both_bases_report_each_search_and_the_binding_one() -> None:
    kw = {"target_rating": "A2", "n_paths": 300, "seed": 2, "rel_tol": 0.02}
    both = size_search(UNCAPPED, basis="both", **kw)  # type: ignore[arg-type]
    el = size_search(UNCAPPED, basis="el", **kw)  # type: ignore[arg-type]
    pd = size_search(UNCAPPED, basis="pd", **kw)  # type: ignore[arg-type]
    assert both.el is not None
    assert both.pd is not None
    assert both.el.best == el.best
    assert both.el.evaluations == el.evaluations
    assert both.pd.best == pd.best
    assert both.pd.evaluations == pd.evaluations
    sizes = {"el": el.best.size_usd if el.best else -1.0, "pd": pd.best.size_usd if pd.best else -1.0}
    assert both.binding == min(sizes, key=lambda k: (sizes[k], k))
    assert both.best == (el.best if both.binding == "el" else pd.best)
    d = both.to_dict()
    assert d["basis"] == "both"
    assert d["binding"] == both.binding
    assert d["el"]["size_usd"] == (el.best.size_usd if el.best else None)
    assert d["pd"]["size_usd"] == (pd.best.size_usd if pd.best else None)
    # each search passes below and fails above its answer
    for part in (both.el, both.pd):
        if part.best is not None:
            assert all(e.passes for e in part.evaluations if e.scale <= part.best.scale)


def test_an_unknown_basis_is_named() -> None:
    with pytest.raises(SizingError, match="--basis"):
        size_search(BASELINE, target_rating="A2", basis="xx", n_paths=10)  # type: ignore[arg-type]
