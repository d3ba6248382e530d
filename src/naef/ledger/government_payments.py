"""PEMEX's payments to government: the ``government_payment`` entry type the EITI tables read.

The base ledger records what reaches NAEF (``revenue_collected``) and what NAEF pays (``waterfall_payment``), not
what PEMEX pays the Federation (duties, taxes, dividends) before its revenue reaches NAEF. EITI revenue tables
(EITI Standard 2019, Requirement 4.1 "comprehensive disclosure of taxes and revenues") need those payments by
period and revenue stream, so this module adds one entry type through the ledger's extension point
(:func:`naef.ledger.entries.register_entry_type`; it is one of the ledger's extension modules, loaded with the
entry types)::

    {"period": "2031Q1", "payer": "XE-EXAMPLE-PEMEX", "payer_name": "Petróleos Mexicanos",
     "payee": "XE-EXAMPLE-TESOFE", "payee_name": "Tesorería de la Federación",
     "stream": "hydrocarbon duty", "amount_usd": "812000000.00", "gfs_code": "1415E1", "volume_bbl": "1200000"}

``payer`` and ``payee`` are **identities**, not names: organisation identifiers (org-ids,
:mod:`naef.ledger.orgids`: an approved registration-agency prefix of the IATI OrganisationRegistrationAgency
codelist, e.g. ``MX-RFC-`` and the taxpayer number for a Mexican company or agency; ``XE-EXAMPLE-`` for
examples), compared in Unicode NFC — so "PEMEX" and "Pemex Exploración" aggregate in the EITI reporting entities
exactly when they are one identifier, never by their names. A payer or payee that is not an org-id (a free-text
name such as ``"Pemex Exploración"``) is refused at append, naming the field. ``payer_name`` and ``payee_name``
are the names as stated (shown beside the identifier, never used to aggregate); ``volume_bbl`` the volume
(barrels) the payment is levied on, when the payer states it (EITI Requirement 4.2 / summary data template's
in-kind and production volumes) — absent means "not recorded", never zero.

``gfs_code`` is the optional IMF *Government Finance Statistics Manual 2014* classification of the stream, which
the EITI summary data template asks for. It is checked at append (:func:`check_gfs_code`): a code of the GFSM 2014
revenue classification (:data:`GFS_2014_REVENUE`), or such a code with the EITI template's extension suffix ``E``
and an optional digit (``1415E1`` royalties, ``1112E2``...: the template subdivides GFS codes this way); an unknown
code (``"banana"``) is refused, naming the field. The type is registered when this module is imported (the ledger
imports it with its other extension modules); an already registered ``government_payment`` model is left in place.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import Field, field_validator

from naef.ledger.entries import Name, Payload, Usd, entry_types, register_entry_type
from naef.ledger.orgids import check_org_id

__all__ = [
    "ENTRY_GOVERNMENT_PAYMENT",
    "GFS_2014_REVENUE",
    "GovernmentPayment",
    "check_gfs_code",
    "register",
]

GFS_2014_REVENUE: dict[str, str] = {
    # IMF, Government Finance Statistics Manual 2014, Chapter 5 "Revenue", Table 5.1 "Classification of revenue"
    # (codes of the categories 1 Revenue … 14 Other revenue, to the level the EITI summary data template uses).
    "11": "Taxes",
    "111": "Taxes on income, profits, and capital gains",
    "1111": "Payable by individuals",
    "1112": "Payable by corporations and other enterprises",
    "1113": "Other taxes on income, profits, and capital gains",
    "112": "Taxes on payroll and workforce",
    "113": "Taxes on property",
    "1131": "Recurrent taxes on immovable property",
    "1132": "Recurrent taxes on net wealth",
    "1133": "Estate, inheritance, and gift taxes",
    "1134": "Taxes on financial and capital transactions",
    "1135": "Other nonrecurrent taxes on property",
    "1136": "Other recurrent taxes on property",
    "114": "Taxes on goods and services",
    "1141": "General taxes on goods and services",
    "11411": "Value-added taxes",
    "11412": "Sales taxes",
    "11413": "Turnover and other general taxes on goods and services",
    "11414": "Taxes on financial and capital transactions",
    "1142": "Excises",
    "1143": "Profits of fiscal monopolies",
    "1144": "Taxes on specific services",
    "1145": "Taxes on use of goods and on permission to use goods or perform activities",
    "11451": "Motor vehicle taxes",
    "11452": "Other taxes on use of goods and on permission to use goods or perform activities",
    "1146": "Other taxes on goods and services",
    "115": "Taxes on international trade and transactions",
    "1151": "Customs and other import duties",
    "1152": "Taxes on exports",
    "1153": "Profits of export or import monopolies",
    "1154": "Exchange profits",
    "1155": "Exchange taxes",
    "1156": "Other taxes on international trade and transactions",
    "116": "Other taxes",
    "1161": "Payable solely by business",
    "1162": "Payable by other than business or unidentifiable",
    "12": "Social contributions",
    "121": "Social security contributions",
    "1211": "Employee contributions",
    "1212": "Employer contributions",
    "1213": "Self-employed or nonemployed contributions",
    "1214": "Unallocable contributions",
    "122": "Other social contributions",
    "1221": "Employee contributions",
    "1222": "Employer contributions",
    "1223": "Imputed contributions",
    "13": "Grants",
    "131": "From foreign governments",
    "1311": "Current",
    "1312": "Capital",
    "132": "From international organizations",
    "1321": "Current",
    "1322": "Capital",
    "133": "From other general government units",
    "1331": "Current",
    "1332": "Capital",
    "14": "Other revenue",
    "141": "Property income",
    "1411": "Interest",
    "1412": "Dividends",
    "1413": "Withdrawals from income of quasi-corporations",
    "1414": "Property income attributed to insurance policyholders",
    "1415": "Rent",
    "1416": "Reinvested earnings on foreign direct investment",
    "142": "Sales of goods and services",
    "1421": "Sales by market establishments",
    "1422": "Administrative fees",
    "1423": "Incidental sales by nonmarket establishments",
    "1424": "Imputed sales of goods and services",
    "143": "Fines, penalties, and forfeits",
    "144": "Transfers not elsewhere classified",
    "1441": "Current transfers not elsewhere classified",
    "1442": "Capital transfers not elsewhere classified",
    "145": "Premiums, fees, and claims related to nonlife insurance and standardized guarantee schemes",
}
"""GFSM 2014 revenue codes and their names (transcribed; the table above cites the source)."""

_EITI_EXTENSION = re.compile(r"(?P<base>[0-9]+)E[0-9]?")


def check_gfs_code(code: str) -> str:
    """``code`` when it is a GFSM 2014 revenue code or one with the EITI template's ``E<digit>`` extension;
    :class:`ValueError` otherwise."""
    m = _EITI_EXTENSION.fullmatch(code)
    base = m["base"] if m else code
    if base not in GFS_2014_REVENUE:
        raise ValueError(
            f"{code!r} is not a GFSM 2014 revenue code (e.g. 1415 rent, 1412 dividends, 1112 corporate income "
            "tax; the EITI template's extensions such as 1415E1 are accepted)"
        )
    return code


ENTRY_GOVERNMENT_PAYMENT = "government_payment"


class GovernmentPayment(Payload):
    """A payment by PEMEX (or another payer) to a government entity, for one period and revenue stream; payer
    and payee by organisation identifier."""

    period: Name
    payer: Name
    payee: Name
    stream: Name
    amount_usd: Usd
    gfs_code: Name | None = None
    reference: Name | None = None
    payer_name: Name | None = None
    payee_name: Name | None = None
    volume_bbl: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)

    @field_validator("payer", "payee")
    @classmethod
    def _an_identity(cls, value: str) -> str:
        return check_org_id(value)

    @field_validator("gfs_code")
    @classmethod
    def _known_gfs_code(cls, value: str | None) -> str | None:
        return None if value is None else check_gfs_code(value)


def register() -> None:
    """Register ``government_payment`` unless a model is registered under that name already."""
    if ENTRY_GOVERNMENT_PAYMENT not in entry_types():
        register_entry_type(ENTRY_GOVERNMENT_PAYMENT, GovernmentPayment)


register()
