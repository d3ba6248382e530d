"""The columns of the Monte Carlo kernel's per-path results: the one place that names them.

The compiled kernel (``naef.engine.kernel.tranche_and_path_metrics``) and its oracle
(``naef.engine.montecarlo_reference``) write each path's metrics into two arrays: per tranche
``(paths, tranches, N_METRICS_TRANCHE)`` and per path ``(paths, N_METRICS_PATH)``. Every reader (summaries, stress,
sizing, sensitivity) indexes them with the constants below, never with bare numbers. The definitions of the
metrics are in the ``naef.engine.montecarlo`` docstring.
"""

from __future__ import annotations

__all__ = [
    "BLOCK_PATHS",
    "HIST_VARIABLES",
    "N_BINS",
    "N_METRICS_PATH",
    "N_METRICS_TRANCHE",
    "PERCENTILES",
    "P_COLL",
    "P_EOD",
    "P_EOD_AT",
    "P_GAP",
    "P_HEDGE",
    "P_MDF",
    "P_MDF_PV",
    "P_MIN_DSCR",
    "T_AFTER_LF",
    "T_DEFAULT",
    "T_DEFAULT_AT",
    "T_LOSS",
    "T_MIN_DSCR",
    "T_UNPAID_LF",
    "T_WAL",
]

#: per-tranche metrics of a path (each tranche's risk horizon ends at its legal final ``L``; definitions in
#: ``naef.engine.credit``): defaulted (0/1), period of default (-1 if none), loss (share of size: PV at the coupon of
#: what was promised and not received by ``L``), WAL (years, to ``L``), minimum DSCR (senior-inclusive, over the
#: tranche's debt-service periods), principal and interest unpaid at ``L`` (US$), principal and interest paid after
#: ``L`` (US$, nominal; never netted against the loss)
T_DEFAULT, T_DEFAULT_AT, T_LOSS, T_WAL, T_MIN_DSCR, T_UNPAID_LF, T_AFTER_LF = range(7)
N_METRICS_TRANCHE = 7
#: per-path metrics: MDF inflows nominal, MDF inflows PV, event of default (0/1), its period (-1), minimum DSCR,
#: collections, capex funded by PEMEX, hedge payoff net of premium paid from collections
P_MDF, P_MDF_PV, P_EOD, P_EOD_AT, P_MIN_DSCR, P_COLL, P_GAP, P_HEDGE = range(8)
N_METRICS_PATH = 8

#: paths per random-number block (the unit of the random streams; chunks are any number of paths)
BLOCK_PATHS = 256
#: bins of the per-period histograms (plus one at or below the range's bottom and one above its top)
N_BINS = 2000
#: percentiles written by period into percentiles.csv
PERCENTILES = (5, 10, 25, 50, 75, 90, 95)
#: variables histogrammed by period: name, unit
HIST_VARIABLES = (
    ("benchmark_usd_per_bbl", "US$/bbl"),
    ("collections_usd", "US$"),
    ("dscr", "x"),
    ("to_mdf_usd", "US$"),
    ("production_boe_per_day", "boe/d"),
)
