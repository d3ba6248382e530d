"""Helpers of the governed-entry tests: deterministic test keys, a governance with every role, BODS records
for payees and money in the MDF — what a governed ledger needs before it can disburse."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

from naef.ledger import transaction as log_module
from naef.ledger.approvals import (
    MdfReceipt,
    import_bods,
    record_receipt,
    register_governance,
    sign_receipt,
)
from naef.ledger.governance import Governance
from naef.ledger.keys import SignerKey
from naef.ledger.log import Ledger

ROLES = {
    "mx-1": "mexican_board",
    "mx-2": "mexican_board",
    "na-1": "north_american_board",
    "na-2": "north_american_board",
    "controller": "independent_controller",
    "registrar": "registrar",
    "observer": "observer",
}


def key(name: str) -> SignerKey:
    """A deterministic test key (never a real one)."""
    return SignerKey(name, hashlib.sha256(b"naef-test-key:" + name.encode()).digest())


GOVERNANCE = Governance.model_validate(
    {"stakeholders": [{"name": n, "role": r, "public_key": key(n).verifier().encode()} for n, r in ROLES.items()]}
)


def entity_statement(record_id: str, name: str = "", *, on: date = date(2030, 1, 1)) -> dict[str, Any]:
    """A valid BODS 0.4 entity statement for ``record_id`` (statementId derived from it)."""
    return {
        "statementId": hashlib.sha256(b"test-statement:" + record_id.encode()).hexdigest()[:32],
        "declarationSubject": record_id,
        "statementDate": on.isoformat(),
        "publicationDetails": {
            "publicationDate": on.isoformat(),
            "bodsVersion": "0.4",
            "publisher": {"name": "naef tests"},
        },
        "recordId": record_id,
        "recordStatus": "new",
        "recordType": "entity",
        "recordDetails": {
            "isComponent": False,
            "entityType": {"type": "registeredEntity"},
            "name": name or f"{record_id} (fictional)",
        },
    }


def receipt(receipt_id: str, amount_usd: str | Decimal, *, recorder: str = "registrar") -> Any:
    """A signed MDF receipt."""
    return sign_receipt(
        MdfReceipt(
            receipt_id=receipt_id, period="2030Q1", amount_usd=amount_usd, source="NAEF waterfall", recorder=recorder
        ),
        key(recorder),
    )


def bootstrap(ledger: Ledger, *, payees: tuple[str, ...] = ("payee-1",), funds_usd: str = "1000000000.00") -> None:
    """Governance, the payees' BODS records (signed by the registrar) and a receipt of ``funds_usd``."""
    register_governance(ledger, GOVERNANCE)
    if payees:
        import_bods(ledger, [entity_statement(p) for p in payees], signer=key("registrar"))
    if Decimal(funds_usd) > 0:
        record_receipt(ledger, receipt("RCPT-1", funds_usd))


def around_the_rules(ledger: Ledger, entry_type: str, payload: dict[str, Any]) -> int:
    """What an adversary with write access to the database does: append a consistent tree (leaf, nodes, head)
    without the rules — the same bytes as a raw SQL writer would compute."""
    saved = log_module._RULES
    log_module._RULES = lambda tx, entry, index: None
    try:
        return ledger.append(entry_type, payload)
    finally:
        log_module._RULES = saved
