"""The facts the disclosures read from the ledger: projects, states, periods, beneficial owners."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from naef.disclosure.model import (
    MEXICAN_STATES,
    PROJECT_TYPES,
    Refusal,
    beneficial_owners,
    fold_projects,
    parse_period,
    period_sort_key,
    state_of,
)
from naef.ledger.benchmarking import load_unit_costs
from naef.ledger.log import StoredEntry

from .conftest import OC4IDS_DIR, read_ledger


def entry(index: int, kind: str, payload: dict[str, Any], time: str = "2031-01-01T00:00:00Z") -> StoredEntry:
    return StoredEntry(index, kind, time, payload, b"", b"")


@pytest.mark.parametrize(
    ("project_id", "code"),
    [
        ("road-oaxaca-coast", "MX-OAX"),
        ("port-veracruz-terminal", "MX-VER"),
        ("schools-chihuahua", "MX-CHH"),
        ("bridge_baja_california_sur_2", "MX-BCS"),  # the longest name wins over "baja california"
        ("ferry-baja-california", "MX-BCN"),
        ("metro-cdmx-line-3", "MX-CMX"),
        ("hospital-estado-de-mexico", "MX-MEX"),
        ("airport-Querétaro", "MX-QUE"),  # accents and case do not matter
        ("rail-nuevo-leon-tamaulipas", "MX-NLE"),  # the first state named
        ("scholarships-2029", None),
        ("mexico-national-grid", None),  # "Mexico" alone is the country
        ("oaxacan-roads", None),  # whole tokens only
    ],
)
def test_state_of_reads_the_project_id(project_id: str, code: str | None) -> None:
    state = state_of(project_id)
    assert (state.code if state else None) == code


def test_the_32_states_have_distinct_iso_3166_2_codes() -> None:
    codes = [s.code for s in MEXICAN_STATES]
    assert len(codes) == len(set(codes)) == 32
    assert all(c.startswith("MX-") and len(c) == 6 for c in codes)


@pytest.mark.parametrize(
    ("label", "span"),
    [
        ("2031Q1", (date(2031, 1, 1), date(2031, 3, 31))),
        ("2031Q4", (date(2031, 10, 1), date(2031, 12, 31))),
        ("2032Q1", (date(2032, 1, 1), date(2032, 3, 31))),
        ("2031H2", (date(2031, 7, 1), date(2031, 12, 31))),
        ("2032-02", (date(2032, 2, 1), date(2032, 2, 29))),
        ("2031-12", (date(2031, 12, 1), date(2031, 12, 31))),
        ("2031", (date(2031, 1, 1), date(2031, 12, 31))),
        ("FY2031", None),
        ("2031Q5", None),
    ],
)
def test_parse_period(label: str, span: tuple[date, date] | None) -> None:
    assert parse_period(label) == span


def test_periods_sort_chronologically() -> None:
    labels = ["2031Q2", "2030", "odd", "2031-01", "2031Q1"]
    assert sorted(labels, key=period_sort_key) == ["2030", "2031-01", "2031Q1", "2031Q2", "odd"]


def test_every_benchmark_project_type_is_classified_with_official_codes() -> None:
    assert set(PROJECT_TYPES) == set(load_unit_costs())
    with (OC4IDS_DIR / "codelists" / "projectSector.csv").open(encoding="utf-8") as fh:
        sectors = {row["Code"] for row in csv.DictReader(fh)}
    with (OC4IDS_DIR / "codelists" / "projectType.csv").open(encoding="utf-8") as fh:
        types = {row["Code"] for row in csv.DictReader(fh)}
    for name, kind in PROJECT_TYPES.items():
        assert len(kind.dac_code) == 5, name
        assert kind.dac_code.isdigit(), name
        assert set(kind.oc4ids_sector) <= sectors, name
        assert kind.oc4ids_type is None or kind.oc4ids_type in types, name
    assert PROJECT_TYPES["road_new_two_lane"].dac_code == "21020"
    assert PROJECT_TYPES["railway_conventional"].dac_code == "21030"
    assert PROJECT_TYPES["seaport_container_terminal"].dac_code == "21040"
    assert PROJECT_TYPES["airport_terminal"].dac_code == "21050"
    assert PROJECT_TYPES["small_enterprise_loans"].dac_code == "32130"


def test_demo_projects(demo_url: str) -> None:
    entries, _ = read_ledger(demo_url)
    projects = {p.project_id: p for p in fold_projects(entries)}
    assert list(projects) == ["road-oaxaca-coast", "port-veracruz-terminal", "schools-chihuahua", "scholarships-2029"]
    schools = projects["schools-chihuahua"]
    (p,) = schools.proposals
    assert p.proposal_id == "MDF-0003"
    assert p.amount_usd == Decimal("45000000.00")
    assert p.execution is not None
    assert p.benchmark is not None
    assert p.justifications == (
        "remote sierra sites: materials flown in; cost reviewed against two independent estimates",
    )
    # committed when the last counted approval (the controller's justified one) was recorded
    by_index = {e.index: e for e in entries}
    counted = [a for a in p.approvals if a.signer in p.execution.approvals]
    assert p.commitment_time == max(by_index[a.index].time for a in counted)
    assert set(schools.leaves) == {p.index, p.execution.index, p.benchmark.index, *(a.index for a in p.approvals),
                                   *(r.index for r in p.refusals), *(m.index for m in schools.milestones)}
    # the execution refused until the controller justified the flag: published with its reason
    (refusal,) = p.refusals
    assert (refusal.stage, refusal.reason_code) == ("execution", "benchmark_unjustified")
    notes = p.control_notes()
    assert notes[0].startswith("MDF-0003: benchmark flag: ")
    assert notes[1] == ("MDF-0003: approved by mx-board-2 (mexican_board), na-board-2 (north_american_board), "
                        "controller (independent_controller), controller (independent_controller)")
    assert notes[2].startswith("MDF-0003: execution refused (benchmark_unjustified): ")
    # the conflict of interest: the refused approver, the declaration and the chain through the holding
    port = projects["port-veracruz-terminal"].proposals[0]
    (conflict,) = port.refusals
    assert conflict.describe().startswith("approval by na-board-1 refused (conflict_of_interest): ")
    assert "; declaration: na-board-1 declared an interest in demo-person-ana (spouse, " in conflict.describe()
    assert conflict.describe().endswith("; chain: demo-person-ana → demo-holding → demo-constructora")
    assert projects["scholarships-2029"].infrastructure is False
    assert projects["port-veracruz-terminal"].infrastructure is True


def test_executions_and_approvals_of_unknown_proposals_are_ignored() -> None:
    proposal = {"proposal": {"proposal_id": "P-1", "project_id": "x", "payee": "c", "amount_usd": "10.00",
                             "purpose": "p", "proposer": "a"}}
    projects = fold_projects([
        entry(0, "disbursement_executed", {"proposal_id": "P-1", "amount_usd": "10.00"}),  # before the proposal
        entry(1, "disbursement_proposed", proposal),
        entry(2, "disbursement_executed", {"proposal_id": "P-2", "amount_usd": "5.00"}),
        entry(3, "project_milestone", {"project_id": "y", "milestone": "m", "status": "reached", "on": "2031-01-01"}),
    ])
    (project,) = projects
    assert project.proposals[0].execution is None
    assert project.leaves == (1,)


def bods(index: int, record_id: str, kind: str, details: dict[str, Any], status: str = "new") -> StoredEntry:
    statement = {"recordId": record_id, "recordType": kind, "recordStatus": status, "recordDetails": details}
    return entry(index, "beneficial_ownership_statement", {"statement": statement})


def owns(
    index: int, record_id: str, party: str, subject: str, flagged: bool = True, status: str = "new"
) -> StoredEntry:
    details = {"subject": subject, "interestedParty": party,
               "interests": [{"type": "shareholding", "beneficialOwnershipOrControl": flagged}]}
    return bods(index, record_id, "relationship", details, status)


def test_beneficial_owners_follow_flagged_chains() -> None:
    statements = [
        bods(0, "co", "entity", {"name": "Co"}),
        bods(1, "holding", "entity", {"name": "Holding"}),
        bods(2, "ana", "person", {"names": [{"type": "legal", "fullName": "Ana"}]}),
        bods(3, "ben", "person", {"names": [{"type": "alternative", "fullName": "Ben"}]}),
        bods(4, "cy", "person", {"names": [{"type": "legal", "fullName": "Cy"}]}),
        owns(5, "r1", "holding", "co"),
        owns(6, "r2", "ana", "holding"),
        owns(7, "r3", "ben", "co", flagged=False),  # a minority holding: not a beneficial owner
        owns(8, "r4", "cy", "co"),
        owns(9, "r4", "cy", "co", status="closed"),  # later closed: removed
    ]
    payee = beneficial_owners(statements, "co")
    assert payee.name == "Co"
    assert [(o.record_id, o.name, o.leaves) for o in payee.owners] == [("ana", "Ana", (1, 2, 5, 6))]
    assert payee.leaves == (0, 1, 2, 5, 6)
    # the statements the owners do not rest on change nothing
    kept = [s for s in statements if s.index in payee.leaves]
    assert beneficial_owners(kept, "co") == payee
    assert beneficial_owners(statements, "unknown").owners == ()


@pytest.mark.parametrize("code", ["bad_signature", "unknown_signer", "altered_proposal", "replayed_approval"])
def test_a_refusal_not_shown_to_come_from_its_signer_says_in_the_name_of(code: str) -> None:
    """Review of issue 14/20: anyone can make the rules record such a refusal (a random signature in mx-board-2's
    name), so the published signal must not read as mx-board-2's act."""
    refusal = Refusal(stage="approval", signer="mx-board-2", reason_code=code, reason="x", chain=(),
                      declaration=None, time="2030-01-01T00:00:00Z", index=7)
    assert refusal.describe() == f"approval in the name of mx-board-2 refused ({code}): x"
    proven = replace(refusal, reason_code="conflict_of_interest")
    assert proven.describe() == "approval by mx-board-2 refused (conflict_of_interest): x"
