"""A tenant's key ring: metadata of every key it has had (never secrets), and the files
that hold it.

Layout under the keyring directory (default ``.credstream/keys``)::

    {tenant}/keyring.json        this ring: DID, keys with status, backend, public key
    {tenant}/{key_id}.key.json   the encrypted seed (local and kms-sealed backends only)

Directories are created 0700 and files written 0600, atomically (temporary file, then
rename), so a crash never leaves a half-written ring. One writer per tenant at a time
(an operator command), as rotation is rare.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from credstream.errors import InvalidInputError
from signers.keys._custody import Backend, check_tenant
from signers.keys._errors import KeyCustodyError

KeyStatus = Literal["active", "retired"]
M = TypeVar("M", bound=BaseModel)


class KeyRecord(BaseModel):
    """One key of a tenant. ``kms_key_id`` is the wrapping key (kms-sealed) or the signing
    key (kms-remote) in KMS."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str
    backend: Backend
    status: KeyStatus
    created: datetime
    retired: datetime | None = None
    public_key_multibase: str
    kms_key_id: str | None = None


class KeyRing(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    tenant: str
    did: str | None = None
    keys: tuple[KeyRecord, ...] = ()

    @property
    def active(self) -> KeyRecord | None:
        return next((k for k in self.keys if k.status == "active"), None)

    def get(self, key_id: str) -> KeyRecord:
        for record in self.keys:
            if record.key_id == key_id:
                return record
        raise KeyCustodyError(f"tenant {self.tenant}: no key {key_id} in the keyring")

    def with_active(self, record: KeyRecord, now: datetime) -> Self:
        """The ring with ``record`` as its one active key; the previous active key is
        retired (kept, so that what it signed keeps verifying)."""
        if any(k.public_key_multibase == record.public_key_multibase for k in self.keys):
            raise KeyCustodyError(
                f"tenant {self.tenant}: that public key is already in the keyring "
                "(a rotation needs a new key)"
            )
        kept = tuple(
            k.model_copy(update={"status": "retired", "retired": now})
            if k.status == "active"
            else k
            for k in self.keys
        )
        return self.model_copy(update={"keys": (*kept, record)})

    def with_did(self, did: str) -> Self:
        return self.model_copy(update={"did": did})


def _parse(model: type[M], path: Path) -> M:
    try:
        return model.model_validate_json(path.read_bytes())
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise InvalidInputError(f"{path}: {field}: {first['msg']}") from None


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


class KeyringStore:
    """Reads and writes key rings and encrypted key files under one directory."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def tenant_dir(self, tenant: str) -> Path:
        return self._root / check_tenant(tenant)

    def load(self, tenant: str) -> KeyRing:
        """The tenant's ring; an empty one if it has no keys yet."""
        path = self.tenant_dir(tenant) / "keyring.json"
        if not path.exists():
            return KeyRing(tenant=tenant)
        ring = _parse(KeyRing, path)
        if ring.tenant != tenant:
            raise InvalidInputError(f"{path}: tenant: holds tenant {ring.tenant!r}, not {tenant!r}")
        return ring

    def save(self, ring: KeyRing) -> None:
        body = json.dumps(ring.model_dump(mode="json"), indent=2) + "\n"
        _write_private(self.tenant_dir(ring.tenant) / "keyring.json", body.encode())

    def _secret_path(self, tenant: str, key_id: str) -> Path:
        return self.tenant_dir(tenant) / f"{key_id}.key.json"

    def write_secret(self, tenant: str, key_id: str, stored: BaseModel) -> Path:
        path = self._secret_path(tenant, key_id)
        _write_private(path, (stored.model_dump_json(indent=2) + "\n").encode())
        return path

    def read_secret(self, tenant: str, key_id: str, model: type[M]) -> M:
        path = self._secret_path(tenant, key_id)
        if not path.exists():
            raise KeyCustodyError(f"key {key_id}: key file {path} is missing")
        return _parse(model, path)
