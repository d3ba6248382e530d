"""What the IATI activity file (:mod:`naef.disclosure.iati`) and the organisation file
(:mod:`naef.disclosure.iati_org`) write alike: elements with IATI's hyphenated attribute names and narratives in
English with Spanish beside them (IATI 2.03 ``narrative`` with ``xml:lang``)."""

from __future__ import annotations

from lxml import etree

__all__ = ["LANG", "MDF_NAME_ES", "narrative", "sub"]

LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MDF_NAME_ES = "Fondo Mexicano de Desarrollo (FMD)"
"""The MDF's name in Spanish (illustrative, like the fund)."""


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """A child element; attribute ``iso_date`` is written ``iso-date`` (namespaced ``{…}name`` keys as given)."""
    el = etree.SubElement(parent, tag, {k if k.startswith("{") else k.replace("_", "-"): v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def narrative(parent: etree._Element, text: str, spanish: str | None = None) -> None:
    """An English narrative (the file's default language) and, when given, its Spanish one beside it."""
    sub(parent, "narrative", text)
    if spanish is not None:
        sub(parent, "narrative", spanish, **{LANG: "es"})
