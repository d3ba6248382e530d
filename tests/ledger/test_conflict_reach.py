"""The reach of the conflict-of-interest screen as a logged governance setting (issue 14 item 4): upward always,
downward (the payee's subsidiaries) and sideways (sister companies, a common ultimate owner) when the governance
enables them, within ``max_links``; amended mid-log only by a quorum-signed ``governance_amended`` entry, and
replayed by ``audit`` as known at each index. The pure screen is checked against an independent breadth-first
reachability on random small ownership graphs."""

from __future__ import annotations

import hashlib
import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naef.ledger.approvals import (
    ENTRY_AMENDED,
    ENTRY_APPROVED,
    ConflictOfInterestError,
    DisbursementProposal,
    RuleViolationError,
    SignedAmendment,
    amend_governance,
    approve,
    control_state,
    declare_interest,
    draft_amendment,
    import_bods,
    propose,
    register_governance,
    sign_amendment,
    sign_approval,
    sign_declaration,
    sign_proposal,
)
from naef.ledger.audit import audit
from naef.ledger.errors import LedgerError
from naef.ledger.governance import Governance, GovernanceError, load_governance
from naef.ledger.interests import (
    ConflictReach,
    Direction,
    InterestDeclaration,
    OwnershipGraph,
    OwnershipLink,
    find_conflict,
)
from naef.ledger.keys import SignerKey
from naef.ledger.log import Ledger
from tests.cli_main import naef_main
from tests.ledger.governed import GOVERNANCE, ROLES, around_the_rules, entity_statement, key, receipt

PARENT, PAYEE, SUBSIDIARY, SISTER, OWNER, STRANGER = "parent", "payee", "subsidiary", "sister", "owner", "stranger"
ALL: tuple[Direction, ...] = ("upward", "downward", "sideways")


def link(party: str, subject: str) -> OwnershipLink:
    return OwnershipLink(party, subject, f"rel-{party}-{subject}", f"st-{party}-{subject}", ("shareholding",))


def declare(party: str, declarant: str = "mx-2") -> InterestDeclaration:
    return InterestDeclaration(declarant=declarant, party=party, nature="shareholding", declared_on=date(2030, 1, 1))


# a group: owner → parent → payee → subsidiary, parent → sister
GROUP = OwnershipGraph.from_links(
    [link(OWNER, PARENT), link(PARENT, PAYEE), link(PAYEE, SUBSIDIARY), link(PARENT, SISTER)]
)


def reach(*directions: Direction, max_links: int = 3) -> ConflictReach:
    return ConflictReach(directions=("upward", *directions), max_links=max_links)


def screen(party: str, r: ConflictReach) -> str | None:
    chain = find_conflict(GROUP, [declare(party)], signer="mx-2", payee=PAYEE, reach=r)
    return None if chain is None else chain.direction


# ------------------------------------------------------------------------------------------------ the pure screen


@pytest.mark.parametrize(
    ("party", "enabled", "caught"),
    [
        (PARENT, (), "upward"),  # a parent of the payee: upward, always screened
        (OWNER, (), "upward"),
        (PAYEE, (), "upward"),  # the payee itself
        (SUBSIDIARY, (), None),  # the payee's subsidiary: not screened upward only ...
        (SUBSIDIARY, ("downward",), "downward"),  # ... caught when downward is enabled
        (SUBSIDIARY, ("sideways",), None),  # a subsidiary is downward, not sideways (no leg through the payee)
        (SISTER, (), None),  # a sister company under the same parent: not screened upward only ...
        (SISTER, ("downward",), None),
        (SISTER, ("sideways",), "sideways"),  # ... caught when sideways is enabled
        (SISTER, ("downward", "sideways"), "sideways"),
        (STRANGER, ("downward", "sideways"), None),  # no link at all: never
    ],
)
def test_each_direction_is_caught_when_enabled_and_not_when_disabled(
    party: str, enabled: tuple[Direction, ...], caught: str | None
) -> None:
    assert screen(party, reach(*enabled)) == caught


def test_sideways_alone_misses_the_subsidiary_of_a_payee_nobody_owns() -> None:
    alone = OwnershipGraph.from_links([link(PAYEE, SUBSIDIARY), link(SUBSIDIARY, "grandchild")])
    for party, enabled, caught in (
        (SUBSIDIARY, ("sideways",), None),
        (SUBSIDIARY, ("downward",), "downward"),
        ("grandchild", ("sideways",), None),
        ("grandchild", ("downward",), "downward"),
    ):
        chain = find_conflict(alone, [declare(party)], signer="mx-2", payee=PAYEE, reach=reach(*enabled))
        assert (None if chain is None else chain.direction) == caught, (party, enabled)


