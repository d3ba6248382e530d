"""The MDF's projects as the ledger records them: by sector and by state, with status and money disbursed.

Pure functions over ledger payloads (no I/O). The ledger does not (yet) carry a project register, so a project is
known from the entries that name it:

* ``disbursement_proposed`` (the proposal's ``project_id``, payee, amount, purpose and unit-cost claim),
  ``disbursement_executed`` (money paid) and ``project_milestone`` (status);
* any entry whose payload has ``project_id`` together with ``state`` (an ISO 3166-2:MX code) or ``sector`` —
  a project register added later (e.g. by the MDF portfolio) is picked up without changes here.

Sector: the payload's ``sector`` if recorded, else read from the unit-cost claim's ``project_type``
(``naef/data/unit_costs.toml``: ``road_*`` → road, ``railway_*`` → railway, ``seaport_*`` → seaport,
``airport_*`` → airport, ``school_*``/``scholarship``/``university_*`` → education, ``small_enterprise_*`` →
small_enterprise). State: the payload's ``state`` if recorded, else a state's name (or ISO code) found in the
project id (``road-oaxaca-coast`` → MX-OAX), shown as *inferred*; otherwise ``unknown``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from typing_extensions import TypedDict  # pydantic reads typing_extensions' TypedDict on Python < 3.12

from naef.mdf.pipeline import STATES

__all__ = [
    "STATES",
    "MdfJson",
    "MdfProject",
    "MdfSummary",
    "ProjectJson",
    "ProposalFields",
    "Totals",
    "proposal_fields",
    "sector_of",
    "state_from_id",
    "summarise",
]


class ProjectJson(TypedDict):
    """One project as ``GET /api/mdf`` returns it (money as decimal strings with two decimals)."""

    project_id: str
    sector: str
    state: str
    state_name: str
    state_inferred: bool
    proposed_usd: str
    disbursed_usd: str
    proposals: list[str]
    payees: list[str]
    purposes: list[str]
    status: str
    last_milestone: str | None


class Totals(TypedDict):
    """The projects of one sector or one state: how many, proposed and disbursed (decimal strings)."""

    projects: int
    proposed_usd: str
    disbursed_usd: str


class MdfJson(TypedDict):
    """``GET /api/mdf``: the projects, totals by sector and by state, the MDF's receipts and disbursements."""

    projects: list[ProjectJson]
    by_sector: dict[str, Totals]
    by_state: dict[str, Totals]
    received_usd: str
    disbursed_usd: str
    balance_usd: str


class ProposalFields(TypedDict):
    """The fields of a disbursement proposal the MDF's views show (:func:`proposal_fields`)."""

    proposal_id: str
    project_id: str
    payee: str
    payee_name: str
    amount_usd: str
    purpose: str
    proposer: str
    project_type: str | None

_SECTOR_PREFIXES: tuple[tuple[str, str], ...] = (
    ("road", "road"), ("railway", "railway"), ("rail", "railway"), ("seaport", "seaport"), ("port", "seaport"),
    ("airport", "airport"), ("school", "education"), ("scholarship", "education"), ("university", "education"),
    ("education", "education"), ("small_enterprise", "small_enterprise"),
)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return "-".join(t for t in re.split(r"[^a-z0-9]+", ascii_text) if t)


# slug of each state's name (and a few common short forms) -> code; "mexico" alone is too ambiguous to use
_STATE_SLUGS: dict[str, str] = {_slug(name): code for code, name in STATES.items()}
_STATE_SLUGS.update({"cdmx": "MX-CMX", "edomex": "MX-MEX", "estado-de-mexico": "MX-MEX", "coahuila": "MX-COA",
                     "michoacan": "MX-MIC", "veracruz": "MX-VER"})
_STATE_SLUGS.update({code.lower(): code for code in STATES})  # "mx-oax" as written in an id
_STATE_SLUGS.pop("mexico", None)  # the official name of MX-MEX, but alone it names the country


def sector_of(project_type: str | None) -> str:
    """The MDF sector of a unit-cost ``project_type`` (module docstring); ``unspecified`` without one."""
    if not project_type:
        return "unspecified"
    for prefix, sector in _SECTOR_PREFIXES:
        if project_type == prefix or project_type.startswith(prefix + "_"):
            return sector
    return project_type


def state_from_id(project_id: str) -> str | None:
    """The ISO code of a state named in ``project_id`` (the longest name that matches whole words), or None."""
    slug = f"-{_slug(project_id)}-"
    best: tuple[int, str] | None = None
    for name, code in _STATE_SLUGS.items():
        if f"-{name}-" in slug and (best is None or len(name) > best[0]):
            best = (len(name), code)
    return None if best is None else best[1]


@dataclass
class MdfProject:
    """One MDF project as the ledger shows it."""

    project_id: str
    sector: str = "unspecified"
    state: str = "unknown"
    state_inferred: bool = False
    proposed_usd: Decimal = Decimal("0")
    disbursed_usd: Decimal = Decimal("0")
    proposals: list[str] = field(default_factory=list)
    payees: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)
    status: str = "proposed"
    last_milestone: str | None = None

    def as_json(self) -> ProjectJson:
        """JSON form (money as decimal strings with two decimals)."""
        return {
            "project_id": self.project_id,
            "sector": self.sector,
            "state": self.state,
            "state_name": STATES.get(self.state, "unknown"),
            "state_inferred": self.state_inferred,
            "proposed_usd": f"{self.proposed_usd:.2f}",
            "disbursed_usd": f"{self.disbursed_usd:.2f}",
            "proposals": self.proposals,
            "payees": self.payees,
            "purposes": self.purposes,
            "status": self.status,
            "last_milestone": self.last_milestone,
        }


