"""The scenario's ``[governance]`` section: who may approve a disbursement, and how many of whom are needed.

The study asks for "an independent control system" with "supervision by Mexican and North American
stakeholders alike" (DESIGN.md §5). Here that becomes a list of stakeholders — each with a role and an Ed25519
public key in the C2SP verifier-key form ``name+hash+base64`` (C2SP signed-note, "Verifier keys") — and a
quorum rule: the minimum number of approvals of each role that a disbursement needs. The defaults follow the
study: at least one Mexican board member, one North American board member and the independent controller.
Observers may witness checkpoints but never approve disbursements; the proposer of a disbursement never
approves its own proposal.

Example (TOML)::

    [governance]
    [[governance.stakeholders]]
    name = "mx-board-1"
    role = "mexican_board"
    public_key = "mx-board-1+d3b1ad9f+AU3c..."

    [governance.quorum]
    min_mexican_board = 1
    min_north_american_board = 1
    min_independent_controller = 1

    [governance.conflict_reach]          # optional; default: upward only
    directions = ["upward", "downward", "sideways"]
    max_links = 3

``conflict_reach`` (:class:`naef.ledger.interests.ConflictReach`) sets how far the conflict-of-interest screen
reaches; a ``governance_amended`` entry signed by a quorum of approvers may change it later.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from naef.ledger.errors import LedgerError
from naef.ledger.interests import ConflictReach
from naef.ledger.keys import SIG_ED25519, VerifierKey, valid_key_name

__all__ = [
    "APPROVING_ROLES",
    "RECORDING_ROLES",
    "Governance",
    "GovernanceError",
    "QuorumRule",
    "Role",
    "Stakeholder",
    "load_governance",
]

Role = Literal["mexican_board", "north_american_board", "independent_controller", "registrar", "observer"]
APPROVING_ROLES: tuple[Role, ...] = ("mexican_board", "north_american_board", "independent_controller")
RECORDING_ROLES: tuple[Role, ...] = ("registrar", "independent_controller")
"""Roles whose signature records facts the fund does not decide: beneficial-ownership statements and the MDF's
receipts. A registrar never approves disbursements."""


class GovernanceError(LedgerError):
    """The ``[governance]`` section (or a key in it) is invalid; the message names the key path."""


def _verifier_key(text: str) -> VerifierKey:
    """Parse a stakeholder's key with :meth:`naef.ledger.keys.VerifierKey.parse`; must be an Ed25519 (0x01)
    key."""
    try:
        vkey = VerifierKey.parse(text)
    except LedgerError as exc:
        raise ValueError(exc.message) from None
    if vkey.sig_type != SIG_ED25519:
        raise ValueError(
            f"verifier key {vkey.name}: signature type 0x{vkey.sig_type:02x}; "
            "approvals need an Ed25519 (0x01) key"
        )
    return vkey


class Stakeholder(BaseModel):
    """One person or office that takes part in the fund's governance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(
        description="Unique name; must equal the name inside `public_key` (C2SP key name rules)."
    )
    role: Role = Field(
        description=(
            "mexican_board | north_american_board | independent_controller | registrar | observer. Observers "
            "witness checkpoints; registrars sign beneficial-ownership imports and MDF receipts; neither approves "
            "disbursements."
        )
    )
    public_key: str = Field(
        description="Ed25519 verifier key in the C2SP form name+hash+base64 (e.g. from `naef keys new NAME`)."
    )

    @field_validator("name")
    @classmethod
    def _name_is_key_name(cls, value: str) -> str:
        if not valid_key_name(value):
            raise ValueError("must be non-empty, without whitespace or '+' (C2SP key name)")
        return value

    @field_validator("public_key")
    @classmethod
    def _public_key_parses(cls, value: str) -> str:
        _verifier_key(value)
        return value.strip()

    @model_validator(mode="after")
    def _key_name_matches(self) -> Stakeholder:
        key_name = self.public_key.split("+", 1)[0]
        if key_name != self.name:
            raise ValueError(f"public_key: key name {key_name!r} differs from stakeholder name {self.name!r}")
        return self

    @property
    def verifier(self) -> VerifierKey:
        """The parsed verifier key (its ``verify_raw`` checks approval signatures)."""
        return VerifierKey.parse(self.public_key)


