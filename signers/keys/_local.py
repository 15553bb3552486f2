"""Local file custody (development): the Ed25519 seed encrypted at rest with a passphrase.

Format (JSON, file mode 0600): scrypt (n=2**15, r=8, p=1, 16-byte salt) derives a 256-bit
key from the passphrase; AES-256-GCM (12-byte nonce) encrypts the 32-byte seed. The
associated data binds the ciphertext to the tenant, key id and public key taken from the
keyring, so a key file copied under another tenant or key id does not open.
"""

from __future__ import annotations

import base64
import os
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from signers.keys._custody import Backend, InProcessKey
from signers.keys._errors import KeyDecryptionError

SCRYPT_N = 2**15  # ~0.1 s and 32 MiB per derivation: paid once at start


class ScryptParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Literal["scrypt"] = "scrypt"
    # Bounded so that a crafted file cannot make opening it take minutes or gigabytes.
    n: int = Field(ge=2**10, le=2**20)
    r: int = Field(ge=1, le=32)
    p: int = Field(ge=1, le=16)
    salt: str


class LocalKeyFile(BaseModel):
    """The stored, encrypted form of a local key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    backend: Literal["local"] = "local"
    tenant: str
    key_id: str
    public_key_multibase: str
    kdf: ScryptParams
    cipher: Literal["AES-256-GCM"] = "AES-256-GCM"
    nonce: str
    ciphertext: str


def associated_data(tenant: str, key_id: str, public_key_multibase: str) -> bytes:
    return f"credstream-key-v1|{tenant}|{key_id}|{public_key_multibase}".encode()


def _derive(passphrase: SecretStr, params: ScryptParams) -> bytes:
    kdf = Scrypt(salt=base64.b64decode(params.salt), length=32, n=params.n, r=params.r, p=params.p)
    return kdf.derive(passphrase.get_secret_value().encode())


def seal_with_passphrase(
    seed: bytes,
    passphrase: SecretStr,
    *,
    tenant: str,
    key_id: str,
    public_key_multibase: str,
    scrypt_n: int = SCRYPT_N,
) -> LocalKeyFile:
    params = ScryptParams(n=scrypt_n, r=8, p=1, salt=base64.b64encode(os.urandom(16)).decode())
    nonce = os.urandom(12)
    aad = associated_data(tenant, key_id, public_key_multibase)
    ciphertext = AESGCM(_derive(passphrase, params)).encrypt(nonce, seed, aad)
    return LocalKeyFile(
        tenant=tenant,
        key_id=key_id,
        public_key_multibase=public_key_multibase,
        kdf=params,
        nonce=base64.b64encode(nonce).decode(),
        ciphertext=base64.b64encode(ciphertext).decode(),
    )


class LocalFileKey(InProcessKey):
    """An Ed25519 key decrypted from a passphrase-encrypted key file."""

    backend: Backend = "local"

    @classmethod
    def open(
        cls,
        stored: LocalKeyFile,
        passphrase: SecretStr,
        *,
        tenant: str,
        key_id: str,
        public_key_multibase: str,
    ) -> LocalFileKey:
        """Decrypt ``stored``; tenant, key id and public key come from the keyring, not
        from the file, so that a swapped file fails here."""
        aad = associated_data(tenant, key_id, public_key_multibase)
        try:
            seed = AESGCM(_derive(passphrase, stored.kdf)).decrypt(
                base64.b64decode(stored.nonce), base64.b64decode(stored.ciphertext), aad
            )
        except (InvalidTag, ValueError):
            raise KeyDecryptionError(
                f"key {key_id}: cannot decrypt the key file "
                "(wrong passphrase, or the file does not belong to this key)"
            ) from None
        key = cls(key_id, seed)
        if key.public_key_multibase != public_key_multibase:
            raise KeyDecryptionError(f"key {key_id}: the key file holds a different key")
        return key
