"""Organisation identifiers (org-ids): ``<registration agency prefix>-<identifier>``, the prefix an active code of
the IATI OrganisationRegistrationAgency codelist (the org-id.guide list; shipped in ``naef/data/iati/``).

This is the identity rule the disclosures apply to organisations (IATI ``@ref``, OC4IDS party identifiers, the
EITI reporting entities): a name is no identifier. The ledger uses it to refuse, at append, a government payment
whose payer or payee is not an org-id (:mod:`naef.ledger.government_payments`); :mod:`naef.disclosure.orgid`
uses it for the publisher's identifier. Identifiers compare in Unicode NFC, exact otherwise (no case folding) —
the rule the control system applies to payees' BODS record ids (``naef.ledger.approvals.models.identifier_key``).
"""

from __future__ import annotations

import csv
import functools
import io
import unicodedata

from naef.resources import read_data_text

__all__ = ["approved_prefixes", "check_org_id", "org_id_key", "split_org_id", "unusable_character"]


@functools.cache
def approved_prefixes() -> frozenset[str]:
    """The active codes of the IATI OrganisationRegistrationAgency codelist (shipped copy)."""
    text = read_data_text("iati", "OrganisationRegistrationAgency.csv")
    return frozenset(row["code"] for row in csv.DictReader(io.StringIO(text)) if row["status"] == "active")


def split_org_id(ref: str) -> tuple[str, str] | None:
    """``(scheme, uid)`` of the org-id ``ref`` — the longest approved prefix that leaves a non-empty identifier
    (``XE-EXAMPLE`` before ``XE``) — or ``None`` when no approved prefix starts it, or when ``ref`` holds
    whitespace, control or zero-width characters (an identifier, not a name)."""
    if not ref or unusable_character(ref) is not None:
        return None
    prefixes = approved_prefixes()
    parts = ref.split("-")
    for n in range(len(parts) - 1, 0, -1):
        scheme = "-".join(parts[:n])
        uid = "-".join(parts[n:])
        if scheme in prefixes and uid:
            return scheme, uid
    return None


def unusable_character(ref: str) -> str | None:
    """The first whitespace, control or invisible character of ``ref`` (Unicode general categories Z* and C*),
    named with its code point and position (``"U+0020 SPACE at position 16"``), or ``None`` when there is
    none."""
    for pos, c in enumerate(ref):
        if c.isspace() or unicodedata.category(c)[0] in "CZ":
            return f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')} at position {pos}"
    return None


def org_id_key(ref: str) -> str:
    """The form two identifiers are compared in: Unicode NFC (UAX #15), exact otherwise."""
    return unicodedata.normalize("NFC", ref)


def check_org_id(value: str) -> str:
    """``value`` when it is an organisation identifier (:func:`naef.ledger.orgids.split_org_id`);
    :class:`ValueError` otherwise (a name is no identifier)."""
    if (bad := unusable_character(value)) is not None:
        raise ValueError(f"{value!r} is not an organisation identifier: it holds {bad} (an org-id has no "
                         "whitespace, control or invisible characters)")
    if split_org_id(value) is None:
        raise ValueError(
            f"{value!r} is not an organisation identifier: give the org-id (an approved registration-agency "
            "prefix of org-id.guide and the entity's number, e.g. MX-RFC-<taxpayer number>; XE-EXAMPLE-… for "
            "examples); a name goes in its name field"
        )
    return value
