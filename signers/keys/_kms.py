"""AWS KMS custody: KMS-sealed (seed encrypted under a symmetric KMS key, decrypted once at
start, then in-process signing) and KMS-remote (every signature made by KMS ``Sign``).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)
from pydantic import BaseModel, ConfigDict

from credstream.errors import SigningError
from signers.keys._custody import Backend, InProcessKey, SigningKey
from signers.keys._errors import KeyCustodyError, KeyDecryptionError, KmsRequestError
from signers.keys._retry import RetryPolicy, TokenBucket, call_with_retry

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

# Pure Ed25519 over the message itself: never ED25519_PH_SHA_512 (pre-hashed, a different
# signature that eddsa-rdfc-2022 verifiers reject) and never MessageType DIGEST.
SIGNING_ALGORITHM: Literal["ED25519_SHA_512"] = "ED25519_SHA_512"
KEY_SPEC: Literal["ECC_NIST_EDWARDS25519"] = "ECC_NIST_EDWARDS25519"
MAX_RAW_MESSAGE = 4096  # KMS Sign's limit for MessageType RAW


def encryption_context(tenant: str, key_id: str) -> dict[str, str]:
    """Bound into the sealed ciphertext by KMS, so a sealed seed opens only for its own
    tenant and key id; also usable in key policies (``kms:EncryptionContext:...``)."""
    return {"credstream:tenant": tenant, "credstream:key-id": key_id}


class SealedKeyFile(BaseModel):
    """The stored form of a KMS-sealed key: the KMS ciphertext blob of the seed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    backend: Literal["kms-sealed"] = "kms-sealed"
    tenant: str
    key_id: str
    public_key_multibase: str
    kms_key_id: str
    ciphertext: str


def seal_with_kms(
    client: KMSClient,
    seed: bytes,
    *,
    kms_key_id: str,
    tenant: str,
    key_id: str,
    public_key_multibase: str,
    retry: RetryPolicy,
) -> SealedKeyFile:
    response = call_with_retry(
        lambda: client.encrypt(
            KeyId=kms_key_id,
            Plaintext=seed,
            EncryptionContext=encryption_context(tenant, key_id),
            EncryptionAlgorithm="SYMMETRIC_DEFAULT",
        ),
        retry,
        f"key {key_id}: KMS Encrypt",
    )
    return SealedKeyFile(
        tenant=tenant,
        key_id=key_id,
        public_key_multibase=public_key_multibase,
        kms_key_id=kms_key_id,
        ciphertext=base64.b64encode(response["CiphertextBlob"]).decode(),
    )


class KmsSealedKey(InProcessKey):
    """An Ed25519 key whose seed KMS decrypts once, at start."""

    backend: Backend = "kms-sealed"

    @classmethod
    def unseal(
        cls,
        client: KMSClient,
        stored: SealedKeyFile,
        *,
        tenant: str,
        key_id: str,
        public_key_multibase: str,
        kms_key_id: str,
        retry: RetryPolicy,
    ) -> KmsSealedKey:
        """Tenant, key ids and public key come from the keyring, not from the file."""
        try:
            response = call_with_retry(
                lambda: client.decrypt(
                    CiphertextBlob=base64.b64decode(stored.ciphertext),
                    KeyId=kms_key_id,
                    EncryptionContext=encryption_context(tenant, key_id),
                    EncryptionAlgorithm="SYMMETRIC_DEFAULT",
                ),
                retry,
                f"key {key_id}: KMS Decrypt",
            )
        except KmsRequestError as error:
            if error.code in {"InvalidCiphertextException", "IncorrectKeyException"}:
                raise KeyDecryptionError(
                    f"key {key_id}: KMS cannot decrypt the sealed key ({error.code}: wrong KMS "
                    "key, or the sealed file does not belong to this tenant and key id)"
                ) from None
            raise
        key = cls(key_id, response["Plaintext"])
        if key.public_key_multibase != public_key_multibase:
            raise KeyDecryptionError(f"key {key_id}: the sealed file holds a different key")
        return key