def test_the_chains_read_from_the_declared_party_to_the_payee() -> None:
    down = find_conflict(GROUP, [declare(SUBSIDIARY)], signer="mx-2", payee=PAYEE, reach=reach("downward"))
    assert down is not None
    assert down.path == (SUBSIDIARY, PAYEE)
    assert down.describe() == "subsidiary ← payee"
    assert down.as_json()["direction"] == "downward"
    side = find_conflict(GROUP, [declare(SISTER)], signer="mx-2", payee=PAYEE, reach=reach("sideways"))
    assert side is not None
    assert side.path == (SISTER, PARENT, PAYEE)
    assert side.describe() == "sister ← parent → payee"
    up = find_conflict(GROUP, [declare(OWNER)], signer="mx-2", payee=PAYEE, reach=reach(*ALL[1:]))
    assert up is not None
    assert up.describe() == "owner → parent → payee"
    assert "direction" not in up.as_json()  # an upward refusal is recorded exactly as before the setting


def test_max_links_bounds_the_downward_and_sideways_chains_but_never_upward() -> None:
    chain = [link(f"c{i}", f"c{i + 1}") for i in range(6)]  # c0 → c1 → … → c6
    graph = OwnershipGraph.from_links([*chain, link("c0", "side")])
    for n, expected in ((2, None), (3, "downward")):
        found = find_conflict(graph, [declare("c6")], signer="mx-2", payee="c3", reach=reach("downward", max_links=n))
        assert (None if found is None else found.direction) == expected
    # c5 and side share c0 as owner: legs of 5 and 1 links
    for n, expected in ((4, None), (5, "sideways")):
        found = find_conflict(graph, [declare("side")], signer="mx-2", payee="c5", reach=reach("sideways", max_links=n))
        assert (None if found is None else found.direction) == expected
    up = find_conflict(graph, [declare("c0")], signer="mx-2", payee="c6", reach=reach(max_links=1))
    assert up is not None
    assert len(up.links) == 6


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ({"directions": ["downward"]}, "must include 'upward'"),
        ({"directions": []}, "must include 'upward'"),
        ({"directions": ["upward", "upward"]}, "twice"),
        ({"directions": ["upward", "diagonal"]}, "downward"),
        ({"max_links": 0}, "greater than or equal to 1"),
        ({"max_links": 33}, "less than or equal to 32"),
        ({"reach": "all"}, "Extra inputs"),
    ],
)
def test_a_bad_setting_is_refused_naming_its_key(setting: dict[str, Any], reason: str) -> None:
    data = GOVERNANCE.model_dump(mode="json") | {"conflict_reach": setting}
    with pytest.raises(GovernanceError, match=r"^governance\.conflict_reach") as err:
        load_governance(data)
    assert reason in err.value.message


def test_the_default_reach_leaves_the_governance_bytes_as_before() -> None:
    dumped = GOVERNANCE.model_dump(mode="json")
    assert "conflict_reach" not in dumped  # existing logs: same bytes, same replay
    assert Governance.model_validate(dumped).conflict_reach == ConflictReach()
    wide = Governance.model_validate(dumped | {"conflict_reach": {"directions": ["sideways", "upward"]}})
    assert wide.model_dump(mode="json")["conflict_reach"] == {"directions": ["upward", "sideways"], "max_links": 3}


# ------------------------------------------------------------------------------------------------ property test


def _distances(
    edges: Iterable[tuple[str, str]], start: str, *, reverse: bool, avoid: str | None = None
) -> dict[str, int]:
    """Shortest number of edges from ``start`` (along edges, or against them, never through ``avoid``) —
    written apart from naef's."""
    nxt: dict[str, set[str]] = {}
    for a, b in edges:
        src, dst = (b, a) if reverse else (a, b)
        if dst != avoid:
            nxt.setdefault(src, set()).add(dst)
    dist = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for other in nxt.get(node, ()):
            if other not in dist:
                dist[other] = dist[node] + 1
                queue.append(other)
    return dist


def expected_conflict(edges: list[tuple[str, str]], parties: set[str], payee: str, r: ConflictReach) -> set[str]:
    """The directions in which one of ``parties`` reaches ``payee``, by the rule of the docs (any direction's hit
    counts; upward includes the payee itself)."""
    hits: set[str] = set()
    to_payee = _distances(edges, payee, reverse=True)  # x → … → payee
    from_payee = _distances(edges, payee, reverse=False)  # payee → … → x
    for party in parties:
        if party in to_payee:
            hits.add("upward")
        if "downward" in r.directions and 1 <= from_payee.get(party, 0) <= r.max_links:
            hits.add("downward")
        if "sideways" in r.directions:
            above_party = _distances(edges, party, reverse=True, avoid=payee)
            above_payee = _distances(edges, payee, reverse=True, avoid=party)
            if any(
                a not in (party, payee) and 1 <= d <= r.max_links and 1 <= above_payee.get(a, 0) <= r.max_links
                for a, d in above_party.items()
            ):
                hits.add("sideways")
    return hits


