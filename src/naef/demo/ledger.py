"""``naef ledger demo URL``: a ledger filled with several years of the baseline's operations.

What it writes, in order and with entry times on the quarter-end dates (so two runs give the same tree):

* the governance (demo stakeholders: two Mexican and two North American board members, the independent
  controller, an observer) and the witnesses (controller and observer cosign checkpoints);
* the NAEF securities issued in the demo window, then every quarter: revenue collected and the waterfall
  payments (fees, interest and principal by tranche, reserve deposits, the residual to the MDF);
* every payment of the waterfall to the MDF as an ``mdf_receipt`` signed by the controller (the MDF spends only
  what it received: a disbursement waits for the money; with the baseline's figures the MDF receives its
  first residual in year 6, so the default demo covers 7 years);
* beneficial-ownership statements (BODS 0.4, fictional companies; signed by the controller) and a board
  member's signed declaration of interest;
* MDF disbursements: proposals, approvals, executions — one approval refused for a conflict of interest found
  through a two-step ownership chain, one disbursement flagged by the benchmark and executed only after the
  controller's justification — and project milestones;
* a signed checkpoint at each year end, cosigned by the witnesses.

The keys are **demo keys**, derived from a fixed public seed: anyone can recompute them. They show how the
system works; they must never sign anything real.

Figures come from :class:`DemoFigures`: :func:`baseline_figures` takes them from the deterministic run of the
shipped baseline scenario (``naef.engine.simulate``); :func:`illustrative_figures` gives fixed illustrative
numbers that need no engine; any sequence of quarters can be passed.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from naef.demo.bods import demo_bods_statements
from naef.demo.figures import DemoFigures, Quarter, baseline_figures, usd
from naef.demo.keys import (
    DEMO_LOG_KEY_NAME,
    REGISTRAR,
    WITNESSES,
    demo_governance,
    demo_key,
    demo_public_keys,
)
from naef.ledger.approvals import (
    ApprovalRefusedError,
    DisbursementProposal,
    MdfReceipt,
    Procurement,
    approve,
    declare_interest,
    execute,
    import_bods,
    propose,
    record_receipt,
    register_governance,
    sign_approval,
    sign_declaration,
    sign_proposal,
    sign_receipt,
)
from naef.ledger.benchmarking import UnitCostClaim
from naef.ledger.errors import LedgerError
from naef.ledger.interests import InterestDeclaration
from naef.ledger.keys import SIG_COSIGNATURE_V1
from naef.ledger.log import Ledger
from naef.ledger.staging import build_atomically, default_file_mode
from naef.ledger.store import normalize_url

__all__ = ["DEMO_PEMEX_ID", "DemoReport", "run_demo"]

DEMO_PEMEX_ID = "XE-EXAMPLE-PEMEX"
"""The payer's organisation identifier on the demo's collections (illustrative: ``XE-EXAMPLE`` is org-id.guide's
prefix for examples; a real ledger records PEMEX's registered identifier, e.g. ``MX-RFC-…``)."""

# ----------------------------------------------------------------------------------------------- run


@dataclass
class DemoReport:
    """What the demo wrote."""

    url: str
    figures_source: str
    size: int = 0
    root_hash_hex: str = ""
    checkpoints: int = 0
    executed: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    key_files: list[Path] = field(default_factory=list)  # the log's public key first, then the witnesses'

    def verify_commands(self, bundle: str = "demo-bundle") -> list[str]:
        """The commands that publish a bundle of this ledger and check it offline with the keys written."""
        if not self.key_files:
            return []
        log_pub, *witnesses = (shlex.quote(str(p)) for p in self.key_files)
        check = f"naef verify-bundle {bundle} --key {log_pub}" + "".join(f" --witness {w}" for w in witnesses)
        return [f"naef disclose iati --ledger {shlex.quote(self.url)} --out {bundle}", check]

    def lines(self) -> list[str]:
        """Human-readable summary (printed by the CLI)."""
        keys = [f"public key of the log: {self.key_files[0]}"] if self.key_files else []
        keys += [f"public key of witness {p.stem}: {p}" for p in self.key_files[1:]]
        commands = self.verify_commands()
        check = ["publish a bundle and check it offline:", *[f"  {c}" for c in commands]] if commands else []
        return [
            f"demo ledger {self.url}: {self.size} entries, root {self.root_hash_hex}",
            f"figures: {self.figures_source}",
            f"checkpoints: {self.checkpoints}, cosigned by {', '.join(WITNESSES)}",
            f"disbursements executed: {', '.join(self.executed) or 'none'}",
            f"benchmark flags: {', '.join(self.flagged) or 'none'}",
            *[f"refused: {r}" for r in self.refusals],
            *keys,
            *check,
            "KEYS: these are DEMO keys derived from a public fixed seed (naef.demo.DEMO_SEED); "
            "anyone can recompute them — never use them for real money.",
        ]


@dataclass(frozen=True)
class _Plan:
    """One demo disbursement, at the end of quarter ``at``."""

    at: int
    proposal: DisbursementProposal
    approvers: tuple[str, ...]
    justification: str | None = None


def _plans(n_quarters: int) -> list[_Plan]:
    def p(
        pid: str,
        payee: str,
        payee_name: str,
        amount: int,
        project: str,
        purpose: str,
        proposer: str,
        claim: tuple[str, str, float, int],
        procured: tuple[str, int, str, str] | None = None,
    ) -> DisbursementProposal:
        ptype, unit, quantity, cost = claim
        # ILLUSTRATIVE procurement facts (method, tenderers, contract period) of the fictional contracts
        procurement = (
            Procurement.model_validate(
                dict(zip(("method", "number_of_tenderers", "contract_start", "contract_end"), procured, strict=True))
            )
            if procured is not None
            else None
        )
        return DisbursementProposal(
            proposal_id=pid,
            payee=payee,
            payee_name=payee_name,
            amount_usd=usd(amount),
            project_id=project,
            purpose=purpose,
            proposer=proposer,
            unit_cost=UnitCostClaim(
                project_type=ptype, unit=unit, quantity=quantity, contract_cost_usd=usd(cost)
            ),
            procurement=procurement,
        )

    plans = [
        _Plan(
            1,
            p(
                "MDF-0001",
                "demo-autopistas-sur",
                "Autopistas del Sur SA (fictional)",
                60_000_000,
                "road-oaxaca-coast",
                "first tranche: 120 lane-km of two-lane coastal road",
                "mx-board-1",
                ("road_new_two_lane", "lane_km", 120, 180_000_000),
                ("open", 5, "2027-09-01", "2030-08-31"),
            ),
            ("na-board-1", "mx-board-2", "controller"),
        ),
        _Plan(
            3,
            p(
                "MDF-0002",
                "demo-constructora",
                "Constructora Ejemplo SA de CV (fictional)",
                150_000_000,
                "port-veracruz-terminal",
                "container terminal expansion, 800,000 TEU/year",
                "mx-board-2",
                ("seaport_container_terminal", "teu_per_year", 800_000, 480_000_000),
                ("open", 3, "2028-01-15", "2031-12-31"),
            ),
            ("na-board-1", "na-board-2", "mx-board-1", "controller"),  # na-board-1 is refused: conflict
        ),
        _Plan(
            5,
            p(
                "MDF-0003",
                "demo-escuelas-norte",
                "Escuelas del Norte SA (fictional)",
                45_000_000,
                "schools-chihuahua",
                "12 secondary schools, 6,000 student places",
                "mx-board-1",
                ("school_construction", "student_place", 6_000, 180_000_000),
                ("selective", 4, "2028-06-01", "2030-05-31"),
            ),
            ("mx-board-2", "na-board-2", "controller"),
            "remote sierra sites: materials flown in; cost reviewed against two independent estimates",
        ),
        _Plan(
            7,
            p(
                "MDF-0004",
                "demo-fondo-becas",
                "Fondo de Becas Ejemplo AC (fictional)",
                12_000_000,
                "scholarships-2029",
                "4,000 one-year scholarships in migrant-sending states",
                "mx-board-2",
                ("scholarship", "student_year", 4_000, 12_000_000),
            ),
            ("mx-board-1", "na-board-1", "controller"),
        ),
    ]
    return [plan for plan in plans if plan.at < n_quarters]


def _stamp(d: date, seconds: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, 23, 0, 0, tzinfo=UTC) + timedelta(seconds=seconds)


def run_demo(
    url: str,
    *,
    figures: DemoFigures | Callable[[], DemoFigures] | None = None,
    years: int = 7,
    schema_dir: Path | None = None,
    keys_dir: Path | None = None,
) -> DemoReport:
    """Build the demo ledger at ``url`` — completely, or not at all — and write its public keys.

    The ledger is built in a staging database beside the target and moved into place at once
    (:func:`naef.ledger.staging.build_atomically`); a failure leaves neither a ledger nor a key file behind. The
    target must not exist, be an empty file or hold an empty ledger. The public keys of the log (Ed25519) and of
    the witnesses (``cosignature/v1``) are written as ``NAME.pub`` files (as ``naef keys new`` writes them) into
    ``keys_dir`` (default: the SQLite file's folder, or the working folder for PostgreSQL). ``figures``
    defaults to :func:`~naef.demo.figures.baseline_figures` (``years`` years).
    """
    if years < 2:
        raise LedgerError("--years: the demo needs at least 2 years")
    chosen = (
        figures
        if isinstance(figures, DemoFigures)
        else (figures or (lambda: baseline_figures(years=years)))()
    )
    if len(chosen.quarters) < 8:
        raise LedgerError(f"figures: the demo needs at least 8 quarters, got {len(chosen.quarters)}")
    folder = keys_dir if keys_dir is not None else _default_keys_dir(url)
    public = demo_public_keys()
    for name in public:
        _check_key_file(folder / name, public[name])
    written: list[Path] = []

    def build(staging_url: str) -> DemoReport:
        report = _fill(staging_url, chosen, schema_dir)
        for name, text in public.items():  # inside the build: if writing a key fails, no ledger is moved in
            path = folder / name
            if not path.exists():
                _write_atomically(path, text)
                written.append(path)
            report.key_files.append(path)
        return report

    try:
        report = build_atomically(url, build)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    report.url = url
    return report


def _default_keys_dir(url: str) -> Path:
    full = normalize_url(url)
    if full.startswith("sqlite:///"):
        return Path(full.removeprefix("sqlite:///")).parent
    return Path(".")


def _check_key_file(path: Path, text: str) -> None:
    """A key file already there must hold exactly this key (the demo keys are fixed); else refuse up front."""
    if not path.exists():
        if not path.parent.is_dir():
            raise LedgerError(f"--keys-dir: {path.parent} is not a folder")
        return
    try:
        current = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"{path}: exists and cannot be read ({exc})") from None
    if current != text:
        raise LedgerError(f"{path}: exists and holds another key; not overwriting a key")


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, default_file_mode())  # a public key is readable like any new file (mkstemp makes 0600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fill(url: str, chosen: DemoFigures, schema_dir: Path | None) -> DemoReport:
    """Fill the fresh ledger at ``url`` (the staging database) with the demo's operations."""
    quarters: Sequence[Quarter] = chosen.quarters
    log_key = demo_key(DEMO_LOG_KEY_NAME)
    report = DemoReport(url=url, figures_source=chosen.source)
    with Ledger.init(url, log_key) as ledger:
        t0 = _stamp(quarters[0].end - timedelta(days=95))
        register_governance(ledger, demo_governance(), time=t0)
        for name in WITNESSES:
            ledger.add_witness(demo_key(name).verifier(SIG_COSIGNATURE_V1))
        for issue in chosen.issuances:
            ledger.append(
                "securities_issued",
                {
                    "tranche": issue.tranche,
                    "amount_usd": str(issue.amount_usd),
                    "coupon_rate": str(issue.coupon_rate),
                    "issue_date": issue.issue_date.isoformat(),
                    "maturity_date": issue.maturity_date.isoformat(),
                },
                time=_stamp(issue.issue_date),
            )
        bods_on = quarters[0].end
        import_bods(
            ledger,
            demo_bods_statements(on=bods_on),
            signer=demo_key(REGISTRAR),
            schema_dir=schema_dir,
            time=_stamp(bods_on, 1),
        )
        declaration = InterestDeclaration(
            declarant="na-board-1",
            party="demo-person-ana",
            party_name="Ana Ejemplo (fictional)",
            nature="spouse",
            declared_on=bods_on,
        )
        declare_interest(ledger, sign_declaration(declaration, demo_key("na-board-1")), time=_stamp(bods_on, 2))
        waiting = list(_plans(len(quarters)))
        balance = Decimal("0.00")
        for qi, quarter in enumerate(quarters):
            t = _stamp(quarter.end)
            batch: list[tuple[str, dict[str, Any]]] = [
                (
                    "revenue_collected",
                    {"period": quarter.period, "amount_usd": str(quarter.collections_usd), "source": "PEMEX",
                     "source_id": DEMO_PEMEX_ID},
                )
            ]
            for pay in quarter.payments:
                payload: dict[str, Any] = {
                    "period": quarter.period,
                    "step": pay.step,
                    "payee": pay.payee,
                    "amount_usd": str(pay.amount_usd),
                }
                if pay.tranche:
                    payload["tranche"] = pay.tranche
                batch.append(("waterfall_payment", payload))
            ledger.append_batch(batch, time=t)
            for n, pay in enumerate(p for p in quarter.payments if p.step == "mdf_residual"):
                receipt = MdfReceipt(
                    receipt_id=f"RCPT-{quarter.period}-{n + 1}",
                    period=quarter.period,
                    amount_usd=pay.amount_usd,
                    source="NAEF waterfall: residual to the MDF",
                    recorder=REGISTRAR,
                )
                record_receipt(ledger, sign_receipt(receipt, demo_key(REGISTRAR)), time=_stamp(quarter.end, 5))
                balance += pay.amount_usd
            last = qi == len(quarters) - 1
            # the queue is first-in-first-out: a disbursement waits until the MDF holds the money, and the ones
            # behind it wait too, so the narrative keeps its order (MDF-0001, 0002, ...). On the last quarter the
            # remaining ones are tried regardless, and an execution is refused for insufficient funds: the demo
            # shows that rule too
            while waiting and waiting[0].at <= qi and (waiting[0].proposal.amount_usd <= balance or last):
                plan = waiting.pop(0)
                if _disburse(ledger, plan, quarter, report):
                    balance -= plan.proposal.amount_usd
            if (qi + 1) % 4 == 0 or qi == len(quarters) - 1:
                ledger.checkpoint(log_key)
                stamp = int(_stamp(quarter.end, 600).timestamp())
                for name in WITNESSES:
                    ledger.cosign(demo_key(name), timestamp=stamp)
                report.checkpoints += 1
        report.size = ledger.size()
        report.root_hash_hex = ledger.root_hash().hex()
    return report