class QuorumRule(BaseModel):
    """Minimum approvals, by role, before a disbursement may execute (the proposer's own never count)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_mexican_board: int = Field(
        default=1, ge=0, description="Approvals needed from Mexican board members."
    )
    min_north_american_board: int = Field(
        default=1, ge=0, description="Approvals needed from North American board members."
    )
    min_independent_controller: int = Field(
        default=1, ge=0, description="Approvals needed from the independent controller(s)."
    )
    min_total: int = Field(
        default=0,
        ge=0,
        description="Approvals needed in all (any approving role); 0 = the sum of the role minimums.",
    )

    def minimum(self, role: Role) -> int:
        """The minimum number of approvals of ``role`` (observers: always 0)."""
        return {
            "mexican_board": self.min_mexican_board,
            "north_american_board": self.min_north_american_board,
            "independent_controller": self.min_independent_controller,
            "registrar": 0,
            "observer": 0,
        }[role]

    @model_validator(mode="after")
    def _needs_someone(self) -> QuorumRule:
        if (
            max(
                self.min_mexican_board,
                self.min_north_american_board,
                self.min_independent_controller,
                self.min_total,
            )
            == 0
        ):
            raise ValueError("min_total: a quorum of zero approvals would let money move unsigned")
        return self


class Governance(BaseModel):
    """Stakeholders and the quorum rule for disbursements (the scenario's ``[governance]`` section).

    With no stakeholders (the default) nothing can be approved: a scenario that is only simulated needs none.
    With stakeholders, every role minimum of the quorum must be reachable by the stakeholders listed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    stakeholders: tuple[Stakeholder, ...] = Field(
        default=(), description="Everyone who approves disbursements or witnesses checkpoints."
    )
    quorum: QuorumRule = Field(default_factory=QuorumRule, description="Approvals a disbursement needs.")
    conflict_reach: ConflictReach = Field(
        default_factory=ConflictReach,
        description="How far the conflict-of-interest screen reaches (default: upward only).",
    )

    @model_serializer(mode="wrap")
    def _without_default_reach(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # a governance with the default reach is recorded exactly as before the setting existed
        out: dict[str, Any] = handler(self)
        if self.conflict_reach.is_default:
            out.pop("conflict_reach", None)
        return out

    @model_validator(mode="after")
    def _consistent(self) -> Governance:
        names: set[str] = set()
        keys: dict[bytes, int] = {}
        for i, s in enumerate(self.stakeholders):
            if s.name in names:
                raise ValueError(f"stakeholders[{i}].name: duplicate stakeholder name {s.name!r}")
            names.add(s.name)
            key = s.verifier.public_key
            if key in keys:
                raise ValueError(
                    f"stakeholders[{i}].public_key: same key as stakeholders[{keys[key]}] "
                    "(one key per person)"
                )
            keys[key] = i
        if self.stakeholders:
            counts = Counter(s.role for s in self.stakeholders)
            for role in APPROVING_ROLES:
                need = self.quorum.minimum(role)
                if counts[role] < need:
                    raise ValueError(
                        f"quorum.min_{role}: needs {need} approval(s) but only {counts[role]} stakeholder(s) "
                        f"have role {role!r}"
                    )
            approvers = sum(counts[r] for r in APPROVING_ROLES)
            if self.quorum.min_total > approvers:
                raise ValueError(
                    f"quorum.min_total: needs {self.quorum.min_total} approvals but only {approvers} "
                    "stakeholders may approve"
                )
        return self

    def stakeholder(self, name: str) -> Stakeholder | None:
        """The stakeholder called ``name``, or None."""
        for s in self.stakeholders:
            if s.name == name:
                return s
        return None

    def quorum_shortfall(self, approvers: Mapping[str, Role]) -> list[str]:
        """What is missing for the quorum, given the approvers (name → role); empty when the quorum is met.

        Rule: for each approving role r, |{approvers with role r}| ≥ quorum.min_r, and the number of approvers
        with an approving role ≥ max(quorum.min_total, sum of the role minimums).
        """
        counts = Counter(approvers.values())
        missing = [
            f"{self.quorum.minimum(r) - counts[r]} more {r}"
            for r in APPROVING_ROLES
            if counts[r] < self.quorum.minimum(r)
        ]
        total = sum(counts[r] for r in APPROVING_ROLES)
        need_total = max(self.quorum.min_total, sum(self.quorum.minimum(r) for r in APPROVING_ROLES))
        if total < need_total and not missing:
            missing.append(f"{need_total - total} more approval(s) in all")
        return missing


def _loc(loc: tuple[int | str, ...], prefix: str) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def load_governance(data: Mapping[str, Any], *, prefix: str = "governance") -> Governance:
    """Validate a ``[governance]`` mapping (e.g. parsed TOML); raise :class:`GovernanceError` naming the key
    path.

    The message has the form ``governance.stakeholders[1].public_key: <reason>``.
    """
    try:
        return Governance.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        msg = str(err["msg"]).removeprefix("Value error, ")
        path = _loc(tuple(err["loc"]), prefix)
        # model-level checks put the precise key path at the start of their message
        m = re.match(r"^([A-Za-z_][\w\[\].]*): (.*)$", msg)
        if m and m.group(1).split("[")[0].split(".")[0] in {
            "stakeholders",
            "quorum",
            "public_key",
            "min_total",
            "conflict_reach",
        }:
            sub, msg = m.group(1), m.group(2)
            path = f"{path}.{sub}"
        raise GovernanceError(f"{path}: {msg}") from None
