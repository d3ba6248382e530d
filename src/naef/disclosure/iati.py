"""IATI 2.03 activities for the MDF's projects, derived from the ledger (``iati-activities.xml``).

One ``iati-activity`` per MDF project (:func:`naef.disclosure.model.fold_projects`), elements in the order of
the IATI 2.03 activity schema (``iati-activities-schema.xsd``, sequence of ``iati-activity``):

* ``iati-identifier`` ``<MDF_ORG_REF>-<project_id>``; ``reporting-org`` the MDF (type 15, Other Public Sector);
* ``title``, ``description`` (type 1: each proposal's purpose; type 4: benchmark flags and justifications);
* ``participating-org``: the MDF as funding (role 1) and accountable (role 2) organisation, each payee as
  implementing organisation (role 4; ``naef:party`` holds its BODS record id);
* ``activity-status`` (IATI ActivityStatus: 1 pipeline until a disbursement is executed, 2 implementation after,
  5 cancelled when the latest milestone says so); ``activity-date`` (2 actual start = first disbursement, else 1
  planned start = first proposal; 4 actual end on cancellation);
* ``activity-scope`` (6 single first-level administrative area when the project id names a state, else 4
  national), ``recipient-country`` MX, ``location`` by state (``@ref`` the ISO 3166-2 code, name, country MX in
  vocabulary A4, feature designation ADM1, class 1 administrative region, exactness 2 approximate);
* ``sector``: OECD DAC 5-digit purpose codes (vocabulary 1) of the proposals' project types, percentages by
  proposed amount; vocabulary 99 ``unclassified`` when no proposal states a known project type;
* ``budget`` per calendar year of proposals (type 1 original; status 2 committed when every proposal of the year
  was executed, else 1 indicative);
* ``transaction``: for each executed proposal a commitment (type 2, dated when the approvals counted by the
  execution were recorded) and a disbursement (type 3, dated at the execution), value in USD, provider the MDF,
  receiver the payee; a commitment also for a proposal approved by a quorum and not yet paid;
* ``result`` (type 1 output): quantities contracted (from the proposals' unit-cost figures, as targets) and
  milestones reached (actuals).

Ledger ties (namespace :data:`NAEF_NS`, allowed by the schema's ``xsd:any namespace="##other"``): every activity
ends with ``naef:ledger-entries`` (its leaf indexes), every transaction carries ``naef:entries``, and the file
ends with ``naef:checkpoint`` (origin, size, root hash and the signed note text).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any, cast

from lxml import etree

from naef.disclosure import bods_package, iati_org
from naef.disclosure.common import ExportCheckpoint, Record, Rendered, format_usd, shown
from naef.disclosure.errors import DisclosureError
from naef.disclosure.iati_xml import LANG, MDF_NAME_ES, narrative, sub
from naef.disclosure.model import (
    ENTRY_BODS,
    MDF_NAME,
    MDF_ORG_REF,
    MDF_ORG_TYPE,
    OC4IDS_PREFIX,
    PROJECT_ENTRY_TYPES,
    PROJECT_TYPES,
    Project,
    Proposal,
    fold_projects,
)
from naef.disclosure.orgid import MDF_PUBLISHER, PartyOrg, Publisher, party_org
from naef.ledger.log import StoredEntry

__all__ = [
    "FILE",
    "INPUT_TYPES",
    "NAEF_NS",
    "NAME",
    "activity_identifier",
    "compare",
    "render",
    "validate",
]

NAME = "iati"
FILE = "iati-activities.xml"
INPUT_TYPES: frozenset[str] = PROJECT_ENTRY_TYPES | {ENTRY_BODS, iati_org.ENTRY_RECEIPT}
NAEF_NS = "urn:naef:ledger:1"
IATI_VERSION = "2.03"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_CENT = Decimal("0.01")
FLOW_TYPE = "50"
"""IATI FlowType 50 "Other flows": the MDF's money is Mexico's own oil revenue, neither ODA (10) nor other
official flows from a donor (20) nor private flows (30-37)."""
AID_TYPE = "C01"
"""IATI AidType (vocabulary 1, OECD DAC) C01 "Project-type interventions"."""
FINANCE_GRANT, FINANCE_LOAN = "110", "421"
"""IATI FinanceType 110 "Standard grant" (the MDF pays for works and scholarships) and 421 "Standard loan" (its
SME credit programme)."""
_LOAN_TYPES = frozenset({"small_enterprise_loans"})
_HUNDRED = Decimal("100")


def activity_identifier(project_id: str, org_ref: str = MDF_ORG_REF) -> str:
    """``<reporting-org ref>-<project id>`` (IATI: the reporting organisation's identifier, a hyphen, the
    organisation's own activity identifier)."""
    return f"{org_ref}-{project_id}"


def oc4ids_project_id(project_id: str) -> str:
    """The OC4IDS identifier of the same project (``naef.disclosure.oc4ids.project_id``)."""
    return f"{OC4IDS_PREFIX}-{project_id}"


def _n(tag: str) -> str:
    return f"{{{NAEF_NS}}}{tag}"




def _value(parent: etree._Element, amount: Decimal, on: str) -> None:
    sub(parent, "value", format_usd(amount), currency="USD", value_date=on)


def _percentages(weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """Shares of 100 with two decimals that add up to exactly 100 (largest remainders get the spare cents)."""
    total = sum(weights.values(), Decimal(0))
    keys = list(weights)
    if total <= 0:
        weights = dict.fromkeys(keys, Decimal(1))
        total = Decimal(len(keys))
    raw = {k: weights[k] * _HUNDRED / total for k in keys}
    floor = {k: raw[k].quantize(_CENT, rounding=ROUND_DOWN) for k in keys}
    spare = int(((_HUNDRED - sum(floor.values(), Decimal(0))) / _CENT).to_integral_value())
    for k in sorted(keys, key=lambda k: (-(raw[k] - floor[k]), k))[:spare]:
        floor[k] += _CENT
    return floor


def _quantity(q: float) -> str:
    return str(int(q)) if float(q).is_integer() else repr(float(q))


def _leaves(project: Project, orgs: Mapping[str, PartyOrg]) -> tuple[int, ...]:
    """The project's leaves and the BODS statements its payees' identities come from."""
    return tuple(sorted(set(project.leaves) | {o.index for o in orgs.values() if o.index is not None}))


def _entries_attr(indexes: Sequence[int]) -> str:
    return " ".join(str(i) for i in sorted(set(indexes)))


def _counted_approvals(p: Proposal) -> list[int]:
    if p.execution is None:
        return []
    latest: dict[str, int] = {}
    for a in p.approvals:
        if a.signer in p.execution.approvals:
            latest[a.signer] = a.index
    return list(latest.values())


def _receiver(parent: etree._Element, tag: str, p: Proposal, org: PartyOrg) -> None:
    """``receiver-org`` (or ``participating-org``) of the payee: ``@ref`` the org-id from its BODS record,
    ``@type`` its IATI organisation type, ``@naef:party`` the BODS record id."""
    el = sub(parent, tag)
    if org.ref is not None:
        el.set("ref", org.ref)
    if org.type is not None:
        el.set("type", org.type)
    el.set(_n("party"), p.payee)
    narrative(el, p.payee_name or p.payee)


def _activity(project: Project, pub: Publisher, orgs: Mapping[str, PartyOrg]) -> etree._Element:
    org_ref = pub.ref
    actual = pub.actual
    # nothing dated after the publication date is published as a fact (IATI: no actual date in the future)
    updated = project.last_time if actual(project.last_time) else f"{pub.as_of}T00:00:00Z"
    a = etree.Element(
        "iati-activity",
        {"default-currency": "USD", "last-updated-datetime": updated, LANG: "en"},
    )
    sub(a, "iati-identifier", activity_identifier(project.project_id, org_ref))
    org = sub(a, "reporting-org", ref=org_ref, type=MDF_ORG_TYPE)
    narrative(org, MDF_NAME, MDF_NAME_ES)
    narrative(sub(a, "title"), f"MDF project {project.project_id}", f"Proyecto del FMD {project.project_id}")
    narrative(
        sub(a, "description", type="1"),
        "; ".join(f"{p.proposal_id}: {p.purpose}" for p in project.proposals),
    )
    notes = [note for p in project.proposals for note in p.control_notes()]
    if notes:
        narrative(sub(a, "description", type="4"), "; ".join(notes))
    for role in ("1", "2"):
        narrative(
            sub(a, "participating-org", ref=org_ref, role=role, type=MDF_ORG_TYPE), MDF_NAME, MDF_NAME_ES
        )
    for payee, name in project.payees:
        party = orgs[payee]
        org = sub(a, "participating-org", role="4")
        if party.ref is not None:
            org.set("ref", party.ref)
        if party.type is not None:
            org.set("type", party.type)
        org.set(_n("party"), payee)
        narrative(org, name)
    if project.infrastructure:  # the same project in the OC4IDS package
        other = sub(a, "other-identifier", ref=oc4ids_project_id(project.project_id), type="A9")
        narrative(sub(other, "owner-org", ref=org_ref), "OC4IDS project identifier", "identificador OC4IDS")

    executed = project.executed
    paid = [p for p in executed if p.execution is not None and actual(p.execution.time)]
    cancelled = project.cancelled and actual(project.milestones[-1].on)
    status = "5" if cancelled else ("2" if paid else "1")
    sub(a, "activity-status", code=status)
    if paid:
        first = min(p.execution.time for p in paid if p.execution is not None)
        narrative(
            sub(a, "activity-date", type="2", iso_date=first[:10]), "first MDF disbursement", "primer pago del FMD"
        )
    elif executed:  # paid only after the publication date: the ledger's date is a plan as of today
        first = min(p.execution.time for p in executed if p.execution is not None)
        narrative(
            sub(a, "activity-date", type="1", iso_date=first[:10]),
            f"first MDF disbursement, dated after the publication date {pub.as_of}: planned",
            f"primer pago del FMD, con fecha posterior a la publicación {pub.as_of}: previsto",
        )
    else:
        narrative(
            sub(a, "activity-date", type="1", iso_date=project.first_time[:10]),
            "date of the first MDF disbursement proposal",
            "fecha de la primera propuesta de pago del FMD",
        )
    if project.cancelled:
        narrative(
            sub(a, "activity-date", type="4" if cancelled else "3", iso_date=project.milestones[-1].on),
            "cancelled" if cancelled else "cancellation planned",
            "cancelado" if cancelled else "cancelación prevista",
        )

    state = project.state
    sub(a, "activity-scope", code="6" if state is not None else "4")
    sub(a, "recipient-country", code="MX", percentage="100")
    if state is not None:
        loc = sub(a, "location", ref=state.code)
        sub(loc, "location-reach", code="1")
        narrative(sub(loc, "name"), state.name)
        sub(loc, "administrative", vocabulary="A4", level="0", code="MX")
        sub(loc, "exactness", code="2")
        sub(loc, "location-class", code="1")
        sub(loc, "feature-designation", code="ADM1")

    weights: dict[str, Decimal] = {}
    for p in project.proposals:
        kind = PROJECT_TYPES.get(p.unit_cost.project_type) if p.unit_cost is not None else None
        if kind is not None:
            weights[kind.dac_code] = weights.get(kind.dac_code, Decimal(0)) + p.amount_usd
    if weights:
        for code, share in _percentages(weights).items():
            sub(a, "sector", vocabulary="1", code=code, percentage=f"{share:f}")
    else:
        sector = sub(a, "sector", vocabulary="99", code="unclassified", percentage="100")
        narrative(sector, "not classified: no proposal states a known project type")
    loans = bool(project.project_types) and set(project.project_types) <= _LOAN_TYPES
    sub(a, "default-flow-type", code=FLOW_TYPE)
    sub(a, "default-finance-type", code=FINANCE_LOAN if loans else FINANCE_GRANT)
    sub(a, "default-aid-type", code=AID_TYPE, vocabulary="1")

    years = sorted({p.time[:4] for p in project.proposals})
    for year in years:
        props = [p for p in project.proposals if p.time[:4] == year]
        done = all(p.execution is not None and actual(p.execution.time) for p in props)
        budget = sub(a, "budget", type="1", status="2" if done else "1")
        sub(budget, "period-start", iso_date=f"{year}-01-01")
        sub(budget, "period-end", iso_date=f"{year}-12-31")
        _value(budget, sum((p.amount_usd for p in props), Decimal(0)), f"{year}-01-01")

    # works paid to contractors are expenditure (4: funds spent on goods and services for the activity); money
    # placed at a recipient's disposal (scholarship funds, SME credit) is disbursement (3) (IATI TransactionType)
    paid_code, paid_what = (
        ("4", ("expenditure", "gasto")) if project.infrastructure else ("3", ("disbursement", "desembolso"))
    )
    # a payment dated after the publication date is a planned disbursement (type 1, original), not a transaction
    for p in executed:
        assert p.execution is not None
        if actual(p.execution.time):
            continue
        when = p.execution.time[:10]
        planned = sub(a, "planned-disbursement", type="1")
        planned.set(_n("entries"), _entries_attr([p.execution.index]))
        sub(planned, "period-start", iso_date=when)
        sub(planned, "period-end", iso_date=when)
        _value(planned, p.execution.amount_usd, when)
        narrative(sub(planned, "provider-org", ref=org_ref, type=MDF_ORG_TYPE), MDF_NAME, MDF_NAME_ES)
        _receiver(planned, "receiver-org", p, orgs[p.payee])
    for p in project.proposals:
        flows: list[tuple[str, str, Decimal, list[int], tuple[str, str]]] = []
        if p.execution is not None:
            assert p.commitment_time is not None
            flows = [
                ("2", p.commitment_time, p.amount_usd, [p.index, *_counted_approvals(p)], ("commitment", "compromiso")),
                (paid_code, p.execution.time, p.execution.amount_usd, [p.execution.index], paid_what),
            ]
        elif p.quorum is not None:  # approved by a quorum, not paid yet: committed all the same
            flows = [("2", p.quorum[0], p.amount_usd, [p.index, *p.quorum[1]], ("commitment", "compromiso"))]
        for code, when, amount, leaves, what in flows:
            if not actual(when):
                continue
            tx = sub(a, "transaction", ref=p.proposal_id)
            tx.set(_n("entries"), _entries_attr(leaves))
            sub(tx, "transaction-type", code=code)
            sub(tx, "transaction-date", iso_date=when[:10])
            _value(tx, amount, when[:10])
            narrative(
                sub(tx, "description"), f"{what[0]} of {p.proposal_id}: {p.purpose}", f"{what[1]} de {p.proposal_id}"
            )
            narrative(sub(tx, "provider-org", ref=org_ref, type=MDF_ORG_TYPE), MDF_NAME, MDF_NAME_ES)
            _receiver(tx, "receiver-org", p, orgs[p.payee])

    _results(a, project, pub)
    sub(a, _n("ledger-entries"), _entries_attr(_leaves(project, orgs)))
    return a


def _results(a: etree._Element, project: Project, pub: Publisher) -> None:
    contracted: dict[tuple[str, str], dict[str, float]] = {}
    for p in project.proposals:
        if p.unit_cost is not None and p.unit_cost.quantity > 0:
            by_year = contracted.setdefault((p.unit_cost.project_type, p.unit_cost.unit), {})
            by_year[p.time[:4]] = by_year.get(p.time[:4], 0.0) + p.unit_cost.quantity
    if contracted:
        result = sub(a, "result", type="1")
        narrative(sub(result, "title"), "Outputs contracted with MDF funding")
        for (kind, unit), by_year in contracted.items():
            indicator = sub(result, "indicator", measure="1", ascending="1")
            narrative(sub(indicator, "title"), f"{unit} contracted ({kind})")
            for year, quantity in sorted(by_year.items()):
                period = sub(indicator, "period")
                sub(period, "period-start", iso_date=f"{year}-01-01")
                sub(period, "period-end", iso_date=f"{year}-12-31")
                sub(period, "target", value=_quantity(quantity))
    reached = [m for m in project.milestones if m.status == "reached" and pub.actual(m.on)]
    if reached:
        result = sub(a, "result", type="1")
        narrative(sub(result, "title"), "Project milestones")
        indicator = sub(result, "indicator", measure="1", ascending="1")
        narrative(sub(indicator, "title"), "Milestones reached")
        for year in sorted({m.on[:4] for m in reached}):
            these = [m for m in reached if m.on[:4] == year]
            period = sub(indicator, "period")
            sub(period, "period-start", iso_date=f"{year}-01-01")
            sub(period, "period-end", iso_date=f"{year}-12-31")
            actual = sub(period, "actual", value=str(len(these)))
            narrative(sub(actual, "comment"), "; ".join(f"{m.milestone} ({m.on})" for m in these))


def render(
    entries: Sequence[StoredEntry], checkpoint: ExportCheckpoint, *, publisher: Publisher = MDF_PUBLISHER
) -> Rendered:
    """The IATI activities file of the MDF projects in ``entries`` at ``checkpoint``.

    Raises :class:`DisclosureError` when there is no project (IATI needs at least one ``iati-activity``).
    """
    projects = fold_projects(entries)
    bods = [
        (e.index, st) for e in sorted(entries, key=lambda x: x.index)
        if e.type == ENTRY_BODS and isinstance(st := e.payload.get("statement"), Mapping)
    ]
    if not projects:
        raise DisclosureError(
            f"ledger: no MDF disbursement proposal up to checkpoint size {checkpoint.size}; "
            "nothing to publish as IATI activities"
        )
    root = etree.Element("iati-activities", {"version": IATI_VERSION}, nsmap={"naef": NAEF_NS})
    records = [Record("iati-activities header", (FILE,), ())]
    for project in projects:
        orgs = {payee: party_org(bods, payee) for payee, _ in project.payees}
        root.append(_activity(project, publisher, orgs))
        ident = activity_identifier(project.project_id, publisher.ref)
        records.append(Record(f"iati-activity {ident}", (FILE,), _leaves(project, orgs)))
    cp = etree.SubElement(
        root, _n("checkpoint"), {"origin": checkpoint.origin, "size": str(checkpoint.size),
                                 "root-hash": checkpoint.root_hash.hex()}
    )
    cp.text = checkpoint.note
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    org_xml, org_record = iati_org.render(entries, projects, checkpoint, publisher, NAEF_NS)
    return bods_package.rendered_with(entries, {FILE: xml, iati_org.ORG_FILE: org_xml}, [*records, org_record])


# ------------------------------------------------------------------------------------------ reading back


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True, huge_tree=False
    )


def _parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, _parser())


