"""Outcomes of a chosen portfolio along the Monte Carlo paths of the MDF's inflows.

Year by year on every path (arrays over paths; the loops are over years and projects only):

    cash_y       = balance_{y-1} + inflow_y
    for each project due (planned start <= y, not yet paid for), in priority order (planned start, then ENPV
    per dollar): pay_p = min(C̃_p / d_p, remaining_p, cash left)          (C̃_p = m_p · cost_usd, m_p drawn)
    balance_y    = cash_y - sum_p pay_p                                   (>= 0: never more than received)

A project paid less than its planned annual amount is delayed (it keeps drawing until paid for); one not paid for
by the last year is unfinished. The cost multipliers m_p are drawn per path from the project's reference class
(the same log-normal as the appraisal, seeded), independently of the inflow paths.

Reported by year as P10/P50/P90 over paths: inflows, spending, money invested (cumulative), projects finished; at
the horizon, job-years by state and the GDP effect. Jobs: a project supports ``jobs`` full-time jobs per year at
its planned pace, i.e. jobs_p · d_p / cost_usd_p jobs per dollar spent; its job-years are that times what it
spent. GDP: the capital of finished public-capital projects (all sectors but ``small_enterprise``, whose money is
lent, not built) raises output through the output elasticity of public capital θ:

    ΔY_y = θ · ΔK_y / K_g · Y          (ΔK_y: cumulative cost of public-capital projects finished by y)

with K_g Mexico's public capital stock and Y its GDP, both held at their base levels (no growth, no
depreciation of the new capital within the horizon) — a first-order, partial-equilibrium estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from naef.errors import NaefError
from naef.mdf.appraisal import REFERENCE_CLASSES, ProjectAppraisal, lognormal_params
from naef.mdf.pipeline import Project

__all__ = [
    "CAPITAL_SECTORS",
    "DEFAULT_GDP_USD",
    "DEFAULT_OUTCOME_SEED",
    "DEFAULT_OUTPUT_ELASTICITY",
    "DEFAULT_PUBLIC_CAPITAL_STOCK_USD",
    "GDP_SOURCE",
    "OUTPUT_ELASTICITY_SOURCE",
    "PUBLIC_CAPITAL_STOCK_SOURCE",
    "GdpAssumptions",
    "OutcomeError",
    "Outcomes",
    "draw_cost_multipliers",
    "simulate_outcomes",
]

Array = NDArray[np.float64]


class OutcomeError(NaefError):
    """Bad inputs to the outcome simulation."""


#: Long-run output elasticity of public capital supplied at the central-government level
DEFAULT_OUTPUT_ELASTICITY = 0.122
OUTPUT_ELASTICITY_SOURCE = (
    "Bom, P.R.D. & Ligthart, J.E. (2014), 'What have we learned from three decades of research on the productivity "
    "of public capital?', Journal of Economic Surveys 28(5): 889-916, meta-regression of 578 estimates from 68 "
    "studies: short-run output elasticity of public capital supplied at the central-government level 0.083, "
    "0.122 in the long run, about double for regional/local core infrastructure; average 0.106"
)
#: Mexico's GDP, US$ (2023, current prices)
DEFAULT_GDP_USD = 1.81e12
GDP_SOURCE = ("IMF World Economic Outlook (October 2023) projection of Mexico's 2023 nominal GDP, US$ 1.81 "
              "trillion, as reported by Mexico News Daily ('Mexico is now the 12th largest economy in the world')")
#: Mexico's public capital stock, US$: ILLUSTRATIVE (0.6 × GDP), not read from the IMF dataset
DEFAULT_PUBLIC_CAPITAL_STOCK_USD = 0.6 * DEFAULT_GDP_USD
PUBLIC_CAPITAL_STOCK_SOURCE = (
    "ILLUSTRATIVE and approximate: 0.6 × the 2023 GDP (US$ 1.09 trillion), chosen by the naef authors as an order "
    "of magnitude. Replace it with the general government capital stock of the IMF Investment and Capital Stock "
    "Dataset (ICSD, 2021 update, variable kgov_rppp for MEX, latest year 2019, billions of constant 2017 "
    "international dollars), converted to the GDP's dollars; the figure could not be read for this release"
)
#: Sectors whose spending builds public capital (small-enterprise money is lent to firms)
CAPITAL_SECTORS: frozenset[str] = frozenset({"road", "seaport", "airport", "railway", "education"})
#: Seed of the outcome simulation's cost draws
DEFAULT_OUTCOME_SEED = 5


@dataclass(frozen=True)
class GdpAssumptions:
    """θ, K_g and Y of ΔY = θ · ΔK / K_g · Y."""

    output_elasticity: float = DEFAULT_OUTPUT_ELASTICITY
    public_capital_stock_usd: float = DEFAULT_PUBLIC_CAPITAL_STOCK_USD
    gdp_usd: float = DEFAULT_GDP_USD

    def check(self) -> None:
        """Raise :class:`OutcomeError` naming the bad figure."""
        if not (math.isfinite(self.output_elasticity) and 0 <= self.output_elasticity < 1):
            raise OutcomeError(f"output elasticity: must be in [0, 1) (got {self.output_elasticity})")
        for name, v in (("public capital stock", self.public_capital_stock_usd), ("GDP", self.gdp_usd)):
            if not (math.isfinite(v) and v > 0):
                raise OutcomeError(f"{name}: must be a positive amount (got {v})")


@dataclass
class Outcomes:
    """Per-path results of running a portfolio along the inflow paths (arrays (paths, years) unless noted)."""

    years: list[int]
    project_ids: list[str]
    inflows_usd: Array
    spent_usd: Array  # (paths, years) total disbursed
    spent_by_project_usd: Array  # (paths, projects) total disbursed to each project by the last year
    finish_index: NDArray[np.int64]  # (paths, projects): index of the year paid for in full, -1 if never
    balance_usd: Array  # (paths, years) cash carried to the next year
    cost_usd: Array  # (paths, projects) the drawn costs
    job_years_by_state: dict[str, Array]  # state -> (paths,)
    gdp_effect_usd: Array  # (paths, years)

    def finished_by_year(self) -> NDArray[np.int64]:
        """(paths, years): projects paid for in full by the end of each year."""
        j = np.arange(len(self.years))
        done = (self.finish_index[:, :, None] >= 0) & (self.finish_index[:, :, None] <= j[None, None, :])
        return np.asarray(done.sum(axis=1), dtype=np.int64)

    def invested_usd(self) -> Array:
        """(paths, years): money invested by the end of each year."""
        return np.cumsum(self.spent_usd, axis=1)


def draw_cost_multipliers(projects: Sequence[Project], *, n_paths: int, seed: int) -> Array:
    """(paths, projects) log-normal cost multipliers of each project's reference class (stream
    ``default_rng([seed, i])`` for project i)."""
    out = np.empty((n_paths, len(projects)))
    for i, p in enumerate(projects):
        rc = REFERENCE_CLASSES[p.reference_class]
        mu, s = lognormal_params(1.0 + rc.overrun_mean, rc.overrun_sd)
        out[:, i] = np.exp(mu + s * np.random.default_rng([seed, i]).standard_normal(n_paths))
    return out


def simulate_outcomes(
    projects: Sequence[Project],
    start_years: Mapping[str, int],
    *,
    years: Sequence[int],
    inflows_usd: Array,
    appraisals: Mapping[str, ProjectAppraisal] | None = None,
    cost_multipliers: Array | None = None,
    seed: int = DEFAULT_OUTCOME_SEED,
    gdp: GdpAssumptions = GdpAssumptions(),
) -> Outcomes:
    """Run the portfolio ``start_years`` (project id -> planned start) of ``projects`` along ``inflows_usd``
    (paths, years). ``cost_multipliers`` (paths, len(chosen)) overrides the draws (tests); ``appraisals`` give the
    ENPV per dollar used to order projects that start in the same year."""
    gdp.check()
    yrs = [int(y) for y in years]
    inflows = np.asarray(inflows_usd, dtype=float)
    if inflows.ndim != 2 or inflows.shape[1] != len(yrs):
        raise OutcomeError(f"inflows: expected an array (paths, {len(yrs)} years), got shape {inflows.shape}")
    if not np.all(np.isfinite(inflows)) or np.any(inflows < 0):
        raise OutcomeError("inflows: must be finite and not negative")
    by_id = {p.id: p for p in projects}
    unknown = sorted(set(start_years) - set(by_id))
    if unknown:
        raise OutcomeError(f"portfolio: unknown project id {unknown[0]!r}")
    chosen = [by_id[i] for i in start_years]

    def priority(p: Project) -> tuple[int, float, str]:
        value = 0.0
        if appraisals is not None:
            ap = appraisals[p.id]
            value = ap.enpv_at_start_usd / ap.expected_cost_usd
        return (start_years[p.id], -value, p.id)

    chosen.sort(key=priority)
    n_paths, n_years, n = inflows.shape[0], len(yrs), len(chosen)
    if cost_multipliers is None:
        mult = draw_cost_multipliers(chosen, n_paths=n_paths, seed=seed)
    else:
        mult = np.asarray(cost_multipliers, dtype=float)
        if mult.shape != (n_paths, n):
            raise OutcomeError(f"cost multipliers: expected shape {(n_paths, n)}, got {mult.shape}")
    cost = mult * np.array([p.cost_usd for p in chosen])[None, :]
    annual = cost / np.array([p.duration_years for p in chosen], dtype=float)[None, :]
    remaining = cost.copy()
    paid = np.zeros((n_paths, n))
    finish = np.full((n_paths, n), -1, dtype=np.int64)
    spent = np.zeros((n_paths, n_years))
    balances = np.zeros((n_paths, n_years))
    balance = np.zeros(n_paths)
    starts = [start_years[p.id] for p in chosen]
    for j, y in enumerate(yrs):
        cash = balance + inflows[:, j]
        for k in range(n):
            if starts[k] > y:
                continue
            pay = np.minimum(np.minimum(annual[:, k], remaining[:, k]), cash)
            cash = cash - pay
            remaining[:, k] -= pay
            paid[:, k] += pay
            spent[:, j] += pay
            done = (remaining[:, k] <= 1e-9 * cost[:, k]) & (finish[:, k] < 0)
            remaining[done, k] = 0.0
            finish[done, k] = j
        balance = cash
        balances[:, j] = balance
    job_years: dict[str, Array] = {}
    for k, p in enumerate(chosen):
        per_usd = p.jobs * p.duration_years / p.cost_usd
        job_years[p.state] = job_years.get(p.state, np.zeros(n_paths)) + per_usd * paid[:, k]
    capital = np.zeros((n_paths, n_years))
    for k, p in enumerate(chosen):
        if p.sector in CAPITAL_SECTORS:
            done_by = (finish[:, k][:, None] >= 0) & (finish[:, k][:, None] <= np.arange(n_years)[None, :])
            capital += done_by * cost[:, k][:, None]
    gdp_effect = gdp.output_elasticity * capital / gdp.public_capital_stock_usd * gdp.gdp_usd
    return Outcomes(
        years=yrs, project_ids=[p.id for p in chosen], inflows_usd=inflows, spent_usd=spent,
        spent_by_project_usd=paid, finish_index=finish, balance_usd=balances, cost_usd=cost,
        job_years_by_state=dict(sorted(job_years.items())), gdp_effect_usd=gdp_effect,
    )
