"""Records round-trip through the real broker; committed offsets survive a consumer restart."""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaAdminClient, TopicPartition
from kafka.structs import OffsetAndMetadata

from credstream.clients import delete_topics, ensure_topics, kafka_consumer, kafka_producer
from credstream.settings import KafkaSettings
from schemas.topics import Topic
from tests.integration.workers import drain


def test_round_trip_and_committed_offsets_survive_restart(
    kafka: KafkaSettings, fresh_topic: Topic
) -> None:
    sent = [f"record-{i}".encode() for i in range(300)]
    with kafka_producer(kafka) as producer:
        assert producer.config["enable_idempotence"] is True
        assert producer.config["acks"] == -1  # acks=all
        futures = [
            producer.send(fresh_topic.name, key=str(i % 17).encode(), value=v)
            for i, v in enumerate(sent)
        ]
        producer.flush()
        metadata = [f.get(timeout=10) for f in futures]
    assert {m.partition for m in metadata} == {0, 1, 2}

    group = f"test-group-{uuid.uuid4().hex[:8]}"
    first = kafka_consumer(kafka, group, fresh_topic.name)
    records = drain(first, len(sent))
    assert sorted(r.value for r in records) == sorted(sent)

    # Commit only the first half of each partition, as if the rest had not been processed.
    committed: dict[TopicPartition, OffsetAndMetadata] = {}
    processed: set[bytes] = set()
    for partition in range(3):
        in_partition = [r for r in records if r.partition == partition]
        half = in_partition[: len(in_partition) // 2]
        processed.update(r.value for r in half)
        committed[TopicPartition(fresh_topic.name, partition)] = OffsetAndMetadata(
            half[-1].offset + 1, "", -1
        )
    first.commit(committed)
    first.close()

    second = kafka_consumer(kafka, group, fresh_topic.name)
    remaining = drain(second, len(sent) - len(processed))
    second.close()
    resumed = [r.value for r in remaining]
    assert sorted(resumed) == sorted(set(sent) - processed), (
        "restart must resume at committed offsets"
    )
    assert not processed.intersection(resumed)


def test_delete_topics_removes_the_prefix_and_nothing_else(kafka: KafkaSettings) -> None:
    run = f"run-{uuid.uuid4().hex[:8]}."
    ours = [Topic(run + "a", partitions=1), Topic(run + "b", partitions=2)]
    other = Topic(f"{run[:-1]}x.a", partitions=1)  # shares the text, not the prefix
    ensure_topics(kafka, [*ours, other])
    assert delete_topics(kafka, run) == [run + "a", run + "b"]
    admin = KafkaAdminClient(**kafka.client_options())
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            left = {name for name in admin.list_topics() if name.startswith(run[:-1])}
            if left == {other.name}:
                break
            time.sleep(0.2)
        assert left == {other.name}
    finally:
        admin.close()
    assert delete_topics(kafka, other.name) == [other.name]
    with pytest.raises(ValueError, match="prefix"):
        delete_topics(kafka, "")
