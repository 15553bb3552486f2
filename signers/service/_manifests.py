"""Write the signed manifest of each batch, per (tenant, request partition) chain."""

from __future__ import annotations

import json
import logging
from bisect import bisect_right
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from signers.keys import SigningKey
from signers.manifest import (
    build_manifest,
    manifest_bytes,
    manifest_digest,
    manifest_first_offset,
    manifest_key,
    manifest_prefix,
)
from signers.proofs import EDDSA_JCS_2022, JcsCanonicalizer, add_proof
from signers.service._publish import Stored
from signers.storage import ObjectWrite, Outcome, StoreUnavailableError, WriteOnceStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("credstream.signer")

# Finds the digest of the newest manifest already stored in a chain (None: a new chain).
LatestDigest = Callable[[str, str], str | None]
# Lists the object keys of the manifests stored in a chain.
ListManifests = Callable[[str, str], list[str]]
# Manifests whose credential ids are kept in memory. Only replays and retries ask, and
# they ask about recent batches; older manifests are read from the store again. Unbounded,
# the ids of every credential a signer announced stayed in memory (the soak measured +11%).
LISTED_MANIFESTS_KEPT = 256


class S3ManifestIndex:
    """Lists and reads manifests with a boto3 client (rare: at start and on replays)."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def list(self, tenant: str, source: str) -> list[str]:
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=manifest_prefix(tenant, source)
            )
            return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        except (BotoCoreError, ClientError) as error:  # held and retried like any store call
            raise StoreUnavailableError(f"cannot list the manifests of {source}: {error}") from None

    def latest_digest(self, tenant: str, source: str) -> str | None:
        keys = self.list(tenant, source)
        if not keys:
            return None
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=keys[-1])["Body"].read()
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailableError(f"cannot read {keys[-1]}: {error}") from None
        return manifest_digest(body)


# An item of a batch: (request offset, stored credential, award time as xsd:dateTime).
_Item = tuple[int, Stored, str]


@dataclass(frozen=True)
class _Draft:
    """One chain's signed manifest, ready to store."""

    chain: tuple[str, str]
    items: list[_Item]
    key: str
    body: bytes
    digest: str  # what the next manifest of the chain links to

    @property
    def first(self) -> int:
        return self.items[0][0]


