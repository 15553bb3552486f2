"""Batch manifests: the append-only issuance log that anyone can audit.

Each signed batch writes, per tenant, a manifest listing the credential ids and the
SHA-256 of their stored bytes, the Merkle root over those entries (RFC 6962 hashing, so
an inclusion proof is a list of sibling hashes) and the hash of the previous manifest of
the same (tenant, partition) chain; it is stored under the first offset it lists. The
signer signs the manifest with the issuer key. An auditor walks each chain, checks every
root and link, and counts distinct credential ids: a credential slipped in later has no
manifest, and a replay lists the same id with the same hash again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from credstream.errors import InvalidInputError


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash of the leaves (the split point is the largest power of 2)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = [_leaf(leaf) for leaf in leaves]
    return _subtree(level)


def _subtree(hashes: list[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    return _node(_subtree(hashes[:split]), _subtree(hashes[split:]))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Sibling hashes from leaf ``index`` up to the root."""
    if not 0 <= index < len(leaves):
        raise InvalidInputError(f"leaf index {index} outside 0..{len(leaves) - 1}")
    return _path([_leaf(leaf) for leaf in leaves], index)


def _path(hashes: list[bytes], index: int) -> list[bytes]:
    if len(hashes) == 1:
        return []
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    if index < split:
        return [*_path(hashes[:split], index), _subtree(hashes[split:])]
    return [*_path(hashes[split:], index - split), _subtree(hashes[:split])]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Recompute the root from one leaf and its proof (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    node, last, position = _leaf(leaf), size - 1, index
    siblings = list(proof)
    for sibling in siblings:
        if last == 0:
            return False
        if position % 2 == 1 or position == last:
            node = _node(sibling, node)
            if position % 2 == 0:
                while position % 2 == 0 and position != 0:
                    position, last = position >> 1, last >> 1
        else:
            node = _node(node, sibling)
        position, last = position >> 1, last >> 1
    return last == 0 and node == root


def entry_leaf(credential_id: str, sha256_hex: str) -> bytes:
    return f"{credential_id} {sha256_hex}".encode()


def build_manifest(
    tenant: str,
    source: str,
    first_offset: int,
    last_offset: int,
    entries: Sequence[tuple[str, str]],
    previous_sha256: str | None,
    created: str,
) -> dict[str, Any]:
    """The unsigned manifest of one batch: ``entries`` are (credential id, sha256 hex)."""
    ordered = sorted(entries)
    root = merkle_root([entry_leaf(cid, digest) for cid, digest in ordered])
    return {
        "type": "CredstreamIssuanceManifest",
        "tenant": tenant,
        "source": source,
        "offsets": [first_offset, last_offset],
        "created": created,
        "count": len(ordered),
        "entries": [{"id": cid, "sha256": digest} for cid, digest in ordered],
        "merkleRoot": root.hex(),
        "previous": previous_sha256,
    }


def manifest_prefix(tenant: str, source: str) -> str:
    """The chain of one tenant on one request partition (``source``, its label)."""
    return f"{tenant}/manifests/{source}/"


def manifest_key(tenant: str, source: str, first_offset: int) -> str:
    """A manifest is stored at its chain position: the first request offset it lists.

    Two signers that both think they own a partition (one paused past its session, a
    zombie) resume from the same committed offset, so their manifests for it have the
    same first offset and key: the write-once store admits one, and the other signer
    continues the chain from it instead of forking it.
    """
    return f"{manifest_prefix(tenant, source)}{first_offset:012d}.json"


def manifest_first_offset(key: str) -> int:
    """The chain position a manifest key names (see ``manifest_key``). Keys written before
    2026-11-30 name ``first-last``: a store that holds them (a demo's) chains on."""
    return int(key.rsplit("/", 1)[1].removesuffix(".json").partition("-")[0])


def manifest_digest(stored: bytes) -> str:
    """SHA-256 of a manifest's stored bytes: what the next manifest links to."""
    return hashlib.sha256(stored).hexdigest()


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


def check_manifest(manifest: dict[str, Any]) -> list[str]:
    """Problems with a manifest's own content (count and root); empty when consistent."""
    problems = []
    entries = [(e["id"], e["sha256"]) for e in manifest.get("entries", [])]
    if manifest.get("count") != len(entries):
        problems.append("count does not match the entries")
    root = merkle_root([entry_leaf(cid, digest) for cid, digest in sorted(entries)]).hex()
    if root != manifest.get("merkleRoot"):
        problems.append("merkleRoot does not match the entries")
    return problems
