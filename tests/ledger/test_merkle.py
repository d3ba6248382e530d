"""RFC 9162 Merkle hashes and proofs against the RFC 6962 test vectors and a naive recursive reference."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naef.ledger import merkle
from naef.ledger.merkle import (
    EMPTY_ROOT,
    NodeId,
    consistency_proof,
    inclusion_proof,
    is_empty_tree,
    leaf_hash,
    root_from_nodes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from tests import data_paths

VECTORS = data_paths.CT_TREE_VECTORS

# ------------------------------------------------------------------------------------------------ naive
# reference Written straight from RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 over the list of leaf inputs, with
# no shortcuts.


def _h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def ref_mth(d: Sequence[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return _h(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


def _data(n: int) -> list[bytes]:
    return [f"leaf-{i}".encode() for i in range(n)]


class CountingStore:
    """Complete-subtree hashes of a tree, computed naively; counts lookups and nodes read."""

    def __init__(self, data: Sequence[bytes]) -> None:
        self.nodes: dict[NodeId, bytes] = {}
        level = 0
        while (1 << level) <= len(data):
            width = 1 << level
            for idx in range(len(data) // width):
                self.nodes[(level, idx)] = ref_mth(data[idx * width : (idx + 1) * width])
            level += 1
        self.calls = 0
        self.read = 0

    def __call__(self, wanted: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        self.calls += 1
        self.read += len(wanted)
        return {w: self.nodes[w] for w in wanted if w in self.nodes}


N_MAX = 64
DATA = _data(N_MAX)
STORE = CountingStore(DATA)
STORES = {n: CountingStore(DATA[:n]) for n in range(1, N_MAX + 1)}

# ------------------------------------------------------------------------------------------------ vectors


def test_rfc6962_tree_vectors_all_sizes() -> None:
    vectors = json.loads(VECTORS.read_text())
    leaves = [bytes.fromhex(x) for x in vectors["leaf_inputs_hex"]]
    roots = vectors["root_hash_hex_by_tree_size"]
    assert len(roots) == 9
    for size, expected in enumerate(roots):
        assert root_hash([leaf_hash(x) for x in leaves[:size]]).hex() == expected
        assert ref_mth(leaves[:size]).hex() == expected
        if size:
            # the same root served from stored complete subtrees
            assert root_from_nodes(size, CountingStore(leaves[:size])).hex() == expected


def test_hash_prefixes() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# ------------------------------------------------------------------------------------------------ proofs vs
# reference


def test_inclusion_proofs_match_reference_and_verify_for_every_index_and_size() -> None:
    for n in range(1, N_MAX + 1):
        d = DATA[:n]
        root = ref_mth(d)
        store = STORES[n]
        assert root_hash([leaf_hash(x) for x in d]) == root
        for m in range(n):
            store.calls = 0
            proof = inclusion_proof(m, n, store)
            assert store.calls == (1 if n > 1 else 0)  # one batched read
            assert proof == ref_path(m, d), (m, n)
            assert verify_inclusion(leaf_hash(d[m]), m, n, proof, root)
            # the proof is also served from the bigger tree's nodes (older sizes, same stored subtrees)
            assert inclusion_proof(m, n, STORE) == proof


def test_consistency_proofs_match_reference_and_verify_for_every_pair() -> None:
    for n in range(1, N_MAX + 1):
        d = DATA[:n]
        root2 = ref_mth(d)
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, STORE)
            expected = [] if m == n else ref_proof(m, d)
            assert proof == expected, (m, n)
            assert verify_consistency(m, n, proof, ref_mth(d[:m]), root2), (m, n)


def test_proofs_read_logarithmically_many_nodes() -> None:
    big = 1 << 20
    # a fake store: every node "exists" (a deterministic hash of its id); we only count what is asked for
    asked: list[int] = []

    def lookup(wanted: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        asked.append(len(wanted))
        return {w: _h(repr(w).encode()) for w in wanted}

    for size in (big - 1, big, big + 12345, 3 * big + 7):
        for index in (0, 1, size // 3, size - 1):
            asked.clear()
            proof = inclusion_proof(index, size, lookup)
            assert asked == [asked[0]]
            assert asked[0] <= 2 * size.bit_length()
            assert len(proof) <= size.bit_length()
        for size1 in (1, 7, size // 2, size - 1):
            asked.clear()
            consistency_proof(size1, size, lookup)
            assert len(asked) == 1
            assert asked[0] <= 3 * size.bit_length()


# ------------------------------------------------------------------------------------------------ rejections


def test_inclusion_rejections() -> None:
    d = DATA[:5]
    root = ref_mth(d)
    proof = ref_path(2, d)
    lh = leaf_hash(d[2])
    assert verify_inclusion(lh, 2, 5, proof, root)
    assert not verify_inclusion(lh, 5, 5, proof, root)  # index >= size
    assert not verify_inclusion(lh, 7, 5, proof, root)
    assert not verify_inclusion(lh, -1, 5, proof, root)
    assert not verify_inclusion(lh, 2, 5, [*proof, proof[0]], root)  # too long
    assert not verify_inclusion(lh, 2, 5, proof[:-1], root)  # too short
    assert not verify_inclusion(lh, 3, 5, proof, root)  # wrong index
    assert not verify_inclusion(lh, 2, 9, proof, root)  # a size whose path has another shape
    assert not verify_inclusion(lh, 2, 5, proof, ref_mth(d[:4]))  # wrong root
    assert not verify_inclusion(leaf_hash(d[1]), 2, 5, proof, root)  # wrong leaf
    single = leaf_hash(d[0])
    assert verify_inclusion(single, 0, 1, [], single)
    assert not verify_inclusion(single, 0, 1, [single], single)  # non-empty proof for a 1-leaf tree
    assert not verify_inclusion(single, 0, 0, [], EMPTY_ROOT)  # nothing is in the empty tree


def test_consistency_rejections() -> None:
    d = DATA[:7]
    r3, r7 = ref_mth(d[:3]), ref_mth(d)
    proof = ref_proof(3, d)
    assert verify_consistency(3, 7, proof, r3, r7)
    assert not verify_consistency(7, 3, proof, r7, r3)  # size1 > size2
    assert not verify_consistency(3, 7, [], r3, r7)  # empty proof for 0 < size1 < size2
    assert not verify_consistency(3, 7, [*proof, proof[0]], r3, r7)  # too long
    assert not verify_consistency(3, 7, proof[:-1], r3, r7)  # too short
    assert not verify_consistency(3, 7, proof, r7, r7)  # wrong first root
    assert not verify_consistency(3, 7, proof, r3, r3)  # wrong second root
    assert not verify_consistency(2, 7, proof, r3, r7)  # wrong size1
    # equal sizes: only the empty proof and equal roots
    assert verify_consistency(7, 7, [], r7, r7)
    assert not verify_consistency(7, 7, [r7], r7, r7)
    assert not verify_consistency(7, 7, [], r7, r3)
    # size1 == 0: RFC 9162 §2.1.4.2 is defined for 0 < first only; naef rejects every "proof" from the empty
    # tree (transparency-dev/merkle accepts an empty one without reading either root), and says instead
    # whether a (size, root) is the empty tree
    for second in (0, 1, 7):
        root2 = ref_mth(d[:second])
        assert not verify_consistency(0, second, [], EMPTY_ROOT, root2)
        assert not verify_consistency(0, second, [root2], EMPTY_ROOT, root2)
    assert not verify_consistency(0, 7, [], r3, r7)
    assert not verify_consistency(0, 7, [], EMPTY_ROOT, b"\x00" * 32)  # the case that would pass unexamined
    assert is_empty_tree(0, EMPTY_ROOT)
    assert ref_mth([]) == EMPTY_ROOT
    assert not is_empty_tree(0, r3)
    assert not is_empty_tree(1, EMPTY_ROOT)
    # power-of-two size1: root1 is prepended by the verifier, never sent
    p4 = ref_proof(4, d)
    assert verify_consistency(4, 7, p4, ref_mth(d[:4]), r7)
    assert not verify_consistency(4, 7, [ref_mth(d[:4]), *p4], ref_mth(d[:4]), r7)


def test_generation_refuses_impossible_requests() -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(5, 5, STORE)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(6, 5, STORE)
    with pytest.raises(ValueError, match="none from the empty tree"):
        consistency_proof(0, 5, STORE)
    with pytest.raises(KeyError):
        inclusion_proof(0, 100, STORE)  # nodes beyond what the store holds


# ------------------------------------------------------------------------------------------------ tampering


@st.composite
def _inclusion_case(draw: st.DrawFn) -> tuple[int, int, list[bytes]]:
    n = draw(st.integers(2, N_MAX))
    m = draw(st.integers(0, n - 1))
    return m, n, ref_path(m, DATA[:n])


@settings(max_examples=300, deadline=None)
@given(case=_inclusion_case(), data=st.data())
def test_tampered_inclusion_proofs_fail(case: tuple[int, int, list[bytes]], data: st.DataObject) -> None:
    m, n, proof = case
    root = ref_mth(DATA[:n])
    lh = leaf_hash(DATA[m])
    assert verify_inclusion(lh, m, n, proof, root)
    # (the tree size is bound by the signed checkpoint, not by the proof: sizes with the same path shape
    # verify alike, as in RFC 9162, so the size is not tampered with here)
    kind = data.draw(st.sampled_from(["flip", "drop", "add", "swap", "index"]))
    bad = list(proof)
    idx, size = m, n
    if kind == "flip":
        j = data.draw(st.integers(0, len(bad) - 1))
        byte = data.draw(st.integers(0, 31))
        bit = data.draw(st.integers(0, 7))
        b = bytearray(bad[j])
        b[byte] ^= 1 << bit
        bad[j] = bytes(b)
    elif kind == "drop":
        del bad[data.draw(st.integers(0, len(bad) - 1))]
    elif kind == "add":
        bad.insert(data.draw(st.integers(0, len(bad))), data.draw(st.binary(min_size=32, max_size=32)))
    elif kind == "swap":
        if len(bad) < 2 or bad[0] == bad[1]:
            return
        bad[0], bad[1] = bad[1], bad[0]
    else:
        idx = data.draw(st.integers(0, n - 1).filter(lambda x: x != m))
    assert not verify_inclusion(lh, idx, size, bad, root)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(3, N_MAX), data=st.data())
def test_tampered_consistency_proofs_fail(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(1, n - 1))
    proof = ref_proof(m, DATA[:n])
    r1, r2 = ref_mth(DATA[:m]), ref_mth(DATA[:n])
    assert verify_consistency(m, n, proof, r1, r2)
    j = data.draw(st.integers(0, len(proof) - 1))
    b = bytearray(proof[j])
    b[data.draw(st.integers(0, 31))] ^= 1 << data.draw(st.integers(0, 7))
    bad = [*proof[:j], bytes(b), *proof[j + 1 :]]
    assert not verify_consistency(m, n, bad, r1, r2)
    other = data.draw(st.integers(1, n - 1).filter(lambda x: x != m))
    assert not verify_consistency(other, n, proof, ref_mth(DATA[:other]), r2) or ref_proof(other, DATA[:n]) == proof
