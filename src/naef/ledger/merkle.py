"""RFC 9162 Merkle tree hashes and proofs, as pure functions over bytes.

Definitions (RFC 9162 §2.1.1, identical to RFC 6962 §2.1), with ``HASH`` = SHA-256:

* ``MTH({}) = HASH()`` (the empty tree);
* ``MTH({d0}) = HASH(0x00 || d0)`` (a leaf);
* ``MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`` with ``k`` the largest power of two ``< n``.

Proofs are generated (§2.1.3.1 ``PATH`` and §2.1.4.1 ``PROOF``/``SUBPROOF``) from the hashes of *complete
subtrees* only. A complete subtree is named by a :data:`NodeId` ``(level, index)``: it covers the leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 is a leaf hash. Every range that the RFC recursion
asks for is split into at most ``log2(n)`` complete subtrees, so a store that keeps complete-subtree hashes
serves any proof with ``O(log n)`` reads and never rehashes the log. :func:`inclusion_plan` /
:func:`consistency_plan` say which nodes are needed; :func:`inclusion_proof` / :func:`consistency_proof`
fetch them with *one* call of a :data:`NodeLookup` and fold them into the proof.

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) follows RFC 9162 §2.1.3.2 and §2.1.4.2
step by step, with the rejections spelled out in each docstring.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "NodeId",
    "NodeLookup",
    "consistency_plan",
    "consistency_proof",
    "fold_range",
    "inclusion_plan",
    "inclusion_proof",
    "is_empty_tree",
    "leaf_hash",
    "node_hash",
    "range_nodes",
    "root_from_nodes",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in a SHA-256 digest."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""``MTH({}) = SHA-256()`` — the root of the empty tree (RFC 9162 §2.1.1)."""

NodeId = tuple[int, int]
"""``(level, index)`` of a complete subtree covering leaves ``[index << level, (index + 1) << level)``."""

