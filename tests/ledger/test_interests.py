"""Conflict-of-interest screening over the BODS ownership graph, against the standard's worked examples and a
plain reference search on random graphs."""

from __future__ import annotations

import json
from collections import deque
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from naef.ledger.interests import InterestDeclaration, OwnershipGraph, OwnershipLink, find_conflict
from tests import data_paths

EXAMPLES = data_paths.BODS_EXAMPLES


def example(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def declare(declarant: str, party: str) -> InterestDeclaration:
    return InterestDeclaration(
        declarant=declarant, party=party, nature="shareholding", declared_on=date(2030, 1, 1)
    )


def test_indirect_ownership_example_gives_the_chain_through_company_b() -> None:
    # BODS worked example: Person 1 owns Company B, which owns Company A; plus the primary indirect one.
    graph = OwnershipGraph.from_statements(example("indirect-ownership.json"))
    chain = find_conflict(graph, [declare("mx-1", "c25d4d612c2c")], signer="mx-1", payee="ad3f6c2fcc9e")
    assert chain is not None
    assert chain.path == ("c25d4d612c2c", "d4ab89ea169a", "ad3f6c2fcc9e")
    assert [link.record_id for link in chain.links] == ["05e81af035e4", "4cf2837bd01f"]
    assert chain.describe() == "c25d4d612c2c (Person 1) → d4ab89ea169a (Company B) → ad3f6c2fcc9e (Company A)"
    recorded = chain.as_json()
    assert recorded["links"][1]["interests"] == ["shareholding"]  # Company B holds 60 % of Company A
    assert recorded["links"][0]["interests"] == ["unknownInterest"]  # the example gives no type: unknown
    assert recorded["links"][1]["subject_name"] == "Company A"
    assert recorded["declaration"]["declarant"] == "mx-1"
    # other signers' declarations do not bar mx-1, and nothing flows upwards (Company A does not own Person 1)
    assert (
        find_conflict(graph, [declare("na-1", "c25d4d612c2c")], signer="mx-1", payee="ad3f6c2fcc9e") is None
    )
    assert (
        find_conflict(graph, [declare("mx-1", "ad3f6c2fcc9e")], signer="mx-1", payee="c25d4d612c2c") is None
    )


def test_primary_indirect_relationship_alone_still_blocks() -> None:
    # keep only the entity/person records and the primary (non-component) relationship d8d75ccf40e4
    statements = [
        s for s in example("indirect-ownership.json") if s["recordId"] not in {"05e81af035e4", "4cf2837bd01f"}
    ]
    graph = OwnershipGraph.from_statements(statements)
    chain = find_conflict(graph, [declare("mx-1", "c25d4d612c2c")], signer="mx-1", payee="ad3f6c2fcc9e")
    assert chain is not None
    assert [link.record_id for link in chain.links] == ["d8d75ccf40e4"]


def test_state_owned_enterprise_chain_depth_two() -> None:
    # Finland → Ministry of Finance → Gasgrid Finland Oy (component records of the state's indirect interest)
    graph = OwnershipGraph.from_statements(example("bods-package-fi-soe.json"))
    chain = find_conflict(graph, [declare("na-1", "05ce06ec97b1")], signer="na-1", payee="19f1c5afe9d7")
    assert chain is not None
    assert chain.path == ("05ce06ec97b1", "7ff95ba3682c", "19f1c5afe9d7")


def test_closed_and_updated_records_follow_the_last_statement() -> None:
    graph = OwnershipGraph.from_statements(example("fermcat.json"))
    fermcat = "ent-93c75c87ab28f889"
    # Riyadh's and Declan's relationships were closed; Patrick's was updated and is still open
    assert find_conflict(graph, [declare("c", "per-5faa4103dee78621")], signer="c", payee=fermcat) is None
    assert find_conflict(graph, [declare("c", "per-e334cc6258e56467")], signer="c", payee=fermcat) is None
    chain = find_conflict(graph, [declare("c", "per-41c0bb0cef246f7c")], signer="c", payee=fermcat)
    assert chain is not None
    assert [link.record_id for link in chain.links] == ["rel-3fc02d9b6bdfd5ca"]


def test_unspecified_interested_party_names_no_one() -> None:
    graph = OwnershipGraph.from_statements(example("listed-company-exempt-from-disclosure.json"))
    assert graph.links == []
    assert graph.names == {"4c7ea3bfbe6c": "Listed Company OS-17"}


def test_declaring_the_payee_itself_is_a_conflict_of_length_zero() -> None:
    chain = find_conflict(OwnershipGraph(), [declare("mx-1", "payee-x")], signer="mx-1", payee="payee-x")
    assert chain is not None
    assert chain.links == ()
    assert chain.path == ("payee-x",)


def test_nomination_chain_through_an_arrangement() -> None:
    # Vanessa Rivero → Perez-Rivero nomination arrangement → Los Corazones de Plata
    graph = OwnershipGraph.from_statements(example("nomination.json"))
    chain = find_conflict(graph, [declare("x", "102AB1984E")], signer="x", payee="104AB1984C")
    assert chain is not None
    assert chain.path == ("102AB1984E", "103AB1984D", "104AB1984C")


# ------------------------------------------------------------------------------------------- property tests


def reference_distance(edges: set[tuple[int, int]], sources: set[int], target: int) -> int | None:
    """Plain BFS over an edge set (written independently of the code under test)."""
    dist = {s: 0 for s in sources}
    todo = deque(sorted(sources))
    while todo:
        u = todo.popleft()
        if u == target:
            return dist[u]
        for a, b in sorted(edges):
            if a == u and b not in dist:
                dist[b] = dist[u] + 1
                todo.append(b)
    return None


graphs = st.integers(min_value=1, max_value=9).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=n * 3),
        st.sets(st.integers(0, n - 1), max_size=3),
        st.integers(0, n - 1),
        st.sets(st.integers(0, n - 1), max_size=2),
    )
)


