"""A worker paused past its session (a zombie) must not announce or commit its batch."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import CommitFailedError

from signers.consuming import BatchAbandonedError, BatchLoop
from tests.unit._memory_store import Record


class _Consumer:
    """The consumer calls BatchLoop makes; commits fail once the group has moved on."""

    def __init__(self, records: list[Record]) -> None:
        self.pending = list(records)
        self.evicted = False
        self.commits: list[dict[TopicPartition, int]] = []

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        pass

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[Any, list[Any]]:
        batch, self.pending = self.pending, []
        return {TopicPartition("t", 0): batch} if batch else {}

    def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        if self.evicted:
            raise CommitFailedError("the group has rebalanced")
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})

    def close(self) -> None:
        pass


RECORDS = [Record("t", 0, offset, b"k", b"v") for offset in (5, 6, 7)]


def test_a_current_member_passes_the_fence_without_moving_its_offsets() -> None:
    consumer = _Consumer(RECORDS)
    BatchLoop(consumer, ["t"], max_batch=10, linger_ms=0).fence(RECORDS)  # type: ignore[arg-type]
    assert consumer.commits == [{TopicPartition("t", 0): 5}]  # the batch's first offset


def test_an_evicted_member_abandons_its_batch_announcing_and_committing_nothing() -> None:
    consumer = _Consumer(RECORDS)
    loop = BatchLoop(consumer, ["t"], max_batch=10, linger_ms=0)  # type: ignore[arg-type]
    announced: list[int] = []

    def process(records: list[Any]) -> None:
        consumer.evicted = True  # paused past the session timeout while it stored
        loop.fence(records)
        announced.extend(r.offset for r in records)

    with pytest.raises(BatchAbandonedError):
        process(RECORDS)
    consumer.pending = list(RECORDS)

    def stop_after(records: list[Any]) -> None:
        loop.stop()
        process(records)

    loop.run(stop_after)
    assert announced == [] and consumer.commits == []
