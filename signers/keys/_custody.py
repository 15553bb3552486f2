"""The one interface every key custody backend implements."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Literal, NoReturn

from credstream.errors import InvalidInputError
from signers.keys._errors import KeyCustodyError
from signers.multikey import public_key_multibase

Backend = Literal["local", "kms-sealed", "kms-remote"]
BACKENDS: tuple[Backend, ...] = ("local", "kms-sealed", "kms-remote")

# Tenant ids become directory names, object-key prefixes and DID URL fragments: keep them
# to characters that are safe in all three (and never "." or "..").
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_tenant(tenant: str) -> str:
    if not _TENANT.fullmatch(tenant):
        raise InvalidInputError(
            f"tenant {tenant!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return tenant


def make_key_id(tenant: str, created: datetime, public_key: bytes) -> str:
    """``{tenant}-{yyyymmdd}-{8 hex of SHA-256(public key)}``: readable, sortable by day,
    and unique per key without a counter that two writers could both take."""
    digest = hashlib.sha256(public_key).hexdigest()[:8]
    return f"{check_tenant(tenant)}-{created:%Y%m%d}-{digest}"


class SigningKey(ABC):
    """An Ed25519 signing key under some custody. ``sign`` is the primitive a cryptosuite
    is given (``add_proof(..., sign=key.sign)``).

    The verification method is ``{controller DID}#{key id}``: one fragment per key, as
    in the Multikey examples (``did:web:example.com#key-1``), and it never changes, so a
    credential signed before a rotation still names a method of the current did.json.

    Instances never show key material: repr/str give the class and key id only, and
    pickling is refused (a pickled key would carry the secret into a queue or a file).
    """

    backend: Backend

    def __init__(self, key_id: str, public_key: bytes) -> None:
        if len(public_key) != 32:
            raise KeyCustodyError(f"key {key_id}: an Ed25519 public key has 32 bytes")
        self._key_id = key_id
        self._public_key = public_key

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._public_key

    @property
    def public_key_multibase(self) -> str:
        return public_key_multibase(self._public_key)

    def verification_method(self, controller_did: str) -> str:
        return f"{controller_did}#{self._key_id}"

    @abstractmethod
    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature (RFC 8032, pure Ed25519) of ``message``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key_id={self._key_id!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise KeyCustodyError(
            f"key {self._key_id} cannot be pickled: open it in each process "
            "(signers.keys.load_signing_key)"
        )


class InProcessKey(SigningKey):
    """A key whose seed is in this process's memory once opened: signing is a local
    Ed25519 operation (~40 us), with no I/O."""

    def __init__(self, key_id: str, seed: bytes) -> None:
        from signers.proofs import ed25519_public_key, ed25519_signer

        if len(seed) != 32:
            raise KeyCustodyError(f"key {key_id}: an Ed25519 seed has 32 bytes")
        self._sign = ed25519_signer(seed)
        super().__init__(key_id, ed25519_public_key(seed))

    def sign(self, message: bytes) -> bytes:
        return self._sign(message)
