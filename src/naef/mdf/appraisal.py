"""Economic appraisal of MDF projects: ENPV, EIRR and benefit–cost ratio at a social discount rate, with cost
overruns and benefit shortfalls drawn by reference class.

Cash flows of a project that starts in year s, by year index t = 0, 1, ... from s (flows of year t are
discounted by (1 + r)^-t, as ``numpy_financial.npv`` does):

    capex_t   = m · C / d                      for t < d          (C cost_usd, d duration_years, m cost multiplier)
    benefit_t = k · B                          for d <= t < d + L (B annual_benefit_usd, L benefit_years,
    om_t      = O                              for d <= t < d + L  k benefit ratio, O om_usd_per_year)
    net_t     = benefit_t - capex_t - om_t

    NPV  = sum_t net_t (1 + r)^-t;   BCR = PV(benefit) / PV(capex + om);   EIRR: the r at which NPV = 0.

The cost multiplier m and the benefit ratio k are independent log-normal draws whose mean and standard deviation
are those of the project's reference class (below). Because the NPV is linear in m and k, the expected NPV
(ENPV) is the NPV at E[m], E[k] — computed exactly — and the spread (P10, P90) comes from sampling with a fixed
seed. The EIRR and BCR are reported for the expected flows. A project's ENPV in the base year is its ENPV at its
start discounted by (1 + r)^-(s - base_year); that is the coefficient of the selection's objective.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

from naef.errors import NaefError
from naef.mdf.pipeline import Project
from naef.mdf.reference_classes import REFERENCE_CLASSES, ReferenceClass

__all__ = [
    "DEFAULT_APPRAISAL_DRAWS",
    "DEFAULT_APPRAISAL_SEED",
    "DEFAULT_SOCIAL_DISCOUNT_RATE",
    "REFERENCE_CLASSES",
    "SOCIAL_DISCOUNT_RATE_SOURCE",
    "AppraisalError",
    "ProjectAppraisal",
    "ReferenceClass",
    "appraise",
    "appraise_pipeline",
    "eirr",
    "lognormal_params",
    "npv",
    "project_flows",
]

Array = NDArray[np.float64]


class AppraisalError(NaefError):
    """A bad appraisal setting (discount rate, number of draws)."""


#: Mexico's social discount rate, real, per year.
DEFAULT_SOCIAL_DISCOUNT_RATE = 0.10
SOCIAL_DISCOUNT_RATE_SOURCE = (
    "SHCP, Unidad de Inversiones: 'Tasa Social de Descuento' (gob.mx/shcp/documentos/tasa-social-de-descuento-tsd): "
    "the rate went from 12 % to 10 % after the studies commissioned by SHCP (World Bank study by Coppola, "
    "Fernholz and Glenday); it is the rate the 'Lineamientos para la elaboración y presentación de los análisis "
    "costo y beneficio de los programas y proyectos de inversión' (DOF 30 Dec 2013, replacing those of 27 Apr 2012) "
    "require for the cost-benefit analyses of federal investment programmes and projects"
)
#: Draws per project for the NPV spread (P10/P90), and their seed (the same every run: reproducible)
DEFAULT_APPRAISAL_DRAWS = 4000
DEFAULT_APPRAISAL_SEED = 20050101


def lognormal_params(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of a log-normal with this mean and standard deviation: sigma² = ln(1 + sd²/mean²),
    mu = ln(mean) - sigma²/2."""
    if mean <= 0:
        raise AppraisalError(f"log-normal mean must be positive (got {mean})")
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


def project_flows(project: Project, *, cost_multiplier: float = 1.0, benefit_ratio: float = 1.0
                  ) -> tuple[Array, Array, Array]:
    """(capex, benefits, om) by year index from the start (length duration + benefit_years), US$."""
    d, life = project.duration_years, project.benefit_years
    n = d + life
    capex, ben, om = np.zeros(n), np.zeros(n), np.zeros(n)
    capex[:d] = cost_multiplier * project.cost_usd / d
    ben[d:] = benefit_ratio * project.annual_benefit_usd
    om[d:] = project.om_usd_per_year
    return capex, ben, om


def npv(*, rate: float, values: Sequence[float] | Array) -> float:
    """sum_t values_t (1 + rate)^-t, t = 0, 1, ... (numpy_financial.npv's convention)."""
    v = np.asarray(values, dtype=float)
    return float(np.sum(v / (1.0 + rate) ** np.arange(v.size)))


