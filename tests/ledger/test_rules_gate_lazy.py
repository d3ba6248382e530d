"""The control system's gate is installed whenever a ledger appends a governed entry, even though importing
``naef.ledger`` (or one of its modules) no longer loads the approvals service: the log loads it itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GATE_CHECK = """
import sys
from naef.ledger import transaction as log
from naef.ledger.errors import LedgerError
from naef.ledger.keys import generate_key
from naef.ledger.log import Ledger

assert "naef.ledger.approvals.service" not in sys.modules, "the service was loaded before any append"
assert log._RULES is None
ledger = Ledger.init({url!r}, generate_key("log"))
roles = {{"mx-1": "mexican_board", "mx-2": "mexican_board", "na-1": "north_american_board",
         "na-2": "north_american_board", "controller": "independent_controller", "registrar": "registrar"}}
stakeholders = [{{"name": n, "role": r, "public_key": generate_key(n).verifier().encode()}} for n, r in roles.items()]
ledger.append("governance_registered", {{"stakeholders": stakeholders}})
assert log._RULES is not None, "the gate was not installed by the append"
assert "naef.ledger.approvals.service" in sys.modules
try:
    ledger.append("disbursement_executed", {{"proposal_id": "P-1"}})
except LedgerError as exc:
    print("refused:", exc)
else:
    raise SystemExit("an execution without a proposal went in")
"""


def test_a_governed_append_installs_the_rules_gate_first(tmp_path: Path) -> None:
    """In a fresh interpreter that imports only the log: the first governed append loads the rules, and the gate
    then refuses what the rules refuse (an execution of a proposal that does not exist)."""
    code = GATE_CHECK.format(url=f"sqlite:///{tmp_path / 'ledger.db'}")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused:"), done.stdout
    assert "not installed" not in done.stdout