def _disburse(ledger: Ledger, plan: _Plan, quarter: Quarter, report: DemoReport) -> bool:
    """Propose, approve and execute one plan at the end of ``quarter``; True when it was executed."""
    p = plan.proposal
    second = 10
    indexes = propose(ledger, sign_proposal(p, demo_key(p.proposer)), time=_stamp(quarter.end, second))
    if len(indexes) > 1:
        report.flagged.append(p.proposal_id)
    for signer in plan.approvers:
        second += 1
        try:
            approve(ledger, sign_approval(p, demo_key(signer)), time=_stamp(quarter.end, second))
        except ApprovalRefusedError as refusal:
            report.refusals.append(f"entry {refusal.index}: {refusal.message}")
    second += 1
    try:
        execute(ledger, p.proposal_id, time=_stamp(quarter.end, second))
    except ApprovalRefusedError as refusal:
        report.refusals.append(f"entry {refusal.index}: {refusal.message}")
        if plan.justification is None or refusal.code != "benchmark_unjustified":
            return False
        second += 1
        justified = sign_approval(p, demo_key("controller"), justification=plan.justification)
        approve(ledger, justified, time=_stamp(quarter.end, second))
        second += 1
        try:
            execute(ledger, p.proposal_id, time=_stamp(quarter.end, second))
        except ApprovalRefusedError as again:
            report.refusals.append(f"entry {again.index}: {again.message}")
            return False
    report.executed.append(p.proposal_id)
    ledger.append(
        "project_milestone",
        {
            "project_id": p.project_id,
            "milestone": f"disbursement {p.proposal_id} paid",
            "status": "reached",
            "on": quarter.end.isoformat(),
            "milestone_type": "payment",
        },
        time=_stamp(quarter.end, second + 1),
    )
    return True