def _name(tag: str) -> str:
    q = etree.QName(tag)
    if q.namespace == NAEF_NS:
        return f"naef:{q.localname}"
    if q.namespace == _XML_NS:
        return f"xml:{q.localname}"
    return q.localname if q.namespace is None else f"{{{q.namespace}}}{q.localname}"


def _attrs(el: etree._Element) -> dict[str, str]:
    return {str(k): str(v) for k, v in el.attrib.items()}


def _elements(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def element_difference(actual: etree._Element, expected: etree._Element, path: str) -> str | None:
    """The first difference between two elements (tag, attributes, stripped text, child elements in order) as
    ``"<path>: the file has X, the ledger gives Y"``; ``None`` when equal."""
    where = path or _name(str(expected.tag))
    if actual.tag != expected.tag:
        return f"{where}: the file has element {_name(str(actual.tag))}, the ledger gives {_name(str(expected.tag))}"
    a_attrs, e_attrs = _attrs(actual), _attrs(expected)
    for key in e_attrs:
        if key not in a_attrs:
            return f"{where}/@{_name(key)}: missing from the file (the ledger gives {shown(e_attrs[key])})"
        if a_attrs[key] != e_attrs[key]:
            return f"{where}/@{_name(key)}: the file has {shown(a_attrs[key])}, the ledger gives {shown(e_attrs[key])}"
    for key in a_attrs:
        if key not in e_attrs:
            return f"{where}/@{_name(key)}: in the file ({shown(a_attrs[key])}) but not derived from the ledger"
    a_text, e_text = (actual.text or "").strip(), (expected.text or "").strip()
    if a_text != e_text:
        return f"{where}: the file has {shown(a_text)}, the ledger gives {shown(e_text)}"
    a_kids, e_kids = _elements(actual), _elements(expected)
    counts: dict[str, int] = {}
    for a_kid, e_kid in zip(a_kids, e_kids, strict=False):
        tag = _name(str(e_kid.tag))
        counts[tag] = counts.get(tag, 0) + 1
        sub = f"{path}/{tag}[{counts[tag]}]" if path else f"{tag}[{counts[tag]}]"
        found = element_difference(a_kid, e_kid, sub)
        if found:
            return found
    if len(a_kids) > len(e_kids):
        extra = a_kids[len(e_kids)]
        return f"{where}: the file has an extra {_name(str(extra.tag))} element not derived from the ledger"
    if len(a_kids) < len(e_kids):
        missing = e_kids[len(a_kids)]
        return f"{where}: the {_name(str(missing.tag))} element derived from the ledger is missing from the file"
    return None


def _identifier(activity: etree._Element) -> str:
    for child in _elements(activity):
        if child.tag == "iati-identifier":
            return (child.text or "").strip()
    return ""


def compare(folder: Path, expected: Rendered) -> list[str]:
    """Failures where ``folder``'s ``iati-activities.xml`` differs from the expected (ledger-derived) file: one
    line per differing record (activity, or the file header), naming the record, its ledger entries and the
    first differing field."""
    labels = {r.id: r.label() for r in expected.records}
    try:
        actual = _parse((folder / FILE).read_bytes())
    except OSError as exc:
        return [f"{FILE}: cannot read ({exc.strerror})"]
    except etree.XMLSyntaxError as exc:
        return [f"{FILE}: not well-formed XML ({exc})"]
    wanted = _parse(expected.files[FILE])
    failures: list[str] = []
    header = "iati-activities header"
    head_actual = etree.Element(actual.tag, _attrs(actual))
    head_wanted = etree.Element(wanted.tag, _attrs(wanted))
    for src, dst in ((actual, head_actual), (wanted, head_wanted)):
        for child in _elements(src):
            if child.tag != "iati-activity":
                dst.append(_copy(child))
    found = element_difference(head_actual, head_wanted, "iati-activities")
    if found:
        failures.append(f"{labels[header]}: {found}")
    in_file: dict[str, list[etree._Element]] = {}
    for activity in _elements(actual):
        if activity.tag == "iati-activity":
            in_file.setdefault(_identifier(activity), []).append(activity)
    derived = {_identifier(a): a for a in _elements(wanted) if a.tag == "iati-activity"}
    for ident, activity in derived.items():
        rid = f"iati-activity {ident}"
        got = in_file.get(ident, [])
        if not got:
            failures.append(f"{labels[rid]}: missing from {FILE}")
        elif len(got) > 1:
            failures.append(f"{labels[rid]}: appears {len(got)} times in {FILE}")
        else:
            diff = element_difference(got[0], activity, "")
            if diff:
                failures.append(f"{labels[rid]}: {diff}")
    for ident in in_file:
        if ident not in derived:
            failures.append(f"iati-activity {ident or '(no identifier)'}: in {FILE} but not derived from the ledger")
    org = next(r for r in expected.records if r.id.startswith("iati-organisation "))
    try:
        org_actual = _parse((folder / iati_org.ORG_FILE).read_bytes())
    except OSError as exc:
        return [*failures, f"{org.label()}: {iati_org.ORG_FILE}: cannot read ({exc.strerror})"]
    except etree.XMLSyntaxError as exc:
        return [*failures, f"{org.label()}: {iati_org.ORG_FILE}: not well-formed XML ({exc})"]
    diff = element_difference(org_actual, _parse(expected.files[iati_org.ORG_FILE]), "iati-organisations")
    if diff:
        failures.append(f"{org.label()}: {diff}")
    return failures + bods_package.labelled_compare(folder, expected)


def _copy(el: etree._Element) -> etree._Element:
    return _parse(etree.tostring(el))


@functools.lru_cache(maxsize=4)
def _schema(schema_dir: str) -> etree.XMLSchema:
    path = Path(schema_dir) / "iati-activities-schema.xsd"
    if not path.is_file():
        raise DisclosureError(f"IATI schema: {path} not found")
    return etree.XMLSchema(etree.parse(str(path)))


def validate(xml: bytes, schema_dir: Path) -> list[str]:
    """Errors of ``xml`` against the official IATI 2.03 activity schema in ``schema_dir``
    (``iati-activities-schema.xsd`` with ``iati-common.xsd`` and ``xml.xsd`` beside it); empty when valid."""
    schema = _schema(str(schema_dir))
    doc = _parse(xml)
    if schema.validate(doc):
        return []
    log: Iterable[Any] = cast(Iterable[Any], schema.error_log)
    return [f"line {e.line}: {e.message}" for e in log]
