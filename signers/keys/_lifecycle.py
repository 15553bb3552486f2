"""Key lifecycle per tenant: generate, rotate, open, and publish the DID document.

Each function takes the settings and, for tests or a shared client, an injected KMS
client; the clock is always a parameter (``now``), never read here.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from credstream.errors import ConfigurationError, StorageError
from signers.keys._custody import Backend, InProcessKey, SigningKey, check_tenant, make_key_id
from signers.keys._did import did_document_object_key, did_web_url
from signers.keys._errors import KeyCustodyError
from signers.keys._keyring import KeyRecord, KeyRing, KeyringStore
from signers.keys._kms import (
    KmsRemoteKey,
    KmsSealedKey,
    SealedKeyFile,
    create_remote_kms_key,
    fetch_public_key,
    seal_with_kms,
)
from signers.keys._local import LocalFileKey, LocalKeyFile, seal_with_passphrase
from signers.keys._retry import RetryPolicy, TokenBucket
from signers.keys._settings import KeySettings, kms_client
from signers.multikey import public_key_multibase

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client

DID_MEDIA_TYPE = "application/did+ld+json"


def _create(
    settings: KeySettings,
    tenant: str,
    backend: Backend,
    *,
    kms_key_id: str | None,
    kms: KMSClient | None,
    retry: RetryPolicy | None,
    now: datetime,
) -> KeyRecord:
    store = KeyringStore(settings.keyring_dir)
    retry = retry or settings.retry_policy()
    if backend == "kms-remote":
        client = kms or kms_client(settings)
        kms_key_id = kms_key_id or create_remote_kms_key(client, tenant, retry)
        public = fetch_public_key(client, kms_key_id, retry)
        return KeyRecord(
            key_id=make_key_id(tenant, now, public),
            backend=backend,
            status="active",
            created=now,
            public_key_multibase=public_key_multibase(public),
            kms_key_id=kms_key_id,
        )
    # Check what opening needs before making anything, so a missing secret fails first.
    passphrase = settings.require_passphrase() if backend == "local" else None
    if backend == "kms-sealed" and not kms_key_id:
        raise ConfigurationError(
            "kms-sealed keys are sealed under a KMS key: give --kms-key-id "
            "or set CREDSTREAM_KEYS_KMS_KEY_ID"
        )
    seed = secrets.token_bytes(32)  # an Ed25519 private key is 32 random bytes (RFC 8032)
    public = InProcessKey("new", seed).public_key
    key_id = make_key_id(tenant, now, public)
    multibase = public_key_multibase(public)
    stored: LocalKeyFile | SealedKeyFile
    if passphrase is not None:
        stored = seal_with_passphrase(
            seed, passphrase, tenant=tenant, key_id=key_id, public_key_multibase=multibase
        )
    else:
        assert kms_key_id is not None  # checked above
        stored = seal_with_kms(
            kms or kms_client(settings),
            seed,
            kms_key_id=kms_key_id,
            tenant=tenant,
            key_id=key_id,
            public_key_multibase=multibase,
            retry=retry,
        )
    store.write_secret(tenant, key_id, stored)
    return KeyRecord(
        key_id=key_id,
        backend=backend,
        status="active",
        created=now,
        public_key_multibase=multibase,
        kms_key_id=kms_key_id if backend == "kms-sealed" else None,
    )


def read_keyring(settings: KeySettings, tenant: str) -> KeyRing:
    return KeyringStore(settings.keyring_dir).load(check_tenant(tenant))


def generate_key(
    settings: KeySettings,
    tenant: str,
    *,
    now: datetime,
    backend: Backend | None = None,
    kms_key_id: str | None = None,
    did: str | None = None,
    kms: KMSClient | None = None,
    retry: RetryPolicy | None = None,
) -> KeyRecord:
    """The tenant's first key (refused if it already has an active one: rotate instead).
    ``kms_key_id``: for kms-sealed the sealing key (default: the setting); for kms-remote
    an existing Ed25519 KMS key to adopt (default: create one)."""
    store = KeyringStore(settings.keyring_dir)
    ring = store.load(check_tenant(tenant))
    if ring.active is not None:
        raise KeyCustodyError(
            f"tenant {tenant} already has an active key ({ring.active.key_id}): "
            "use `credstream keys rotate`"
        )
    if did is not None:
        did_web_url(did)
        ring = ring.with_did(did)
    backend = backend or settings.backend
    if backend == "kms-sealed":
        kms_key_id = kms_key_id or settings.kms_key_id
    record = _create(
        settings, tenant, backend, kms_key_id=kms_key_id, kms=kms, retry=retry, now=now
    )
    store.save(ring.with_active(record, now))
    return record


def rotate_key(
    settings: KeySettings,
    tenant: str,
    *,
    now: datetime,
    backend: Backend | None = None,
    kms_key_id: str | None = None,
    kms: KMSClient | None = None,
    retry: RetryPolicy | None = None,
) -> tuple[KeyRecord, KeyRecord]:
    """A new active key; the previous one is retired but stays in the ring and in the
    DID document. Returns (new, retired). The backend defaults to the current key's; a
    kms-sealed key keeps its sealing KMS key unless another is given."""
    store = KeyringStore(settings.keyring_dir)
    ring = store.load(check_tenant(tenant))
    current = ring.active
    if current is None:
        raise KeyCustodyError(f"tenant {tenant} has no active key: run `credstream keys generate`")
    backend = backend or current.backend
    if backend == "kms-sealed" and not kms_key_id:
        sealed_before = current.kms_key_id if current.backend == "kms-sealed" else None
        kms_key_id = sealed_before or settings.kms_key_id
    record = _create(
        settings, tenant, backend, kms_key_id=kms_key_id, kms=kms, retry=retry, now=now
    )
    rotated = ring.with_active(record, now)
    store.save(rotated)
    return record, rotated.get(current.key_id)


def open_key(
    settings: KeySettings,
    tenant: str,
    key_id: str | None = None,
    *,
    kms: KMSClient | None = None,
    retry: RetryPolicy | None = None,
    limiter: TokenBucket | None = None,
) -> SigningKey:
    """Open the tenant's active key (or ``key_id``) with the backend it was made with."""
    store = KeyringStore(settings.keyring_dir)
    ring = store.load(check_tenant(tenant))
    if key_id is None:
        if ring.active is None:
            raise KeyCustodyError(
                f"tenant {tenant} has no active key in {store.tenant_dir(tenant)}: "
                "run `credstream keys generate`"
            )
        key_id = ring.active.key_id
    record = ring.get(key_id)
    identity = {
        "tenant": tenant,
        "key_id": key_id,
        "public_key_multibase": record.public_key_multibase,
    }
    if record.backend == "local":
        passphrase = settings.require_passphrase()
        return LocalFileKey.open(
            store.read_secret(tenant, key_id, LocalKeyFile), passphrase, **identity
        )
    retry = retry or settings.retry_policy()
    if record.kms_key_id is None:
        raise KeyCustodyError(f"key {key_id}: the keyring records no KMS key id")
    client = kms or kms_client(settings)
    if record.backend == "kms-sealed":
        stored = store.read_secret(tenant, key_id, SealedKeyFile)
        return KmsSealedKey.unseal(
            client, stored, kms_key_id=record.kms_key_id, retry=retry, **identity
        )
    return KmsRemoteKey.open(
        client,
        record.kms_key_id,
        key_id,
        public_key_multibase=record.public_key_multibase,
        limiter=limiter or settings.rate_limiter(),
        retry=retry,
    )


