"""Consumer lag: how many records a consumer group still has to read, per topic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kafka import KafkaConsumer

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


def consumer_lag(consumer: KafkaConsumer) -> dict[str, int]:
    """Lag per topic over the partitions assigned to this kafka-python consumer.

    Uses the committed offset (what a restart would resume from, and what KEDA scales on);
    the position for a partition with no commit yet. Summed over every process of a group,
    it is the group's lag.
    """
    assigned = list(consumer.assignment())
    if not assigned:
        return {}
    ends = consumer.end_offsets(assigned)
    consumed: dict[Partition, int | None] = {}
    for tp in assigned:
        committed = consumer.committed(tp)
        consumed[(tp.topic, tp.partition)] = (
            committed if committed is not None else consumer.position(tp)
        )
    return lag_by_topic({(tp.topic, tp.partition): end for tp, end in ends.items()}, consumed)