NODES = [f"n{i}" for i in range(6)]


@settings(max_examples=300, deadline=None)
@given(
    edges=st.lists(st.tuples(st.sampled_from(NODES), st.sampled_from(NODES)), max_size=10, unique=True),
    parties=st.sets(st.sampled_from(NODES), min_size=1, max_size=2),
    payee=st.sampled_from(NODES),
    wider=st.sets(st.sampled_from(("downward", "sideways"))),
    max_links=st.integers(1, 4),
)
def test_the_screen_agrees_with_a_plain_reachability_for_every_reach(
    edges: list[tuple[str, str]], parties: set[str], payee: str, wider: set[Direction], max_links: int
) -> None:
    r = ConflictReach(directions=("upward", *sorted(wider)), max_links=max_links)
    graph = OwnershipGraph.from_links([link(a, b) for a, b in edges])
    chain = find_conflict(graph, [declare(p) for p in parties], signer="mx-2", payee=payee, reach=r)
    hits = expected_conflict(edges, parties, payee, r)
    assert (chain is not None) == bool(hits)
    if chain is None:
        return
    # the first direction in the order upward, downward, sideways that hits is the one reported
    assert chain.direction == next(d for d in ALL if d in hits)
    path = chain.path
    assert path[0] in parties
    assert path[-1] == payee
    for step, (a, b) in zip(chain.links, itertools.pairwise(path), strict=True):
        assert {step.interested_party, step.subject} == {a, b}  # each link joins two consecutive records
    ups = [s.subject == b for s, b in zip(chain.links, path[1:], strict=True)]  # True: along the interest
    if chain.direction == "upward":
        assert all(ups)
    elif chain.direction == "downward":
        assert not any(ups)
        assert 1 <= len(chain.links) <= max_links
    else:
        k = ups.index(True)  # up to the common owner, then down to the payee
        assert not any(ups[:k])
        assert all(ups[k:])
        assert 1 <= k <= max_links
        assert 1 <= len(ups) - k <= max_links


# ------------------------------------------------------------------------------------------------ in the ledger


def relationship(party: str, subject: str) -> dict[str, Any]:
    """A valid BODS 0.4 relationship statement: ``party`` holds shares in ``subject``."""
    rid = f"rel-{party}-{subject}"
    on = "2030-01-01"
    return {
        "statementId": hashlib.sha256(b"test-statement:" + rid.encode()).hexdigest()[:32],
        "declarationSubject": subject,
        "statementDate": on,
        "publicationDetails": {"publicationDate": on, "bodsVersion": "0.4", "publisher": {"name": "naef tests"}},
        "recordId": rid,
        "recordStatus": "new",
        "recordType": "relationship",
        "recordDetails": {
            "isComponent": False,
            "subject": subject,
            "interestedParty": party,
            "interests": [{"type": "shareholding", "directOrIndirect": "direct", "share": {"exact": 60}}],
        },
    }


def governed_group(ledger: Ledger, governance: Governance = GOVERNANCE) -> None:
    """Governance, the group's records (signed by the registrar), money, one proposal paying ``payee``, and
    declarations: mx-2 in the payee's subsidiary, na-2 in its sister company."""
    register_governance(ledger, governance)
    records = [entity_statement(r) for r in (OWNER, PARENT, PAYEE, SUBSIDIARY, SISTER)]
    links = [relationship(OWNER, PARENT), relationship(PARENT, PAYEE), relationship(PAYEE, SUBSIDIARY),
             relationship(PARENT, SISTER)]
    import_bods(ledger, [*records, *links], signer=key("registrar"))
    from naef.ledger.approvals import record_receipt

    record_receipt(ledger, receipt("RCPT-1", "100000000.00"))
    for pid in ("MDF-1", "MDF-2"):
        p = DisbursementProposal(proposal_id=pid, payee=PAYEE, amount_usd="1000000.00", project_id="road-1",
                                 purpose="road", proposer="mx-1")
        propose(ledger, sign_proposal(p, key("mx-1")))
    for declarant, party in (("mx-2", SUBSIDIARY), ("na-2", SISTER)):
        declared = declare(party, declarant)
        declare_interest(ledger, sign_declaration(declared, key(declarant)))


