"""Accountability to the international community: IATI, OC4IDS and EITI-style disclosure of the ledger, in
bundles anyone can verify offline.

* :mod:`naef.disclosure.iati` — IATI 2.03 activities for the MDF's projects;
* :mod:`naef.disclosure.oc4ids` — an OC4IDS 0.9.4 project package (parties with beneficial owners from the BODS
  statements in the ledger);
* :mod:`naef.disclosure.eiti` — revenue tables: PEMEX's payments to government and to NAEF, NAEF's payments to
  the MDF, by period and stream (CSV and Excel), and the EITI Summary Data Template's parts
  (:mod:`naef.disclosure.eiti_template`; workbook sheets and ``eiti-summary-data.json``);
* :mod:`naef.disclosure.bundle` — :func:`export_bundle` writes an export with its signed checkpoint, the ledger
  entries behind each record and their RFC 9162 inclusion proofs; :func:`verify_bundle`
  (:mod:`naef.disclosure.verification`) checks it without the database, re-deriving every record from the proven
  entries.

Importing this package registers the ``government_payment`` entry type (:mod:`naef.ledger.government_payments`).
See ``docs/disclosure.md``.
"""

from __future__ import annotations

from naef.disclosure.bundle import BundleReport, ExportReport, export_bundle, format_module, verify_bundle
from naef.disclosure.errors import BundleError, BundleVerificationError, DisclosureError
from naef.ledger.government_payments import ENTRY_GOVERNMENT_PAYMENT, GovernmentPayment

__all__ = [
    "ENTRY_GOVERNMENT_PAYMENT",
    "BundleError",
    "BundleReport",
    "BundleVerificationError",
    "DisclosureError",
    "ExportReport",
    "GovernmentPayment",
    "export_bundle",
    "format_module",
    "verify_bundle",
]
