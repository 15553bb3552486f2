"""Consumer lag: how many records a consumer group still has to read, per topic; and
the committed and end offsets of any group, watched from outside it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from kafka import KafkaConsumer, TopicPartition

from credstream.clients import kafka_consumer

if TYPE_CHECKING:
    from credstream.settings import KafkaSettings

Partition = tuple[str, int]


def lag_by_topic(
    end_offsets: Mapping[Partition, int], consumed: Mapping[Partition, int | None]
) -> dict[str, int]:
    """End offset minus the consumed offset (committed, else position), summed per topic.

    A partition with no consumed offset yet counts in full: nothing of it was read. The
    pure core of :func:`consumer_lag`; Faust workers feed it their aiokafka offsets.
    """
    lag: dict[str, int] = {}
    for (topic, partition), end in end_offsets.items():
        done = consumed.get((topic, partition))
        lag[topic] = lag.get(topic, 0) + max(0, end - (done or 0))
    return lag


def consumer_lag(
    consumer: KafkaConsumer, partitions: Iterable[TopicPartition] | None = None
) -> dict[str, int]:
    """Lag per topic over ``partitions`` (default: those assigned to this kafka-python
    consumer), for the consumer's group.

    Uses the committed offset (what a restart would resume from, and what KEDA scales on);
    for a partition with no commit yet, the position where this consumer reads it, else
    the whole partition. Summed over every process of a group, it is the group's lag.
    """
    assigned = set(consumer.assignment())
    wanted = list(assigned if partitions is None else partitions)
    if not wanted:
        return {}
    ends = consumer.end_offsets(wanted)
    consumed: dict[Partition, int | None] = {}
    for tp in wanted:
        committed = consumer.committed(tp)
        if committed is None and tp in assigned:
            committed = consumer.position(tp)
        consumed[(tp.topic, tp.partition)] = committed
    return lag_by_topic({(tp.topic, tp.partition): end for tp, end in ends.items()}, consumed)


class OffsetWatch:
    """Committed and end offsets of consumer groups, through clients kept for its life.

    A client made per lookup fetches the whole cluster's metadata to find a topic's
    partitions: sampled every half second, that took half a core from the pipeline the
    e2e benchmark measures (3,000 topics on a long-lived local broker).
    """

    def __init__(self, kafka: KafkaSettings) -> None:
        self._kafka = kafka
        self._consumers: dict[str, KafkaConsumer] = {}
        self._partitions: dict[str, list[TopicPartition]] = {}

    def __enter__(self) -> OffsetWatch:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def progress(self, group: str, topic: str) -> tuple[int, int]:
        """(committed, end) offsets of ``group`` on ``topic``, summed over partitions."""
        consumer = self._consumers.get(group)
        if consumer is None:
            # Never subscribes, so never joins the group: Describe on it and on the topic
            # is all this needs (the deployment's ACLs grant no more).
            consumer = self._consumers[group] = kafka_consumer(self._kafka, group)
        partitions = self._partitions.get(topic)
        if not partitions:  # a topic without partitions yet is looked up again
            found = consumer.partitions_for_topic(topic) or []
            partitions = self._partitions[topic] = [TopicPartition(topic, p) for p in found]
        ends = consumer.end_offsets(partitions)
        committed = sum(consumer.committed(tp) or 0 for tp in partitions)
        return committed, sum(ends.values())

    def close(self) -> None:
        for consumer in self._consumers.values():
            consumer.close()
        self._consumers.clear()