def create_remote_kms_key(client: KMSClient, tenant: str, retry: RetryPolicy) -> str:
    """Create an Ed25519 signing key in KMS; returns its ARN. (If a create times out after
    KMS made the key, the retry makes another: an unused KMS key, never a shared one.)"""
    response = call_with_retry(
        lambda: client.create_key(
            KeySpec=KEY_SPEC,
            KeyUsage="SIGN_VERIFY",
            Description=f"credstream credential signing key, tenant {tenant}",
            Tags=[{"TagKey": "credstream:tenant", "TagValue": tenant}],
        ),
        retry,
        f"tenant {tenant}: KMS CreateKey",
    )
    return response["KeyMetadata"]["Arn"]


def fetch_public_key(client: KMSClient, kms_key_id: str, retry: RetryPolicy) -> bytes:
    """The raw 32-byte public key of an Ed25519 KMS signing key (KMS returns SPKI DER)."""
    what = f"KMS key {kms_key_id}"
    response = call_with_retry(
        lambda: client.get_public_key(KeyId=kms_key_id), retry, f"{what}: GetPublicKey"
    )
    if response.get("KeySpec") != KEY_SPEC or response.get("KeyUsage") != "SIGN_VERIFY":
        raise KeyCustodyError(
            f"{what} is {response.get('KeySpec')}/{response.get('KeyUsage')}, "
            f"not an {KEY_SPEC} SIGN_VERIFY key"
        )
    if SIGNING_ALGORITHM not in response.get("SigningAlgorithms", []):
        raise KeyCustodyError(f"{what} does not offer {SIGNING_ALGORITHM}")
    try:
        public = load_der_public_key(response["PublicKey"])
    except ValueError:
        raise KeyCustodyError(f"{what}: GetPublicKey returned an unreadable key") from None
    if not isinstance(public, Ed25519PublicKey):
        raise KeyCustodyError(f"{what}: GetPublicKey returned a non-Ed25519 key")
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


class KmsRemoteKey(SigningKey):
    """Every signature is a KMS ``Sign`` call (the key never leaves KMS).

    Each attempt, retries included, takes a token from the rate limiter first, since KMS
    counts throttled requests against the quota too. Every returned signature is checked
    against the public key (~50 us, small next to the KMS round trip), so a misbehaving
    key or proxy cannot produce credentials that will not verify.
    """

    backend: Backend = "kms-remote"

    def __init__(
        self,
        client: KMSClient,
        kms_key_id: str,
        key_id: str,
        public_key: bytes,
        *,
        limiter: TokenBucket,
        retry: RetryPolicy,
    ) -> None:
        super().__init__(key_id, public_key)
        self._client = client
        self._kms_key_id = kms_key_id
        self._limiter = limiter
        self._retry = retry
        self._verifier = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def open(
        cls,
        client: KMSClient,
        kms_key_id: str,
        key_id: str,
        *,
        public_key_multibase: str,
        limiter: TokenBucket,
        retry: RetryPolicy,
    ) -> KmsRemoteKey:
        """Fetch the public key and check it is the one the keyring recorded."""
        key = cls(
            client,
            kms_key_id,
            key_id,
            fetch_public_key(client, kms_key_id, retry),
            limiter=limiter,
            retry=retry,
        )
        if key.public_key_multibase != public_key_multibase:
            raise KeyCustodyError(
                f"key {key_id}: KMS key {kms_key_id} has a different public key than the keyring"
            )
        return key

    def _sign_once(self, message: bytes) -> bytes:
        self._limiter.acquire()
        response = self._client.sign(
            KeyId=self._kms_key_id,
            Message=message,
            MessageType="RAW",
            SigningAlgorithm=SIGNING_ALGORITHM,
        )
        return response["Signature"]

    def sign(self, message: bytes) -> bytes:
        if len(message) > MAX_RAW_MESSAGE:
            raise SigningError(
                f"key {self.key_id}: KMS signs at most {MAX_RAW_MESSAGE} bytes (got {len(message)})"
            )
        signature = call_with_retry(
            lambda: self._sign_once(message), self._retry, f"key {self.key_id}: KMS Sign"
        )
        try:
            self._verifier.verify(signature, message)
        except InvalidSignature:
            raise SigningError(
                f"key {self.key_id}: KMS returned a signature that does not verify"
            ) from None
        return signature
