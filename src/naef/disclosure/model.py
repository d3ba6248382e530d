"""What the disclosures read from the ledger, as pure folds of entries, and the reference tables they use.

The ledger has no project register: an MDF *project* is the set of disbursement proposals that share a
``project_id``, with what the control system recorded about them (approvals, benchmark flags, executions) and
the project's milestones. Everything here is a function of the entries passed in, and each fact keeps the index
of the entry it comes from, so every published record can name its ledger entries (its *leaves*).

Rules (``docs/disclosure.md`` has the full field mappings):

* a proposal is *committed* when it is executed; its commitment date is the latest time at which one of the
  approvals counted by the execution was recorded (the quorum was met then), its disbursement date the
  execution's time;
* a project's sector, type and infrastructure flag come from its proposals' ``unit_cost.project_type``
  (:data:`PROJECT_TYPES`); its state from its ``project_id`` (:func:`state_of`);
* beneficial owners of a payee are the natural persons of the payee's BODS ownership chains
  (:func:`beneficial_owners`, rules in :mod:`naef.ledger.interests`).

Reference tables, each with its source: :data:`PROJECT_TYPES` (OECD DAC CRS purpose codes as listed in the IATI
2.03 ``Sector`` codelist; OC4IDS 0.9.4 ``projectSector`` and ``projectType`` codelists), :data:`MEXICAN_STATES`
(ISO 3166-2:MX subdivision codes). The MDF's organisation identifier :data:`MDF_ORG_REF` and the OC4IDS prefix
:data:`OC4IDS_PREFIX` are ILLUSTRATIVE placeholders: the MDF does not exist yet and has no registered identifiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from naef.disclosure.reference import (
    MEXICAN_STATES,
    PROJECT_TYPES,
    ProjectType,
    State,
    parse_period,
    period_sort_key,
    state_of,
)
from naef.ledger.governance import APPROVING_ROLES, Governance, Role
from naef.ledger.interests import OwnershipGraph
from naef.ledger.log import StoredEntry

__all__ = [
    "ENTRY_APPROVED",
    "ENTRY_BENCHMARK_FLAG",
    "ENTRY_BODS",
    "ENTRY_EXECUTED",
    "ENTRY_MILESTONE",
    "ENTRY_PROPOSED",
    "ENTRY_REFUSED",
    "MDF_NAME",
    "MDF_ORG_REF",
    "MDF_ORG_SCHEME",
    "MDF_ORG_TYPE",
    "MDF_ORG_UID",
    "MEXICAN_STATES",
    "OC4IDS_PREFIX",
    "PROJECT_ENTRY_TYPES",
    "PROJECT_TYPES",
    "UNPROVEN_SIGNER_CODES",
    "Approval",
    "BenchmarkNote",
    "BeneficialOwner",
    "Execution",
    "Milestone",
    "Payee",
    "Project",
    "ProjectType",
    "Proposal",
    "Refusal",
    "State",
    "UnitCost",
    "beneficial_owners",
    "fold_projects",
    "parse_period",
    "period_sort_key",
    "state_of",
]

ENTRY_PROPOSED = "disbursement_proposed"
ENTRY_APPROVED = "disbursement_approved"
ENTRY_EXECUTED = "disbursement_executed"
ENTRY_BENCHMARK_FLAG = "benchmark_flag"
ENTRY_MILESTONE = "project_milestone"
ENTRY_BODS = "beneficial_ownership_statement"
ENTRY_REFUSED = "disbursement_refused"
ENTRY_GOVERNANCE = "governance_registered"
PROJECT_ENTRY_TYPES: frozenset[str] = frozenset(
    {
        ENTRY_PROPOSED,
        ENTRY_APPROVED,
        ENTRY_EXECUTED,
        ENTRY_BENCHMARK_FLAG,
        ENTRY_MILESTONE,
        ENTRY_REFUSED,
        ENTRY_GOVERNANCE,
    }
)
"""Entry types an MDF project is folded from."""

MDF_ORG_SCHEME = "XE-EXAMPLE"
"""Registration agency of the MDF's identifier: ``XE-EXAMPLE``, the org-id.guide list's prefix for examples (the
MDF does not exist yet); a registered MDF would use e.g. ``MX-RFC`` (Mexico's tax register)."""
MDF_ORG_UID = "NAEF-MDF"
MDF_ORG_REF = f"{MDF_ORG_SCHEME}-{MDF_ORG_UID}"
"""ILLUSTRATIVE organisation identifier of the MDF (IATI ``reporting-org/@ref``; OC4IDS party id; OC4IDS
publisher scheme + uid), in the org-id.guide form ``<registration agency>-<identifier>``."""

MDF_NAME = "Mexican Development Fund (MDF)"
MDF_ORG_TYPE = "15"
"""IATI OrganisationType 15 "Other Public Sector" (IATI 2.03 codelist OrganisationType)."""

OC4IDS_PREFIX = "oc4ids-naefmdf"
"""ILLUSTRATIVE OC4IDS project identifier prefix (not registered with the Open Contracting Partnership)."""


# ------------------------------------------------------------------------------------------ projects


@dataclass(frozen=True)
class UnitCost:
    """The unit-cost figures a proposal states (``unit_cost`` of the proposal)."""

    project_type: str
    unit: str
    quantity: float
    contract_cost_usd: Decimal

    @property
    def classification(self) -> ProjectType | None:
        """The project type's classification, if the type is in :data:`PROJECT_TYPES`."""
        return PROJECT_TYPES.get(self.project_type)


@dataclass(frozen=True)
class ProcurementFacts:
    """How a proposal's contract was procured (``proposal.procurement``): OCDS method, tenderers, period."""

    method: str
    number_of_tenderers: int
    contract_start: str
    contract_end: str


def _procurement(raw: Any) -> ProcurementFacts | None:
    if not isinstance(raw, Mapping):
        return None
    n = raw.get("number_of_tenderers")
    return ProcurementFacts(
        _text(raw.get("method")),
        n if isinstance(n, int) and not isinstance(n, bool) else 0,
        _text(raw.get("contract_start")),
        _text(raw.get("contract_end")),
    )


@dataclass(frozen=True)
class Approval:
    """One recorded approval (``disbursement_approved``)."""

    signer: str
    role: str
    justification: str | None
    time: str
    index: int


@dataclass(frozen=True)
class Execution:
    """The recorded execution of a disbursement (``disbursement_executed``)."""

    amount_usd: Decimal
    approvals: tuple[str, ...]
    benchmark_flagged: bool
    time: str
    index: int


@dataclass(frozen=True)
class BenchmarkNote:
    """A ``benchmark_flag`` entry: the one-line message of the benchmark check."""

    message: str
    index: int


UNPROVEN_SIGNER_CODES = frozenset({"bad_signature", "unknown_signer", "altered_proposal", "replayed_approval"})
"""Refusal codes of requests the named signer was not shown to have made (``naef.ledger.approvals.errors``)."""


@dataclass(frozen=True)
class Refusal:
    """A ``disbursement_refused`` entry: an approval or execution the control system refused, and why (with the
    ownership chain and the declaration of interest behind a conflict-of-interest refusal)."""

    stage: str
    signer: str | None
    reason_code: str
    reason: str
    chain: tuple[str, ...]
    declaration: str | None
    time: str
    index: int

    def describe(self) -> str:
        """``approval by na-board-1 refused (conflict_of_interest): ...; declared: ...; chain: a → b → c``.

        A refusal whose request was not shown to come from the signer it names (its signature did not verify, the
        signer is not a stakeholder, the signed text was altered, or a real approval was submitted again by
        anyone) reads "in the name of": anyone can make the control system record one, so it says nothing about
        that person."""
        if not self.signer:
            who = ""
        elif self.reason_code in UNPROVEN_SIGNER_CODES:
            who = f" in the name of {self.signer}"
        else:
            who = f" by {self.signer}"
        text = f"{self.stage}{who} refused ({self.reason_code}): {self.reason}"
        if self.declaration:
            text += f"; declaration: {self.declaration}"
        if self.chain:
            text += f"; chain: {' → '.join(self.chain)}"
        return text


@dataclass(frozen=True)
class Proposal:
    """A disbursement proposal with what the log recorded about it."""

    proposal_id: str
    project_id: str
    payee: str
    payee_name: str
    amount_usd: Decimal
    purpose: str
    proposer: str
    unit_cost: UnitCost | None
    time: str
    index: int
    approvals: tuple[Approval, ...] = ()
    execution: Execution | None = None
    benchmark: BenchmarkNote | None = None
    refusals: tuple[Refusal, ...] = ()
    procurement: ProcurementFacts | None = None
    quorum: tuple[str, tuple[int, ...]] | None = None
    """When the recorded approvals first met the governance's quorum (time, and the indexes of the approvals
    and of the governance entry that show it); ``None`` when they never did."""

    @property
    def leaves(self) -> tuple[int, ...]:
        """Indexes of the entries this proposal's facts come from."""
        out = [self.index, *(a.index for a in self.approvals), *(r.index for r in self.refusals)]
        if self.quorum is not None:
            out += self.quorum[1]
        if self.execution is not None:
            out.append(self.execution.index)
        if self.benchmark is not None:
            out.append(self.benchmark.index)
        return tuple(sorted(set(out)))

    @property
    def commitment_time(self) -> str | None:
        """When the approvals counted by the execution were all recorded (the latest of them); ``None`` when
        not executed. Without any counted approval entry, the execution's time."""
        if self.execution is None:
            return None
        counted = set(self.execution.approvals)
        times = [a.time for a in self.approvals if a.signer in counted]
        return max(times, key=_time_key) if times else self.execution.time

    def control_notes(self) -> tuple[str, ...]:
        """What the control system recorded about the proposal, one line each: the benchmark flag (with the
        justifications), the approvers by name and role, and every refusal with its reason and chain."""
        notes = []
        if self.benchmark is not None:
            justified = f"; justification: {' / '.join(self.justifications)}" if self.justifications else ""
            notes.append(f"{self.proposal_id}: benchmark flag: {self.benchmark.message}{justified}")
        if self.approvals:
            names = ", ".join(f"{a.signer} ({a.role})" for a in self.approvals)
            notes.append(f"{self.proposal_id}: approved by {names}")
        notes += [f"{self.proposal_id}: {r.describe()}" for r in self.refusals]
        return tuple(notes)

    @property
    def justifications(self) -> tuple[str, ...]:
        """Non-empty approval justifications, in log order."""
        return tuple(a.justification.strip() for a in self.approvals if a.justification and a.justification.strip())


@dataclass(frozen=True)
class Milestone:
    """A ``project_milestone`` entry."""

    milestone: str
    status: str
    on: str
    evidence: str | None
    time: str
    index: int
    milestone_type: str | None = None
    """The OC4IDS ``milestoneType`` code recorded with the milestone, if any."""


@dataclass(frozen=True)
class Project:
    """An MDF project: its proposals (in log order) and milestones."""

    project_id: str
    proposals: tuple[Proposal, ...]
    milestones: tuple[Milestone, ...] = ()

    @property
    def leaves(self) -> tuple[int, ...]:
        """Indexes of every entry the project's facts come from."""
        out = {i for p in self.proposals for i in p.leaves} | {m.index for m in self.milestones}
        return tuple(sorted(out))

    @property
    def last_time(self) -> str:
        """Latest time of the project's entries."""
        times = [p.time for p in self.proposals]
        for p in self.proposals:
            times += [a.time for a in p.approvals] + [r.time for r in p.refusals]
            if p.execution is not None:
                times.append(p.execution.time)
        times += [m.time for m in self.milestones]
        return max(times, key=_time_key)

    @property
    def first_time(self) -> str:
        """Time of the first proposal."""
        return self.proposals[0].time

    @property
    def project_types(self) -> tuple[str, ...]:
        """Distinct ``unit_cost.project_type`` values of the proposals, in log order."""
        return tuple(dict.fromkeys(p.unit_cost.project_type for p in self.proposals if p.unit_cost is not None))

    @property
    def infrastructure(self) -> bool:
        """False only when every proposal states a project type known not to be infrastructure."""
        kinds = [PROJECT_TYPES.get(t) for t in self.project_types]
        if not kinds or any(k is None for k in kinds):
            return True
        return any(k.infrastructure for k in kinds if k is not None)

    @property
    def state(self) -> State | None:
        """The state named in the project id (:func:`state_of`)."""
        return state_of(self.project_id)

    @property
    def executed(self) -> tuple[Proposal, ...]:
        """Proposals that were executed, in log order."""
        return tuple(p for p in self.proposals if p.execution is not None)

    @property
    def cancelled(self) -> bool:
        """True when the latest milestone (log order) has status ``cancelled``."""
        return bool(self.milestones) and self.milestones[-1].status == "cancelled"

    @property
    def payees(self) -> tuple[tuple[str, str], ...]:
        """Distinct ``(payee id, payee name)`` in log order (the first name given for each id)."""
        seen: dict[str, str] = {}
        for p in self.proposals:
            seen.setdefault(p.payee, p.payee_name or p.payee)
        return tuple(seen.items())


def _time_key(stamp: str) -> str:
    return stamp.replace("Z", ".000000Z") if "." not in stamp else stamp


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("0")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _unit_cost(raw: Any) -> UnitCost | None:
    if not isinstance(raw, Mapping):
        return None
    try:
        quantity = float(raw.get("quantity", 0))
    except (TypeError, ValueError):
        quantity = 0.0
    return UnitCost(
        project_type=_text(raw.get("project_type")),
        unit=_text(raw.get("unit")),
        quantity=quantity,
        contract_cost_usd=_decimal(raw.get("contract_cost_usd", "0")),
    )


@dataclass
class _Draft:
    proposal: dict[str, Any]
    time: str
    index: int
    approvals: list[Approval] = field(default_factory=list)
    execution: Execution | None = None
    benchmark: BenchmarkNote | None = None
    refusals: list[Refusal] = field(default_factory=list)


def _refusal(payload: Mapping[str, Any], time: str, index: int) -> Refusal:
    chain = payload.get("chain") if isinstance(payload.get("chain"), Mapping) else {}
    assert isinstance(chain, Mapping)
    path = chain.get("path")
    declaration = chain.get("declaration")
    declared = None
    if isinstance(declaration, Mapping):
        declared = (
            f"{_text(declaration.get('declarant'))} declared an interest in {_text(declaration.get('party'))} "
            f"({_text(declaration.get('nature'))}, {_text(declaration.get('declared_on'))})"
        )
    return Refusal(
        stage=_text(payload.get("stage")),
        signer=payload.get("signer") if isinstance(payload.get("signer"), str) else None,
        reason_code=_text(payload.get("reason_code")),
        reason=_text(payload.get("reason")),
        chain=tuple(str(x) for x in path) if isinstance(path, list) else (),
        declaration=declared,
        time=time,
        index=index,
    )


def _quorum(
    approvals: Sequence[Approval], governance: tuple[Governance, int] | None
) -> tuple[str, tuple[int, ...]] | None:
    """The first approval (in log order) at which the recorded approvals meet the quorum of the registered
    governance (:meth:`naef.ledger.governance.Governance.quorum_shortfall` on signer → recorded role): its time,
    and the indexes of the approvals counted and of the governance entry. ``None`` without a governance or
    quorum. Every recorded approval was admitted by the rules (a conflicted one is a refusal, not an approval)."""
    if governance is None:
        return None
    rules, gov_index = governance
    seen: dict[str, Approval] = {}
    for a in sorted(approvals, key=lambda x: x.index):
        if a.role not in APPROVING_ROLES:
            continue
        seen[a.signer] = a
        if not rules.quorum_shortfall({n: cast(Role, x.role) for n, x in seen.items()}):
            return a.time, (*sorted(x.index for x in seen.values()), gov_index)
    return None


def fold_projects(entries: Iterable[StoredEntry]) -> tuple[Project, ...]:
    """MDF projects from the entries (any order; types outside :data:`PROJECT_ENTRY_TYPES` are ignored).

    Approvals, executions and flags attach to the proposal of their ``proposal_id`` (if it is among the
    entries; the first execution counts); milestones to the project of their ``project_id``. A project exists
    when it has at least one proposal; projects come in the order of their first proposal.
    """
    drafts: dict[str, _Draft] = {}
    milestones: dict[str, list[Milestone]] = {}
    governance: tuple[Governance, int] | None = None
    for e in sorted(entries, key=lambda x: x.index):
        p = e.payload
        if e.type == ENTRY_GOVERNANCE and governance is None:
            try:
                governance = (Governance.model_validate(dict(p)), e.index)
            except ValueError:
                governance = None
        elif e.type == ENTRY_PROPOSED:
            proposal = p.get("proposal")
            if isinstance(proposal, Mapping) and isinstance(proposal.get("proposal_id"), str):
                drafts.setdefault(proposal["proposal_id"], _Draft(dict(proposal), e.time, e.index))
        elif e.type == ENTRY_APPROVED:
            d = drafts.get(_text(p.get("proposal_id")))
            if d is not None:
                d.approvals.append(
                    Approval(
                        _text(p.get("signer")),
                        _text(p.get("role")),
                        p.get("justification") if isinstance(p.get("justification"), str) else None,
                        e.time,
                        e.index,
                    )
                )
        elif e.type == ENTRY_EXECUTED:
            d = drafts.get(_text(p.get("proposal_id")))
            if d is not None and d.execution is None:
                approvals = p.get("approvals")
                d.execution = Execution(
                    _decimal(p.get("amount_usd", "0")),
                    tuple(str(a) for a in approvals) if isinstance(approvals, list) else (),
                    bool(p.get("benchmark_flagged", False)),
                    e.time,
                    e.index,
                )
        elif e.type == ENTRY_REFUSED:
            d = drafts.get(_text(p.get("proposal_id")))
            if d is not None:
                d.refusals.append(_refusal(p, e.time, e.index))
        elif e.type == ENTRY_BENCHMARK_FLAG:
            d = drafts.get(_text(p.get("proposal_id")))
            if d is not None and d.benchmark is None:
                d.benchmark = BenchmarkNote(_text(p.get("message")) or _text(p.get("reason")), e.index)
        elif e.type == ENTRY_MILESTONE:
            milestones.setdefault(_text(p.get("project_id")), []).append(
                Milestone(
                    _text(p.get("milestone")),
                    _text(p.get("status")),
                    _text(p.get("on")),
                    p.get("evidence") if isinstance(p.get("evidence"), str) else None,
                    e.time,
                    e.index,
                    p.get("milestone_type") if isinstance(p.get("milestone_type"), str) else None,
                )
            )
    by_project: dict[str, list[Proposal]] = {}
    for pid, d in drafts.items():
        raw = d.proposal
        project_id = _text(raw.get("project_id"))
        by_project.setdefault(project_id, []).append(
            Proposal(
                proposal_id=pid,
                project_id=project_id,
                payee=_text(raw.get("payee")),
                payee_name=_text(raw.get("payee_name")),
                amount_usd=_decimal(raw.get("amount_usd", "0")),
                purpose=_text(raw.get("purpose")),
                proposer=_text(raw.get("proposer")),
                unit_cost=_unit_cost(raw.get("unit_cost")),
                procurement=_procurement(raw.get("procurement")),
                time=d.time,
                index=d.index,
                approvals=tuple(d.approvals),
                execution=d.execution,
                benchmark=d.benchmark,
                refusals=tuple(d.refusals),
                quorum=_quorum(d.approvals, governance) if d.execution is None else None,
            )
        )
    projects = [
        Project(pid, tuple(props), tuple(milestones.get(pid, ())))
        for pid, props in by_project.items()
    ]
    return tuple(sorted(projects, key=lambda pr: pr.proposals[0].index))


# ------------------------------------------------------------------------------------------ beneficial owners


@dataclass(frozen=True)
class BeneficialOwner:
    """A natural person who owns or controls a payee, with the BODS statements that show it."""

    record_id: str
    name: str
    leaves: tuple[int, ...]


@dataclass(frozen=True)
class Payee:
    """A payee as the BODS statements describe it: its name (if an entity statement exists) and owners."""

    record_id: str
    name: str | None
    owners: tuple[BeneficialOwner, ...]
    leaves: tuple[int, ...]


def beneficial_owners(statements: Sequence[StoredEntry], payee: str) -> Payee:
    """The payee (a BODS ``recordId``) and its beneficial owners, from ``beneficial_ownership_statement`` entries.

    BODS 0.4: the latest statement about a ``recordId`` (log order) replaces earlier ones and
    ``recordStatus = "closed"`` removes the record. Owners are the natural persons of
    :meth:`naef.ledger.interests.OwnershipGraph.beneficial_owners`: a primary relationship person → payee flagged
    ``beneficialOwnershipOrControl``, or a chain of ownership/control relationships payee ← entity ← … ← person
    whose person link is flagged. The leaves are the payee's entity statement, and for each owner the statements
    of its relationships (with a primary relationship's component records), of the entities between and of the
    person.
    """
    graph = OwnershipGraph()
    for e in sorted(statements, key=lambda x: x.index):
        st = e.payload.get("statement")
        if e.type == ENTRY_BODS and isinstance(st, Mapping) and isinstance(st.get("recordId"), str):
            graph.add_statement(st, index=e.index)
    leaves: set[int] = set()
    name: str | None = None
    own_index = graph.index_of(payee)
    if graph.kind(payee) is not None and graph.names.get(payee):
        name = graph.names[payee]
        if own_index is not None:
            leaves.add(own_index)
    owners: list[BeneficialOwner] = []
    for chain in graph.beneficial_owners(payee):
        records = [chain.person, *chain.via, *chain.components, *(link.record_id for link in chain.links)]
        owner_leaves = tuple(sorted({i for r in records if (i := graph.index_of(r)) is not None}))
        owners.append(BeneficialOwner(chain.person, chain.name, owner_leaves))
        leaves.update(owner_leaves)
    return Payee(payee, name, tuple(owners), tuple(sorted(leaves)))
