"""Outcomes of a chosen portfolio along the Monte Carlo paths of the MDF's inflows.

Year by year on every path (arrays over paths; the loops are over years and projects only):

    cash_y       = balance_{y-1} + inflow_y
    for each project due (planned start <= y, not yet paid for), in priority order (planned start, then ENPV
    per dollar): pay_p = min(C̃_p / d_p, remaining_p, cash left)          (C̃_p = m_p · cost_usd, m_p drawn)
    balance_y    = cash_y - sum_p pay_p                                   (>= 0: never more than received)

A project paid less than its planned annual amount is delayed (it keeps drawing until paid for); one not paid for
by the last year is unfinished. The cost multipliers m_p are drawn per path from the project's reference class
(the same log-normal as the appraisal, seeded), independently of the inflow paths.

A project that ``requires`` another starts drawing only in a year after its prerequisite is paid for in full on
that path (the prerequisite is *finished before the dependent starts*, as in the selection), so a dependent is
never funded on a path where its prerequisite is not finished.

All money is in the pipeline's constant dollars (the inflows deflated first, :mod:`naef.mdf.prices`).

Reported by year as P10/P50/P90 over paths: inflows, spending, money invested (cumulative), projects finished; at
the horizon, job-years by state and the GDP effect. Jobs: a project supports ``jobs`` full-time jobs per year at
its planned pace, ``jobs_p · d_p`` job-years when finished; on a path it has delivered the share
paid_p / C̃_p of its work, so its job-years are jobs_p · d_p · paid_p / C̃_p — an overrun costs money, not extra
jobs. GDP: the *planned* capital (cost_usd, constant dollars) of finished projects whose reference class builds
physical capital (not ``small_enterprise``, whose money is lent, nor ``human_capital``, scholarships and
exchanges) raises output through the output elasticity of public capital θ:

    ΔY_y = θ · ΔK_y / K_g · Y = θ · ΔK_y / (K_g / Y)     (ΔK_y: planned cost of physical projects finished by y)

with K_g / Y Mexico's general government capital stock over GDP (IMF ICSD, current prices of the same year, so
unit-free) and Y the GDP in the pipeline's dollars (only for the share of GDP), both held at their base levels (no
growth, no depreciation of the new capital within the horizon) — a first-order, partial-equilibrium estimate.
Overruns cost money and time, never add capital. Human-capital programmes have their own outcome: the planned
cost of those finished (a measure of student-years delivered), with no GDP effect claimed.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from naef.errors import NaefError
from naef.mdf.appraisal import ProjectAppraisal, lognormal_params
from naef.mdf.pipeline import Project
from naef.mdf.reference_classes import REFERENCE_CLASSES
from naef.resources import read_data_text

__all__ = [
    "DEFAULT_GDP_USD",
    "DEFAULT_OUTCOME_SEED",
    "DEFAULT_OUTPUT_ELASTICITY",
    "GDP_PRICE_YEAR",
    "GDP_SOURCE",
    "OUTPUT_ELASTICITY_SOURCE",
    "PUBLIC_CAPITAL_STOCK_SOURCE",
    "GdpAssumptions",
    "OutcomeError",
    "Outcomes",
    "builds_physical_capital",
    "draw_cost_multipliers",
    "public_capital_to_gdp",
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
#: Mexico's GDP, US$ of 2023 (current prices of 2023); converted to the pipeline's dollars by the US CPI-U
DEFAULT_GDP_USD = 1.81e12
GDP_PRICE_YEAR = 2023
GDP_SOURCE = ("IMF World Economic Outlook (October 2023) projection of Mexico's 2023 nominal GDP, US$ 1.81 "
              "trillion, as reported by Mexico News Daily ('Mexico is now the 12th largest economy in the world'); "
              "converted to the pipeline's price year with the US CPI-U; used only for the GDP effect's share of GDP")
PUBLIC_CAPITAL_STOCK_SOURCE = (
    "IMF Investment and Capital Stock Dataset (ICSD, 2021 update), Mexico 2019: general government capital stock "
    "kgov_n MXN 16,726.7 bn over GDP_n MXN 24,203.6 bn, both at current prices of 2019 (ratio 0.691; "
    "src/naef/data/mdf_public_capital_stock.csv); K_g = that ratio x GDP in the pipeline's dollars. Implied gross "
    "return on public capital θ·Y/K_g = 0.122 / 0.691 = 17.7 % a year"
)
_CAPITAL_FILE = "mdf_public_capital_stock.csv"


def public_capital_to_gdp() -> tuple[int, float]:
    """(year, kgov_n / GDP_n) of the latest year in the shipped ICSD extract."""
    text = read_data_text(_CAPITAL_FILE)
    rows = list(csv.DictReader(io.StringIO("\n".join(ln for ln in text.splitlines() if not ln.startswith("#")))))
    last = max(rows, key=lambda r: int(r["year"]))
    return int(last["year"]), float(last["kgov_n"]) / float(last["GDP_n"])


def builds_physical_capital(project: Project) -> bool:
    """True when the project's reference class builds public physical capital (the elasticity's input)."""
    return REFERENCE_CLASSES[project.reference_class].physical_capital


#: Seed of the outcome simulation's cost draws
DEFAULT_OUTCOME_SEED = 5


@dataclass(frozen=True)
class GdpAssumptions:
    """θ, K_g / Y and Y of ΔY = θ · ΔK / (K_g / Y); ``gdp_usd`` in the pipeline's constant dollars."""

    output_elasticity: float = DEFAULT_OUTPUT_ELASTICITY
    public_capital_to_gdp: float = public_capital_to_gdp()[1]
    gdp_usd: float = DEFAULT_GDP_USD

    @property
    def public_capital_stock_usd(self) -> float:
        """K_g in the GDP's dollars."""
        return self.public_capital_to_gdp * self.gdp_usd

    def check(self) -> None:
        """Raise :class:`OutcomeError` naming the bad figure."""
        if not (math.isfinite(self.output_elasticity) and 0 <= self.output_elasticity < 1):
            raise OutcomeError(f"output elasticity: must be in [0, 1) (got {self.output_elasticity})")
        for name, v in (("public capital to GDP", self.public_capital_to_gdp), ("GDP", self.gdp_usd)):
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
    human_capital_usd: Array  # (paths, years) planned cost of human-capital programmes finished by each year
    planned_finish_index: NDArray[np.int64]  # (projects,) index of the planned last year of spending

    def on_schedule(self) -> NDArray[np.bool_]:
        """(paths, projects): paid for in full by its planned finish year."""
        return np.asarray((self.finish_index >= 0) & (self.finish_index <= self.planned_finish_index[None, :]))

    def all_on_schedule_share(self) -> float:
        """Share of paths on which every project of the portfolio finishes on schedule."""
        if not self.project_ids:
            return 1.0
        return float(self.on_schedule().all(axis=1).mean())

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
    for p in chosen:
        for q in p.requires:
            if q not in start_years:
                raise OutcomeError(f"portfolio: {p.id} requires {q}, which is not in the portfolio")

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
    position = {p.id: k for k, p in enumerate(chosen)}
    prereqs = [[position[q] for q in p.requires] for p in chosen]
    for j, y in enumerate(yrs):
        cash = balance + inflows[:, j]
        for k in range(n):
            if starts[k] > y:
                continue
            can = np.ones(n_paths, dtype=bool)
            for kq in prereqs[k]:  # a prerequisite must be finished in an earlier year
                can &= (finish[:, kq] >= 0) & (finish[:, kq] < j)
            pay = np.where(can, np.minimum(np.minimum(annual[:, k], remaining[:, k]), cash), 0.0)
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
        progress = np.minimum(paid[:, k] / cost[:, k], 1.0)  # share of the planned work delivered
        job_years[p.state] = job_years.get(p.state, np.zeros(n_paths)) + p.jobs * p.duration_years * progress
    capital = np.zeros((n_paths, n_years))
    human = np.zeros((n_paths, n_years))
    for k, p in enumerate(chosen):
        done_by = (finish[:, k][:, None] >= 0) & (finish[:, k][:, None] <= np.arange(n_years)[None, :])
        if builds_physical_capital(p):
            capital += done_by * p.cost_usd  # the planned capital, never the overrun
        elif p.reference_class == "human_capital":
            human += done_by * p.cost_usd
    gdp_effect = gdp.output_elasticity * capital / gdp.public_capital_to_gdp
    planned_finish = np.array([starts[k] + chosen[k].duration_years - 1 - yrs[0] for k in range(n)],
                              dtype=np.int64)
    return Outcomes(
        years=yrs, project_ids=[p.id for p in chosen], inflows_usd=inflows, spent_usd=spent,
        spent_by_project_usd=paid, finish_index=finish, balance_usd=balances, cost_usd=cost,
        job_years_by_state=dict(sorted(job_years.items())), gdp_effect_usd=gdp_effect, human_capital_usd=human,
        planned_finish_index=planned_finish,
    )