class ManifestWriter:
    """Signs each batch's manifest with the tenant key (eddsa-jcs-2022) and stores it."""

    def __init__(
        self,
        store: WriteOnceStore,
        tenant_key: Callable[[str], SigningKey],
        issuer_id: Callable[[str], str],
        latest_digest: LatestDigest,
        list_manifests: ListManifests,
    ) -> None:
        self._store = store
        self._tenant_key = tenant_key
        self._issuer_id = issuer_id
        self._latest_digest = latest_digest
        self._list_manifests = list_manifests
        # (tenant, source) -> [(first offset, object key)] in chain order, loaded on demand
        self._positions: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self._listed: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._heads: dict[tuple[str, str], str | None] = {}
        # Chains listed again from the store since the last batch's manifests were written.
        self._refreshed: set[tuple[str, str]] = set()
        self._jcs = JcsCanonicalizer()

    def forget(self, *sources: str) -> None:
        """Drop what is known of the chains of partitions ``sources`` (call when they are
        assigned): while another signer owned one, that one may have extended its chains,
        and a manifest linked to an old head would fork a chain."""
        for cache in (self._positions, self._heads):
            for chain in [c for c in cache if c[1] in sources]:
                del cache[chain]

    def announced(self, tenant: str, source: str, offset: int, credential_id: str) -> bool:
        """Whether a manifest already lists this credential at this offset.

        Manifests are written after notifications are acknowledged, so a listed credential
        was announced: a replay that finds it stored and listed announces nothing again.
        Only replays and retries ask, so the lookups stay off the steady-state path. On a
        miss the chain is listed again (once per batch): a signer that was paused past its
        session (a zombie) finds what the signer that took over its partition wrote.
        """
        chain = (tenant, source)
        if self._lists(chain, offset, credential_id):
            return True
        if chain in self._refreshed:
            return False
        self._refreshed.add(chain)
        self._forget_chain(chain)  # if another signer wrote, its manifest is the head
        return self._lists(chain, offset, credential_id)

    def _forget_chain(self, chain: tuple[str, str]) -> None:
        self._positions.pop(chain, None)
        self._heads.pop(chain, None)

    def _chain_positions(self, chain: tuple[str, str]) -> list[tuple[int, str]]:
        positions = self._positions.get(chain)
        if positions is None:
            self._heads.pop(chain, None)  # what is listed now may end past a cached head
            keys = self._list_manifests(*chain)
            positions = self._positions[chain] = [(manifest_first_offset(k), k) for k in keys]
        return positions

    def _lists(self, chain: tuple[str, str], offset: int, credential_id: str) -> bool:
        positions = self._chain_positions(chain)
        # A chain's manifests list consecutive offset ranges: the one that can list this
        # offset is the last to start at or before it.
        index = bisect_right(positions, offset, key=lambda position: position[0]) - 1
        return index >= 0 and credential_id in self._ids(positions[index][1])

    def _ids(self, key: str) -> frozenset[str]:
        ids = self._listed.get(key)
        if ids is None:
            body = self._store.get(key)
            ids = _entry_ids(json.loads(body)) if body else frozenset()
            self._remember(key, ids)
        else:
            self._listed.move_to_end(key)
        return ids

    def _remember(self, key: str, ids: frozenset[str]) -> None:
        self._listed[key] = ids
        if len(self._listed) > LISTED_MANIFESTS_KEPT:
            self._listed.popitem(last=False)

    def write(self, batch: Sequence[tuple[str, int, Stored, str]]) -> None:
        """``batch``: (partition label, offset, stored credential, its award time as xsd:dateTime)
        for every announced credential. The manifest's ``created`` is the newest award
        time, so a replayed batch builds the same manifest. What is known of a chain
        changes only once its manifest is stored: a batch retried after a store failure
        must not find its own unwritten manifest and skip announcing."""
        self._refreshed.clear()
        chains: dict[tuple[str, str], list[_Item]] = defaultdict(list)
        for source, offset, stored, awarded in batch:
            chains[(stored.signed.tenant_id, source)].append((offset, stored, awarded))
        pending = {chain: sorted(items, key=lambda i: i[0]) for chain, items in chains.items()}
        try:
            while pending:
                drafts = [self._draft(chain, items) for chain, items in sorted(pending.items())]
                results = self._store.put_new([ObjectWrite(d.key, d.body) for d in drafts])
                pending = {}
                for draft, result in zip(drafts, results, strict=True):
                    if result.outcome is Outcome.CONFLICT:
                        rest = self._continue_from_stored(draft)
                        if rest:
                            pending[draft.chain] = rest
                    else:  # CREATED, or IDENTICAL: stored by a retry, or by another signer
                        # that built the same manifest from the same batch
                        self._heads[draft.chain] = draft.digest
                        if draft.chain in self._positions:  # else listed when first asked
                            self._positions[draft.chain].append((draft.first, draft.key))
                        self._remember(
                            draft.key, frozenset(i[1].signed.credential_id for i in draft.items)
                        )
        except StoreUnavailableError:
            # Some manifests may have been stored before the failure: know nothing of these
            # chains, so that the next write links to what the store holds.
            for chain in chains:
                self._forget_chain(chain)
            raise

    def _draft(self, chain: tuple[str, str], items: list[_Item]) -> _Draft:
        tenant, source = chain
        if chain not in self._heads:
            self._heads[chain] = self._latest_digest(tenant, source)
        first, last = items[0][0], items[-1][0]
        entries = [(s.signed.credential_id, s.stored_sha256) for _, s, _ in items]
        created = max(awarded for _, _, awarded in items)
        manifest = build_manifest(tenant, source, first, last, entries, self._heads[chain], created)
        key = self._tenant_key(tenant)
        signed = add_proof(
            manifest,
            {
                "type": "DataIntegrityProof",
                "cryptosuite": EDDSA_JCS_2022,
                "created": created,
                "verificationMethod": key.verification_method(self._issuer_id(tenant)),
                "proofPurpose": "assertionMethod",
            },
            key.sign,
            self._jcs,
        )
        body = manifest_bytes(signed)
        return _Draft(
            chain, items, manifest_key(tenant, source, first), body, manifest_digest(body)
        )

    def _continue_from_stored(self, draft: _Draft) -> list[_Item]:
        """Another signer stored a manifest at this chain position first (we were paused
        past our session, or it was): its chain stands. Take its newest manifest as the
        head and return the items of ours that come after what that lists."""
        self._forget_chain(draft.chain)
        positions = self._chain_positions(draft.chain)
        # The newest is at or past our position, which the store holds.
        body = self._store.get(positions[-1][1]) if positions else None
        if body is None:  # the store refused the key, yet does not list or return it
            raise StoreUnavailableError(f"{draft.key} is refused but cannot be read")
        newest = positions[-1][1]
        stored = json.loads(body)
        self._heads[draft.chain] = manifest_digest(body)
        self._remember(newest, _entry_ids(stored))
        rest = [item for item in draft.items if item[0] > stored["offsets"][1]]
        log.warning(
            "manifest %s was already stored by another signer: the chain continues from %s"
            " (%d of this batch's %d credentials still to list)",
            draft.key, newest, len(rest), len(draft.items),
        )  # fmt: skip
        return rest


def _entry_ids(manifest: dict[str, Any]) -> frozenset[str]:
    return frozenset(entry["id"] for entry in manifest.get("entries", []))
