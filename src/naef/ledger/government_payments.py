"""PEMEX's payments to government: the ``government_payment`` entry type the EITI tables read.

The base ledger records what reaches NAEF (``revenue_collected``) and what NAEF pays (``waterfall_payment``), not
what PEMEX pays the Federation (duties, taxes, dividends) before its revenue reaches NAEF. EITI revenue tables
(EITI Standard 2019, Requirement 4.1 "comprehensive disclosure of taxes and revenues") need those payments by
period and revenue stream, so this module adds one entry type through the ledger's extension point
(:func:`naef.ledger.entries.register_entry_type`; it is one of the ledger's extension modules, loaded with the
entry types)::

    {"period": "2031Q1", "payer": "PEMEX", "payee": "Tesorería de la Federación",
     "stream": "hydrocarbon duty", "amount_usd": "812000000.00", "gfs_code": "1415E1"}

``gfs_code`` is the optional IMF *Government Finance Statistics Manual 2014* classification of the stream, which
the EITI summary data template asks for. The type is registered when this module is imported (the ledger imports it
with its other extension modules); an already registered ``government_payment`` model is left in place.
"""

from __future__ import annotations

from naef.ledger.entries import Name, Payload, Usd, entry_types, register_entry_type

__all__ = ["ENTRY_GOVERNMENT_PAYMENT", "GovernmentPayment", "register"]

ENTRY_GOVERNMENT_PAYMENT = "government_payment"


class GovernmentPayment(Payload):
    """A payment by PEMEX (or another payer) to a government entity, for one period and revenue stream."""

    period: Name
    payer: Name
    payee: Name
    stream: Name
    amount_usd: Usd
    gfs_code: Name | None = None
    reference: Name | None = None


def register() -> None:
    """Register ``government_payment`` unless a model is registered under that name already."""
    if ENTRY_GOVERNMENT_PAYMENT not in entry_types():
        register_entry_type(ENTRY_GOVERNMENT_PAYMENT, GovernmentPayment)


register()
