"""The [governance] section: stakeholders, roles, C2SP verifier keys and the quorum rule."""

from __future__ import annotations

import hashlib
import tomllib
from typing import Any

import pytest

from naef.ledger.governance import Governance, GovernanceError, QuorumRule, load_governance
from naef.ledger.keys import SIG_COSIGNATURE_V1, SignerKey

# The verifier key of the C2SP signed-note specification's example ("Verifier keys" → Example).
C2SP_EXAMPLE_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"


def key(name: str) -> SignerKey:
    """A deterministic test key (never a real one)."""
    return SignerKey(name, hashlib.sha256(b"naef-test-key:" + name.encode()).digest())


def stakeholders(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": n, "role": r, "public_key": key(n).verifier().encode()} for n, r in pairs]


BOARD = (
    ("mx-1", "mexican_board"),
    ("mx-2", "mexican_board"),
    ("na-1", "north_american_board"),
    ("na-2", "north_american_board"),
    ("controller", "independent_controller"),
    ("observer", "observer"),
)


def message(data: dict[str, Any]) -> str:
    with pytest.raises(GovernanceError) as info:
        load_governance(data)
    return str(info.value)


def test_defaults_follow_the_study() -> None:
    g = Governance()
    assert g.stakeholders == ()
    assert (
        g.quorum.min_mexican_board,
        g.quorum.min_north_american_board,
        g.quorum.min_independent_controller,
    ) == (
        1,
        1,
        1,
    )
    # no approvers at all: the default quorum is short of one of each approving role
    assert g.quorum_shortfall({}) == [
        "1 more mexican_board",
        "1 more north_american_board",
        "1 more independent_controller",
    ]


def test_loads_from_toml_and_c2sp_example_key() -> None:
    text = f"""
[governance]
[[governance.stakeholders]]
name = "example.com/foo"
role = "observer"
public_key = "{C2SP_EXAMPLE_VKEY}"
"""
    for s in stakeholders(*BOARD[:5]):
        text += f'[[governance.stakeholders]]\nname = "{s["name"]}"\nrole = "{s["role"]}"\n'
        text += f'public_key = "{s["public_key"]}"\n'
    text += "[governance.quorum]\nmin_mexican_board = 2\n"
    g = load_governance(tomllib.loads(text)["governance"])
    assert [s.name for s in g.stakeholders][:2] == ["example.com/foo", "mx-1"]
    assert g.stakeholder("example.com/foo") is not None
    assert g.stakeholder("nobody") is None
    assert g.quorum.min_mexican_board == 2
    # the example key's raw bytes are the base64 payload after the 0x01 type byte
    assert g.stakeholders[0].verifier.key_id == 0x530D903A


def test_quorum_shortfall_counts_roles() -> None:
    g = load_governance({"stakeholders": stakeholders(*BOARD)})
    assert g.quorum_shortfall({"mx-1": "mexican_board", "na-1": "north_american_board"}) == [
        "1 more independent_controller"
    ]
    assert (
        g.quorum_shortfall(
            {"mx-1": "mexican_board", "na-1": "north_american_board", "controller": "independent_controller"}
        )
        == []
    )
    # two Mexican members do not replace the North American one
    assert g.quorum_shortfall(
        {"mx-1": "mexican_board", "mx-2": "mexican_board", "controller": "independent_controller"}
    ) == ["1 more north_american_board"]
    # observers never count
    assert g.quorum_shortfall({"observer": "observer"})[0] == "1 more mexican_board"


def test_min_total_adds_to_role_minimums() -> None:
    g = load_governance({"stakeholders": stakeholders(*BOARD), "quorum": {"min_total": 4}})
    three = {"mx-1": "mexican_board", "na-1": "north_american_board", "controller": "independent_controller"}
    assert g.quorum_shortfall(three) == ["1 more approval(s) in all"]
    assert g.quorum_shortfall({**three, "na-2": "north_american_board"}) == []


@pytest.mark.parametrize(
    ("mutate", "expected_prefix"),
    [
        (
            lambda d: d["stakeholders"][1].update(role="king"),
            "governance.stakeholders[1].role: Input should be",
        ),
        (
            lambda d: d["stakeholders"][0].update(colour="red"),
            "governance.stakeholders[0].colour: Extra inputs",
        ),
        (lambda d: d.update(quorom={}), "governance.quorom: Extra inputs"),
        (
            lambda d: d["stakeholders"][2].pop("public_key"),
            "governance.stakeholders[2].public_key: Field required",
        ),
        (
            lambda d: d["stakeholders"][0].update(name="mx 1"),
            "governance.stakeholders[0].name: must be non-empty",
        ),
        (
            lambda d: d["stakeholders"][0].update(public_key=d["stakeholders"][1]["public_key"]),
            "governance.stakeholders[0].public_key: key name 'mx-2' differs from stakeholder name 'mx-1'",
        ),
        (
            lambda d: d["stakeholders"][3].update(name="mx-1", public_key=key("mx-1").verifier().encode()),
            "governance.stakeholders[3].name: duplicate stakeholder name 'mx-1'",
        ),
        (lambda d: d.update(quorum={"min_mexican_board": 3}), "governance.quorum.min_mexican_board: needs 3"),
        (lambda d: d.update(quorum={"min_total": 9}), "governance.quorum.min_total: needs 9 approvals"),
        (
            lambda d: d.update(
                quorum={
                    "min_mexican_board": 0,
                    "min_north_american_board": 0,
                    "min_independent_controller": 0,
                }
            ),
            "governance.quorum.min_total: a quorum of zero approvals",
        ),
        (
            lambda d: d.update(quorum={"min_mexican_board": -1}),
            "governance.quorum.min_mexican_board: Input should",
        ),
    ],
)
def test_errors_name_the_key_path(mutate: Any, expected_prefix: str) -> None:
    data: dict[str, Any] = {"stakeholders": stakeholders(*BOARD)}
    mutate(data)
    assert message(data).startswith(expected_prefix), message(data)


def test_bad_keys_are_refused() -> None:
    good = key("mx-1").verifier().encode()
    name, key_id, blob = good.split("+")
    flipped = f"{name}+{int(key_id, 16) ^ 1:08x}+{blob}"
    data: dict[str, Any] = {"stakeholders": stakeholders(*BOARD)}
    data["stakeholders"][0]["public_key"] = flipped
    assert "does not match the key" in message(data)
    assert message(data).startswith("governance.stakeholders[0].public_key:")
    # a witness (cosignature/v1, type 0x04) key is not an approval key
    data["stakeholders"][0]["public_key"] = key("mx-1").verifier(SIG_COSIGNATURE_V1).encode()
    assert "approvals need an Ed25519 (0x01) key" in message(data)
    data["stakeholders"][0]["public_key"] = "mx-1+deadbeef"
    assert message(data).startswith("governance.stakeholders[0].public_key: verifier key")


def test_same_key_for_two_people_is_refused() -> None:
    shared = key("mx-1")
    data: dict[str, Any] = {"stakeholders": stakeholders(*BOARD)}
    # same public key bytes under another name: key ID differs but the key is the same person's
    data["stakeholders"][1]["public_key"] = SignerKey("mx-2", shared.seed).verifier().encode()
    assert message(data).startswith("governance.stakeholders[1].public_key: same key as stakeholders[0]")


def test_models_are_frozen() -> None:
    g = load_governance({"stakeholders": stakeholders(*BOARD)})
    with pytest.raises(ValueError, match="frozen"):
        g.quorum.min_total = 5  # type: ignore[misc]
    assert QuorumRule().minimum("observer") == 0
