"""The ledger stands alone (issue 16 item 3): importing it loads no numerical stack and nothing of the engine."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "scipy", "pandas", "numba")


@pytest.mark.parametrize(
    "module",
    ["naef.ledger", "naef.ledger.approvals", "naef.ledger.bods", "naef.ledger.merkle", "naef.ledger.audit"],
)
def test_importing_the_ledger_loads_no_numerical_stack(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{HEAVY!r} or m.startswith(('naef.engine', 'naef.analysis', 'naef.scenario', 'naef.demo')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import {module} loaded: {out.stdout.strip()}"
