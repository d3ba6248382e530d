"""The portfolio study: choose the MDF's portfolio from a project pipeline and run it along the Monte Carlo paths
(``naef portfolio``).

The numbers come from :mod:`naef.mdf` (pipeline, appraisal, budget, selection, outcomes) and the Monte Carlo's MDF
inflows (:func:`naef.engine.montecarlo.mdf_inflows_by_year`, the same paths as ``naef run --paths N --seed S``).
One price basis: every amount is in constant US$ of the pipeline's price year (the Monte Carlo's nominal inflows
deflated at the scenario's ``mdf.inflation_rate``); ENPVs are discounted to the scenario's first year at the real
social discount rate. Outcome bands are the 10th, 50th and 90th percentiles over the paths (``numpy.percentile``,
linear interpolation).

Bad input raises a :class:`naef.errors.NaefError` naming the option (``--confidence``, ``--sector-floor``, ...),
before anything is simulated.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from naef.engine.montecarlo import mdf_inflows_by_year, prepare
from naef.errors import CliError
from naef.mdf.appraisal import SOCIAL_DISCOUNT_RATE_SOURCE, ProjectAppraisal, appraise_pipeline
from naef.mdf.budget import CONFIDENCE_BASES, Budget, budget_for_schedule, joint_probability, parse_budget
from naef.mdf.milp import Array
from naef.mdf.outcomes import (
    DEFAULT_GDP_USD,
    GDP_PRICE_YEAR,
    GDP_SOURCE,
    OUTPUT_ELASTICITY_SOURCE,
    PUBLIC_CAPITAL_STOCK_SOURCE,
    GdpAssumptions,
    Outcomes,
    simulate_outcomes,
)
from naef.mdf.pipeline import SECTORS, STATES, Pipeline, load_pipeline
from naef.mdf.prices import INFLATION_RATE_SOURCE, US_CPI_SOURCE, PriceBasis, cpi_ratio
from naef.mdf.selection import MIGRANT_STATES_SOURCE, Constraints, SectorFloor, Selection, select_portfolio
from naef.mdf.ties import TIE_RULE
from naef.scenario.changes import changes_of
from naef.scenario.load import content_hash, scenario_identity
from naef.scenario.models import Scenario
from naef.studies.common import Files, json_text
from naef.studies.settings import RunSettings
from naef.version import __version__

__all__ = ["DEFAULT_PATHS", "DEFAULT_SECTOR_FLOORS", "JobYearsByState", "PortfolioHorizon", "PortfolioOptionError",
           "PortfolioStudy", "PortfolioYear", "ProjectOutcome", "parse_sector_floors", "portfolio"]

#: Monte Carlo paths of MDF inflows (budget quantiles and outcome distributions): ``naef portfolio``'s default
DEFAULT_PATHS = 2000
#: ``--sector-floor``'s default: 5 % of spending each on education and small enterprise (``naef.mdf.milp``)
DEFAULT_SECTOR_FLOORS = "education:5%,small_enterprise:5%"

#: a JSON document as written (portfolio.json); built from the study's typed fields
PortfolioDocument = dict[str, object]


class PortfolioOptionError(CliError):
    """A bad option value of the portfolio study (its message names the option)."""


def parse_sector_floors(text: str) -> tuple[SectorFloor, ...]:
    """``--sector-floor education:5%,airport:1.5bn,road:200m``: a share of spending with ``%``, an amount in
    constant US$ with ``bn`` or ``m``; a bare number is refused as ambiguous; ``none`` for no floors."""
    if text.strip().lower() == "none":
        return ()
    floors = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        sector, sep, value_text = item.partition(":")
        sector, value_text = sector.strip(), value_text.strip().lower().replace("_", "")
        if not sep:
            raise PortfolioOptionError(f"--sector-floor: {item!r} is not SECTOR:VALUE")
        if sector not in SECTORS:
            raise PortfolioOptionError(f"--sector-floor: unknown sector {sector!r} "
                                       f"(choose one of {', '.join(SECTORS)})")
        unit = next((u for u in ("%", "bn", "m") if value_text.endswith(u)), None)
        if unit is None:
            raise PortfolioOptionError(f"--sector-floor: {sector}:{value_text} is ambiguous: write a share as "
                                       f"'{sector}:15%' or an amount as '{sector}:1.5bn' or '{sector}:200m' "
                                       "(constant US$ of the pipeline's price year)")
        try:
            value = float(value_text[: -len(unit)])
        except ValueError:
            raise PortfolioOptionError(f"--sector-floor: {value_text!r} ({sector}) is not a number") from None
        if not math.isfinite(value) or value <= 0:
            raise PortfolioOptionError(f"--sector-floor: the floor of {sector} must be positive (got "
                                       f"{value_text!r})")
        if unit == "%":
            if value > 100:
                raise PortfolioOptionError(f"--sector-floor: the share of {sector} must be at most 100% (got "
                                           f"{value_text!r})")
            floors.append(SectorFloor(sector, share=value / 100.0))
        else:
            floors.append(SectorFloor(sector, amount_usd=value * (1e9 if unit == "bn" else 1e6)))
    if not floors:
        raise PortfolioOptionError("--sector-floor: give SECTOR:VALUE pairs or 'none'")
    return tuple(floors)


def _bands(a: Array | NDArray[np.int64]) -> tuple[float, float, float]:
    """P10, P50, P90 over the paths (axis 0)."""
    q = np.percentile(a, [10, 50, 90], axis=0)
    return float(q[0]), float(q[1]), float(q[2])


@dataclass(frozen=True)
class PortfolioYear:
    """One budget year: the budget and planned spending, and P10/P50/P90 over the paths of what happened
    (constant US$ of the pipeline's price year, undiscounted; projects finished is a count)."""

    year: int
    budget_usd: float
    planned_spend_usd: float
    inflow_usd_p10: float
    inflow_usd_p50: float
    inflow_usd_p90: float
    spent_usd_p10: float
    spent_usd_p50: float
    spent_usd_p90: float
    invested_usd_p10: float
    invested_usd_p50: float
    invested_usd_p90: float
    projects_finished_p10: float
    projects_finished_p50: float
    projects_finished_p90: float
    gdp_effect_usd_p10: float
    gdp_effect_usd_p50: float
    gdp_effect_usd_p90: float
    human_capital_finished_usd_p10: float
    human_capital_finished_usd_p50: float
    human_capital_finished_usd_p90: float


@dataclass(frozen=True)
class JobYearsByState:
    """Job-years in one state over the horizon, P10/P50/P90 over the paths."""

    state: str
    state_name: str
    job_years_p10: float
    job_years_p50: float
    job_years_p90: float


@dataclass(frozen=True)
class ProjectOutcome:
    """One selected project along the paths: planned years, shares of paths finished (on schedule), the median
    finish year (``None`` when it never finishes) and median drawn cost (constant US$)."""

    id: str
    planned_start_year: int
    planned_finish_year: int
    probability_finished: float
    probability_on_schedule: float
    finish_year_p50: int | None
    cost_usd_p50: float


@dataclass(frozen=True)
class PortfolioHorizon:
    """The portfolio at the last budget year: counts and shares of paths, amounts in constant US$ (the GDP effect
    a year, and as a share of GDP at P50)."""

    year: int
    projects_selected: int
    projects_finished_p10: float
    projects_finished_p50: float
    projects_finished_p90: float
    share_of_paths_all_finished: float
    share_of_paths_all_on_schedule: float
    invested_usd_p10: float
    invested_usd_p50: float
    invested_usd_p90: float
    gdp_effect_usd_p10: float
    gdp_effect_usd_p50: float
    gdp_effect_usd_p90: float
    gdp_effect_share_of_gdp_p50: float
    human_capital_finished_usd_p50: float


@dataclass(frozen=True)
class PortfolioStudy:
    """The MDF's portfolio (module docstring): the selection, its budget and its outcomes along the paths.
    :attr:`summary` is ``portfolio.json``; :meth:`files` what ``naef portfolio --out`` writes."""

    scenario: Scenario
    settings: RunSettings
    pipeline: Pipeline
    pipeline_given: bool
    appraisals: Mapping[str, ProjectAppraisal]
    price_basis: PriceBasis
    discount_rate: float
    confidence: float
    confidence_basis: str
    #: ``None`` when the budget was given (``budget_usd_by_year``), else the Monte Carlo's budget at confidence
    budget_at_confidence: Budget | None
    budget_years: tuple[int, ...]
    budget_usd: tuple[float, ...]
    schedule_funded_probability: float
    selection: Selection
    outcomes: Outcomes
    gdp: GdpAssumptions

    @property
    def budget_given(self) -> bool:
        return self.budget_at_confidence is None

    @property
    def base_year(self) -> int:
        """The year ENPVs are discounted to: the scenario's first year."""
        return self.scenario.scenario.start.year

    @cached_property
    def by_year(self) -> tuple[PortfolioYear, ...]:
        out = self.outcomes
        finished, invested = out.finished_by_year(), out.invested_usd()
        rows = []
        for j, y in enumerate(self.budget_years):
            bands = [_bands(a) for a in (out.inflows_usd[:, j], out.spent_usd[:, j], invested[:, j],
                                         finished[:, j], out.gdp_effect_usd[:, j], out.human_capital_usd[:, j])]
            rows.append(PortfolioYear(y, self.budget_usd[j], self.selection.spend_usd[j],
                                      *(v for band in bands for v in band)))
        return tuple(rows)

    @cached_property
    def jobs_by_state(self) -> tuple[JobYearsByState, ...]:
        return tuple(JobYearsByState(state, STATES[state], *_bands(arr))
                     for state, arr in self.outcomes.job_years_by_state.items())

    @cached_property
    def projects(self) -> tuple[ProjectOutcome, ...]:
        out, by_id, starts = self.outcomes, self.pipeline.by_id(), self.selection.start_years()
        on_schedule = out.on_schedule()
        rows = []
        for k, pid in enumerate(out.project_ids):
            fi = out.finish_index[:, k]
            done = fi >= 0
            rows.append(ProjectOutcome(
                id=pid, planned_start_year=starts[pid],
                planned_finish_year=starts[pid] + by_id[pid].duration_years - 1,
                probability_finished=float(done.mean()),
                probability_on_schedule=float(on_schedule[:, k].mean()),
                finish_year_p50=(int(self.budget_years[int(np.percentile(fi[done], 50, method="lower"))])
                                 if done.any() else None),
                cost_usd_p50=float(np.percentile(out.cost_usd[:, k], 50))))
        return tuple(rows)

    @cached_property
    def horizon(self) -> PortfolioHorizon:
        last, n_sel = self.by_year[-1], len(self.selection.selected)
        finished = self.outcomes.finished_by_year()
        return PortfolioHorizon(
            year=self.budget_years[-1], projects_selected=n_sel,
            projects_finished_p10=last.projects_finished_p10, projects_finished_p50=last.projects_finished_p50,
            projects_finished_p90=last.projects_finished_p90,
            share_of_paths_all_finished=float((finished[:, -1] == n_sel).mean()) if n_sel else 1.0,
            share_of_paths_all_on_schedule=self.outcomes.all_on_schedule_share(),
            invested_usd_p10=last.invested_usd_p10, invested_usd_p50=last.invested_usd_p50,
            invested_usd_p90=last.invested_usd_p90,
            gdp_effect_usd_p10=last.gdp_effect_usd_p10, gdp_effect_usd_p50=last.gdp_effect_usd_p50,
            gdp_effect_usd_p90=last.gdp_effect_usd_p90,
            gdp_effect_share_of_gdp_p50=last.gdp_effect_usd_p50 / self.gdp.gdp_usd,
            human_capital_finished_usd_p50=last.human_capital_finished_usd_p50)

    def _budget_document(self) -> PortfolioDocument:
        info = self.budget_at_confidence
        doc: PortfolioDocument = {
            "basis": "given" if info is None else info.basis, "confidence": self.confidence,
            "price_basis": self.price_basis.label,
            # probability that the planned spending schedule of the selection is covered by the cumulative inflows
            # in every year on the same path (a direct count over the paths)
            "schedule_funded_probability": self.schedule_funded_probability,
        }
        if info is not None:
            doc |= {"per_year_confidence": info.per_year_confidence, "joint_probability": info.joint_probability,
                    "mc_error_usd": info.mc_error_usd, "paths_below_percentile": info.paths_below,
                    "warning": info.warning}
        return doc

    def _price_basis_document(self) -> PortfolioDocument:
        basis, base_year = self.price_basis, self.base_year
        money, rate_text = basis.label, f"{self.discount_rate:.1%} real"
        return {
            "label": money, "price_year": basis.price_year, "inflation_rate": basis.inflation_rate,
            "inflation_rate_source": INFLATION_RATE_SOURCE, "description": basis.describe(),
            "discount_rate": self.discount_rate, "discount_rate_kind": "real",
            "discounted_to_year": base_year,
            "columns": {
                "cost_usd": f"{money}, planned, undiscounted",
                "expected_cost_usd": f"{money}, planned × the class's mean overrun, undiscounted",
                "enpv_usd": f"{money}, discounted to {base_year} at {rate_text}",
                "*_at_start_usd": f"{money}, discounted to the project's start year at {rate_text}",
                "objective_usd": f"{money}, discounted to {base_year} at {rate_text}",
                "budget_usd_by_year": f"{money} received in each year, undiscounted",
                "spend_usd_by_year": f"{money} spent in each year (planned, expected costs), undiscounted",
                "outcomes": f"{money}, undiscounted",
            },
        }

    def appraisal_rows(self) -> list[dict[str, object]]:
        """Every project of the pipeline with its appraisal (``portfolio.json``'s ``appraisal.projects``)."""
        return [{
            "id": p.id, "sector": p.sector, "state": p.state, "reference_class": a.reference_class,
            "cost_usd": p.cost_usd, "expected_cost_usd": a.expected_cost_usd,
            "planned_npv_at_start_usd": a.planned_npv_at_start_usd, "enpv_at_start_usd": a.enpv_at_start_usd,
            "npv_p10_at_start_usd": a.npv_p10_at_start_usd, "npv_p90_at_start_usd": a.npv_p90_at_start_usd,
            "eirr": a.eirr, "bcr": a.bcr if math.isfinite(a.bcr) else None,
        } for p in self.pipeline.projects for a in [self.appraisals[p.id]]]

    @cached_property
    def summary(self) -> PortfolioDocument:
        """``portfolio.json`` (and ``naef portfolio --json``): keys in docs/portfolio.md."""
        sc, sel, gdp, given = self.scenario, self.selection, self.gdp, self.budget_given
        money = self.price_basis.label
        return {
            "naef_version": __version__,
            "scenario": {"name": sc.scenario.name, "content_hash": content_hash(sc),
                         **({"changes": scenario_identity(sc)["changes"]} if changes_of(sc) else {})},
            "pipeline": {"source": self.pipeline.source_name, "projects": len(self.pipeline.projects),
                         "illustrative": not self.pipeline_given},
            "run": {"paths": self.settings.paths, "seed": self.settings.seed,
                    "budget": "given" if given else "monte_carlo",
                    "confidence": None if given else self.confidence, "base_year": self.base_year,
                    "confidence_basis": None if given else self.confidence_basis},
            "price_basis": self._price_basis_document(),
            "budget": self._budget_document(),
            "budget_marginal_value": sel.budget_marginal_value,
            "selected": sel.selected,
            "objective_usd": sel.objective_usd,
            "lp_relaxation_objective_usd": sel.lp_objective_usd,
            "optimal": sel.optimal,
            "tie_rule": TIE_RULE,
            "ties_settled": sel.ties_settled,
            "budget_usd_by_year": {str(y): b for y, b in zip(self.budget_years, self.budget_usd, strict=True)},
            "spend_usd_by_year": {str(y): s for y, s in zip(self.budget_years, sel.spend_usd, strict=True)},
            "binding_constraints": sel.binding_constraints,
            "rejected": sel.rejected,
            "constraints": {**sel.settings, "migrant_states_source": MIGRANT_STATES_SOURCE},
            "appraisal": {"discount_rate": self.discount_rate, "discount_rate_source": SOCIAL_DISCOUNT_RATE_SOURCE,
                          "projects": self.appraisal_rows()},
            "outcomes": {
                "by_year": [asdict(r) for r in self.by_year],
                "at_horizon": asdict(self.horizon),
                "jobs_by_state": [asdict(r) for r in self.jobs_by_state],
                "projects": [asdict(r) for r in self.projects],
                "gdp_assumptions": {
                    "output_elasticity": gdp.output_elasticity,
                    "output_elasticity_source": OUTPUT_ELASTICITY_SOURCE,
                    "gdp_usd": gdp.gdp_usd, "gdp_source": GDP_SOURCE, "gdp_cpi_source": US_CPI_SOURCE,
                    "public_capital_to_gdp": gdp.public_capital_to_gdp,
                    "public_capital_stock_usd": gdp.public_capital_stock_usd,
                    "public_capital_stock_source": PUBLIC_CAPITAL_STOCK_SOURCE,
                    "capital_counted": "the planned cost (constant dollars) of finished projects whose reference "
                                       "class builds physical capital; overruns add cost and delay, never capital",
                    "price_basis": money,
                },
                "jobs_basis": ("job-years = jobs × duration × the share of the planned work paid for; the pipeline's "
                               "jobs column is in the price year's dollars (S12's 40,000 jobs per 2009-US$ 1 bn = "
                               "27,357 per 2024-US$ 1 bn, US CPI-U 2024/2009 = 1.4622)"),
            },
        }

    def _appraisal_table_rows(self) -> list[dict[str, object]]:
        selected = {s["id"]: s for s in self.selection.selected}
        rejected = {r["id"]: r["reason"] for r in self.selection.rejected}
        return [{**row, "selected": row["id"] in selected,
                 "start_year": selected[str(row["id"])]["start_year"] if row["id"] in selected else None,
                 "reason_rejected": rejected.get(str(row["id"]), "")} for row in self.appraisal_rows()]

    def _table_rows(self) -> dict[str, list[dict[str, object]]]:
        return {
            "appraisal": self._appraisal_table_rows(),
            "outcomes_by_year": [asdict(r) for r in self.by_year],
            "jobs_by_state": [asdict(r) for r in self.jobs_by_state],
            "project_outcomes": [asdict(r) for r in self.projects],
            "binding_constraints": [dict(b) for b in self.selection.binding_constraints],
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """The CSV tables of :meth:`files` as DataFrames (name without ``.csv``)."""
        return {name: pd.DataFrame(rows) for name, rows in self._table_rows().items()}

    def files(self) -> Files:
        """``portfolio.json`` and the CSV tables written by ``naef portfolio --out``."""
        return {"portfolio.json": json_text(self.summary),
                **{f"{name}.csv": _csv(rows) for name, rows in self._table_rows().items()}}


def _csv(rows: Sequence[Mapping[str, object]]) -> str:
    """Rows as CSV: the union of their keys in first-seen order; floats as ``repr`` (exact), ``None`` empty."""
    buf = io.StringIO()
    if rows:
        fields = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else repr(v) if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def _check_options(*, confidence: float, migrant_share: float, discount_rate: float, confidence_basis: str,
                   resolve_seconds: float) -> None:
    if not (math.isfinite(confidence) and 0.0 < confidence < 1.0):
        raise PortfolioOptionError(f"--confidence: must be strictly between 0 and 1 (got {confidence})")
    if not (math.isfinite(migrant_share) and 0.0 <= migrant_share <= 1.0):
        raise PortfolioOptionError(f"--migrant-share: must be between 0 and 1 (got {migrant_share})")
    if not (math.isfinite(discount_rate) and 0.0 <= discount_rate < 1.0):
        raise PortfolioOptionError(f"--discount-rate: must be in [0, 1) (got {discount_rate})")
    if confidence_basis not in CONFIDENCE_BASES:
        raise PortfolioOptionError(f"--confidence-basis: {confidence_basis!r} is not one of "
                                   f"{', '.join(CONFIDENCE_BASES)}")
    if not (math.isfinite(resolve_seconds) and resolve_seconds > 0):
        raise PortfolioOptionError(f"--resolve-seconds: must be a positive number of seconds (got {resolve_seconds})")


def portfolio(
    scenario: Scenario,
    settings: RunSettings | None = None,
    *,
    pipeline: Path | None = None,
    confidence: float = 0.8,
    confidence_basis: str = "year",
    budget_usd_by_year: str | None = None,
    migrant_share: float = 0.40,
    sector_floors: str | Sequence[SectorFloor] = DEFAULT_SECTOR_FLOORS,
    discount_rate: float = 0.10,
    resolve_seconds: float = 20.0,
) -> PortfolioStudy:
    """Appraise ``pipeline`` (the shipped ILLUSTRATIVE one by default) at ``discount_rate`` (real), select projects
    and start years under the budget (the MDF inflows of ``settings.paths`` Monte Carlo paths with
    ``settings.seed`` available with probability ``confidence`` on ``confidence_basis``, or the constant-dollar
    ``budget_usd_by_year`` given as ``"2030:1e9,2031:2e9"``), ``sector_floors`` and ``migrant_share``, and run
    the selection along the paths. ``resolve_seconds`` bounds each MILP re-solve that confirms a shadow price."""
    chosen = settings if settings is not None else RunSettings(paths=DEFAULT_PATHS)
    _check_options(confidence=confidence, migrant_share=migrant_share, discount_rate=discount_rate,
                   confidence_basis=confidence_basis, resolve_seconds=resolve_seconds)
    given = parse_budget(budget_usd_by_year) if budget_usd_by_year is not None else None
    floors = parse_sector_floors(sector_floors) if isinstance(sector_floors, str) else tuple(sector_floors)
    constraints = Constraints(sector_floors=floors, migrant_share_min=migrant_share)
    constraints.check()
    pipe = load_pipeline(pipeline)
    appraisals = appraise_pipeline(pipe.projects, rate=discount_rate)
    basis = PriceBasis(price_year=pipe.cost_price_year, inflation_rate=scenario.mdf.inflation_rate)
    mc_years, nominal = mdf_inflows_by_year(prepare(scenario), n_paths=chosen.paths, seed=chosen.seed)
    inflows = basis.to_constant(nominal, mc_years)  # one price basis: constant dollars of the pipeline's year
    budget_info = None
    if given is not None:
        years, budget = given
        outside = [y for y in years if y not in mc_years]
        if outside:
            raise PortfolioOptionError(f"--budget-usd-by-year: year {outside[0]} is outside the scenario's years "
                                       f"{mc_years[0]}-{mc_years[-1]}")
        cols = [mc_years.index(y) for y in years]
        # each given year receives the Monte Carlo inflows since the previous given year (the first: all of them
        # so far), so no money the MDF received is dropped; outcomes run on these paths, not on the given budget
        cumulative = np.cumsum(inflows, axis=1)[:, cols]
        path_inflows = np.diff(cumulative, axis=1, prepend=0.0)
    else:
        budget_info = budget_for_schedule(mc_years, inflows, confidence=confidence, basis=confidence_basis)
        years, budget = budget_info.years, budget_info.budget_usd
        path_inflows = inflows
    sel = select_portfolio(pipe.projects, appraisals, years=years, budget_usd=budget, constraints=constraints,
                           base_year=scenario.scenario.start.year, resolve_time_limit=resolve_seconds)
    gdp = GdpAssumptions(gdp_usd=DEFAULT_GDP_USD * cpi_ratio(from_year=GDP_PRICE_YEAR, to_year=basis.price_year,
                                                             inflation_rate=basis.inflation_rate))
    out = simulate_outcomes(pipe.projects, sel.start_years(), years=years, inflows_usd=path_inflows,
                            appraisals=appraisals, gdp=gdp)
    return PortfolioStudy(
        scenario=scenario, settings=chosen, pipeline=pipe, pipeline_given=pipeline is not None,
        appraisals=appraisals, price_basis=basis, discount_rate=discount_rate, confidence=confidence,
        confidence_basis=confidence_basis, budget_at_confidence=budget_info, budget_years=tuple(years),
        budget_usd=tuple(float(b) for b in budget),
        schedule_funded_probability=joint_probability(path_inflows, np.cumsum(sel.spend_usd)),
        selection=sel, outcomes=out, gdp=gdp)
