"""Hypothesis strategies and a brute-force oracle for the MDF tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from naef.mdf.appraisal import ProjectAppraisal, appraise_pipeline
from naef.mdf.pipeline import SECTORS, Project
from naef.mdf.selection import Constraints, SectorFloor, allowed_starts

STATES_USED = ("MX-MIC", "MX-GUA", "MX-NLE", "MX-YUC")
MIGRANT = frozenset({"MX-MIC", "MX-GUA"})


@st.composite
def small_problem(draw: st.DrawFn, *, max_projects: int = 14) -> dict[str, Any]:
    """Random projects, a short consecutive budget and random policy constraints. With more than 7 projects each
    project has one allowed start (so brute force stays at 2^n portfolios); with fewer, up to three."""
    n = draw(st.integers(1, max_projects))
    n_years = draw(st.integers(2, 5))
    first = 2030
    years = list(range(first, first + n_years))
    projects = []
    for i in range(n):
        d = draw(st.integers(1, min(3, n_years)))
        start_min = years[-1] - d + 1 if n > 7 else draw(st.integers(first - 1, years[-1] - d + 1))
        cost = draw(st.integers(1, 40)) * 1e6
        benefit = draw(st.integers(0, 12)) * 1e6
        sector = draw(st.sampled_from(SECTORS))
        projects.append(Project(
            id=f"p{i}", name=f"project {i}", sector=sector, state=draw(st.sampled_from(STATES_USED)),
            cost_usd=cost, start_year_min=start_min, duration_years=d, annual_benefit_usd=benefit,
            benefit_years=draw(st.integers(1, 20)), jobs=10.0, reference_class=sector,
        ))
    ids = [p.id for p in projects]
    # requires only point to earlier projects (no cycles); excludes anywhere
    final = []
    for i, p in enumerate(projects):
        req = tuple(sorted(set(draw(st.lists(st.sampled_from(ids[:i]), max_size=1))) if i else ()))
        others = [x for x in ids if x != p.id and x not in req]
        exc = tuple(sorted(set(draw(st.lists(st.sampled_from(others), max_size=1))))) if others else ()
        if draw(st.integers(0, 3)) != 0:
            req, exc = (), ()
        final.append(Project(**{**p.__dict__, "requires": req, "excludes": exc}))
    budget = [draw(st.integers(0, 60)) * 1e6 for _ in years]
    floors = []
    for sector in draw(st.lists(st.sampled_from(SECTORS), max_size=2, unique=True)):
        if draw(st.booleans()):
            floors.append(SectorFloor(sector, share=draw(st.sampled_from([0.1, 0.25, 0.5]))))
        else:
            floors.append(SectorFloor(sector, amount_usd=draw(st.integers(1, 30)) * 1e6))
    migrant = draw(st.sampled_from([0.0, 0.0, 0.3, 0.6]))
    return {"projects": final, "years": years, "budget": np.array(budget),
            "constraints": Constraints(sector_floors=tuple(floors), migrant_share_min=migrant,
                                       migrant_states=MIGRANT)}


def appraisals_of(projects: Sequence[Project]) -> dict[str, ProjectAppraisal]:
    return appraise_pipeline(projects, n_draws=8)


def violations(projects: Sequence[Project], appraisals: dict[str, ProjectAppraisal], starts: dict[str, int],
               years: list[int], budget: np.ndarray[Any, Any], constraints: Constraints) -> list[str]:
    """Every constraint a portfolio breaks (an independent check of the MILP's rows)."""
    by_id = {p.id: p for p in projects}
    out = []
    spend = np.zeros(len(years))
    total, migrant = 0.0, 0.0
    by_sector: dict[str, float] = {}
    for pid, s in starts.items():
        p = by_id[pid]
        if s not in allowed_starts(p, years):
            out.append(f"{pid} starts in {s}, not allowed")
            continue
        e = appraisals[pid].expected_cost_usd
        for t in range(p.duration_years):
            spend[years.index(s + t)] += e / p.duration_years
        total += e
        by_sector[p.sector] = by_sector.get(p.sector, 0.0) + e
        if p.state in constraints.migrant_states:
            migrant += e
        for q in p.requires:  # q finished (its last year of spending) before p starts
            if q not in starts or starts[q] + by_id[q].duration_years > s:
                out.append(f"{pid} requires {q}")
        for q in p.excludes:
            if q in starts:
                out.append(f"{pid} excludes {q}")
    cum_s, cum_b = np.cumsum(spend), np.cumsum(budget)
    for j, y in enumerate(years):
        if cum_s[j] > cum_b[j] * (1 + 1e-6) + 1.0:
            out.append(f"budget by {y}")
    for f in constraints.sector_floors:
        have = by_sector.get(f.sector, 0.0)
        need = f.amount_usd if f.amount_usd is not None else (f.share or 0.0) * total
        if have < need * (1 - 1e-6) - 1.0:
            out.append(f"floor {f.sector}")
    if migrant < constraints.migrant_share_min * total * (1 - 1e-6) - 1.0:
        out.append("migrant share")
    return out


def brute_force(projects: Sequence[Project], appraisals: dict[str, ProjectAppraisal], years: list[int],
                budget: np.ndarray[Any, Any], constraints: Constraints) -> float | None:
    """The best objective over every portfolio (None when none is feasible)."""
    options = [[None, *allowed_starts(p, years)] for p in projects]
    best: float | None = None
    for combo in itertools.product(*options):
        starts = {p.id: s for p, s in zip(projects, combo, strict=True) if s is not None}
        if violations(projects, appraisals, starts, years, budget, constraints):
            continue
        value = sum(appraisals[pid].enpv_usd(start_year=s, base_year=years[0]) for pid, s in starts.items())
        if best is None or value > best:
            best = value
    return best
