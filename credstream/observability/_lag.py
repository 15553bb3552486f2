"""Consumer lag: how many records a consumer group still has to read, per topic."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kafka import KafkaConsumer, TopicPartition

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
