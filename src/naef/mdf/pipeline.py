"""The MDF's project pipeline: the CSV format, its validation and the shipped default.

A pipeline is a CSV file, one project a row (``docs/portfolio.md`` documents every column). Lines that start
with ``#`` are comments (the shipped file explains each column and its sources in them). Required columns:

``id, name, sector, state, cost_usd, start_year_min, duration_years, annual_benefit_usd, benefit_years, jobs``

Optional columns: ``reference_class`` (default: the sector), ``requires`` and ``excludes`` (project ids separated
by ``;``), ``om_usd_per_year`` (default 0), ``source`` (free text: where the row's figures come from),
``cost_price_year``.

The money columns are in constant US dollars of one price year, given by a comment line
(``# cost_price_year: 2024``) or a ``cost_price_year`` column (the same year in every row); a pipeline without it
is refused, naming the header row and the column.

States are Mexico's 32 federal entities by their ISO 3166-2:MX code (``MX-AGU`` ... ``MX-ZAC``; Mexico City is
``MX-CMX``). Every error is a :class:`PipelineError` with one line naming the file, the row (its line number in
the file), the project id and the column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

from naef.errors import NaefError
from naef.mdf.reference_classes import REFERENCE_CLASSES
from naef.resources import read_data_text

__all__ = [
    "DEFAULT_PIPELINE",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "SECTORS",
    "STATES",
    "Pipeline",
    "PipelineError",
    "Project",
    "closure_of",
    "load_pipeline",
    "parse_pipeline",
]


class PipelineError(NaefError):
    """A bad project pipeline (a CSV value, a dependency, a file that cannot be read)."""


#: The MDF's sectors (DESIGN.md §1: roads, seaports, airports, railways; human capital; small-enterprise funds).
SECTORS: tuple[str, ...] = ("road", "seaport", "airport", "railway", "education", "small_enterprise")

#: ISO 3166-2:MX codes of the 31 states and Mexico City (ISO 3166-2:MX, as amended in 2017 for Ciudad de México).
STATES: dict[str, str] = {
    "MX-AGU": "Aguascalientes", "MX-BCN": "Baja California", "MX-BCS": "Baja California Sur",
    "MX-CAM": "Campeche", "MX-CHP": "Chiapas", "MX-CHH": "Chihuahua", "MX-CMX": "Ciudad de México",
    "MX-COA": "Coahuila de Zaragoza", "MX-COL": "Colima", "MX-DUR": "Durango", "MX-GUA": "Guanajuato",
    "MX-GRO": "Guerrero", "MX-HID": "Hidalgo", "MX-JAL": "Jalisco", "MX-MEX": "México",
    "MX-MIC": "Michoacán de Ocampo", "MX-MOR": "Morelos", "MX-NAY": "Nayarit", "MX-NLE": "Nuevo León",
    "MX-OAX": "Oaxaca", "MX-PUE": "Puebla", "MX-QUE": "Querétaro", "MX-ROO": "Quintana Roo",
    "MX-SLP": "San Luis Potosí", "MX-SIN": "Sinaloa", "MX-SON": "Sonora", "MX-TAB": "Tabasco",
    "MX-TAM": "Tamaulipas", "MX-TLA": "Tlaxcala", "MX-VER": "Veracruz de Ignacio de la Llave",
    "MX-YUC": "Yucatán", "MX-ZAC": "Zacatecas",
}

REQUIRED_COLUMNS: tuple[str, ...] = (
    "id", "name", "sector", "state", "cost_usd", "start_year_min", "duration_years", "annual_benefit_usd",
    "benefit_years", "jobs",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("reference_class", "requires", "excludes", "om_usd_per_year", "source",
                                     "cost_price_year")

#: The shipped, ILLUSTRATIVE default pipeline (src/naef/data/mdf_pipeline.csv; sources in mdf_pipeline_sources.md)
DEFAULT_PIPELINE = "mdf_pipeline.csv"

_MIN_YEAR, _MAX_YEAR = 1900, 2200


@dataclass(frozen=True)
class Project:
    """One candidate project of the MDF.

    ``cost_usd`` is the planned investment (before overruns), spent evenly over ``duration_years`` from the start
    year; ``annual_benefit_usd`` (economic benefits, before shortfalls) and ``om_usd_per_year`` (operation and
    maintenance) run for ``benefit_years`` after construction; ``jobs`` are the full-time jobs the project
    supports each year while it is built at the planned pace (so ``jobs × duration_years`` job-years in all).
    """

    id: str
    name: str
    sector: str
    state: str
    cost_usd: float
    start_year_min: int
    duration_years: int
    annual_benefit_usd: float
    benefit_years: int
    jobs: float
    reference_class: str
    requires: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    om_usd_per_year: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class Pipeline:
    """A validated pipeline: the projects in file order, the name of the file they came from and the year whose
    constant US dollars its money columns are in (``cost_price_year``)."""

    projects: tuple[Project, ...]
    source_name: str
    cost_price_year: int

    def by_id(self) -> dict[str, Project]:
        """The projects by id."""
        return {p.id: p for p in self.projects}


class _Row:
    """Parsing helpers that name the file, the row, the project and the column in every error."""

    def __init__(self, source_name: str, line: int, values: dict[str, str]) -> None:
        self.source_name, self.line, self.values = source_name, line, values
        self.id = (values.get("id") or "").strip()

    def fail(self, column: str, reason: str) -> PipelineError:
        who = f" (id {self.id})" if self.id else ""
        return PipelineError(f"{self.source_name}: row {self.line}{who}, column {column}: {reason}")

    def text(self, column: str, *, required: bool = True) -> str:
        value = (self.values.get(column) or "").strip()
        if required and not value:
            raise self.fail(column, "is empty")
        return value

    def number(self, column: str, *, positive: bool = False, default: float | None = None) -> float:
        raw = self.text(column, required=default is None)
        if not raw:
            assert default is not None
            return default
        try:
            value = float(raw.replace("_", ""))
        except ValueError:
            raise self.fail(column, f"not a number ({raw!r})") from None
        if not math.isfinite(value):
            raise self.fail(column, f"must be a finite number (got {raw!r})")
        if positive and value <= 0:
            raise self.fail(column, f"must be a positive number (got {raw!r})")
        if value < 0:
            raise self.fail(column, f"must not be negative (got {raw!r})")
        return value

    def integer(self, column: str, *, low: int, high: int) -> int:
        raw = self.text(column)
        try:
            value = float(raw.replace("_", ""))
        except ValueError:
            raise self.fail(column, f"not a whole number ({raw!r})") from None
        if not value.is_integer():
            raise self.fail(column, f"not a whole number ({raw!r})")
        if not low <= value <= high:
            raise self.fail(column, f"must be between {low} and {high} (got {raw!r})")
        return int(value)

    def ids(self, column: str) -> tuple[str, ...]:
        raw = self.text(column, required=False)
        items = [s.strip() for s in raw.split(";")] if raw else []
        if any(not s for s in items):
            raise self.fail(column, f"an empty id in {raw!r} (separate ids with ';')")
        if self.id in items:
            raise self.fail(column, f"a project cannot name itself ({self.id!r})")
        return tuple(dict.fromkeys(items))


def _parse_row(row: _Row) -> Project:
    ident = row.text("id")
    if any(c in ident for c in ";, \t"):
        raise row.fail("id", f"must not contain ';', ',' or spaces ({ident!r})")
    sector = row.text("sector")
    if sector not in SECTORS:
        raise row.fail("sector", f"unknown sector {sector!r} (choose one of {', '.join(SECTORS)})")
    state = row.text("state")
    if state not in STATES:
        raise row.fail("state", f"unknown state code {state!r} (an ISO 3166-2:MX code such as MX-JAL or "
                                "MX-CMX for Mexico City)")
    ref = row.text("reference_class", required=False) or sector
    classes = tuple(REFERENCE_CLASSES)
    if ref not in classes:
        raise row.fail("reference_class", f"unknown reference class {ref!r} (choose one of {', '.join(classes)})")
    return Project(
        id=ident,
        name=row.text("name"),
        sector=sector,
        state=state,
        cost_usd=row.number("cost_usd", positive=True),
        start_year_min=row.integer("start_year_min", low=_MIN_YEAR, high=_MAX_YEAR),
        duration_years=row.integer("duration_years", low=1, high=50),
        annual_benefit_usd=row.number("annual_benefit_usd"),
        benefit_years=row.integer("benefit_years", low=1, high=200),
        jobs=row.number("jobs"),
        reference_class=ref,
        requires=row.ids("requires"),
        excludes=row.ids("excludes"),
        om_usd_per_year=row.number("om_usd_per_year", default=0.0),
        source=row.text("source", required=False),
    )


def _find_cycle(requires: dict[str, tuple[str, ...]]) -> list[str] | None:
    """A cycle of ``requires`` as a list of ids (first id repeated at the end), or None. Iterative DFS."""
    colour: dict[str, int] = dict.fromkeys(requires, 0)  # 0 new, 1 on the stack, 2 done
    for root in requires:
        if colour[root]:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        colour[root] = 1
        while stack:
            node, i = stack[-1]
            nexts = requires[node]
            if i < len(nexts):
                stack[-1] = (node, i + 1)
                nxt = nexts[i]
                if colour[nxt] == 1:
                    return [*path[path.index(nxt):], nxt]
                if colour[nxt] == 0:
                    colour[nxt] = 1
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                colour[node] = 2
                stack.pop()
                path.pop()
    return None


_PRICE_YEAR_RE = re.compile(r"^\s*#\s*cost_price_year\s*[:=]\s*(\S*)\s*$")


def _price_year(source_name: str, lines: list[str], header_line: int, rows: list[_Row]) -> int:
    """The pipeline's price year: a comment line ``# cost_price_year: 2024`` (anywhere in the file), or a
    ``cost_price_year`` column with the same year in every row (both: they must agree)."""
    found: tuple[int, int] | None = None  # (year, line)
    for i, ln in enumerate(lines):
        m = _PRICE_YEAR_RE.match(ln)
        if m is None:
            continue
        raw = m.group(1)
        if not raw.isdigit() or not _MIN_YEAR <= int(raw) <= _MAX_YEAR:
            raise PipelineError(f"{source_name}: row {i + 1}, cost_price_year: not a year ({raw!r})")
        if found is not None:
            raise PipelineError(f"{source_name}: row {i + 1}, cost_price_year: given twice (first in row {found[1]})")
        found = (int(raw), i + 1)
    for row in rows:
        if "cost_price_year" not in row.values:
            break
        year = row.integer("cost_price_year", low=_MIN_YEAR, high=_MAX_YEAR)
        if found is not None and year != found[0]:
            raise row.fail("cost_price_year", f"{year} differs from the pipeline's price year {found[0]} (row "
                                              f"{found[1]}); convert the row to one price year")
        found = found or (year, row.line)
    if found is None:
        raise PipelineError(f"{source_name}: row {header_line} (header), column cost_price_year: the price year of "
                            "the money columns is not given; add a comment line '# cost_price_year: 2024' or a "
                            "cost_price_year column")
    return found[0]


def parse_pipeline(text: str, *, source_name: str) -> Pipeline:
    """Parse and validate pipeline CSV ``text`` (``source_name`` names it in errors)."""
    lines = text.splitlines()
    data = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if not data:
        raise PipelineError(f"{source_name}: no header row (the file is empty or only comments)")
    reader = csv.reader(io.StringIO("\n".join(ln for _, ln in data)))
    rows = list(reader)
    if len(rows) != len(data):
        raise PipelineError(f"{source_name}: a quoted field spans lines; keep each project on one line")
    header = [h.strip() for h in rows[0]]
    header_line = data[0][0]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise PipelineError(f"{source_name}: row {header_line} (header): missing column(s) {', '.join(missing)}")
    unknown = [c for c in header if c not in REQUIRED_COLUMNS and c not in OPTIONAL_COLUMNS]
    if unknown:
        raise PipelineError(f"{source_name}: row {header_line} (header), column {unknown[0]}: unknown column "
                            f"(known: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})")
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise PipelineError(f"{source_name}: row {header_line} (header), column {dupes[0]}: appears twice")
    projects: list[Project] = []
    lines_of: dict[str, _Row] = {}
    parsed_rows: list[_Row] = []
    for (line, _), cells in zip(data[1:], rows[1:], strict=True):
        if len(cells) != len(header):
            raise PipelineError(f"{source_name}: row {line}: {len(cells)} fields, the header has {len(header)}")
        row = _Row(source_name, line, dict(zip(header, cells, strict=True)))
        parsed_rows.append(row)
        project = _parse_row(row)
        if project.id in lines_of:
            raise row.fail("id", f"duplicate id (first used in row {lines_of[project.id].line})")
        lines_of[project.id] = row
        projects.append(project)
    if not projects:
        raise PipelineError(f"{source_name}: no projects (only a header)")
    for p in projects:
        row = lines_of[p.id]
        for column, ids in (("requires", p.requires), ("excludes", p.excludes)):
            for other in ids:
                if other not in lines_of:
                    raise row.fail(column, f"unknown project id {other!r}")
        both = set(p.requires) & set(p.excludes)
        if both:
            raise row.fail("excludes", f"{sorted(both)[0]!r} is both required and excluded")
    cycle = _find_cycle({p.id: p.requires for p in projects})
    if cycle is not None:
        row = lines_of[cycle[0]]
        raise row.fail("requires", f"a cycle of requirements: {' -> '.join(cycle)}")
    price_year = _price_year(source_name, lines, header_line, parsed_rows)
    return Pipeline(projects=tuple(projects), source_name=source_name, cost_price_year=price_year)


def closure_of(ident: str, requires: dict[str, tuple[str, ...]]) -> list[str]:
    """Every project ``ident`` needs, directly or through others (not itself), in the order found."""
    seen: list[str] = []
    todo = list(requires[ident])
    while todo:
        q = todo.pop()
        if q not in seen:
            seen.append(q)
            todo.extend(requires[q])
    return seen


def load_pipeline(path: Path | str | None = None) -> Pipeline:
    """Read and validate a pipeline CSV (``None``: the shipped default pipeline)."""
    if path is None:
        text = read_data_text(DEFAULT_PIPELINE)
        return parse_pipeline(text, source_name=DEFAULT_PIPELINE)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PipelineError(f"--pipeline {p}: no such file") from None
    except IsADirectoryError:
        raise PipelineError(f"--pipeline {p}: a folder, not a CSV file") from None
    except UnicodeDecodeError:
        raise PipelineError(f"--pipeline {p}: not UTF-8 text") from None
    except OSError as exc:
        raise PipelineError(f"--pipeline {p}: cannot read ({exc.strerror})") from None
    return parse_pipeline(text, source_name=p.name)
