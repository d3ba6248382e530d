"""Reference tables of the disclosures, each with its source, and the ledger's period labels.

* :data:`PROJECT_TYPES`: the benchmark table's project types → OECD DAC CRS purpose codes (as listed in the IATI 2.03
  ``Sector`` codelist), OC4IDS 0.9.4 ``projectSector`` and ``projectType`` codes, infrastructure or not;
* :data:`MEXICAN_STATES` (ISO 3166-2:MX) and :func:`state_of`, the state a project id names;
* :func:`parse_period` and :func:`period_sort_key` for ``2031Q1``, ``2031H2``, ``2031-07`` and ``2031`` labels.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "MEXICAN_STATES",
    "PROJECT_TYPES",
    "ProjectType",
    "State",
    "parse_period",
    "period_sort_key",
    "state_of",
]


# ------------------------------------------------------------------------------------------ reference tables


@dataclass(frozen=True)
class ProjectType:
    """How one ``unit_cost.project_type`` of ``naef/data/unit_costs.toml`` is classified."""

    dac_code: str
    dac_name: str
    oc4ids_sector: tuple[str, ...]
    oc4ids_type: str | None
    infrastructure: bool


PROJECT_TYPES: Mapping[str, ProjectType] = {
    # DAC 5-digit purpose codes and names: IATI 2.03 Sector codelist (vocabulary 1, OECD DAC CRS purpose codes).
    # 21020 "Road infrastructure, road vehicles"; 21030 "Rail infrastructure"; 21040 "Harbours and docks";
    # 21050 "Airports"; 11120 "Educational buildings, equipment, materials" (education level unspecified);
    # 11420 "Degree and diploma programmes at universities, colleges and polytechnics; scholarships";
    # 32130 "Direct support to the development of small and medium-sized enterprises".
    # OC4IDS sectors and types: OC4IDS 0.9.4 codelists projectSector.csv and projectType.csv.
    "road_new_two_lane": ProjectType("21020", "Road transport", ("transport", "transport.road"), "construction", True),
    "road_widening_urban": ProjectType("21020", "Road transport", ("transport", "transport.road"), "expansion", True),
    "railway_high_speed": ProjectType("21030", "Rail transport", ("transport", "transport.rail"), "construction", True),
    "railway_conventional": ProjectType(
        "21030", "Rail transport", ("transport", "transport.rail"), "construction", True
    ),
    "seaport_container_terminal": ProjectType(
        "21040", "Water transport", ("transport", "transport.water"), "construction", True
    ),
    "airport_terminal": ProjectType("21050", "Air transport", ("transport", "transport.air"), "construction", True),
    "school_construction": ProjectType(
        "11120", "Education facilities and training", ("education",), "construction", True
    ),
    "scholarship": ProjectType("11420", "Higher education", ("education",), None, False),
    "small_enterprise_loans": ProjectType(
        "32130", "Small and medium-sized enterprises (SME) development", ("economy",), None, False
    ),
}
"""Project types of the benchmark table → DAC purpose code, OC4IDS sector(s) and type, infrastructure or not."""


@dataclass(frozen=True)
class State:
    """A Mexican state: ISO 3166-2 code and name."""

    code: str
    name: str


MEXICAN_STATES: tuple[State, ...] = tuple(
    State(f"MX-{code}", name)
    for code, name in (
        # ISO 3166-2:MX (32 federal entities; MX-CMX is Ciudad de México, formerly MX-DIF).
        ("AGU", "Aguascalientes"),
        ("BCN", "Baja California"),
        ("BCS", "Baja California Sur"),
        ("CAM", "Campeche"),
        ("CHP", "Chiapas"),
        ("CHH", "Chihuahua"),
        ("CMX", "Ciudad de México"),
        ("COA", "Coahuila"),
        ("COL", "Colima"),
        ("DUR", "Durango"),
        ("GUA", "Guanajuato"),
        ("GRO", "Guerrero"),
        ("HID", "Hidalgo"),
        ("JAL", "Jalisco"),
        ("MEX", "Estado de México"),
        ("MIC", "Michoacán"),
        ("MOR", "Morelos"),
        ("NAY", "Nayarit"),
        ("NLE", "Nuevo León"),
        ("OAX", "Oaxaca"),
        ("PUE", "Puebla"),
        ("QUE", "Querétaro"),
        ("ROO", "Quintana Roo"),
        ("SLP", "San Luis Potosí"),
        ("SIN", "Sinaloa"),
        ("SON", "Sonora"),
        ("TAB", "Tabasco"),
        ("TAM", "Tamaulipas"),
        ("TLA", "Tlaxcala"),
        ("VER", "Veracruz"),
        ("YUC", "Yucatán"),
        ("ZAC", "Zacatecas"),
    )
)

# Token sequences naming each state in a project id ("Mexico" alone is the country, so the State of Mexico needs
# "estado de mexico" or "edomex"; "cdmx" names Ciudad de México).
_STATE_ALIASES: dict[str, tuple[tuple[str, ...], ...]] = {
    "MX-CMX": (("ciudad", "de", "mexico"), ("cdmx",)),
    "MX-MEX": (("estado", "de", "mexico"), ("edomex",)),
}


def _tokens(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return [t for t in re.split(r"[^a-z0-9]+", plain) if t]


def _state_patterns() -> list[tuple[tuple[str, ...], State]]:
    patterns: list[tuple[tuple[str, ...], State]] = []
    for state in MEXICAN_STATES:
        aliases = _STATE_ALIASES.get(state.code, (tuple(_tokens(state.name)),))
        patterns.extend((alias, state) for alias in aliases)
    # longest first: "baja california sur" before "baja california"
    return sorted(patterns, key=lambda p: -len(p[0]))


_PATTERNS = _state_patterns()


def state_of(project_id: str) -> State | None:
    """The Mexican state named in a project id (``road-oaxaca-coast`` → Oaxaca, MX-OAX), or ``None``.

    Tokens are the id's runs of letters and digits, lower-cased without accents; the longest state name that
    appears as consecutive tokens wins, the first in the id on a tie. Only the id is read (free text such as a
    purpose would match surnames like Hidalgo or Morelos).
    """
    tokens = _tokens(project_id)
    best: tuple[int, int, State] | None = None
    for pattern, state in _PATTERNS:
        n = len(pattern)
        for start in range(len(tokens) - n + 1):
            if tuple(tokens[start : start + n]) == pattern:
                key = (-n, start, state)
                if best is None or key[:2] < best[:2]:
                    best = key
                break
    return None if best is None else best[2]


# ------------------------------------------------------------------------------------------ periods


def _quarter_end(year: int, quarter: int) -> date:
    first_next = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first_next - timedelta(days=1)


def parse_period(period: str) -> tuple[date, date] | None:
    """First and last day of a ledger period label: ``2031Q1``, ``2031H2``, ``2031-07`` or ``2031``; else
    ``None``."""
    m = re.fullmatch(r"(\d{4})Q([1-4])", period)
    if m:
        year, q = int(m[1]), int(m[2])
        return date(year, 3 * q - 2, 1), _quarter_end(year, q)
    m = re.fullmatch(r"(\d{4})H([12])", period)
    if m:
        year, h = int(m[1]), int(m[2])
        return (date(year, 1, 1), date(year, 6, 30)) if h == 1 else (date(year, 7, 1), date(year, 12, 31))
    m = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", period)
    if m:
        year, month = int(m[1]), int(m[2])
        last = date(year + (month == 12), 1 if month == 12 else month + 1, 1) - timedelta(days=1)
        return date(year, month, 1), last
    m = re.fullmatch(r"(\d{4})", period)
    if m:
        return date(int(m[1]), 1, 1), date(int(m[1]), 12, 31)
    return None


def period_sort_key(period: str) -> tuple[str, str, str]:
    """Chronological order of period labels (start, end), unparseable labels last, by text."""
    parsed = parse_period(period)
    if parsed is None:
        return ("9999-99-99", "", period)
    return (parsed[0].isoformat(), parsed[1].isoformat(), period)
