"""Fixtures of the disclosure tests: demo ledgers (built once per session and only read), the demo log key, the
official schemas (``tests/data/``) and a helper that builds small ledgers signed with the demo log key."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from naef.commands.ledger import ledger_app
from naef.commands.ledger_ops import register
from naef.demo import DEMO_LOG_KEY_NAME, demo_key, illustrative_figures, run_demo
from naef.disclosure.common import ExportCheckpoint
from naef.ledger import government_payments  # noqa: F401  (registers the government_payment entry type)
from naef.ledger.keys import SignerKey, VerifierKey
from naef.ledger.log import Ledger, StoredEntry
from tests import data_paths

IATI_DIR = data_paths.IATI_DIR
OC4IDS_DIR = data_paths.OC4IDS_DIR


@pytest.fixture(scope="session")
def log_signer() -> SignerKey:
    """The demo log key (public seed: demo only)."""
    return demo_key(DEMO_LOG_KEY_NAME)


@pytest.fixture(scope="session")
def log_vkey(log_signer: SignerKey) -> VerifierKey:
    """The demo log's verifier key."""
    return log_signer.verifier()


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``naef ledger demo URL`` with its defaults (five years of the baseline's deterministic run); read only."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    register(ledger_app)
    result = CliRunner().invoke(ledger_app, ["demo", str(path)])
    assert result.exit_code == 0, result.output
    return str(path)


@pytest.fixture(scope="session")
def illustrative_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo with its illustrative figures (these pay a residual to the MDF every quarter); read only."""
    path = tmp_path_factory.mktemp("illustrative") / "demo.db"
    run_demo(str(path), figures=illustrative_figures(years=3), years=3)
    return str(path)


def read_ledger(url: str, types: frozenset[str] | None = None) -> tuple[list[StoredEntry], ExportCheckpoint]:
    """The entries (of ``types``) up to the latest checkpoint, and that checkpoint."""
    with Ledger.open(url) as ledger:
        cp = ledger.latest_checkpoint()
        assert cp is not None
        entries = [e for e in ledger.entries(end=cp.size) if types is None or e.type in types]
        return entries, ExportCheckpoint(ledger.origin, cp.size, cp.root_hash, cp.note)


LedgerFactory = Callable[[str, Sequence[tuple[str, dict[str, Any]]]], str]


@pytest.fixture
def make_ledger(tmp_path: Path, log_signer: SignerKey) -> LedgerFactory:
    """``make_ledger(name, entries)``: a new SQLite ledger signed by the demo log key with ``entries`` appended
    (``("checkpoint", {})`` items sign a checkpoint there); returns its path."""

    def build(name: str, items: Sequence[tuple[str, dict[str, Any]]]) -> str:
        url = str(tmp_path / f"{name}.db")
        with Ledger.init(url, log_signer.verifier()) as ledger:
            for n, (kind, payload) in enumerate(items):
                if kind == "checkpoint":
                    ledger.checkpoint(log_signer)
                else:
                    ledger.append(kind, payload, time=f"2031-01-01T00:00:{n % 60:02d}Z")
        return url

    return build


@dataclass(frozen=True)
class DemoLayout:
    """Where things are in the demo ledger (read from it, so the tests follow the demo's figures)."""

    size: int  # the latest checkpoint's size
    sizes: tuple[int, ...]  # the stored checkpoints' sizes, oldest first
    proposed: Mapping[str, int]  # proposal id -> index of its disbursement_proposed entry
    executed: Mapping[str, int]  # proposal id -> index of its disbursement_executed entry
    paid_on: Mapping[str, str]  # proposal id -> date of its "disbursement ... paid" milestone
    entries: Mapping[str, tuple[int, ...]]  # proposal id -> indexes of its entries, proposal to milestone


@pytest.fixture(scope="session")
def demo_layout(demo_url: str) -> DemoLayout:
    with Ledger.open(demo_url) as ledger:
        sizes = tuple(sorted(cp.size for cp in ledger.checkpoints()))
        entries = list(ledger.entries())
    proposed: dict[str, int] = {}
    executed: dict[str, int] = {}
    paid_on: dict[str, str] = {}
    spans: dict[str, list[int]] = {}
    for e in entries:
        if e.type == "disbursement_proposed":
            pid = e.payload["proposal"]["proposal_id"]
            proposed[pid] = e.index
        elif e.type == "disbursement_executed":
            executed[e.payload["proposal_id"]] = e.index
        elif e.type == "project_milestone" and str(e.payload["milestone"]).startswith("disbursement "):
            pid = str(e.payload["milestone"]).split()[1]
            paid_on[pid] = e.payload["on"]
            spans[pid] = list(range(proposed[pid], e.index + 1))
    return DemoLayout(sizes[-1], sizes, proposed, executed, paid_on, {k: tuple(v) for k, v in spans.items()})
