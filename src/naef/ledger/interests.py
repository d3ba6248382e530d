"""Declarations of interest and the ownership/control graph that screens approvers for conflicts of interest.

The graph is built from Beneficial Ownership Data Standard 0.4 statements
(https://standard.openownership.org/en/0.4.0/): every person or entity record is a node (keyed by its
``recordId``), and every relationship record is a directed edge ``interestedParty → subject`` ("holds an
interest in": shares, votes, board, trust, control, ...). A later statement about the same ``recordId``
replaces the earlier one; ``recordStatus = "closed"`` removes it (BODS 0.4, "Record status"). Relationships
whose subject or interested party is an Unspecified Record object are ignored: they name no one. An interest
without a ``type`` is recorded in chains as ``unknownInterest`` (the codelist's catch-all).

Rule (DESIGN.md §5): a stakeholder has a conflict of interest in a payment to ``payee`` when one of the
parties it declared an interest in *is* the payee or is linked to it in one of the directions the governance's
:class:`ConflictReach` enables (write ``a → b`` for "a holds an interest in b", i.e. a path of BODS
relationships interestedParty → subject):

* ``upward`` (always on; the only direction before the setting existed): ``party → … → payee``, any length —
  the party owns or controls the payee, directly or through intermediaries;
* ``downward``: ``payee → … → party``, at most ``max_links`` links — the party is one of the payee's
  subsidiaries (or anything the payee holds an interest in);
* ``sideways``: a third record ``a`` with ``a → … → party`` and ``a → … → payee``, each leg 1..``max_links``
  links and neither leg passing through the other's end — sister companies under a common parent, or two
  companies with a common ultimate owner (a subsidiary of the payee is downward, not sideways).

The chain found is a shortest one (breadth-first search; ties broken by record ids, so the result is
deterministic; a BODS primary indirect relationship gives way to its components so that every intermediary
shows, when that stays within the bound) and is recorded with the refusal. Directions are tried in the order
upward, downward, sideways.

Beneficial owners (:meth:`OwnershipGraph.beneficial_owners`, BODS 0.4 "Beneficial ownership or control" and
"Representing indirect relationships"): ``beneficialOwnershipOrControl: true`` may only be said of a natural
person (``naef.ledger.bods`` refuses a statement that says it of anything else), so an owner of a subject is a
*person* found either

1. by a primary relationship person → subject (``isComponent: false``, direct or indirect) with an interest
   flagged ``beneficialOwnershipOrControl``; its ``componentRecords`` are the chain it summarises; or
2. through a chain of ownership or control relationships subject ← entity ← … ← person, where every link has at
   least one interest (every BODS 0.4 ``interestType`` is an ownership, control or economic interest) and the
   person's own link is flagged ``beneficialOwnershipOrControl`` — the layered chain as BODS asks publishers to
   write it (the flag on the entity links is false, since an entity is never a beneficial owner).

A flag set on a relationship whose interested party is not a person is ignored by both rules.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "DEFAULT_MAX_LINKS",
    "ConflictChain",
    "ConflictReach",
    "Direction",
    "InterestDeclaration",
    "OwnerChain",
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


Direction = Literal["upward", "downward", "sideways"]
"""How a declared party may be linked to a payee (module docstring)."""

_DIRECTION_ORDER: tuple[Direction, ...] = ("upward", "downward", "sideways")

DEFAULT_MAX_LINKS = 3
"""Bound on the downward and sideways chains (links per leg). naef's choice, not a figure from a source: it
reaches a parent's parent and a subsidiary's subsidiary's subsidiary, while a common owner far up a
conglomerate (a state holding, a pension fund at the top of many groups) does not bar every approver whose
declared company shares it. The upward screen stays unbounded, as it always was."""

MAX_LINKS_LIMIT = 32
"""Largest ``max_links`` a governance may set (a chain of 32 holding companies is beyond any real group)."""


class ConflictReach(BaseModel):
    """How far the conflict-of-interest screen reaches (the governance's ``conflict_reach`` setting).

    ``upward`` is always on, so the setting can only widen the screen of a log written before it existed; a
    governance without the setting screens upward only, exactly as before.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    directions: tuple[Direction, ...] = Field(
        default=("upward",),
        description="Directions screened: upward (always), downward (the payee's subsidiaries), sideways "
        "(sister companies under a common parent or ultimate owner).",
    )
    max_links: int = Field(
        default=DEFAULT_MAX_LINKS,
        ge=1,
        le=MAX_LINKS_LIMIT,
        description="Most links per leg of a downward or sideways chain (upward chains are unbounded).",
    )

    @field_validator("directions")
    @classmethod
    def _upward_and_ordered(cls, value: tuple[Direction, ...]) -> tuple[Direction, ...]:
        if "upward" not in value:
            raise ValueError("must include 'upward' (the screen can be widened, never narrowed)")
        if len(set(value)) != len(value):
            raise ValueError("lists a direction twice")
        return tuple(d for d in _DIRECTION_ORDER if d in value)

    @property
    def is_default(self) -> bool:
        """True for the screen as it was before the setting existed (upward only, default bound)."""
        return self == ConflictReach()

    def describe(self) -> str:
        """One line, e.g. ``upward, downward (≤ 3 links)``."""
        wider = [d for d in self.directions if d != "upward"]
        if not wider:
            return "upward"
        return f"upward, {', '.join(wider)} (≤ {self.max_links} links)"


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
    beneficial: bool = False
    """At least one interest says ``beneficialOwnershipOrControl: true``."""
    is_component: bool = False
    """``isComponent``: the link is one step of a primary indirect relationship."""
    index: int | None = None
    """Ledger index of the statement (when the graph was built from ledger entries)."""

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
    """Why a signer cannot approve: its declaration and the links that join the declared party to the payee,
    in order from the party to the payee (each link joins two consecutive records of :attr:`path`, whichever
    way its interest points)."""

    declaration: InterestDeclaration
    links: tuple[OwnershipLink, ...]
    names: Mapping[str, str] = field(default_factory=dict)
    direction: Direction = "upward"

    @property
    def path(self) -> tuple[str, ...]:
        """Record ids from the declared party to the payee (one id when the party is the payee)."""
        path = [self.declaration.party]
        for link in self.links:
            path.append(link.subject if link.interested_party == path[-1] else link.interested_party)
        return tuple(path)

    def describe(self) -> str:
        """One line: ``a (Name A) → b (Name B) → payee``; an arrow points from the holder of an interest to its
        subject, so a downward chain reads ``party ← … ← payee``."""
        path = self.path
        out = self._label(path[0])
        for link, rid in zip(self.links, path[1:], strict=True):
            out += f" {'→' if link.subject == rid else '←'} {self._label(rid)}"
        return out

    def _label(self, rid: str) -> str:
        return f"{rid} ({self.names[rid]})" if self.names.get(rid) else rid

    def as_json(self) -> dict[str, Any]:
        """JSON form recorded in the refusal entry (``chain`` field; ``direction`` only when not upward, so an
        upward refusal is recorded exactly as before the setting existed)."""
        out: dict[str, Any] = {
            "declaration": self.declaration.model_dump(mode="json"),
            "path": list(self.path),
            "links": [link.as_json(self.names) for link in self.links],
        }
        if self.direction != "upward":
            out["direction"] = self.direction
        return out


def _record_name(statement: Mapping[str, Any]) -> str:
    details = statement.get("recordDetails") or {}
    if statement.get("recordType") == "entity":
        return str(details.get("name") or "")
    if statement.get("recordType") == "person":
        names = [n for n in details.get("names") or [] if isinstance(n, Mapping) and n.get("fullName")]
        for name in [n for n in names if n.get("type") == "legal"] or names:
            return str(name["fullName"])
    return ""


@dataclass(frozen=True)
class OwnerChain:
    """A beneficial owner (a person record) of a subject and the relationships that show it, from the person's
    link down to the subject's (rule 1: the primary relationship alone, its components in ``components``)."""

    person: str
    name: str
    links: tuple[OwnershipLink, ...]
    components: tuple[str, ...] = ()
    """Record ids of the component records of a primary indirect relationship (rule 1)."""

    @property
    def via(self) -> tuple[str, ...]:
        """Record ids of the entities between the person and the subject (rule 2)."""
        return tuple(link.subject for link in self.links[:-1])


class OwnershipGraph:
    """Directed ownership/control graph over BODS record ids (edges interestedParty → subject)."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._links: dict[str, OwnershipLink] = {}  # relationship recordId → link
        self._kinds: dict[str, str] = {}  # person/entity recordId → "person" | "entity"
        self._indexes: dict[str, int] = {}  # recordId → ledger index of its latest statement

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

    def add_statement(self, statement: Mapping[str, Any], *, index: int | None = None) -> None:
        """Apply one (already schema-valid) BODS statement (``index``: its ledger index, if known)."""
        record_id = str(statement.get("recordId", ""))
        record_type = statement.get("recordType")
        closed = statement.get("recordStatus") == "closed"
        if index is not None:
            self._indexes[record_id] = index
        if record_type in ("entity", "person"):
            name = _record_name(statement)
            if name:
                self._names[record_id] = name
            if closed:
                self._kinds.pop(record_id, None)
            else:
                self._kinds[record_id] = str(record_type)
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
        raw = [i for i in details.get("interests") or [] if isinstance(i, Mapping)]
        self._links[record_id] = OwnershipLink(
            interested_party=party,
            subject=subject,
            record_id=record_id,
            statement_id=str(statement.get("statementId", "")),
            interests=tuple(str(i.get("type", "unknownInterest")) for i in raw),
            components=tuple(str(c) for c in details.get("componentRecords") or []),
            beneficial=any(i.get("beneficialOwnershipOrControl") is True for i in raw),
            is_component=details.get("isComponent") is True,
            index=index,
        )

    @property
    def names(self) -> Mapping[str, str]:
        """recordId → name of every person or entity seen."""
        return self._names

    def kind(self, record_id: str) -> str | None:
        """``"person"`` or ``"entity"`` for a live person or entity record, else ``None``."""
        return self._kinds.get(record_id)

    def index_of(self, record_id: str) -> int | None:
        """Ledger index of the latest statement about ``record_id`` (graphs built with indexes)."""
        return self._indexes.get(record_id)

    def beneficial_owners(self, subject: str) -> tuple[OwnerChain, ...]:
        """The persons who beneficially own or control ``subject`` (rules 1 and 2 of the module docstring), each
        once: first those of primary relationships (by record id), then those found up chains, breadth first
        (links by record id, so the first and shortest chain is kept)."""
        owners: dict[str, OwnerChain] = {}
        for link in self.links:
            if (
                link.subject == subject
                and link.beneficial
                and not link.is_component
                and self.kind(link.interested_party) == "person"
                and link.interested_party not in owners
            ):
                party = link.interested_party
                owners[party] = OwnerChain(party, self._names.get(party, party), (link,), link.components)
        upward: dict[str, list[OwnershipLink]] = {}
        for link in sorted(self._links.values(), key=lambda e: e.record_id):
            if link.interests:
                upward.setdefault(link.subject, []).append(link)
        path_to: dict[str, tuple[OwnershipLink, ...]] = {subject: ()}
        queue: deque[str] = deque([subject])
        while queue:
            node = queue.popleft()
            for link in upward.get(node, ()):
                party = link.interested_party
                chain = (link, *path_to[node])
                if self.kind(party) == "person":
                    if link.beneficial and party not in owners:
                        owners[party] = OwnerChain(party, self._names.get(party, party), chain)
                elif party not in path_to:
                    path_to[party] = chain
                    queue.append(party)
        return tuple(owners.values())

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

    def chains_within(
        self, start: str, max_links: int, *, reverse: bool, detailed: bool, avoid: str | None = None
    ) -> dict[str, tuple[OwnershipLink, ...]]:
        """Every record reachable from ``start`` in 1..``max_links`` links, with a shortest chain to it (links in
        order from ``start``): along interests (``start → …``) or, with ``reverse``, against them (``… → start``,
        i.e. ``start``'s owners and their owners); never through ``avoid``. Breadth first, links in record-id
        order (deterministic)."""
        step: dict[str, list[tuple[str, OwnershipLink]]] = {}
        for link in self.adjacency(detailed=detailed).values():
            for e in link:
                a, b = (e.subject, e.interested_party) if reverse else (e.interested_party, e.subject)
                step.setdefault(a, []).append((b, e))
        for nexts in step.values():
            nexts.sort(key=lambda x: (x[0], x[1].record_id))
        found: dict[str, tuple[OwnershipLink, ...]] = {start: ()}
        frontier = [start]
        for _ in range(max_links):
            later: list[str] = []
            for node in frontier:
                for nxt, e in step.get(node, ()):
                    if nxt not in found and nxt != avoid:
                        found[nxt] = (*found[node], e)
                        later.append(nxt)
            frontier = later
        del found[start]
        return found

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
    graph: OwnershipGraph,
    declarations: Iterable[InterestDeclaration],
    *,
    signer: str,
    payee: str,
    reach: ConflictReach | None = None,
) -> ConflictChain | None:
    """The chain that bars ``signer`` from approving a payment to ``payee``, or None if there is none.

    Rule (``L`` = ``reach.max_links``; default reach: upward only): conflict ⇔ ∃ declaration d by ``signer``
    with d.party = payee, or a directed path d.party → … → payee (any length), or, when enabled, payee → … →
    d.party (1..L links, downward) or a record a ∉ {d.party, payee} with a → … → d.party avoiding payee and
    a → … → payee avoiding d.party (1..L links each, sideways).
    """
    reach = reach or ConflictReach()
    own: dict[str, InterestDeclaration] = {}
    for d in sorted(declarations, key=lambda d: (d.party, d.declared_on)):
        if d.declarant == signer:
            own.setdefault(d.party, d)  # the earliest declaration of each party
    if not own:
        return None
    names = dict(graph.names)
    found = graph.shortest_chain(own, payee)
    if found is not None:
        source, links = found
        return ConflictChain(declaration=own[source], links=links, names=names)
    for direction in reach.directions[1:]:
        best: tuple[int, str, tuple[OwnershipLink, ...]] | None = None
        for detailed in (True, False):  # components first, so every intermediary shows, if within the bound
            for party in sorted(own):
                wider = _wider_chain(graph, party, payee, direction, reach.max_links, detailed=detailed)
                if wider is not None and (best is None or len(wider) < best[0]):
                    best = (len(wider), party, wider)
            if best is not None:
                return ConflictChain(
                    declaration=own[best[1]], links=best[2], names=names, direction=direction
                )
    return None


def _wider_chain(
    graph: OwnershipGraph, party: str, payee: str, direction: Direction, max_links: int, *, detailed: bool
) -> tuple[OwnershipLink, ...] | None:
    """A shortest downward (payee → … → party) or sideways (party ← … ← a → … → payee) chain, links in order
    from ``party`` to ``payee``; None when there is none within ``max_links`` links (per leg)."""
    if direction == "downward":
        below = graph.chains_within(payee, max_links, reverse=False, detailed=detailed)
        return tuple(reversed(below[party])) if party in below else None
    up_party = graph.chains_within(party, max_links, reverse=True, detailed=detailed, avoid=payee)
    up_payee = graph.chains_within(payee, max_links, reverse=True, detailed=detailed, avoid=party)
    common = [a for a in up_party if a in up_payee]
    if not common:
        return None
    a = min(common, key=lambda r: (len(up_party[r]) + len(up_payee[r]), r))
    return (*up_party[a], *reversed(up_payee[a]))
