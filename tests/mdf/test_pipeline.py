"""The pipeline CSV: the shipped default, and one-line errors naming the row and column for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from naef.mdf.pipeline import SECTORS, STATES, PipelineError, load_pipeline, parse_pipeline
from naef.mdf.selection import DEFAULT_MIGRANT_STATES

HEADER = ("id,name,sector,state,cost_usd,start_year_min,duration_years,annual_benefit_usd,benefit_years,jobs,"
          "requires,excludes")


def _csv(*rows: str) -> str:
    return "\n".join([HEADER, *rows, "# cost_price_year: 2024"]) + "\n"


def row(ident: str = "a", *, sector: str = "road", state: str = "MX-MIC", cost: str = "1e6", req: str = "",
        exc: str = "") -> str:
    return f"{ident},Project {ident},{sector},{state},{cost},2030,2,1e5,10,5,{req},{exc}"


def test_the_default_pipeline_is_illustrative_and_covers_every_sector_and_the_migrant_states() -> None:
    pipe = load_pipeline()
    assert 40 <= len(pipe.projects) <= 60
    assert {p.sector for p in pipe.projects} == set(SECTORS)
    states = {p.state for p in pipe.projects}
    for st in ("MX-MIC", "MX-GUA", "MX-JAL", "MX-ZAC", "MX-OAX", "MX-GRO"):
        assert st in states
        assert st in DEFAULT_MIGRANT_STATES
    text = (Path(__file__).resolve().parents[2] / "src" / "naef" / "data" / "mdf_pipeline.csv").read_text()
    assert "ILLUSTRATIVE" in text.splitlines()[0]
    assert all(p.source for p in pipe.projects)


def test_states_are_the_32_federal_entities() -> None:
    assert len(STATES) == 32
    assert all(code.startswith("MX-") and len(code) == 6 for code in STATES)
    assert STATES["MX-CMX"] == "Ciudad de México"


def test_a_valid_file_parses() -> None:
    pipe = parse_pipeline(_csv(row("a"), row("b", req="a"), row("c", exc="a;b")), source_name="p.csv")
    by = pipe.by_id()
    assert by["b"].requires == ("a",)
    assert by["c"].excludes == ("a", "b")
    assert by["a"].reference_class == "road"
    assert by["a"].om_usd_per_year == 0.0


@pytest.mark.parametrize(("rows", "message"), [
    ((row(sector="bridge"),), "p.csv: row 2 (id a), column sector: unknown sector 'bridge' (choose one of road, "
                              "seaport, airport, railway, education, small_enterprise)"),
    ((row(state="MX-XXX"),), "p.csv: row 2 (id a), column state: unknown state code 'MX-XXX' (an ISO 3166-2:MX "
                             "code such as MX-JAL or MX-CMX for Mexico City)"),
    ((row(state="MIC"),), "p.csv: row 2 (id a), column state: unknown state code 'MIC'"),
    ((row(cost="0"),), "p.csv: row 2 (id a), column cost_usd: must be a positive number (got '0')"),
    ((row(cost="-5"),), "p.csv: row 2 (id a), column cost_usd: must be a positive number (got '-5')"),
    ((row(cost="abc"),), "p.csv: row 2 (id a), column cost_usd: not a number ('abc')"),
    ((row(cost="nan"),), "p.csv: row 2 (id a), column cost_usd: must be a finite number (got 'nan')"),
    ((row("a", req="b"), row("b", req="c"), row("c", req="a")),
     "p.csv: row 2 (id a), column requires: a cycle of requirements: a -> b -> c -> a"),
    ((row("a", req="zz"),), "p.csv: row 2 (id a), column requires: unknown project id 'zz'"),
    ((row("a", exc="zz"),), "p.csv: row 2 (id a), column excludes: unknown project id 'zz'"),
    ((row("a", req="a"),), "p.csv: row 2 (id a), column requires: a project cannot name itself ('a')"),
    ((row("a"), row("a")), "p.csv: row 3 (id a), column id: duplicate id (first used in row 2)"),
    ((row("a"), row("b", req="a", exc="a")), "p.csv: row 3 (id b), column excludes: 'a' is both required and "
                                             "excluded"),
])
def test_bad_rows_name_the_row_and_column(rows: tuple[str, ...], message: str) -> None:
    with pytest.raises(PipelineError) as exc:
        parse_pipeline(_csv(*rows), source_name="p.csv")
    assert str(exc.value).startswith(message)
    assert "\n" not in str(exc.value)


def test_comment_lines_keep_the_row_numbers_of_the_file() -> None:
    text = "# a comment\n" + _csv(row("a"), row("b", cost="0"))
    with pytest.raises(PipelineError, match=r"^p.csv: row 4 \(id b\), column cost_usd"):
        parse_pipeline(text, source_name="p.csv")


def test_header_problems() -> None:
    with pytest.raises(PipelineError, match="missing column\\(s\\) jobs"):
        parse_pipeline(HEADER.replace(",jobs", "") + "\n", source_name="p.csv")
    with pytest.raises(PipelineError, match="column colour: unknown column"):
        parse_pipeline(HEADER + ",colour\n", source_name="p.csv")
    with pytest.raises(PipelineError, match="no projects"):
        parse_pipeline(HEADER + "\n", source_name="p.csv")
    with pytest.raises(PipelineError, match="row 2: 3 fields, the header has 12"):
        parse_pipeline(HEADER + "\na,b,c\n", source_name="p.csv")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"--pipeline .*nope\.csv: no such file"):
        load_pipeline(tmp_path / "nope.csv")


def test_a_file_saved_by_excel_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    header = ("id,name,sector,state,cost_usd,start_year_min,duration_years,annual_benefit_usd,benefit_years,jobs\n")
    row = "r1,Road,road,MX-MIC,1e8,2030,2,2e7,20,100\n"
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeff".encode() + ("# cost_price_year: 2024\n" + header + row).encode())
    pipe = load_pipeline(path)
    assert [p.id for p in pipe.projects] == ["r1"]


def test_the_price_year_is_required_and_named_when_missing() -> None:
    text = "\n".join([HEADER, row("a")]) + "\n"
    with pytest.raises(PipelineError) as exc:
        parse_pipeline(text, source_name="p.csv")
    assert str(exc.value).startswith("p.csv: row 1 (header), column cost_price_year: the price year of the money "
                                     "columns is not given")


def test_the_price_year_from_a_column_must_agree_in_every_row() -> None:
    header = HEADER + ",cost_price_year"
    ok = parse_pipeline("\n".join([header, row("a") + ",2020", row("b") + ",2020"]) + "\n", source_name="p.csv")
    assert ok.cost_price_year == 2020
    with pytest.raises(PipelineError, match=r"p.csv: row 3 \(id b\), column cost_price_year: 2021 differs from the "
                                            r"pipeline's price year 2020 \(row 2\)"):
        parse_pipeline("\n".join([header, row("a") + ",2020", row("b") + ",2021"]) + "\n", source_name="p.csv")
    with pytest.raises(PipelineError, match=r"row 4, cost_price_year: not a year \('20x4'\)"):
        parse_pipeline(_csv(row("a")) + "# cost_price_year: 20x4\n", source_name="p.csv")


def test_the_default_pipeline_is_in_2024_dollars_with_scholarships_as_human_capital() -> None:
    pipe = load_pipeline()
    assert pipe.cost_price_year == 2024
    human = [p for p in pipe.projects if p.reference_class == "human_capital"]
    assert {p.id for p in human} >= {"ed-mic-1", "ed-gua-1", "ed-zac-1", "ed-oax-1", "ed-gro-1"}
    assert sum(p.cost_usd for p in human if "scholarships" in p.name.lower()) == pytest.approx(156e6)
    # infrastructure jobs: 40 per 2009-US$ 1 m a year = 27.36 per 2024-US$ 1 m (CPI-U 2024 / 2009)
    road = next(p for p in pipe.projects if p.id == "rd-mic-1")
    assert road.jobs == round(40 / (313.689 / 214.537) * road.cost_usd / road.duration_years / 1e6)
