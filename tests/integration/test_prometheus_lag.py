"""consumer_lag against the real broker: end offsets minus committed offsets, per topic."""

from __future__ import annotations

import uuid

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from credstream.clients import kafka_consumer, kafka_producer
from credstream.observability import Metrics, consumer_lag, parse_metrics
from credstream.settings import KafkaSettings
from schemas.topics import Topic


def test_lag_is_what_the_group_has_not_committed(kafka: KafkaSettings, fresh_topic: Topic) -> None:
    with kafka_producer(kafka) as producer:
        for i in range(30):
            producer.send(fresh_topic.name, value=b"x", partition=i % 3)
        producer.flush()
    consumer = kafka_consumer(kafka, f"lag-{uuid.uuid4().hex[:8]}", fresh_topic.name)
    try:
        read = 0
        for _ in range(50):
            batches = consumer.poll(timeout_ms=500, max_records=4)
            if batches:
                read = sum(len(records) for records in batches.values())
                break
        assert read > 0
        # Nothing committed yet: the lag is measured from the position (what was fetched).
        assert consumer_lag(consumer) == {fresh_topic.name: 30 - read}
        # Commit 4 records of partition 0 only: the committed offset is what counts now.
        first = TopicPartition(fresh_topic.name, 0)
        consumer.commit({first: OffsetAndMetadata(4, "", -1)})
        lag = consumer_lag(consumer)
        positions = sum(consumer.position(TopicPartition(fresh_topic.name, p)) for p in (1, 2))
        assert lag == {fresh_topic.name: (10 - 4) + (20 - positions)}
        metrics = Metrics("processor")
        metrics.set_consumer_lag("lag-test", lag)
        samples = parse_metrics(metrics.exposition()[0].decode())
        key = ("credstream_consumer_lag", (("group", "lag-test"), ("topic", fresh_topic.name)))
        assert samples[key] == lag[fresh_topic.name]
    finally:
        consumer.close()
