"""Write the signed manifest of each batch, per (tenant, request partition) chain."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from signers.keys import SigningKey
from signers.manifest import (
    build_manifest,
    manifest_bytes,
    manifest_digest,
    manifest_key,
    manifest_prefix,
)
from signers.proofs import EDDSA_JCS_2022, JcsCanonicalizer, add_proof
from signers.service._publish import Stored
from signers.storage import ObjectWrite, Outcome, StoreUnavailableError, WriteOnceStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

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
        return hashlib.sha256(body).hexdigest()


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
        # (tenant, source) -> [(first offset, last offset, object key)], loaded on demand
        self._ranges: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
        self._listed: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._heads: dict[tuple[str, str], str | None] = {}
        # Chains listed again from the store since the last batch's manifests were written.
        self._refreshed: set[tuple[str, str]] = set()
        self._jcs = JcsCanonicalizer()

    def forget(self, *sources: str) -> None:
        """Drop what is known of the chains of partitions ``sources`` (call when they are
        assigned): while another signer owned one, that one may have extended its chains,
        and a manifest linked to an old head would fork a chain."""
        for cache in (self._ranges, self._heads):
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
        self._ranges.pop(chain, None)
        self._heads.pop(chain, None)  # if another signer wrote, its manifest is the head
        return self._lists(chain, offset, credential_id)

    def _lists(self, chain: tuple[str, str], offset: int, credential_id: str) -> bool:
        if chain not in self._ranges:
            self._heads.pop(chain, None)  # what is listed now may end past a cached head
            ranges = []
            for key in self._list_manifests(*chain):
                start, _, end = key.rsplit("/", 1)[1].removesuffix(".json").partition("-")
                ranges.append((int(start), int(end), key))
            self._ranges[chain] = ranges
        for first, last, key in self._ranges[chain]:
            if first <= offset <= last and credential_id in self._ids(key):
                return True
        return False

    def _ids(self, key: str) -> frozenset[str]:
        ids = self._listed.get(key)
        if ids is None:
            body = self._store.get(key)
            entries = json.loads(body).get("entries", []) if body else []
            ids = frozenset(e["id"] for e in entries)
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
        chains: dict[tuple[str, str], list[tuple[int, Stored, str]]] = defaultdict(list)
        for source, offset, stored, awarded in batch:
            chains[(stored.signed.tenant_id, source)].append((offset, stored, awarded))
        writes = []
        heads = {}
        written: list[tuple[tuple[str, str], int, int, str, frozenset[str]]] = []
        for (tenant, source), items in sorted(chains.items()):
            chain = (tenant, source)
            if chain not in self._heads:
                self._heads[chain] = self._latest_digest(tenant, source)
            offsets = [offset for offset, _, _ in items]
            entries = [(s.signed.credential_id, s.stored_sha256) for _, s, _ in items]
            created = max(awarded for _, _, awarded in items)
            manifest = build_manifest(
                tenant, source, min(offsets), max(offsets), entries, self._heads[chain], created
            )
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
            object_key = manifest_key(tenant, source, min(offsets), max(offsets))
            writes.append(ObjectWrite(object_key, manifest_bytes(signed)))
            ids = frozenset(cid for cid, _ in entries)
            written.append((chain, min(offsets), max(offsets), object_key, ids))
            heads[chain] = manifest_digest(signed)
        if not writes:
            return
        try:
            results = self._store.put_new(writes)
        except StoreUnavailableError:
            # Some manifests may have been stored before the failure: know nothing of these
            # chains, so that the next write links to what the store holds.
            for chain, *_ in written:
                self._heads.pop(chain, None)
                self._ranges.pop(chain, None)
            raise
        conflicts = set()
        for result in results:
            chain = _chain_of(result.key)
            if result.outcome is Outcome.CONFLICT:
                conflicts.add(result.key)
                # A replay whose chain head moved on meanwhile: the first manifest written
                # for these offsets stays, and the chain continues from it.
                existing = self._store.get(result.key)
                if existing is not None:
                    heads[chain] = hashlib.sha256(existing).hexdigest()
        for chain, first, last, object_key, ids in written:
            if chain in self._ranges:  # else listed whole from the store when first asked
                self._ranges[chain].append((first, last, object_key))
            if object_key not in conflicts:  # else read from the store when asked
                self._remember(object_key, ids)
        self._heads.update(heads)


def _chain_of(object_key: str) -> tuple[str, str]:
    tenant, _, source, _ = object_key.split("/", 3)
    return tenant, source
