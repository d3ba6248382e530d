"""Credit facts of each tranche on a path, measured as a rating agency's cash-flow model measures them.

A tranche promises interest at its coupon on its principal outstanding and all principal by its legal final date.
Its risk horizon ends at its **legal final period** ``L`` (the period that ends on the legal final date):

* it **defaults** in the first period ``t <= L`` in which its own interest has been unpaid for more than
  ``triggers.default_grace_periods`` consecutive periods, or at ``L`` if principal or interest is still owed then;
* its **loss** is the present value at the coupon of what was promised and not received by ``L``, as a share of
  its size: ``1 - Σ_{t <= L} (interest_t + principal_t) v^(t + 1 - t_issue) / size``, ``v = 1 / (1 + c / ppy)``
  (the promised flows are worth exactly ``size`` at the coupon; default interest received by ``L`` counts, so a
  negative figure is reported as 0);
* **unpaid at the legal final**: principal outstanding plus interest arrears at the end of ``L``;
* **recovered after the legal final**: everything paid after ``L`` (nominal), reported beside the loss and never
  netted against it;
* **WAL**: years from issue to each principal payment up to ``L``, weighted by the principal paid, with the
  principal unpaid at ``L`` counted at ``L`` (so the WAL, like PD and EL, does not depend on the horizon once every
  legal final is inside it).

The per-path numbers are computed by the compiled ``naef.engine.kernel.tranche_and_path_metrics`` (and
independently by the oracle ``naef.engine.montecarlo_reference``); this module gives them to the deterministic run
and to the stress replays, and turns one path's row into typed facts.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from naef.engine.kernel import PATH_COL, TRANCHE_COL, tranche_and_path_metrics
from naef.engine.metrics import (
    N_METRICS_PATH,
    N_METRICS_TRANCHE,
    T_AFTER_LF,
    T_DEFAULT,
    T_DEFAULT_AT,
    T_LOSS,
    T_UNPAID_LF,
    T_WAL,
)
from naef.engine.timegrid import TimeGrid
from naef.engine.waterfall import WaterfallResult, WaterfallSpec, spec_arrays

__all__ = [
    "MetricArrays",
    "TrancheCredit",
    "finite_or_none",
    "horizon_end_date",
    "metric_arrays",
    "period_end_date",
    "period_start_date",
    "tranche_credit",
    "waterfall_metrics",
]

Array = NDArray[np.float64]

@dataclass(frozen=True)
class MetricArrays:
    """What the per-path metrics need besides the waterfall: each tranche's discount factors at its coupon
    (tranches, periods), period ends and issue dates in years, own and senior-inclusive scheduled debt service
    (tranches, periods), and the MDF's discount factors (periods,)."""

    tranche_discount: Array
    t_end_years: Array
    t_issue_years: Array
    own_ds_usd: Array
    senior_ds_usd: Array
    mdf_discount: Array

    def as_kernel_args(self) -> tuple[Array, ...]:
        """The positional arrays of ``naef.engine.kernel.monte_carlo_kernel`` after the spec."""
        return (self.tranche_discount, self.t_end_years, self.t_issue_years, self.own_ds_usd, self.senior_ds_usd,
                self.mdf_discount)


def metric_arrays(*, grid: TimeGrid, spec: WaterfallSpec, discount_rate: float) -> MetricArrays:
    """The arrays of :class:`MetricArrays` for a spec on its grid; ``discount_rate`` is the MDF's (annual)."""
    n = grid.n
    trs = spec.tranches
    steps = np.arange(n, dtype=np.float64)
    discount = np.array([(1.0 + t.rate_per_period) ** -(steps + 1.0 - t.issue_period) for t in trs])
    own = np.array([t.debt_service_from_collections_usd for t in trs])
    senior = np.array([sum((s.debt_service_from_collections_usd for s in trs if s.seniority <= t.seniority),
                           np.zeros(n)) for t in trs])
    return MetricArrays(
        tranche_discount=np.ascontiguousarray(discount),
        t_end_years=np.ascontiguousarray(grid.t_end_years, dtype=np.float64),
        t_issue_years=np.array([grid.t_start_years[t.issue_period] for t in trs], dtype=np.float64),
        own_ds_usd=np.ascontiguousarray(own),
        senior_ds_usd=np.ascontiguousarray(senior),
        mdf_discount=np.ascontiguousarray((1.0 + discount_rate) ** -grid.t_end_years),
    )