NodeLookup = Callable[[Sequence[NodeId]], Mapping[NodeId, bytes]]
"""Returns the stored hash of every requested complete subtree (one batched read)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """``HASH(0x00 || data)`` — the hash of one leaf (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``HASH(0x01 || left || right)`` — the hash of an interior node (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The ``k`` of RFC 9162 §2.1.1: the largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH(D[n])`` from the ``n`` leaf hashes (RFC 9162 §2.1.1), in ``O(n)`` time and ``O(log n)`` memory.

    Complete subtrees are merged as soon as they form (a stack of ``(level, hash)``); the remaining right-edge
    subtrees are then folded right to left, which is exactly the RFC's split at the largest power of two.
    """
    stack: list[tuple[int, bytes]] = []
    for h in leaf_hashes:
        level = 0
        while stack and stack[-1][0] == level:
            h = node_hash(stack.pop()[1], h)
            level += 1
        stack.append((level, h))
    if not stack:
        return EMPTY_ROOT
    acc = stack[-1][1]
    for _, h in reversed(stack[:-1]):
        acc = node_hash(h, acc)
    return acc


def range_nodes(start: int, end: int) -> tuple[NodeId, ...]:
    """The complete subtrees, left to right, whose concatenation is the leaf range ``[start, end)``.

    ``start`` must be a multiple of a power of two ``>= end - start`` (true of every range in the RFC
    recursions); then folding the hashes right to left (:func:`fold_range`) gives ``MTH(D[start:end])``.
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative leaf range [{start}, {end})")
    n = end - start
    if start != 0 and (start & -start) < _ceil_power_of_two(n):
        raise ValueError(f"leaf range [{start}, {end}) is not aligned as an RFC 9162 subtree")
    out: list[NodeId] = []
    pos = start
    remaining = n
    while remaining:
        level = remaining.bit_length() - 1
        out.append((level, pos >> level))
        pos += 1 << level
        remaining -= 1 << level
    return tuple(out)


def _ceil_power_of_two(n: int) -> int:
    return 1 << (n - 1).bit_length()


def fold_range(hashes: Sequence[bytes]) -> bytes:
    """Fold complete-subtree hashes (left to right) into one subtree hash: ``H(h0, H(h1, ... H(hk-1,
    hk)))``."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _path(m: int, start: int, end: int, out: list[tuple[int, int]]) -> None:
    """RFC 9162 §2.1.3.1 ``PATH(m, D[start:end])`` as leaf ranges, deepest first (``m`` is absolute)."""
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if m - start < k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start = start + k
    out.reverse()


def inclusion_plan(index: int, size: int) -> list[tuple[NodeId, ...]]:
    """The nodes each element of the inclusion proof of leaf ``index`` in the tree of ``size`` leaves folds.

    Element ``j`` of the RFC 9162 §2.1.3.1 audit path ``PATH(index, D[size])`` is
    ``fold_range([hash(n) for n in plan[j]])``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    _path(index, 0, size, ranges)
    return [range_nodes(a, b) for a, b in ranges]


def consistency_plan(size1: int, size2: int) -> list[tuple[NodeId, ...]]:
    """The nodes each element of the consistency proof from ``size1`` to ``size2`` folds.

    RFC 9162 §2.1.4.1: ``PROOF(m, D[n]) = SUBPROOF(m, D[n], true)`` for ``0 < m < n``;
    ``SUBPROOF(m, D[m], true) = {}``, ``SUBPROOF(m, D[m], false) = {MTH(D[m])}``, and for ``m < n`` with ``k``
    the largest power of two ``< n``: if ``m <= k`` then ``SUBPROOF(m, D[0:k], b) : MTH(D[k:n])`` else
    ``SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])``. ``size1 == size2`` has the empty proof; there is no
    proof from size ``0`` (RFC 9162 defines ``PROOF`` for ``0 < m``; see :func:`verify_consistency`).
    """
    if not 0 < size1 <= size2:
        raise ValueError(
            f"no consistency proof from size {size1} to size {size2}"
            + (" (RFC 9162 has none from the empty tree: check its root with is_empty_tree)" if size1 == 0 else "")
        )
    if size1 == size2:
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, b = 0, size2, size1, True
    while True:
        n = end - start
        if m == n:
            if not b:
                ranges.append((start, end))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, b = start + k, m - k, False
    ranges.reverse()
    return [range_nodes(a, b_) for a, b_ in ranges]


def _assemble(plan: Sequence[tuple[NodeId, ...]], lookup: NodeLookup) -> list[bytes]:
    wanted = list(dict.fromkeys(node for element in plan for node in element))
    found = lookup(wanted) if wanted else {}
    missing = [node for node in wanted if node not in found]
    if missing:
        raise KeyError(f"node hashes missing from the store: {missing[:3]}")
    return [fold_range([found[node] for node in element]) for element in plan]


def inclusion_proof(index: int, size: int, lookup: NodeLookup) -> list[bytes]:
    """RFC 9162 §2.1.3.1 inclusion proof ``PATH(index, D[size])`` from stored complete-subtree hashes."""
    return _assemble(inclusion_plan(index, size), lookup)


def consistency_proof(size1: int, size2: int, lookup: NodeLookup) -> list[bytes]:
    """RFC 9162 §2.1.4.1 consistency proof ``PROOF(size1, D[size2])`` from stored complete-subtree hashes."""
    return _assemble(consistency_plan(size1, size2), lookup)


def root_from_nodes(size: int, lookup: NodeLookup) -> bytes:
    """``MTH(D[size])`` from at most ``log2(size) + 1`` stored complete-subtree hashes."""
    if size == 0:
        return EMPTY_ROOT
    return _assemble([range_nodes(0, size)], lookup)[0]


def _lsb(x: int) -> int:
    return x & 1


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Iterable[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf ``leaf_hash`` at ``index`` in the tree (``size``,
    ``root``)?

    1. ``index >= size`` fails. 2. ``fn = index``, ``sn = size - 1``. 3. ``r = leaf_hash``.
    4. For each ``p``: (a) ``sn == 0`` fails (proof too long); (b) if ``LSB(fn)`` or ``fn == sn``:
    ``r = HASH(0x01 || p || r)`` and, if ``LSB(fn)`` is not set, shift ``fn``, ``sn`` right until ``LSB(fn)``
    or ``fn == 0``; otherwise ``r = HASH(0x01 || r || p)``; (c) shift ``fn``, ``sn`` right once.
    5. Succeed iff ``sn == 0`` and ``r == root``. Negative inputs and hashes of the wrong length also fail.
    """
    if index < 0 or size < 0 or index >= size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0 or len(p) != HASH_SIZE:
            return False
        if _lsb(fn) or fn == sn:
            r = node_hash(p, r)
            if not _lsb(fn):
                while not _lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def is_empty_tree(size: int, root: bytes) -> bool:
    """Is (``size``, ``root``) the empty tree: ``size == 0`` and ``root == MTH({}) = SHA-256()``?

    What a holder of a size-0 checkpoint checks instead of a consistency proof: the empty tree is a prefix of
    every tree, so nothing links it to a later one; the later tree must be checked on its own (its signature,
    its recomputed root, inclusion proofs). ``docs/ledger.md`` says why naef keeps the two apart.
    """
    return size == 0 and root == EMPTY_ROOT


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (``size1``, ``root1``) a prefix of the tree (``size2``, ``root2``)?

    Cases outside the RFC's ``0 < first < second`` algorithm: ``size1 > size2`` (or negative) fails;
    ``size1 == 0`` **fails** — the RFC's algorithm is defined for ``0 < first`` only and the proof would show
    nothing about ``root2`` (transparency-dev/merkle's ``VerifyConsistency`` returns success there without
    reading either root; naef does not: a ``True`` must mean that ``root2`` was checked; for an empty first
    tree call :func:`is_empty_tree`); ``size1 == size2 > 0`` succeeds iff the proof is empty and
    ``root1 == root2``. Otherwise: 1. an empty proof fails. 2. if ``size1`` is a power of two, prepend ``root1``.
    3. ``fn = size1 - 1``, ``sn = size2 - 1``. 4. while ``LSB(fn)``, shift ``fn``, ``sn`` right.
    5. ``fr = sr = proof[0]``. 6. for each further ``c``: (a) ``sn == 0`` fails; (b) if ``LSB(fn)`` or
    ``fn == sn``: ``fr = HASH(0x01 || c || fr)``, ``sr = HASH(0x01 || c || sr)`` and, if ``LSB(fn)`` is not
    set, shift right until ``LSB(fn)`` or ``fn == 0``; otherwise ``sr = HASH(0x01 || sr || c)``; (c) shift
    right once. 7. succeed iff ``fr == root1``, ``sr == root2`` and ``sn == 0``.
    """
    if size1 <= 0 or size2 < 0 or size1 > size2:
        return False
    path = list(proof)
    if any(len(c) != HASH_SIZE for c in path):
        return False
    if size1 == size2:
        return not path and root1 == root2
    if not path:
        return False
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while _lsb(fn):
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if _lsb(fn) or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not _lsb(fn):
                while not _lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0