@settings(max_examples=300, deadline=None)
@given(graphs)
def test_blocked_iff_a_path_exists(case: tuple[int, set[tuple[int, int]], set[int], int, set[int]]) -> None:
    _n, edges, declared, payee, others = case
    links = [
        OwnershipLink(
            f"n{a}", f"n{b}", record_id=f"r{a}-{b}", statement_id=f"s{a}-{b}", interests=("shareholding",)
        )
        for a, b in edges
    ]
    graph = OwnershipGraph.from_links(links)
    decls = [declare("signer", f"n{d}") for d in declared] + [
        declare("someone-else", f"n{o}") for o in others
    ]
    chain = find_conflict(graph, decls, signer="signer", payee=f"n{payee}")
    expected = reference_distance(edges, declared, payee)
    assert (chain is not None) == (expected is not None)
    if chain is not None:
        # a real path: starts at a declared party, each link continues the previous, ends at the payee
        assert chain.declaration.declarant == "signer"
        assert chain.path[0] == chain.declaration.party
        assert chain.path[0] in {f"n{d}" for d in declared}
        assert chain.path[-1] == f"n{payee}"
        for prev, link in zip(chain.path, chain.links, strict=False):
            assert link.interested_party == prev
            assert (int(link.interested_party[1:]), int(link.subject[1:])) in edges
        assert len(chain.links) == expected  # and a shortest one


@settings(max_examples=200, deadline=None)
@given(graphs, st.data())
def test_primary_indirect_links_never_change_whether_a_signer_is_blocked(
    case: tuple[int, set[tuple[int, int]], set[int], int, set[int]], data: st.DataObject
) -> None:
    # some links are BODS "primary" relationships listing other links as components: the chain may prefer the
    # components, but blocked ⇔ a path exists in the full graph, as before
    _n, edges, declared, payee, _others = case
    ordered = sorted(edges)
    ids = [f"r{a}-{b}" for a, b in ordered]
    links = []
    for (a, b), rid in zip(ordered, ids, strict=True):
        components = tuple(data.draw(st.lists(st.sampled_from([*ids, "missing"]), max_size=3))) if ids else ()
        links.append(OwnershipLink(f"n{a}", f"n{b}", rid, f"s-{rid}", ("shareholding",), components))
    graph = OwnershipGraph.from_links(links)
    chain = find_conflict(
        graph, [declare("signer", f"n{d}") for d in declared], signer="signer", payee=f"n{payee}"
    )
    assert (chain is not None) == (reference_distance(edges, declared, payee) is not None)
    if chain is not None:
        assert chain.path[-1] == f"n{payee}"
        for prev, link in zip(chain.path, chain.links, strict=False):
            assert link.interested_party == prev
