"""Learners' progress in the table's local store, by the partition of the record.

Faust's stores find a key's partition through the current-event context variable, so a
read or write outside a Faust stream needs a context set and reset per record (with the
store's serializing layers, ~10% of the processor's main thread). The processor knows each
record's partition: it reads the partition's database directly and writes a batch's
progress in one write per partition, as Faust's own changelog recovery does. The data is
the same as Faust's: same databases, same raw keys and values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import rocksdict
from faust.stores.rocksdb import Store as RocksDBStore


class LocalProgress:
    """Reads and batched writes of the progress table's store (RocksDB or memory)."""

    def __init__(self, store: Any) -> None:
        # The pinned Faust's RocksDB store: one database per partition (private member).
        self._rocksdb: RocksDBStore | None = store if isinstance(store, RocksDBStore) else None
        self._memory: dict[bytes, bytes] = {} if self._rocksdb is not None else store.data

    def get(self, partition: int, key: bytes) -> bytes | None:
        if self._rocksdb is None:
            return self._memory.get(key)
        value: bytes | None = self._rocksdb._db_for_partition(partition).get(key)
        return value

    def write(self, progress: Iterable[tuple[int, bytes, bytes]]) -> None:
        """(partition, key, value) triples: one write per partition."""
        if self._rocksdb is None:
            self._memory.update((key, value) for _, key, value in progress)
            return
        batches: defaultdict[int, rocksdict.WriteBatch] = defaultdict(
            lambda: rocksdict.WriteBatch(raw_mode=True)
        )
        for partition, key, value in progress:
            batches[partition].put(key, value)
        for partition, batch in batches.items():
            self._rocksdb._db_for_partition(partition).write(batch)