def load_signing_key(settings: KeySettings, *, kms: KMSClient | None = None) -> SigningKey:
    """The signing key of a signer process: the active key of ``settings.tenant``.
    Call once at start (a KMS-sealed key is decrypted here, with retries)."""
    if not settings.tenant:
        raise ConfigurationError("CREDSTREAM_KEYS_TENANT is not set: whose key should sign?")
    return open_key(settings, settings.tenant, kms=kms)


def set_did(settings: KeySettings, tenant: str, did: str) -> KeyRing:
    """Record the tenant's did:web DID in its ring (verification methods are under it)."""
    did_web_url(did)
    store = KeyringStore(settings.keyring_dir)
    ring = store.load(check_tenant(tenant)).with_did(did)
    store.save(ring)
    return ring


def put_did_document(s3: S3Client, bucket: str, tenant: str, document: dict[str, Any]) -> str:
    """Write the DID document to the object store; returns its object key. A plain put:
    the document changes on every rotation, unlike credentials (conditional writes)."""
    from botocore.exceptions import BotoCoreError, ClientError

    key = did_document_object_key(tenant, document["id"])
    body = (json.dumps(document, indent=2) + "\n").encode()
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=DID_MEDIA_TYPE,
            # Verifiers should see a rotation within minutes, not a day.
            CacheControl="max-age=300",
        )
    except (BotoCoreError, ClientError) as error:
        raise StorageError(f"cannot store {key} in bucket {bucket}: {error}") from None
    return key
