"""The demonstration ledger (``naef ledger demo``): several years of the baseline's operations, signed with
public demo keys.

It lives outside :mod:`naef.ledger` because its default figures come from the simulator
(:func:`naef.demo.figures.baseline_figures`); the ledger package itself never imports the engine.
"""

from __future__ import annotations

from naef.demo.bods import demo_bods_statements, payee_statement
from naef.demo.figures import DemoFigures, Issuance, Payment, Quarter, baseline_figures, illustrative_figures
from naef.demo.keys import DEMO_LOG_KEY_NAME, DEMO_SEED, DEMO_STAKEHOLDERS, demo_governance, demo_key
from naef.demo.ledger import DemoReport, run_demo

__all__ = [
    "DEMO_LOG_KEY_NAME",
    "DEMO_SEED",
    "DEMO_STAKEHOLDERS",
    "DemoFigures",
    "DemoReport",
    "Issuance",
    "Payment",
    "Quarter",
    "baseline_figures",
    "demo_bods_statements",
    "demo_governance",
    "demo_key",
    "illustrative_figures",
    "payee_statement",
    "run_demo",
]