def eirr(values: Sequence[float] | Array) -> float | None:
    """The rate r in (-0.99, 100) with NPV(r) = 0; None when there is none (e.g. flows all of one sign).

    Flows that turn positive once (a conventional project) have exactly one such rate. Flows that change sign
    more than once (a costly tail of O&M after the benefits end) can have several: then the one nearest 0 is
    returned. The rates are bracketed on a grid (400 points from -0.99 to 1, 100 more up to 100, logarithmic)
    and each bracket solved with Brent's method.
    """
    v = np.asarray(values, dtype=float)
    if not (np.any(v < 0) and np.any(v > 0)):
        return None

    def f(r: float) -> float:
        return npv(rate=r, values=v)

    grid = np.concatenate([np.linspace(-0.99, 1.0, 400), np.logspace(0.0, 2.0, 101)[1:]])
    vals = np.array([f(float(r)) for r in grid])
    roots = [float(r) for r, y in zip(grid, vals, strict=True) if y == 0.0]
    for i in np.nonzero(vals[:-1] * vals[1:] < 0)[0]:
        roots.append(float(brentq(f, float(grid[i]), float(grid[i + 1]), xtol=1e-12, rtol=1e-12, maxiter=500)))
    if not roots:
        return None
    return min(roots, key=abs)


@dataclass(frozen=True)
class ProjectAppraisal:
    """A project's appraisal at its own start year (``*_at_start``) and the expected figures."""

    id: str
    reference_class: str
    planned_npv_at_start_usd: float
    enpv_at_start_usd: float
    npv_p10_at_start_usd: float
    npv_p90_at_start_usd: float
    eirr: float | None
    bcr: float
    expected_cost_usd: float
    cost_multiplier_mean: float
    benefit_ratio_mean: float
    discount_rate: float

    def enpv_usd(self, *, start_year: int, base_year: int) -> float:
        """The ENPV of starting in ``start_year`` discounted to ``base_year``."""
        return self.enpv_at_start_usd * (1.0 + self.discount_rate) ** -(start_year - base_year)


def _check_rate(rate: float) -> None:
    if not (math.isfinite(rate) and -0.5 < rate < 1.0):
        raise AppraisalError(f"discount rate: must be between -50 % and 100 % (got {rate})")


def appraise(project: Project, *, rate: float = DEFAULT_SOCIAL_DISCOUNT_RATE, draws: Array | None = None
             ) -> ProjectAppraisal:
    """Appraise one project. ``draws``: (2, n) standard normals for the cost and benefit multipliers (the spread);
    without them only the expected figures are meaningful (P10 = P90 = ENPV)."""
    _check_rate(rate)
    rc = REFERENCE_CLASSES[project.reference_class]
    m_mean, k_mean = 1.0 + rc.overrun_mean, rc.benefit_ratio_mean
    capex, ben, om = project_flows(project, cost_multiplier=m_mean, benefit_ratio=k_mean)
    df = (1.0 + rate) ** -np.arange(capex.size)
    pv_capex, pv_ben, pv_om = float(capex @ df), float(ben @ df), float(om @ df)
    enpv = pv_ben - pv_capex - pv_om
    c0, b0, o0 = project_flows(project)
    planned = float((b0 - c0 - o0) @ df)
    if draws is None:
        p10 = p90 = enpv
    else:
        mu_m, s_m = lognormal_params(m_mean, rc.overrun_sd)
        mu_k, s_k = lognormal_params(k_mean, rc.benefit_ratio_sd)
        m = np.exp(mu_m + s_m * draws[0])
        k = np.exp(mu_k + s_k * draws[1])
        pv_c_unit = float(c0 @ df)  # PV of capex at m = 1
        pv_b_unit = float(b0 @ df)  # PV of benefits at k = 1
        sample = k * pv_b_unit - m * pv_c_unit - pv_om
        p10, p90 = (float(x) for x in np.quantile(sample, [0.1, 0.9]))
    cost_pv = pv_capex + pv_om
    return ProjectAppraisal(
        id=project.id,
        reference_class=rc.name,
        planned_npv_at_start_usd=planned,
        enpv_at_start_usd=enpv,
        npv_p10_at_start_usd=p10,
        npv_p90_at_start_usd=p90,
        eirr=eirr(ben - capex - om),
        bcr=pv_ben / cost_pv if cost_pv > 0 else math.inf,
        expected_cost_usd=m_mean * project.cost_usd,
        cost_multiplier_mean=m_mean,
        benefit_ratio_mean=k_mean,
        discount_rate=rate,
    )


def appraise_pipeline(projects: Sequence[Project], *, rate: float = DEFAULT_SOCIAL_DISCOUNT_RATE,
                      n_draws: int = DEFAULT_APPRAISAL_DRAWS, seed: int = DEFAULT_APPRAISAL_SEED
                      ) -> dict[str, ProjectAppraisal]:
    """Appraise every project; project i's draws come from the stream ``default_rng([seed, i])`` so a project's
    spread does not change when others are added after it."""
    if n_draws < 1:
        raise AppraisalError(f"appraisal draws: must be at least 1 (got {n_draws})")
    _check_rate(rate)
    out: dict[str, ProjectAppraisal] = {}
    for i, p in enumerate(projects):
        z = np.random.default_rng([seed, i]).standard_normal((2, n_draws))
        out[p.id] = appraise(p, rate=rate, draws=z)
    return out