def waterfall_metrics(spec: WaterfallSpec, arrays: MetricArrays, wf: WaterfallResult) -> tuple[Array, Array]:
    """The Monte Carlo's per-path metrics of every path of a waterfall result (the same compiled function):
    (paths, tranches, N_METRICS_TRANCHE) and (paths, N_METRICS_PATH); the hedge column of the latter is 0."""
    sa = spec_arrays(spec)
    issue, size, legal = sa[0], sa[1], sa[5]
    n_paths = wf.path["to_mdf_usd"].shape[0]
    nt = len(spec.tranches)
    path_names = sorted(PATH_COL, key=PATH_COL.__getitem__)
    tranche_names = sorted(TRANCHE_COL, key=TRANCHE_COL.__getitem__)
    mt = np.zeros((n_paths, nt, N_METRICS_TRANCHE))
    mp = np.zeros((n_paths, N_METRICS_PATH))
    for p in range(n_paths):
        pout = np.ascontiguousarray(np.stack([wf.path[c][p] for c in path_names]))
        tout = np.ascontiguousarray(np.stack([wf.tranche[c][:, p] for c in tranche_names]))
        tranche_and_path_metrics(pout, tout, size, issue, legal, *arrays.as_kernel_args(),
                                 int(spec.default_grace_periods), mt[p], mp[p])
    return mt, mp


def horizon_end_date(grid: TimeGrid) -> dt.date:
    """The day after the horizon: the last period's start plus one period (``12 / periods_per_year`` months)."""
    last = grid.starts[-1]
    total = last.year * 12 + last.month - 1 + 12 // grid.periods_per_year
    return dt.date(total // 12, total % 12 + 1, 1)


def period_end_date(grid: TimeGrid, period: int) -> str:
    """The ISO date on which ``period`` ends (the next period's start, or the horizon's end)."""
    if period + 1 < grid.n:
        return grid.starts[period + 1].isoformat()
    return horizon_end_date(grid).isoformat()


def period_start_date(grid: TimeGrid, period: float) -> str | None:
    """The ISO date on which ``period`` starts; ``None`` outside the grid (the metrics' ``-1``: never)."""
    k = int(period)
    return grid.starts[k].isoformat() if 0 <= k < grid.n else None


def finite_or_none(x: float) -> float | None:
    """``x`` as a float, or ``None`` where it is not a finite number (JSON has no NaN or infinity)."""
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True)
class TrancheCredit:
    """One tranche's credit facts on one path (definitions in the module docstring). ``default_date`` is the
    start of the period of default (``None``: no default)."""

    name: str
    legal_final_date: str
    defaulted: bool
    default_date: str | None
    loss: float
    unpaid_at_legal_final_usd: float
    recovered_after_legal_final_usd: float
    wal_years: float | None

    def as_dict(self) -> dict[str, object]:
        """The facts as JSON-ready keys."""
        return {
            "legal_final_date": self.legal_final_date,
            "defaulted": self.defaulted,
            "default_date": self.default_date,
            "loss": self.loss,
            "unpaid_at_legal_final_usd": self.unpaid_at_legal_final_usd,
            "recovered_after_legal_final_usd": self.recovered_after_legal_final_usd,
        }


def tranche_credit(grid: TimeGrid, spec: WaterfallSpec, mt: Array) -> list[TrancheCredit]:
    """Typed facts of each tranche (payment order) from one path's metrics ``mt`` (tranches, N_METRICS_TRANCHE)."""
    out = []
    for j, sch in enumerate(spec.tranches):
        out.append(TrancheCredit(
            name=sch.name,
            legal_final_date=period_end_date(grid, spec.legal_finals[j]),
            defaulted=bool(mt[j, T_DEFAULT] > 0.5),
            default_date=period_start_date(grid, float(mt[j, T_DEFAULT_AT])),
            loss=float(mt[j, T_LOSS]),
            unpaid_at_legal_final_usd=float(mt[j, T_UNPAID_LF]),
            recovered_after_legal_final_usd=float(mt[j, T_AFTER_LF]),
            wal_years=finite_or_none(float(mt[j, T_WAL])),
        ))
    return out