def proposal_of(ledger: Ledger, pid: str) -> DisbursementProposal:
    return control_state(ledger).proposals[pid].proposal


def with_reach(*directions: Direction) -> Governance:
    return GOVERNANCE.model_copy(update={"conflict_reach": reach(*directions)})


@pytest.mark.parametrize(
    ("enabled", "signer", "refused"),
    [
        ((), "mx-2", False),
        (("downward",), "mx-2", True),
        (("sideways",), "mx-2", False),
        ((), "na-2", False),
        (("downward",), "na-2", False),
        (("sideways",), "na-2", True),
    ],
)
def test_the_registered_reach_decides_approvals_at_append(
    db_url: str, log_key: SignerKey, enabled: tuple[Direction, ...], signer: str, refused: bool
) -> None:
    with Ledger.init(db_url, log_key.verifier()) as ledger:
        governed_group(ledger, with_reach(*enabled))
        approval = sign_approval(proposal_of(ledger, "MDF-1"), key(signer))
        if refused:
            with pytest.raises(ConflictOfInterestError, match="declared interest reaches the payee"):
                approve(ledger, approval)
        else:
            approve(ledger, approval)
        assert audit(ledger.entries()).ok


QUORUM = ("mx-1", "na-1", "controller")


def amendment(ledger: Ledger, r: ConflictReach, signers: Iterable[str] = QUORUM) -> SignedAmendment:
    draft = draft_amendment(control_state(ledger), r)
    return SignedAmendment(amendment=draft, signatures=[sign_amendment(draft, key(n)) for n in signers])


@pytest.fixture
def group(db_url: str, log_key: SignerKey) -> Iterator[Ledger]:
    with Ledger.init(db_url, log_key.verifier()) as ledger:
        governed_group(ledger)
        yield ledger


def test_audit_judges_each_approval_by_the_reach_at_its_index(group: Ledger) -> None:
    ledger = group
    # before the amendment: mx-2 (declared in the payee's subsidiary) may approve MDF-1
    early = approve(ledger, sign_approval(proposal_of(ledger, "MDF-1"), key("mx-2")))
    index = amend_governance(ledger, amendment(ledger, reach("downward")))
    assert control_state(ledger).governance.conflict_reach == reach("downward")
    # after it, the same approval of MDF-2 is refused at append (and the refusal recorded) ...
    with pytest.raises(ConflictOfInterestError, match=r"\(downward\): subsidiary \(subsidiary \(fictional\)\) ← payee"):
        approve(ledger, sign_approval(proposal_of(ledger, "MDF-2"), key("mx-2")))
    report = audit(ledger.entries())
    assert report.ok, report.line()  # the early approval is judged by the reach at its index
    assert early < index
    # ... and one written around the gate after the amendment is named by the audit
    forged = sign_approval(proposal_of(ledger, "MDF-2"), key("mx-2")).model_dump(mode="json") | {"role": ROLES["mx-2"]}
    bad = around_the_rules(ledger, ENTRY_APPROVED, forged)
    report = audit(ledger.entries())
    assert [(f.index, f.rule) for f in report.faults] == [(bad, "conflict_of_interest")]
    assert "(downward)" in report.faults[0].message
    # a second amendment (sequence 2) widens it again; the first cannot be replayed
    amend_governance(ledger, amendment(ledger, reach("downward", "sideways")))
    assert control_state(ledger).amendments[0] == index


@pytest.mark.parametrize(
    ("tamper", "rule"),
    [
        ("short_of_quorum", "quorum_not_met"),
        ("observer", "not_an_approver"),
        ("stranger", "unknown_signer"),
        ("twice", "replayed_approval"),
        ("bad_signature", "bad_signature"),
        ("wrong_sequence", "amendment_sequence"),
        ("other_governance", "amendment"),
    ],
)
def test_an_amendment_without_a_quorum_of_good_signatures_is_refused_and_named(
    group: Ledger, tamper: str, rule: str
) -> None:
    ledger = group
    good = amendment(ledger, reach("downward"))
    payload: dict[str, Any] = good.model_dump(mode="json")
    sigs = payload["signatures"]
    if tamper == "short_of_quorum":
        payload["signatures"] = sigs[:2]
    elif tamper == "observer":
        payload["signatures"] = [*sigs, sign_amendment(good.amendment, key("observer")).model_dump()]
    elif tamper == "stranger":
        payload["signatures"] = [sign_amendment(good.amendment, key("mallory")).model_dump(), *sigs]
    elif tamper == "twice":
        payload["signatures"] = [*sigs, sigs[0]]
    elif tamper == "bad_signature":
        payload["signatures"][1] = {"signer": "na-1", "signature": sigs[0]["signature"]}
    elif tamper in ("wrong_sequence", "other_governance"):
        field, value = ("sequence", 2) if tamper == "wrong_sequence" else ("governance_sha256", "0" * 64)
        changed = good.amendment.model_copy(update={field: value})
        payload = amendment(ledger, reach("downward")).model_dump(mode="json")
        payload["amendment"] = changed.model_dump(mode="json")
        payload["signatures"] = [sign_amendment(changed, key(n)).model_dump() for n in ("mx-1", "na-1", "controller")]
    size = ledger.size()
    with pytest.raises(RuleViolationError) as err:
        ledger.append(ENTRY_AMENDED, payload)
    assert err.value.rule == rule
    assert ledger.size() == size  # nothing appended
    index = around_the_rules(ledger, ENTRY_AMENDED, payload)
    report = audit(ledger.entries())
    assert [(f.index, f.rule) for f in report.faults] == [(index, rule)]
    assert control_state(ledger).governance.conflict_reach == ConflictReach()  # skipped, never applied


