"""Organisation identifiers as IATI and OC4IDS read them: ``<registration agency prefix>-<identifier>``, the
prefix from the IATI OrganisationRegistrationAgency codelist (the org-id.guide list).

The IATI Validator refuses a ``reporting-org/@ref`` whose prefix is no approved registration agency (``XX-…``).
The publisher's identifier is a setting of the export (``naef disclose --org-id``; default
:data:`naef.disclosure.model.MDF_ORG_REF`, ``XE-EXAMPLE-NAEF-MDF``, the prefix reserved for examples), recorded in
the bundle's manifest and checked again by the verifier. The codelist ships in ``naef/data/iati/`` (code, status,
name; only ``active`` codes are approved).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from naef.disclosure.errors import DisclosureError
from naef.disclosure.model import MDF_ORG_REF, MDF_ORG_SCHEME, MDF_ORG_UID
from naef.ledger.orgids import approved_prefixes, split_org_id, unusable_character

__all__ = ["MDF_PUBLISHER", "PartyOrg", "Publisher", "approved_prefixes", "party_org", "publisher"]


@dataclass(frozen=True)
class Publisher:
    """The publishing organisation's identifier: ``ref`` = ``scheme`` + ``-`` + ``uid``."""

    ref: str
    scheme: str
    uid: str
    as_of: str | None = None
    """The publication date (``YYYY-MM-DD``): a ledger date after it is published as planned, never as actual
    (IATI: no actual date in the future). ``None`` (pure renders) treats every recorded date as actual."""

    def actual(self, when: str) -> bool:
        """True when the date (or time) ``when`` is on or before the publication date."""
        return self.as_of is None or when[:10] <= self.as_of


MDF_PUBLISHER = Publisher(MDF_ORG_REF, MDF_ORG_SCHEME, MDF_ORG_UID)
"""The demo's (illustrative) MDF identifier, ``XE-EXAMPLE-NAEF-MDF``."""


def publisher(ref: str, *, what: str = "--org-id") -> Publisher:
    """The :class:`Publisher` of ``ref``; :class:`DisclosureError` naming ``what`` when no approved prefix starts
    it (the longest matching prefix wins: ``XE-EXAMPLE`` before ``XE``)."""
    split = split_org_id(ref)
    if split is not None:
        return Publisher(ref, *split)
    if (bad := unusable_character(ref)) is not None:
        raise DisclosureError(f"{what} {ref!r}: holds {bad}; an org-id has no whitespace, control or invisible "
                              "characters")
    raise DisclosureError(
        f"{what} {ref!r}: does not start with an approved registration-agency prefix (IATI "
        "OrganisationRegistrationAgency, org-id.guide), e.g. XE-EXAMPLE-… for examples or MX-RFC-… for Mexico's "
        "taxpayer register"
    )


ORG_TYPE_BY_ENTITY_TYPE = {"registeredEntity": "70", "stateBody": "10"}
"""IATI OrganisationType of a BODS 0.4 ``entityType.type``: a registered entity (a company) is 70 Private
Sector, a state body 10 Government; any other entity type (arrangement, anonymous or unknown entity) 90 Other.
A natural person has no IATI organisation type (none is given)."""


@dataclass(frozen=True)
class PartyOrg:
    """A payee as IATI names it: ``ref`` an org-id (``<approved prefix>-<id>``) from the BODS record's
    ``identifiers``, ``type`` its IATI OrganisationType, ``index`` the BODS statement they come from."""

    ref: str | None
    type: str | None
    index: int | None


def party_org(statements: Iterable[tuple[int, Mapping[str, Any]]], record_id: str) -> PartyOrg:
    """The IATI identity of the BODS record ``record_id``, from its latest statement (BODS 0.4: a later statement
    about a ``recordId`` replaces earlier ones; a ``closed`` record has none).

    ``ref`` is ``<scheme>-<id>`` of the first of the record's ``identifiers`` whose ``scheme`` is an approved
    registration agency (org-id.guide, :func:`approved_prefixes`) — IATI's rule for organisation identifiers;
    ``None`` when it has none (a name alone is no identifier)."""
    latest: tuple[int, Mapping[str, Any]] | None = None
    for index, st in statements:
        if st.get("recordId") == record_id:
            latest = (index, st)
    if latest is None or latest[1].get("recordStatus") == "closed":
        return PartyOrg(None, None, None)
    index, st = latest
    details = st.get("recordDetails")
    details = details if isinstance(details, Mapping) else {}
    if st.get("recordType") != "entity":
        return PartyOrg(None, None, index)
    kind = details.get("entityType")
    org_type = ORG_TYPE_BY_ENTITY_TYPE.get(str(kind.get("type")) if isinstance(kind, Mapping) else "", "90")
    prefixes = approved_prefixes()
    ref = None
    identifiers = details.get("identifiers")
    for ident in identifiers if isinstance(identifiers, list) else []:
        if isinstance(ident, Mapping) and ident.get("scheme") in prefixes and isinstance(ident.get("id"), str):
            ref = f"{ident['scheme']}-{ident['id']}"
            break
    return PartyOrg(ref, org_type, index)