@dataclass
class MdfSummary:
    """Projects, totals by sector and by state, and the MDF's recorded inflows."""

    projects: list[MdfProject]
    by_sector: dict[str, Totals]
    by_state: dict[str, Totals]
    received_usd: Decimal
    disbursed_usd: Decimal

    @property
    def balance_usd(self) -> Decimal:
        """Received − disbursed."""
        return self.received_usd - self.disbursed_usd

    def as_json(self) -> MdfJson:
        """JSON form."""
        return {
            "projects": [p.as_json() for p in self.projects],
            "by_sector": self.by_sector,
            "by_state": self.by_state,
            "received_usd": f"{self.received_usd:.2f}",
            "disbursed_usd": f"{self.disbursed_usd:.2f}",
            "balance_usd": f"{self.balance_usd:.2f}",
        }


def _dec(value: Any) -> Decimal:
    try:
        d = Decimal(str(value))
    except (ArithmeticError, ValueError):
        return Decimal("0")
    return d if d.is_finite() else Decimal("0")


def proposal_fields(payload: Mapping[str, Any]) -> ProposalFields:
    """The proposal inside a ``disbursement_proposed`` payload, whichever of the two recorded shapes it has
    (the signed proposal of :mod:`naef.ledger.approvals`, or the flat base payload of
    :mod:`naef.ledger.entries`)."""
    inner = payload.get("proposal")
    p: Mapping[str, Any] = inner if isinstance(inner, Mapping) else payload
    unit_cost = p.get("unit_cost")
    details = p.get("details")
    project_type = unit_cost.get("project_type") if isinstance(unit_cost, Mapping) else None
    if project_type is None and isinstance(details, Mapping):
        project_type = details.get("project_type")
    return {
        "proposal_id": str(p.get("proposal_id", "")),
        "project_id": str(p.get("project_id", "")),
        "payee": str(p.get("payee", "")),
        "payee_name": str(p.get("payee_name", "") or ""),
        "amount_usd": str(p.get("amount_usd", "0")),
        "purpose": str(p.get("purpose", "")),
        "proposer": str(p.get("proposer", "")),
        "project_type": None if project_type is None else str(project_type),
    }


def summarise(entries: Iterable[tuple[str, Mapping[str, Any]]]) -> MdfSummary:
    """Fold ``(type, payload)`` pairs in log order into the MDF's projects and totals (module docstring)."""
    projects: dict[str, MdfProject] = {}
    project_of: dict[str, str] = {}  # proposal id -> project id
    facts: dict[str, dict[str, str]] = {}
    received = Decimal("0")

    def project(pid: str) -> MdfProject:
        if pid not in projects:
            projects[pid] = MdfProject(project_id=pid)
        return projects[pid]

    for entry_type, payload in entries:
        if entry_type == "disbursement_proposed":
            f = proposal_fields(payload)
            if not f["project_id"]:
                continue
            proj = project(f["project_id"])
            project_of[f["proposal_id"]] = f["project_id"]
            proj.proposals.append(f["proposal_id"])
            proj.proposed_usd += _dec(f["amount_usd"])
            payee = f["payee_name"] or f["payee"]
            if payee and payee not in proj.payees:
                proj.payees.append(payee)
            if f["purpose"]:
                proj.purposes.append(f["purpose"])
            if proj.sector == "unspecified":
                proj.sector = sector_of(f["project_type"])
        elif entry_type == "disbursement_executed":
            pid = project_of.get(str(payload.get("proposal_id", "")))
            if pid is not None:
                proj = project(pid)
                proj.disbursed_usd += _dec(payload.get("amount_usd", "0"))
                if proj.status in ("proposed", "approved"):
                    proj.status = "disbursing"
        elif entry_type == "project_milestone":
            pid = str(payload.get("project_id", ""))
            if pid:
                proj = project(pid)
                proj.status = str(payload.get("status", proj.status))
                proj.last_milestone = f"{payload.get('milestone', '')} ({payload.get('on', '')})"
        elif entry_type == "waterfall_payment" and payload.get("step") == "mdf_residual":
            received += _dec(payload.get("amount_usd", "0"))
        pid = payload.get("project_id")
        if isinstance(pid, str) and pid:
            for key in ("state", "sector"):
                value = payload.get(key)
                if isinstance(value, str) and value:
                    facts.setdefault(pid, {})[key] = value

    for pid, proj in projects.items():
        known = facts.get(pid, {})
        if known.get("sector"):
            proj.sector = known["sector"]
        if known.get("state") in STATES:
            proj.state = known["state"]
        else:
            inferred = state_from_id(pid)
            if inferred is not None:
                proj.state, proj.state_inferred = inferred, True

    ordered = sorted(projects.values(), key=lambda p: p.project_id)
    return MdfSummary(
        projects=ordered,
        by_sector=_totals(ordered, lambda p: p.sector),
        by_state=_totals(ordered, lambda p: p.state),
        received_usd=received,
        disbursed_usd=sum((p.disbursed_usd for p in ordered), Decimal("0")),
    )


def _totals(projects: list[MdfProject], key: Callable[[MdfProject], str]) -> dict[str, Totals]:
    counts: dict[str, int] = {}
    proposed: dict[str, Decimal] = {}
    disbursed: dict[str, Decimal] = {}
    for p in projects:
        k = key(p)
        counts[k] = counts.get(k, 0) + 1
        proposed[k] = proposed.get(k, Decimal("0")) + p.proposed_usd
        disbursed[k] = disbursed.get(k, Decimal("0")) + p.disbursed_usd
    return {
        k: {"projects": counts[k], "proposed_usd": f"{proposed[k]:.2f}", "disbursed_usd": f"{disbursed[k]:.2f}"}
        for k in sorted(counts)
    }
