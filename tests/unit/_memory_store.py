"""An in-memory object store with the S3 semantics the stages rely on (for unit tests):
If-None-Match writes, If-Match replacements, ETags and user metadata."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from signers.storage import ObjectWrite, Outcome, PutResult, StoredObject, StoreUnavailableError


@dataclass(frozen=True)
class Record:
    """A consumed Kafka record, as the stages read one."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


class MemoryStore:
    def __init__(self) -> None:
        self.objects: dict[str, StoredObject] = {}
        self.down = False  # True: every call fails as an unreachable store does
        self.writes = 0
        self.reads = 0  # get() calls

    def close(self) -> None:
        """Nothing to release (the store protocols ask for it)."""

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailableError("memory store is down")

    @staticmethod
    def _etag(body: bytes) -> str:
        return '"' + hashlib.md5(body).hexdigest() + '"'  # what S3 uses for ETags

    def put_new(self, writes: Sequence[ObjectWrite]) -> list[PutResult]:
        self._check()
        results = []
        for write in writes:
            digest = hashlib.sha256(write.body).hexdigest()
            stored = self.objects.get(write.key)
            if stored is None:
                self.writes += 1
                self.objects[write.key] = StoredObject(write.body, self._etag(write.body), {})
                outcome = Outcome.CREATED
            elif stored.body == write.body:
                outcome = Outcome.IDENTICAL
            else:
                outcome = Outcome.CONFLICT
            results.append(PutResult(write.key, outcome, digest))
        return results

    def get(self, key: str) -> bytes | None:
        self.reads += 1
        self._check()
        stored = self.objects.get(key)
        return None if stored is None else stored.body

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self.get(key) for key in keys]

    def get_object(self, key: str) -> StoredObject | None:
        self._check()
        return self.objects.get(key)

    def put_if_match(
        self, write: ObjectWrite, etag: str | None, metadata: dict[str, str] | None = None
    ) -> str | None:
        self._check()
        current = self.objects.get(write.key)
        if (current.etag if current is not None else None) != etag:
            return None
        self.writes += 1
        new = StoredObject(write.body, self._etag(write.body), dict(metadata or {}))
        self.objects[write.key] = new
        return new.etag
