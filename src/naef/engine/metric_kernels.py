"""The per-path metrics' steps (Numba): a tranche's running figures from its columns, period by period
(``naef.engine.path_kernels.tranche_and_path_metrics``: the deterministic run, the stress replays, and the
reference the Monte Carlo is held to), and its metrics row from them (:func:`tranche_finish`, also the Monte
Carlo's: ``naef.engine.waterfall_lanes`` keeps the same running figures for many paths at once, with the same
arithmetic in the same order, and ``tests/engine/test_waterfall_lanes.py`` holds the two bit for bit).

A tranche's running figures live in one row of an accumulator array (``A_*`` positions): each period calls
:func:`tranche_period` with that period's interest paid, principal paid, interest unpaid and principal
outstanding, in increasing period order. A period in which a tranche has nothing paid, owed or outstanding adds
``±0.0`` (a zero payment times a finite discount factor or year fraction) to each sum, which changes nothing:
``x + (±0.0) == x`` bit for bit for every ``x`` but ``-0.0``, and none of these sums can be ``-0.0`` (each starts
at ``+0.0``, and in round-to-nearest a sum is ``-0.0`` only when both addends are); it also leaves the default run
at zero.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "A_DEFAULT_AT",
    "N_ACC",
    "start_tranches",
    "tranche_finish",
    "tranche_period",
]

#: positions in a tranche's accumulator row: PV of what was paid up to the legal final period ``L``, WAL numerator
#: and denominator, money paid after ``L``, the current run of periods with interest unpaid, the period of
#: default (-1: none), principal outstanding and interest unpaid at the end of ``L``
A_PV, A_WAL_NUM, A_WAL_DEN, A_LATER, A_RUN, A_DEFAULT_AT, A_PO_LF, A_IS_LF = range(8)
N_ACC = 8


@njit(cache=True, error_model="numpy")
def start_tranches(acc: np.ndarray) -> None:
    """Every tranche's accumulators before its first period: sums zero, no default (``A_DEFAULT_AT`` = -1)."""
    for j in range(acc.shape[0]):
        for k in range(acc.shape[1]):
            acc[j, k] = 0.0
        acc[j, A_DEFAULT_AT] = -1.0


@njit(cache=True, error_model="numpy")
def tranche_period(
    acc: np.ndarray, j: int, t: int, interest_paid: float, principal_paid: float, interest_unpaid: float,
    principal_outstanding: float, legal_final: int, discount: float, t_end_years: float, t_issue_years: float,
    tol: float, default_grace: int,
) -> None:
    """One period ``t`` of tranche ``j`` into its accumulator row ``acc[j]`` (indexed in place, no row view made
    per call). Up to the legal final period ``L``: PV += paid × discount, WAL numerator += (t_end - t_issue) ×
    principal paid, denominator += principal paid; default at the first ``t`` where interest has been unpaid
    (above ``tol``) for more than ``default_grace`` periods in a row, or anything is owed at the end of ``L``.
    After ``L``: the money paid is added apart."""
    paid = interest_paid + principal_paid
    if t <= legal_final:
        acc[j, A_PV] += paid * discount
        acc[j, A_WAL_NUM] += (t_end_years - t_issue_years) * principal_paid
        acc[j, A_WAL_DEN] += principal_paid
        if acc[j, A_DEFAULT_AT] < 0:
            acc[j, A_RUN] = acc[j, A_RUN] + 1.0 if interest_unpaid > tol else 0.0
            if acc[j, A_RUN] > default_grace or (t == legal_final and principal_outstanding + interest_unpaid > tol):
                acc[j, A_DEFAULT_AT] = t
        if t == legal_final:
            acc[j, A_PO_LF] = principal_outstanding
            acc[j, A_IS_LF] = interest_unpaid
    else:
        acc[j, A_LATER] += paid


@njit(cache=True, error_model="numpy")
def tranche_finish(a: np.ndarray, size: float, wal_weight_lf: float, min_dscr: float, mt: np.ndarray) -> None:
    """A tranche's metrics row ``mt`` from its accumulators: default flag and period, loss ``1 - PV / size``
    (zero below 1e-9), WAL with the principal unpaid at ``L`` counted at ``L`` (``wal_weight_lf`` = its time
    from issue in years), minimum DSCR, amount owed at the end of ``L``, money paid after ``L``."""
    unpaid_p = a[A_PO_LF]
    wal_num = a[A_WAL_NUM] + wal_weight_lf * unpaid_p
    wal_den = a[A_WAL_DEN] + unpaid_p
    loss = 1.0 - a[A_PV] / size
    default_at = a[A_DEFAULT_AT]
    mt[0] = 1.0 if default_at >= 0 else 0.0
    mt[1] = default_at
    mt[2] = loss if loss > 1e-9 else 0.0
    mt[3] = wal_num / wal_den if wal_den > 0 else np.nan
    mt[4] = min_dscr
    mt[5] = unpaid_p + a[A_IS_LF]
    mt[6] = a[A_LATER]
