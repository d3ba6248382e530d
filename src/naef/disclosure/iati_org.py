"""The MDF as an IATI 2.03 organisation: ``iati-organisations.xml`` in every IATI bundle.

One ``iati-organisation`` (the publisher: ``organisation-identifier`` and ``reporting-org`` its org-id, type 15
Other Public Sector; names in English and Spanish), valid against the official ``iati-organisations-schema.xsd``:

* ``total-budget``, one per calendar year in which the MDF received money: the MDF may spend only what it has
  received (the ledger's rule: no disbursement above the recorded balance), so its budget for a year is its
  **incoming funds** — the ``mdf_receipt`` entries recorded in the year (the waterfall's residual payments and any
  other receipt). ``@status`` 2 (committed) when the receipts are dated on or before the publication date, else 1
  (indicative: the ledger's date is after it — the demo's simulated timeline). One ``budget-line`` per receipt
  (``@ref`` the receipt id; the source and period in the narrative; ``@naef:entries`` its entry).
* ``total-expenditure``, one per calendar year with a payment dated on or before the publication date: the
  executed disbursements, one ``expense-line`` per MDF project (``@ref`` the project id).

The record ``iati-organisation <org-id>`` has as leaves the receipts and executions it sums, so the verifier
re-derives it like the activities (:func:`naef.disclosure.iati.compare`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from lxml import etree

from naef.disclosure.common import ExportCheckpoint, Record, format_usd
from naef.disclosure.iati_xml import LANG, MDF_NAME_ES, narrative, sub
from naef.disclosure.model import MDF_NAME, MDF_ORG_TYPE, Project
from naef.disclosure.orgid import Publisher
from naef.ledger.log import StoredEntry

__all__ = ["ENTRY_RECEIPT", "ORG_FILE", "render", "validate"]

ORG_FILE = "iati-organisations.xml"
ENTRY_RECEIPT = "mdf_receipt"




def _period(parent: etree._Element, year: str, amount: Decimal) -> None:
    sub(parent, "period-start", iso_date=f"{year}-01-01")
    sub(parent, "period-end", iso_date=f"{year}-12-31")
    sub(parent, "value", format_usd(amount), currency="USD", value_date=f"{year}-01-01")


def render(
    entries: Sequence[StoredEntry], projects: Sequence[Project], checkpoint: ExportCheckpoint, pub: Publisher,
    ns: str,
) -> tuple[bytes, Record]:
    """The organisation file of the MDF from its receipts (``entries`` of type ``mdf_receipt``) and its projects'
    executed payments."""
    def n(tag: str) -> str:
        return f"{{{ns}}}{tag}"

    receipts = sorted((e for e in entries if e.type == ENTRY_RECEIPT), key=lambda e: e.index)
    leaves: set[int] = set()
    root = etree.Element("iati-organisations", {"version": "2.03"}, nsmap={"naef": ns})
    last = max([e.time for e in receipts] + [p.last_time for p in projects], default="")
    updated = last if pub.actual(last) or not last else f"{pub.as_of}T00:00:00Z"
    org = sub(root, "iati-organisation", **{LANG: "en", "default-currency": "USD"})
    if updated:
        org.set("last-updated-datetime", updated)
    sub(org, "organisation-identifier", pub.ref)
    narrative(sub(org, "name"), MDF_NAME, MDF_NAME_ES)
    narrative(sub(org, "reporting-org", ref=pub.ref, type=MDF_ORG_TYPE), MDF_NAME, MDF_NAME_ES)
    by_year: dict[str, list[StoredEntry]] = {}
    for e in receipts:
        by_year.setdefault(e.time[:4], []).append(e)
    for year, these in sorted(by_year.items()):
        done = all(pub.actual(e.time) for e in these)
        budget = sub(org, "total-budget", status="2" if done else "1")
        _period(budget, year, sum((Decimal(str(e.payload.get("amount_usd", "0"))) for e in these), Decimal(0)))
        for e in these:
            line = sub(budget, "budget-line", ref=str(e.payload.get("receipt_id", "")))
            line.set(n("entries"), str(e.index))
            sub(line, "value", format_usd(Decimal(str(e.payload.get("amount_usd", "0")))), currency="USD",
                 value_date=e.time[:10])
            narrative(
                line,
                f"incoming funds from {e.payload.get('source', '')} for {e.payload.get('period', '')}",
                f"fondos recibidos de {e.payload.get('source', '')} por {e.payload.get('period', '')}",
            )
            leaves.add(e.index)
    spent: dict[str, dict[str, list[tuple[Decimal, int]]]] = {}
    for project in projects:
        for p in project.executed:
            x = p.execution
            if x is not None and pub.actual(x.time):
                spent.setdefault(x.time[:4], {}).setdefault(project.project_id, []).append((x.amount_usd, x.index))
    for year, per_project in sorted(spent.items()):
        total = sum((a for rows in per_project.values() for a, _ in rows), Decimal(0))
        exp = sub(org, "total-expenditure")
        _period(exp, year, total)
        for project_id, rows in per_project.items():
            line = sub(exp, "expense-line", ref=project_id)
            line.set(n("entries"), " ".join(str(i) for _, i in sorted(rows, key=lambda r: r[1])))
            sub(line, "value", format_usd(sum((a for a, _ in rows), Decimal(0))), currency="USD",
                 value_date=f"{year}-01-01")
            narrative(line, f"MDF payments to project {project_id}", f"pagos del FMD al proyecto {project_id}")
            leaves.update(i for _, i in rows)
    cp = etree.SubElement(root, n("checkpoint"), {"origin": checkpoint.origin, "size": str(checkpoint.size),
                                                  "root-hash": checkpoint.root_hash.hex()})
    cp.text = checkpoint.note
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml, Record(f"iati-organisation {pub.ref}", (ORG_FILE,), tuple(sorted(leaves)))


def validate(xml: bytes, schema_dir: Path) -> list[str]:
    """Errors of ``xml`` against the official IATI 2.03 organisation schema (``iati-organisations-schema.xsd``
    with ``iati-common.xsd`` and ``xml.xsd`` in ``schema_dir``); empty when valid."""
    schema = etree.XMLSchema(etree.parse(str(Path(schema_dir) / "iati-organisations-schema.xsd")))
    doc = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]
