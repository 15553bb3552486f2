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

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("t", 0)}

    def seek(self, partition: TopicPartition, offset: int) -> None:
        pass

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


class _RetainingConsumer:
    """Like kafka-python 3.x: a position per partition that ``poll`` advances and ``seek``
    sets, kept across a rebalance for the partitions this member retains. The first commit
    is refused (a rebalance in progress); the partition stays assigned."""

    def __init__(self, log: list[Record], assigned: set[TopicPartition]) -> None:
        self.log = log
        self.assigned = assigned
        self.position = 0
        self.refusals = 1
        self.commits: list[dict[TopicPartition, int]] = []

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        pass

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[Any, list[Any]]:
        batch = self.log[self.position : self.position + (max_records or len(self.log))]
        self.position += len(batch)
        return {TopicPartition("t", 0): batch} if batch else {}

    def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        if self.refusals:
            self.refusals -= 1
            raise CommitFailedError("rebalance in progress")
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.position = offset

    def close(self) -> None:
        pass


def _announcing_stage(loop: BatchLoop, last: int) -> tuple[list[int], list[int], Any]:
    stored: list[int] = []
    announced: list[int] = []

    def process(records: list[Any]) -> None:
        stored.extend(r.offset for r in records)
        loop.fence(records)
        announced.extend(r.offset for r in records)
        if records[-1].offset == last:
            loop.stop()

    return stored, announced, process


def test_an_abandoned_batch_of_a_retained_partition_is_read_again() -> None:
    log = [Record("t", 0, offset, b"k", b"v") for offset in range(6)]
    consumer = _RetainingConsumer(log, {TopicPartition("t", 0)})
    loop = BatchLoop(consumer, ["t"], max_batch=3, linger_ms=0)  # type: ignore[arg-type]
    stored, announced, process = _announcing_stage(loop, last=5)
    loop.run(process)
    assert stored == [0, 1, 2, 0, 1, 2, 3, 4, 5]  # the abandoned batch came back
    assert sorted(set(announced)) == sorted(set(stored))  # nothing stored unannounced
    assert consumer.commits[-1] == {TopicPartition("t", 0): 6}


def test_a_batch_whose_partition_moved_during_the_poll_is_not_announced() -> None:
    log = [Record("t", 0, offset, b"k", b"v") for offset in range(3)]
    consumer = _RetainingConsumer(log, set())  # the rebalance gave the partition away
    consumer.refusals = 0  # the group is stable again: the commit itself is accepted
    loop = BatchLoop(consumer, ["t"], max_batch=3, linger_ms=0)  # type: ignore[arg-type]
    with pytest.raises(BatchAbandonedError, match="moved"):
        loop.fence(log)
