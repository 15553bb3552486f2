"""The consume, process, commit loop of a batch stage (renderer, status-list updater).

Poll up to ``max_batch`` records, waiting at most ``linger_ms`` after the first; hand the
batch to the stage; commit its offsets only once the stage returns (its side effects are
durable). While the object store is unavailable the batch is held and retried with
backoff, with the partitions paused so the consumer stays in its group: back-pressure,
never a skip. A commit refused after a rebalance is logged: the new owner re-reads the
batch, which every stage tolerates (conditional writes, idempotent updates).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata

from credstream.errors import CredstreamError
from schemas.dead_letters import DeadLetterRecord
from signers.storage import StoreUnavailableError

log = logging.getLogger("credstream.consuming")


class BatchLoop:
    """Runs one stage's ``process(records)`` over a group consumer until stopped."""

    def __init__(
        self,
        consumer: KafkaConsumer,
        topics: list[str],
        *,
        max_batch: int,
        linger_ms: int,
        max_backoff: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        periodic: Sequence[tuple[float, Callable[[], object]]] = (),
        on_assigned: Callable[[set[TopicPartition]], object] | None = None,
    ) -> None:
        """``periodic``: (interval in seconds, task) pairs run between batches, in this
        thread (housekeeping: lag metrics, provisioning); a task that fails is logged and
        tried again at its next turn."""
        self._consumer = consumer
        self._topics = topics
        self._max_batch = max_batch
        self._linger_ms = linger_ms
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._periodic = list(periodic)
        self._on_assigned = on_assigned
        self._due = [0.0] * len(self._periodic)
        self._running = True

    def stop(self) -> None:
        self._running = False

    @property
    def consumer(self) -> KafkaConsumer:
        return self._consumer

    def run(self, process: Callable[[list[Any]], object]) -> None:
        if self._on_assigned is None:
            self._consumer.subscribe(self._topics)
        else:
            self._consumer.subscribe(self._topics, listener=_Assigned(self._on_assigned))
        try:
            while self._running:
                records = self.poll_batch()
                if records:
                    try:
                        self._until_durable(process, records)
                    except BatchAbandonedError as error:
                        # Dropped uncommitted. A partition this consumer still holds is
                        # rewound to the batch's start: kafka-python keeps a retained
                        # partition's position across a rebalance, so the next batch would
                        # start after this one and its commit would skip it (stored,
                        # never announced). The others' new owners read from the commits.
                        log.warning("batch abandoned: %s", error)
                        self._rewind(records)
                        continue
                    self.commit(records)
                self._run_periodic()
        finally:
            self._consumer.close()  # leave the group now: partitions move without a timeout

    def _run_periodic(self) -> None:
        for number, (interval, task) in enumerate(self._periodic):
            if time.monotonic() < self._due[number]:
                continue
            self._due[number] = time.monotonic() + interval
            try:
                task()
            except (CredstreamError, KafkaError) as error:
                log.warning("periodic task %s failed, retrying later: %s", task, error)

    def poll_batch(self) -> list[Any]:
        """Up to max_batch records, waiting at most linger_ms once the first arrives."""
        records: list[Any] = []
        deadline = None
        while len(records) < self._max_batch and self._running:
            timeout = (
                1000 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            )
            polled = self._consumer.poll(
                timeout_ms=timeout, max_records=self._max_batch - len(records)
            )
            for batch in polled.values():
                records.extend(batch)
            if records and deadline is None:
                deadline = time.monotonic() + self._linger_ms / 1000
            if deadline is not None and time.monotonic() >= deadline:
                break
            if not records and not polled:
                break
        return records

    def _until_durable(self, process: Callable[[list[Any]], object], records: list[Any]) -> None:
        delay = 0.5
        while True:
            try:
                process(records)
                return
            except StoreUnavailableError as error:
                log.warning("object store unavailable, pausing: %s", error)
                assigned = self._consumer.assignment()
                self._consumer.pause(*assigned)
                # Stay in the group while paused. A rebalance inside this poll can hand us
                # a new partition whose records come back: rewind it, or they'd be skipped.
                for partition, fetched in self._consumer.poll(timeout_ms=0).items():
                    self._consumer.seek(partition, fetched[0].offset)
                self._sleep(delay)
                delay = min(delay * 2, self._max_backoff)
                self._consumer.resume(*assigned)

    def fence(self, records: list[Any]) -> None:
        """Check that this consumer still owns the partitions of ``records`` before the
        stage does what cannot be taken back (announcements): commit each partition's
        first offset, which the group has already committed, and which only a current
        member may commit. A worker paused past its session (a zombie) is refused, and
        raises ``BatchAbandonedError`` instead of repeating what the new owner did."""
        first = {partition: first for partition, (first, _) in _offset_ranges(records).items()}
        try:
            self._consumer.commit(_commit_offsets(first))
        except (CommitFailedError, KafkaError) as error:
            raise BatchAbandonedError(f"the group moved these partitions on: {error}") from None
        # The group takes a commit from any current member for any partition: a rebalance
        # completed while the batch was polled can have moved some of them to another.
        moved = set(first) - set(self._consumer.assignment())
        if moved:
            raise BatchAbandonedError(f"a rebalance moved {sorted(map(str, moved))} away")

    def _rewind(self, records: list[Any]) -> None:
        held = set(self._consumer.assignment())
        for partition, (first, _) in _offset_ranges(records).items():
            if partition in held:
                self._consumer.seek(partition, first)

    def commit(self, records: list[Any]) -> None:
        ranges = _offset_ranges(records)
        try:
            self._consumer.commit(
                _commit_offsets({partition: last + 1 for partition, (_, last) in ranges.items()})
            )
        except (CommitFailedError, KafkaError) as error:
            log.warning("commit refused after a rebalance; the batch will be re-read: %s", error)


def _offset_ranges(records: list[Any]) -> dict[TopicPartition, tuple[int, int]]:
    """Each partition's (lowest, highest) offset among ``records``."""
    ranges: dict[TopicPartition, tuple[int, int]] = {}
    for record in records:
        partition = TopicPartition(record.topic, record.partition)
        low, high = ranges.get(partition, (record.offset, record.offset))
        ranges[partition] = (min(low, record.offset), max(high, record.offset))
    return ranges


def _commit_offsets(offsets: dict[TopicPartition, int]) -> dict[TopicPartition, OffsetAndMetadata]:
    return {partition: OffsetAndMetadata(offset, "", -1) for partition, offset in offsets.items()}


class BatchAbandonedError(CredstreamError):
    """This consumer no longer owns the batch's partitions: drop it, uncommitted."""


class _Assigned(ConsumerRebalanceListener):  # type: ignore[misc]  # untyped base class
    """Calls back (inside ``poll``, in the loop's thread) with newly assigned partitions."""

    def __init__(self, callback: Callable[[set[TopicPartition]], object]) -> None:
        self._callback = callback

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._callback(set(assigned))


def send_dead_letters(producer: KafkaProducer, letters: list[DeadLetterRecord]) -> None:
    """Produce dead letters and wait until every one is acknowledged (before a commit)."""
    for letter in letters:
        producer.send(letter.topic, key=letter.key, value=letter.value, headers=letter.headers)
    producer.flush()
