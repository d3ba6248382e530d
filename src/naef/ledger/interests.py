"""Declarations of interest and the ownership/control graph that screens approvers for conflicts of interest.

The graph is built from Beneficial Ownership Data Standard 0.4 statements
(https://standard.openownership.org/en/0.4.0/): every person or entity record is a node (keyed by its
``recordId``), and every relationship record is a directed edge ``interestedParty → subject`` ("holds an
interest in": shares, votes, board, trust, control, ...). A later statement about the same ``recordId``
replaces the earlier one; ``recordStatus = "closed"`` removes it (BODS 0.4, "Record status"). Relationships
whose subject or interested party is an Unspecified Record object are ignored: they name no one. An interest
without a ``type`` is recorded in chains as ``unknownInterest`` (the codelist's catch-all).

Rule (DESIGN.md §5): a stakeholder has a conflict of interest in a payment to ``payee`` when one of the
parties it declared an interest in *is* the payee or holds an interest in it through a chain of relationships
of any length, i.e. when there is a directed path ``party → … → payee`` in the graph. The chain found is a
shortest one (breadth-first search; ties broken by record ids, so the result is deterministic; a BODS primary
indirect relationship gives way to its components so that every intermediary shows) and is recorded with the
refusal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ConflictChain",
    "InterestDeclaration",
    "OwnershipGraph",
    "OwnershipLink",
    "find_conflict",
]


class InterestDeclaration(BaseModel):
    """A stakeholder's declaration that it has an interest in a person or entity (payload of
    ``interest_declaration``).

    ``party`` is the BODS ``recordId`` of the person or entity (the same identifiers the ownership graph
    uses), or any identifier that a payee may carry.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    declarant: str = Field(min_length=1, description="Name of the stakeholder making the declaration.")
    party: str = Field(
        min_length=1, description="BODS recordId (or payee identifier) of the person or entity."
    )
    party_name: str = Field(default="", description="Human-readable name of the party.")
    nature: str = Field(
        min_length=1, description="What the interest is: shareholding, family, employment, ..."
    )
    declared_on: date = Field(description="Date of the declaration (YYYY-MM-DD).")


@dataclass(frozen=True)
class OwnershipLink:
    """One edge of the graph: ``interested_party`` holds ``interests`` in ``subject`` (a BODS relationship
    record)."""

    interested_party: str
    subject: str
    record_id: str
    statement_id: str
    interests: tuple[str, ...]
    components: tuple[str, ...] = ()

    def as_json(self, names: Mapping[str, str]) -> dict[str, Any]:
        """JSON form recorded in a refusal entry."""
        return {
            "interested_party": self.interested_party,
            "interested_party_name": names.get(self.interested_party, ""),
            "subject": self.subject,
            "subject_name": names.get(self.subject, ""),
            "relationship_record_id": self.record_id,
            "statement_id": self.statement_id,
            "interests": list(self.interests),
            "component_records": list(self.components),
        }


@dataclass(frozen=True)
class ConflictChain:
    """Why a signer cannot approve: its declaration and the links from the declared party down to the
    payee."""

    declaration: InterestDeclaration
    links: tuple[OwnershipLink, ...]
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def path(self) -> tuple[str, ...]:
        """Record ids from the declared party to the payee (one id when the party is the payee)."""
        return (self.declaration.party, *(link.subject for link in self.links))

    def describe(self) -> str:
        """One line: ``a (Name A) → b (Name B) → payee``."""
        return " → ".join(f"{rid} ({self.names[rid]})" if self.names.get(rid) else rid for rid in self.path)

    def as_json(self) -> dict[str, Any]:
        """JSON form recorded in the refusal entry (``chain`` field)."""
        return {
            "declaration": self.declaration.model_dump(mode="json"),
            "path": list(self.path),
            "links": [link.as_json(self.names) for link in self.links],
        }


def _record_name(statement: Mapping[str, Any]) -> str:
    details = statement.get("recordDetails") or {}
    if statement.get("recordType") == "entity":
        return str(details.get("name") or "")
    if statement.get("recordType") == "person":
        for name in details.get("names") or []:
            if isinstance(name, Mapping) and name.get("fullName"):
                return str(name["fullName"])
    return ""


