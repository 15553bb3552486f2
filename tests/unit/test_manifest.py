"""Merkle roots, inclusion proofs and manifest consistency."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from signers.manifest import (
    build_manifest,
    check_manifest,
    inclusion_proof,
    manifest_bytes,
    manifest_digest,
    merkle_root,
    verify_inclusion,
)


def test_rfc6962_shapes() -> None:
    a, b, c = b"a", b"b", b"c"
    leaf = lambda x: hashlib.sha256(b"\0" + x).digest()  # noqa: E731
    node = lambda x, y: hashlib.sha256(b"\1" + x + y).digest()  # noqa: E731
    assert merkle_root([a]) == leaf(a)
    assert merkle_root([a, b]) == node(leaf(a), leaf(b))
    assert merkle_root([a, b, c]) == node(node(leaf(a), leaf(b)), leaf(c))
    assert merkle_root([]) == hashlib.sha256(b"").digest()


@given(st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=40), st.data())
def test_every_leaf_proves_inclusion_and_a_changed_leaf_does_not(
    leaves: list[bytes], data: st.DataObject
) -> None:
    root = merkle_root(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = inclusion_proof(leaves, index)
    assert verify_inclusion(leaves[index], index, len(leaves), proof, root)
    assert not verify_inclusion(leaves[index] + b"!", index, len(leaves), proof, root)


def test_manifest_detects_a_slipped_in_entry() -> None:
    entries = [(f"urn:uuid:{i}", hashlib.sha256(bytes([i])).hexdigest()) for i in range(5)]
    manifest = build_manifest("t", "p0", 100, 104, entries, None, "2026-01-01T00:00:00Z")
    assert check_manifest(manifest) == []
    forged = {**manifest, "entries": [*manifest["entries"], {"id": "urn:uuid:x", "sha256": "00"}]}
    assert "count does not match the entries" in check_manifest(forged)
    forged["count"] = 6
    assert check_manifest(forged) == ["merkleRoot does not match the entries"]
    stored = manifest_bytes(manifest)
    follower = build_manifest("t", "p0", 105, 105, entries[:1], manifest_digest(stored), "x")
    assert follower["previous"] == hashlib.sha256(stored).hexdigest()
