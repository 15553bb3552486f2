"""Ed25519 signing keys per tenant: custody backends, key ring, did:web identity.

A key (``SigningKey``) has a ``key_id``, a raw 32-byte ``public_key``, its
``public_key_multibase``, ``verification_method(did)`` (``{did}#{key_id}``) and
``sign(message) -> signature``: pass ``key.sign`` to a cryptosuite. Backends:

- ``local``: the seed in a passphrase-encrypted key file (scrypt + AES-256-GCM);
- ``kms-sealed``: the seed encrypted under an AWS KMS key, decrypted once at start;
- ``kms-remote``: every signature made by KMS ``Sign`` (ED25519_SHA_512, RAW), rate-limited.

A signer process calls ``load_signing_key(KeySettings())`` once at start. Verifiers use
``resolve_verification_method(did_document, vm_id)``.
"""

from signers.keys._custody import BACKENDS, Backend, SigningKey
from signers.keys._did import (
    DID_CONTEXTS,
    did_document,
    did_document_object_key,
    did_web_url,
    resolve_verification_method,
)
from signers.keys._errors import (
    DidDocumentError,
    KeyCustodyError,
    KeyDecryptionError,
    KmsRequestError,
    KmsUnavailableError,
)
from signers.keys._keyring import KeyRecord, KeyRing, KeyStatus
from signers.keys._kms import KmsRemoteKey, KmsSealedKey
from signers.keys._lifecycle import (
    generate_key,
    load_signing_key,
    open_key,
    put_did_document,
    read_keyring,
    rotate_key,
    set_did,
)
from signers.keys._local import LocalFileKey
from signers.keys._retry import RetryPolicy, TokenBucket
from signers.keys._settings import PASSPHRASE_VARIABLE, KeySettings, kms_client

__all__ = [
    "BACKENDS",
    "DID_CONTEXTS",
    "PASSPHRASE_VARIABLE",
    "Backend",
    "DidDocumentError",
    "KeyCustodyError",
    "KeyDecryptionError",
    "KeyRecord",
    "KeyRing",
    "KeySettings",
    "KeyStatus",
    "KmsRemoteKey",
    "KmsRequestError",
    "KmsSealedKey",
    "KmsUnavailableError",
    "LocalFileKey",
    "RetryPolicy",
    "SigningKey",
    "TokenBucket",
    "did_document",
    "did_document_object_key",
    "did_web_url",
    "generate_key",
    "kms_client",
    "load_signing_key",
    "open_key",
    "put_did_document",
    "read_keyring",
    "resolve_verification_method",
    "rotate_key",
    "set_did",
]
