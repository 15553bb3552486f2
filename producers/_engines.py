"""The engine key registry: which engines may send events, and their public keys.

``<directory>/engines.json`` lists every engine and its public key (Multikey); each private
key lives in ``<directory>/<engine id>.key`` (mode 0600, secret Multikey), written once by
``add`` and read only by that engine's producer.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credstream.errors import ConfigurationError, InvalidInputError, SigningError
from producers._signing import EventSigner
from signers.multikey import (
    ED25519_PRIV_PREFIX,
    multibase_encode,
    public_key_from_multibase,
    public_key_multibase,
    seed_from_multibase,
)

DEFAULT_DIRECTORY = Path(".credstream/engines")
_ENGINE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_INDEX = "engines.json"


@dataclass(frozen=True)
class EngineRecord:
    engine_id: str
    public_key_multibase: str
    key_file: Path
    created_at: str

    @property
    def public_key(self) -> bytes:
        return public_key_from_multibase(self.public_key_multibase)


class EngineRegistry:
    def __init__(self, directory: Path = DEFAULT_DIRECTORY) -> None:
        self.directory = directory

    def engines(self) -> tuple[EngineRecord, ...]:
        index = self.directory / _INDEX
        if not index.exists():
            return ()
        try:
            entries: list[dict[str, Any]] = json.loads(index.read_text())["engines"]
            return tuple(
                EngineRecord(
                    e["engine_id"],
                    e["public_key_multibase"],
                    self.directory / e["key_file"],
                    e["created_at"],
                )
                for e in entries
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ConfigurationError(f"{index} is not an engine registry: {error}") from None

    def public_keys(self) -> dict[str, bytes]:
        """Engine id to raw Ed25519 public key: what verification needs."""
        return {record.engine_id: record.public_key for record in self.engines()}

    def record(self, engine_id: str) -> EngineRecord:
        for record in self.engines():
            if record.engine_id == engine_id:
                return record
        raise ConfigurationError(
            f"engine {engine_id!r} is not registered in {self.directory}: "
            f"run `credstream engines add {engine_id}`"
        )

    def add(self, engine_id: str, created_at: datetime) -> EngineRecord:
        """Generate the engine's key pair; the private key goes to its own 0600 file."""
        if not _ENGINE_ID.fullmatch(engine_id):
            raise InvalidInputError(
                f"engine id {engine_id!r}: use letters, digits, '.', '_' or '-' (at most 64)"
            )
        existing = self.engines()
        if any(record.engine_id == engine_id for record in existing):
            raise InvalidInputError(f"engine {engine_id!r} is already registered")
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        key_file = self.directory / f"{engine_id}.key"
        secret = multibase_encode(ED25519_PRIV_PREFIX + key.private_bytes_raw())
        try:
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise InvalidInputError(f"{key_file} already exists; not overwriting it") from None
        with os.fdopen(descriptor, "w") as file:
            file.write(secret + "\n")
        record = EngineRecord(
            engine_id,
            public_key_multibase(key.public_key().public_bytes_raw()),
            key_file,
            created_at.isoformat(),
        )
        self._write((*existing, record))
        return record

    def signer(self, engine_id: str, key_file: Path | None = None) -> EventSigner:
        """The signer of a registered engine, from its key file (or ``key_file``)."""
        record = self.record(engine_id)
        path = key_file or record.key_file
        try:
            seed = seed_from_multibase(path.read_text().strip())
        except OSError as error:
            raise ConfigurationError(f"cannot read the key file {path}: {error}") from None
        except SigningError:
            raise ConfigurationError(f"{path} does not hold an Ed25519 secret key") from None
        key = Ed25519PrivateKey.from_private_bytes(seed)
        if key.public_key().public_bytes_raw() != record.public_key:
            raise ConfigurationError(f"{path} is not the key registered for {engine_id!r}")
        return EventSigner(engine_id, key)

    def _write(self, records: tuple[EngineRecord, ...]) -> None:
        document = {
            "engines": [
                {
                    "engine_id": r.engine_id,
                    "public_key_multibase": r.public_key_multibase,
                    "key_file": r.key_file.name,
                    "created_at": r.created_at,
                }
                for r in records
            ]
        }
        temporary = self.directory / f".{_INDEX}.tmp"
        temporary.write_text(json.dumps(document, indent=2) + "\n")
        temporary.replace(self.directory / _INDEX)
