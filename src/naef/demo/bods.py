"""The demo's beneficial-ownership statements (BODS 0.4, fictional companies): the ownership chains behind the
demo's payees, one of them leading two steps to a board member (the conflict of interest the demo refuses)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

__all__ = ["demo_bods_statements", "payee_statement"]

_BODS_NAMESPACE = uuid.UUID("6f1c3c8e-0d4e-4c59-9f4e-2f3b8c1d7a10")


def _sid(label: str) -> str:
    return str(uuid.uuid5(_BODS_NAMESPACE, label))


def _identifier(record_id: str) -> dict[str, str]:
    """A BODS identifier of a FICTIONAL company: org-id.guide's example prefix ``XE-EXAMPLE`` (a real one would be
    e.g. ``MX-RFC`` with the company's tax register number); IATI publishes ``XE-EXAMPLE-<id>`` as its ``@ref``."""
    return {"id": record_id.upper(), "scheme": "XE-EXAMPLE", "schemeName": "Example identifier (fictional company)"}


def payee_statement(record_id: str, name: str, *, on: date) -> dict[str, Any]:
    """A BODS 0.4 entity statement for a FICTIONAL payee (a payee must be a BODS record in the ledger)."""
    return _statement(on, record_id, record_id, "entity", _entity_details(record_id, name, component=False))


def _statement(on: date, subject: str, record_id: str, record_type: str, details: dict[str, Any]) -> dict[str, Any]:
    """One BODS 0.4 statement of the demo, published on ``on`` by "naef demo" about ``subject``."""
    return {
        "statementId": _sid(record_id),
        "declarationSubject": subject,
        "statementDate": on.isoformat(),
        "publicationDetails": {"publicationDate": on.isoformat(), "bodsVersion": "0.4",
                               "publisher": {"name": "naef demo"}},
        "recordId": record_id,
        "recordStatus": "new",
        "recordType": record_type,
        "recordDetails": details,
    }


def _entity_details(record_id: str, name: str, *, component: bool) -> dict[str, Any]:
    return {
        "isComponent": component,
        "entityType": {"type": "registeredEntity"},
        "name": name,
        "identifiers": [_identifier(record_id)],
    }


def demo_bods_statements(*, on: date) -> list[dict[str, Any]]:
    """BODS 0.4 statements for FICTIONAL companies: Ana Ejemplo owns 70 % of Grupo Ejemplo Holding, which owns
    100 % of Constructora Ejemplo (the payee of one demo disbursement) — a two-step ownership chain — and the
    entity records of the other payees."""
    subject = "demo-constructora"

    def statement(record_id: str, record_type: str, details: dict[str, Any]) -> dict[str, Any]:
        return _statement(on, subject, record_id, record_type, details)

    def entity(record_id: str, name: str, component: bool) -> dict[str, Any]:
        return statement(record_id, "entity", _entity_details(record_id, name, component=component))

    def owns(record_id: str, party: str, company: str, percent: float) -> dict[str, Any]:
        return statement(
            record_id,
            "relationship",
            {
                "isComponent": False,
                "subject": company,
                "interestedParty": party,
                "interests": [
                    {
                        "type": "shareholding",
                        "directOrIndirect": "direct",
                        # BODS 0.4: only a natural person can be a beneficial owner (the entity link is false)
                        "beneficialOwnershipOrControl": percent > 25 and party.startswith("demo-person-"),
                        "share": {"exact": percent},
                        "startDate": "2020-01-01",
                    }
                ],
            },
        )

    return [
        entity("demo-constructora", "Constructora Ejemplo SA de CV (fictional)", False),
        entity("demo-holding", "Grupo Ejemplo Holding SA de CV (fictional)", False),
        statement(
            "demo-person-ana",
            "person",
            {
                "isComponent": False,
                "personType": "knownPerson",
                "names": [{"type": "legal", "fullName": "Ana Ejemplo (fictional)"}],
            },
        ),
        owns("demo-rel-holding-constructora", "demo-holding", "demo-constructora", 100),
        owns("demo-rel-ana-holding", "demo-person-ana", "demo-holding", 70),
        # the other payees: a payee must be a BODS entity or person in the ledger
        entity("demo-autopistas-sur", "Autopistas del Sur SA (fictional)", False),
        entity("demo-escuelas-norte", "Escuelas del Norte SA (fictional)", False),
        entity("demo-fondo-becas", "Fondo de Becas Ejemplo AC (fictional)", False),
    ]