class OwnershipGraph:
    """Directed ownership/control graph over BODS record ids (edges interestedParty → subject)."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._links: dict[str, OwnershipLink] = {}  # relationship recordId → link

    @classmethod
    def from_statements(cls, statements: Iterable[Mapping[str, Any]]) -> OwnershipGraph:
        """Build the graph from BODS 0.4 statements, in order (later statements about a record replace
        earlier)."""
        graph = cls()
        for statement in statements:
            graph.add_statement(statement)
        return graph

    @classmethod
    def from_links(
        cls, links: Iterable[OwnershipLink], names: Mapping[str, str] | None = None
    ) -> OwnershipGraph:
        """Build a graph directly from links (used by tests and by callers with non-BODS data)."""
        graph = cls()
        for link in links:
            graph._links[link.record_id] = link
        graph._names.update(names or {})
        return graph

    def add_statement(self, statement: Mapping[str, Any]) -> None:
        """Apply one (already schema-valid) BODS statement."""
        record_id = str(statement.get("recordId", ""))
        record_type = statement.get("recordType")
        closed = statement.get("recordStatus") == "closed"
        if record_type in ("entity", "person"):
            name = _record_name(statement)
            if name:
                self._names[record_id] = name
            return
        if record_type != "relationship":
            return
        if closed:
            self._links.pop(record_id, None)
            return
        details = statement.get("recordDetails") or {}
        subject, party = details.get("subject"), details.get("interestedParty")
        if not isinstance(subject, str) or not isinstance(party, str):
            self._links.pop(record_id, None)  # an Unspecified Record names no one
            return
        interests = tuple(
            str(i.get("type", "unknownInterest"))
            for i in details.get("interests") or []
            if isinstance(i, Mapping)
        )
        self._links[record_id] = OwnershipLink(
            interested_party=party,
            subject=subject,
            record_id=record_id,
            statement_id=str(statement.get("statementId", "")),
            interests=interests,
            components=tuple(str(c) for c in details.get("componentRecords") or []),
        )

    @property
    def names(self) -> Mapping[str, str]:
        """recordId → name of every person or entity seen."""
        return self._names

    @property
    def links(self) -> Sequence[OwnershipLink]:
        """All current links, sorted by (interested party, subject, relationship record id)."""
        return sorted(self._links.values(), key=lambda e: (e.interested_party, e.subject, e.record_id))

    def adjacency(self, *, detailed: bool = False) -> dict[str, list[OwnershipLink]]:
        """interested party → its outgoing links, sorted by (subject, record id).

        With ``detailed``, a primary indirect relationship is left out when one of its ``componentRecords`` is
        a relationship present in the graph: the components describe the same interest link by link (BODS 0.4,
        "Representing indirect relationships").
        """
        out: dict[str, list[OwnershipLink]] = {}
        for link in self.links:
            if detailed and any(c in self._links for c in link.components):
                continue
            out.setdefault(link.interested_party, []).append(link)
        return out

    def shortest_chain(
        self, sources: Iterable[str], target: str
    ) -> tuple[str, tuple[OwnershipLink, ...]] | None:
        """A directed chain from one of ``sources`` to ``target``: (source, links), or None if there is none.

        The search runs first without the primary indirect relationships that have components (so the chain
        shows every intermediary), then, only if that finds nothing, on all links: the answer is "no chain"
        exactly when no directed path exists in the full graph.

        Multi-source breadth-first search (Cormen et al., *Introduction to Algorithms*, §22.2); sources are
        tried in sorted order and links in (subject, record id) order, so equal-length chains resolve
        deterministically.
        """
        starts = sorted(set(sources))
        if target in starts:
            return target, ()
        return self._bfs(starts, target, self.adjacency(detailed=True)) or self._bfs(
            starts, target, self.adjacency()
        )

    @staticmethod
    def _bfs(
        starts: list[str], target: str, adjacency: Mapping[str, list[OwnershipLink]]
    ) -> tuple[str, tuple[OwnershipLink, ...]] | None:
        parent: dict[str, OwnershipLink | None] = dict.fromkeys(starts)
        origin: dict[str, str] = {s: s for s in starts}
        queue: deque[str] = deque(starts)
        while queue:
            node = queue.popleft()
            for link in adjacency.get(node, ()):
                nxt = link.subject
                if nxt in parent:
                    continue
                parent[nxt] = link
                origin[nxt] = origin[node]
                if nxt == target:
                    chain: list[OwnershipLink] = []
                    cur: str = nxt
                    while (step := parent[cur]) is not None:
                        chain.append(step)
                        cur = step.interested_party
                    return origin[nxt], tuple(reversed(chain))
                queue.append(nxt)
        return None


def find_conflict(
    graph: OwnershipGraph, declarations: Iterable[InterestDeclaration], *, signer: str, payee: str
) -> ConflictChain | None:
    """The chain that bars ``signer`` from approving a payment to ``payee``, or None if there is none.

    Rule: conflict ⇔ ∃ declaration d by ``signer`` and a directed path d.party → … → payee (length ≥ 0).
    """
    own: dict[str, InterestDeclaration] = {}
    for d in sorted(declarations, key=lambda d: (d.party, d.declared_on)):
        if d.declarant == signer:
            own.setdefault(d.party, d)  # the earliest declaration of each party
    if not own:
        return None
    found = graph.shortest_chain(own, payee)
    if found is None:
        return None
    source, links = found
    return ConflictChain(declaration=own[source], links=links, names=dict(graph.names))