@dataclass(frozen=True)
class RawEntry:
    """An entry as a raw SQL writer could store it (bytes no model validated)."""

    index: int
    type: str
    payload: dict[str, Any]


def test_an_amendment_that_narrows_the_screen_is_refused_and_named(group: Ledger) -> None:
    payload = amendment(group, reach("downward")).model_dump(mode="json")
    payload["amendment"]["conflict_reach"] = {"directions": ["downward"], "max_links": 3}
    size = group.size()
    with pytest.raises(LedgerError, match=r"conflict_reach\.directions: .*must include 'upward'"):
        group.append(ENTRY_AMENDED, payload)
    assert group.size() == size
    report = audit([*group.entries(), RawEntry(size, ENTRY_AMENDED, payload)])
    assert [(f.index, f.rule) for f in report.faults] == [(size, "malformed")]
    assert "must include 'upward'" in report.faults[0].message


def test_a_replayed_amendment_is_refused(group: Ledger) -> None:
    first = amendment(group, reach("downward"))
    amend_governance(group, first)
    with pytest.raises(RuleViolationError, match="sequence 1; the next amendment is 2"):
        amend_governance(group, first)


def test_cli_registers_a_reach_and_amends_it(
    tmp_path: Path, log_key: SignerKey, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def naef(*argv: str) -> tuple[Any, str, str]:
        return naef_main(monkeypatch, capsys, *argv)

    db = tmp_path / "fund.db"
    Ledger.init(str(db), log_key.verifier()).close()
    toml = tmp_path / "gov.toml"
    lines = ["[governance]"]
    for name, role in ROLES.items():
        lines += ["[[governance.stakeholders]]", f'name = "{name}"', f'role = "{role}"',
                  f'public_key = "{key(name).verifier().encode()}"']
    lines += ["[governance.conflict_reach]", 'directions = ["upward", "downward"]', "max_links = 2"]
    toml.write_text("\n".join(lines) + "\n")
    assert naef("ledger", "register-governance", str(db), str(toml))[0] in (0, None)
    with Ledger.open(str(db)) as ledger:
        assert control_state(ledger).governance.conflict_reach == reach("downward", max_links=2)
    keys: list[str] = []
    for name in ("mx-1", "na-1", "controller"):
        path = tmp_path / f"{name}.key"
        path.write_text(key(name).encode() + "\n")
        path.chmod(0o600)
        keys += ["--key", str(path)]
    code, out, err = naef("ledger", "amend-governance", str(db), "--reach", "upward,sideways", *keys)
    assert code in (0, None), err
    assert "amendment 1 recorded at entry" in out
    assert "reaches upward, sideways (≤ 3 links)" in out
    with Ledger.open(str(db)) as ledger:
        size = ledger.size()
    # short of the quorum, or narrowing the screen: one line, exit 2, nothing appended
    code, out, err = naef("ledger", "amend-governance", str(db), "--reach", "upward", *keys[:2])
    assert (code, err.count("\n")) == (2, 1), err
    assert "quorum_not_met" in err
    code, out, err = naef("ledger", "amend-governance", str(db), "--reach", "sideways", *keys)
    assert (code, err.count("\n")) == (2, 1), err
    assert "--reach.directions: must include 'upward'" in err
    with Ledger.open(str(db)) as ledger:
        assert ledger.size() == size
        assert audit(ledger.entries()).ok
        assert control_state(ledger).governance.model_dump(mode="json")["conflict_reach"] == {
            "directions": ["upward", "sideways"], "max_links": 3}
