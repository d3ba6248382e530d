"""OC4IDS 0.9.4 project package of the MDF's infrastructure projects, derived from the ledger
(``oc4ids-project-package.json``).

The package (``project-package-schema.json``) holds ``uri``, ``publishedDate`` (the latest time of the ledger
entries it shows), ``publisher`` (the MDF), ``version`` ``"0.9"`` and one project per MDF project whose project
types are infrastructure or unknown (scholarship and SME-credit programmes are not infrastructure and are
published in IATI only). Each project (``project-schema.json``):

* ``id`` ``<OC4IDS_PREFIX>-<project_id>``, ``identifiers`` (the ledger's project id), ``title``, ``description``
  (the proposals' purposes), ``status`` (``preparation`` until a disbursement is executed, ``implementation``
  after, ``cancelled``), ``type`` and ``sector`` from the proposals' project types, ``publicAuthority`` the MDF;
* ``locations``: the state named in the project id, gazetteer ``ISO3166-2`` (the codelist is open);
* ``budget``: the total project value — the contract values the proposals state (one contract per payee, its
  latest stated value), else the proposals — with the MDF's share (its proposals) as the budget breakdown with the
  MDF as source party;
* ``parties``: the MDF (publicAuthority, funder, payer) and each payee (supplier, payee) with its
  ``beneficialOwners`` — the natural persons the BODS 0.4 statements in the ledger show owning or controlling it
  (:func:`naef.disclosure.model.beneficial_owners`);
* ``costMeasurements``: one per contract (payee), its latest stated contract cost (category ``construction``)
  classified by project type, with quantity, unit cost and any benchmark flag in the classification's
  description;
* ``contractingProcesses``: one per payee, with supplier, contract value (the latest contract cost stated),
  status and its disbursements as ``summary.transactions`` — each payment once, in its contracting process (the
  project-level ``transactions`` are left empty so that nobody sums a payment twice);
* ``bods-statements.json`` beside the package: every BODS 0.4 statement of the ledger, the package the
  beneficial owners are derived from (:mod:`naef.disclosure.bods_package`);
* ``milestones``: the project milestones (reached → ``met``, missed and cancelled → ``notMet``, planned and
  started → ``scheduled``).

Ledger ties (extension fields, which the schema allows): ``naefLedgerCheckpoint`` on the package (origin, size,
root hash, signed note), ``naefLedgerEntries`` on each project, ``naefLedgerEntry`` on each transaction.
Amounts are JSON numbers (IEEE doubles: exact to the cent below about USD 90 trillion).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource

from naef.disclosure import bods_package
from naef.disclosure.common import ExportCheckpoint, Record, Rendered, first_difference, latest_time
from naef.disclosure.errors import DisclosureError
from naef.disclosure.model import (
    ENTRY_BODS,
    MDF_NAME,
    OC4IDS_PREFIX,
    PROJECT_ENTRY_TYPES,
    Payee,
    Project,
    Proposal,
    beneficial_owners,
    fold_projects,
)
from naef.disclosure.orgid import MDF_PUBLISHER, PartyOrg, Publisher, party_org
from naef.ledger.log import StoredEntry
from naef.ledger.orgids import split_org_id

__all__ = ["FILE", "INPUT_TYPES", "NAME", "compare", "project_id", "render", "validate"]

NAME = "oc4ids"
FILE = "oc4ids-project-package.json"
INPUT_TYPES: frozenset[str] = PROJECT_ENTRY_TYPES | {ENTRY_BODS}
OC4IDS_VERSION = "0.9"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
"""ILLUSTRATIVE licence of the published data (CC BY 4.0, an Open Definition conformant licence as the package
schema recommends): the MDF would choose its own."""
_MILESTONE_STATUS = {
    "reached": "met",
    "missed": "notMet",
    "cancelled": "notMet",
    "planned": "scheduled",
    "started": "scheduled",
}


def project_id(ledger_project_id: str) -> str:
    """``<OC4IDS_PREFIX>-<project id>``."""
    return f"{OC4IDS_PREFIX}-{ledger_project_id}"


def _usd(amount: Decimal) -> dict[str, Any]:
    return {"amount": float(amount), "currency": "USD"}


def _date_time(day: str) -> str:
    return f"{day}T00:00:00Z"


def _party(payee: Payee, fallback_name: str, org: PartyOrg) -> dict[str, Any]:
    party: dict[str, Any] = {"id": payee.record_id, "name": payee.name or fallback_name, "roles": ["supplier", "payee"]}
    split = split_org_id(org.ref) if org.ref else None
    if split is not None:  # the org-id of the payee's BODS record identifiers (as IATI's @ref); a name is none
        party["identifier"] = {"scheme": split[0], "id": split[1]}
    if payee.owners:
        party["beneficialOwners"] = [{"id": o.record_id, "name": o.name} for o in payee.owners]
    return party


def _capped(when: str, pub: Publisher) -> str:
    """``when``, or the publication date when ``when`` is after it (nothing is dated after the publication)."""
    return when if pub.actual(when) else f"{pub.as_of}T00:00:00Z"


def _project(
    project: Project, payees: dict[str, Payee], pub: Publisher, orgs: dict[str, PartyOrg]
) -> tuple[dict[str, Any], tuple[int, ...]]:
    org_ref = pub.ref
    mdf = {"id": org_ref, "name": MDF_NAME}
    kinds = [k for k in (p.unit_cost.classification for p in project.proposals if p.unit_cost) if k is not None]
    sectors = list(dict.fromkeys(s for k in kinds for s in k.oc4ids_sector))
    types = list(dict.fromkeys(k.oc4ids_type for k in kinds if k.oc4ids_type))
    executed = project.executed
    paid_any = any(p.execution is not None and pub.actual(p.execution.time) for p in executed)
    cancelled = project.cancelled and pub.actual(project.milestones[-1].on)
    status = "cancelled" if cancelled else ("implementation" if paid_any else "preparation")
    names = dict(project.payees)
    leaves = set(project.leaves)

    out: dict[str, Any] = {
        "id": project_id(project.project_id),
        "updated": _capped(project.last_time, pub),
        "language": "en",
        "identifiers": [
            {"id": project.project_id, "scheme": "naef-mdf-project"},
            {"id": f"{org_ref}-{project.project_id}", "scheme": "IATI"},  # the IATI activity
        ],
        "title": f"MDF project {project.project_id}",
        "description": "; ".join(
            [f"{p.proposal_id}: {p.purpose}" for p in project.proposals]
            + [f"Control: {note}" for p in project.proposals for note in p.control_notes()]
        ),
        "status": status,
    }
    if len(types) == 1:
        out["type"] = types[0]
    if sectors:
        out["sector"] = sectors
    out["publicAuthority"] = dict(mdf)
    state = project.state
    if state is not None:
        out["locations"] = [
            {
                "id": "1",
                "description": f"{state.name}, Mexico",
                "gazetteer": {"scheme": "ISO3166-2", "identifiers": [state.code]},
                "address": {"region": state.name, "countryName": "Mexico"},
            }
        ]
    contract_values = _contract_values(project)
    mdf_share = sum((p.amount_usd for p in project.proposals), Decimal(0))
    total = sum(contract_values.values(), Decimal(0)) if contract_values else mdf_share
    out["budget"] = {
        "description": (
            f"Total project value: the contract values stated in the MDF's disbursement proposals "
            f"(USD {total:,.2f}); MDF share: the proposals recorded in the ledger (USD {mdf_share:,.2f})"
            if contract_values
            else f"No contract value stated: the MDF's disbursement proposals (USD {mdf_share:,.2f})"
        ),
        "amount": _usd(total),
        "budgetBreakdowns": [
            {
                "id": "mdf-share",
                "description": "MDF share: the disbursement proposals recorded in the ledger",
                "budgetBreakdown": [_breakdown(p, mdf, pub) for p in project.proposals],
            }
        ],
    }
    parties = [{**mdf, "identifier": {"scheme": pub.scheme, "id": pub.uid},
                "roles": ["publicAuthority", "funder", "payer"]}]
    for payee_id, name in project.payees:
        payee = payees[payee_id]
        parties.append(_party(payee, name, orgs[payee_id]))
        leaves.update(payee.leaves)
        if (statement := orgs[payee_id].index) is not None:
            leaves.add(statement)
    out["parties"] = parties

    costs = []
    for payee_id, _name in project.payees:
        own = [p for p in project.proposals if p.payee == payee_id]
        stated = [p for p in own if p.unit_cost is not None]
        if not stated:
            continue
        last = stated[-1]
        uc = last.unit_cost
        assert uc is not None
        description = f"{_fmt_qty(uc.quantity)} {uc.unit}"
        if uc.quantity > 0:
            description += f"; unit cost {float(uc.contract_cost_usd) / uc.quantity:,.2f} USD/{uc.unit}"
        description += "".join(f"; benchmark flag: {p.benchmark.message}" for p in own if p.benchmark is not None)
        costs.append(
            {
                "id": _process_id(project, payee_id),
                "date": last.time,
                "costGroups": [
                    {
                        "id": "1",
                        "category": "construction",
                        "costs": [
                            {
                                "id": "contract",
                                "classification": {
                                    "scheme": "naef-unit-cost",
                                    "id": uc.project_type,
                                    "description": description,
                                },
                                "value": _usd(uc.contract_cost_usd),
                            }
                        ],
                    }
                ],
            }
        )
    if costs:
        out["costMeasurements"] = costs

    def transaction(p_index: int) -> dict[str, Any]:
        p = project.proposals[p_index]
        assert p.execution is not None
        return {
            "id": p.proposal_id,
            "date": p.execution.time,
            "value": _usd(p.execution.amount_usd),
            "payer": dict(mdf),
            "payee": {"id": p.payee, "name": names[p.payee]},
            "naefLedgerEntry": p.execution.index,
        }

    def planned_payment(p_index: int) -> dict[str, Any]:
        p = project.proposals[p_index]
        assert p.execution is not None
        return {
            "id": f"payment-{p.proposal_id}",
            "title": f"MDF payment {p.proposal_id}",
            "type": "payment",
            "description": f"dated {p.execution.time[:10]} in the ledger (entry {p.execution.index}), after the "
            f"publication date {pub.as_of}: planned",
            "dueDate": p.execution.time,
            "status": "scheduled",
            "value": _usd(p.execution.amount_usd),
        }

    processes = []
    for payee_id, name in project.payees:
        props = [i for i, p in enumerate(project.proposals) if p.payee == payee_id]
        summary: dict[str, Any] = {
            "title": f"Contract with {name}",
            "description": "; ".join(project.proposals[i].purpose for i in props),
            "status": "closed" if cancelled else "active",
            "suppliers": [{"id": payee_id, "name": payees[payee_id].name or name}],
        }
        if kinds and all(k.infrastructure for k in kinds):
            summary["nature"] = ["construction"]
        if payee_id in contract_values:
            summary["contractValue"] = _usd(contract_values[payee_id])
        procured = [project.proposals[i].procurement for i in props if project.proposals[i].procurement]
        if procured:  # the latest proposal of the contract that states how it was procured
            facts = procured[-1]
            assert facts is not None
            summary["tender"] = {
                "procurementMethod": facts.method,
                "numberOfTenderers": facts.number_of_tenderers,
            }
            summary["contractPeriod"] = {
                "startDate": _date_time(facts.contract_start),
                "endDate": _date_time(facts.contract_end),
            }
        done = [i for i in props if (x := project.proposals[i].execution) is not None and pub.actual(x.time)]
        if done:
            summary["transactions"] = [transaction(i) for i in done]
        # a payment the ledger dates after the publication date is not a transaction yet: a scheduled payment
        # milestone with its value
        planned = [i for i in props if (x := project.proposals[i].execution) is not None and not pub.actual(x.time)]
        if planned:
            summary["milestones"] = [planned_payment(i) for i in planned]
        processes.append({"id": _process_id(project, payee_id), "summary": summary})
    out["contractingProcesses"] = processes
    if project.milestones:
        milestones = []
        for n, m in enumerate(project.milestones, start=1):
            reached = m.status == "reached" and pub.actual(m.on)
            met = _MILESTONE_STATUS.get(m.status, "scheduled") if pub.actual(m.on) else "scheduled"
            item: dict[str, Any] = {"id": str(n), "title": m.milestone, "status": met}
            if m.milestone_type:
                item["type"] = m.milestone_type
            if reached:
                item["dateMet"] = _date_time(m.on)
            elif m.status in ("planned", "started") or not pub.actual(m.on):
                item["dueDate"] = _date_time(m.on)
            else:
                item["dateModified"] = _date_time(m.on)
            described = m.status if m.status not in ("reached", "planned") else ""
            if not pub.actual(m.on):
                described = f"recorded as {m.status}, dated after the publication date {pub.as_of}: planned"
            if m.evidence:
                described = f"{described}: {m.evidence}" if described else m.evidence
            if described:
                item["description"] = described
            milestones.append(item)
        out["milestones"] = milestones
    ordered = tuple(sorted(leaves))
    out["naefLedgerEntries"] = list(ordered)
    return out, ordered


def _process_id(project: Project, payee_id: str) -> str:
    return f"{project.project_id}/{payee_id}"


def _breakdown(p: Proposal, mdf: Mapping[str, Any], pub: Publisher) -> dict[str, Any]:
    """One proposal as a budget entry of the MDF's share; ``approvalDate`` is the IATI commitment date — for an
    executed proposal the latest of the approvals its execution counted, else when the recorded approvals first met
    the governance's quorum (those entries are leaves of the proposal) — when it is on or before the publication
    date."""
    out: dict[str, Any] = {"id": p.proposal_id, "description": p.purpose, "amount": _usd(p.amount_usd),
                           "sourceParty": dict(mdf)}
    approved = p.commitment_time if p.execution is not None else (p.quorum[0] if p.quorum is not None else None)
    if approved is not None and pub.actual(approved):
        out["approvalDate"] = approved
    return out


def _contract_values(project: Project) -> dict[str, Decimal]:
    """Payee → the contract value its latest proposal with unit-cost figures states (one contract per payee)."""
    values: dict[str, Decimal] = {}
    for p in project.proposals:
        if p.unit_cost is not None:
            values[p.payee] = p.unit_cost.contract_cost_usd
    return values


def _fmt_qty(q: float) -> str:
    return str(int(q)) if float(q).is_integer() else repr(float(q))


def render(
    entries: Sequence[StoredEntry], checkpoint: ExportCheckpoint, *, publisher: Publisher = MDF_PUBLISHER
) -> Rendered:
    """The OC4IDS project package of the MDF's infrastructure projects in ``entries`` at ``checkpoint``.

    Raises :class:`DisclosureError` when there is no infrastructure project (a package needs one project).
    """
    projects = [p for p in fold_projects(entries) if p.infrastructure]
    if not projects:
        raise DisclosureError(
            f"ledger: no MDF infrastructure project up to checkpoint size {checkpoint.size}; "
            "nothing to publish as an OC4IDS project package"
        )
    statements = [e for e in entries if e.type == ENTRY_BODS]
    payees: dict[str, Payee] = {}
    orgs: dict[str, PartyOrg] = {}
    indexed = [(e.index, st) for e in statements if isinstance(st := e.payload.get("statement"), Mapping)]
    for project in projects:
        for payee_id, _ in project.payees:
            if payee_id not in payees:
                payees[payee_id] = beneficial_owners(statements, payee_id)
                orgs[payee_id] = party_org(indexed, payee_id)
    rendered_projects = []
    records = [Record("package header", (FILE,), ())]
    used: set[int] = set()
    for project in projects:
        obj, leaves = _project(project, payees, publisher, orgs)
        rendered_projects.append(obj)
        used.update(leaves)
        records.append(Record(f"project {obj['id']}", (FILE,), leaves))
    published = latest_time(e for e in entries if e.index in used)
    package = {
        "uri": f"urn:naef:disclosure:oc4ids:{checkpoint.origin}:{checkpoint.size}",
        "publishedDate": _capped(published, publisher),
        "publisher": {"name": MDF_NAME, "scheme": publisher.scheme, "uid": publisher.uid},
        "license": LICENSE_URL,
        "version": OC4IDS_VERSION,
        "projects": rendered_projects,
        "naefLedgerCheckpoint": {
            "origin": checkpoint.origin,
            "size": checkpoint.size,
            "rootHash": checkpoint.root_hash.hex(),
            "note": checkpoint.note,
        },
    }
    text = json.dumps(package, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return bods_package.rendered_with(statements, {FILE: text.encode("utf-8")}, records)


def compare(folder: Path, expected: Rendered) -> list[str]:
    """Failures where ``folder``'s package differs from the expected (ledger-derived) one: one line per
    differing record (project, or the package header), naming the record, its ledger entries and the JSON
    pointer of the first differing field."""
    labels = {r.id: r.label() for r in expected.records}
    failures = bods_package.labelled_compare(folder, expected)
    try:
        actual = json.loads((folder / FILE).read_text(encoding="utf-8"))
    except OSError as exc:
        return [*failures, f"{FILE}: cannot read ({exc.strerror})"]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [*failures, f"{FILE}: not JSON ({exc})"]
    wanted = json.loads(expected.files[FILE].decode("utf-8"))
    if not isinstance(actual, dict):
        return [*failures, f"{labels['package header']}: {FILE} is not a JSON object"]
    head_a = {k: v for k, v in actual.items() if k != "projects"}
    head_w = {k: v for k, v in wanted.items() if k != "projects"}
    found = first_difference(head_a, head_w)
    if found:
        failures.append(f"{labels['package header']}: {found}")
    raw = actual.get("projects")
    in_file: dict[str, list[Any]] = {}
    for item in raw if isinstance(raw, list) else []:
        key = str(item.get("id")) if isinstance(item, dict) else "(not an object)"
        in_file.setdefault(key, []).append(item)
    derived = {str(p["id"]): p for p in wanted["projects"]}
    for pid, project in derived.items():
        rid = f"project {pid}"
        got = in_file.get(pid, [])
        if not got:
            failures.append(f"{labels[rid]}: missing from {FILE}")
        elif len(got) > 1:
            failures.append(f"{labels[rid]}: appears {len(got)} times in {FILE}")
        else:
            diff = first_difference(got[0], project)
            if diff:
                failures.append(f"{labels[rid]}: {diff}")
    for pid in in_file:
        if pid not in derived:
            failures.append(f"project {pid}: in {FILE} but not derived from the ledger")
    return failures


@functools.lru_cache(maxsize=4)
def _validator(schema_dir: str) -> Draft4Validator:
    folder = Path(schema_dir)
    try:
        project_schema = json.loads((folder / "project-schema.json").read_text(encoding="utf-8"))
        package_schema = json.loads((folder / "project-package-schema.json").read_text(encoding="utf-8"))
    except OSError as exc:
        raise DisclosureError(f"OC4IDS schema: cannot read {folder} ({exc.strerror})") from None
    # The package's `projects` items refer to the project schema by its absolute id (draft-04 `id`): register
    # the local file under that URL so nothing is fetched.
    resource = Resource.from_contents(project_schema)
    registry: Registry[Any] = Registry().with_resource(str(project_schema["id"]), resource)
    return Draft4Validator(package_schema, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def validate(package: Any, schema_dir: Path) -> list[str]:
    """Errors of ``package`` (parsed JSON) against the official OC4IDS 0.9.4 package schema in ``schema_dir``
    (``project-package-schema.json`` and ``project-schema.json``), formats checked; empty when valid."""
    validator = _validator(str(schema_dir))
    errors = sorted(validator.iter_errors(package), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(package)'}: {e.message}" for e in errors]
