"""The processor's batched sends through the real broker: every record arrives, in order,
at the partition a keyed send would have picked."""

from __future__ import annotations

import asyncio
import os

from aiokafka import AIOKafkaProducer
from kafka.partitioner.default import murmur2  # kafka-python's, as Java's clients hash

from credstream.clients import kafka_consumer
from credstream.settings import KafkaSettings
from processors.stream._app import _PARTITIONER, _delivered, _send_batched
from schemas.topics import Topic
from tests.integration.workers import drain


def test_batched_sends_arrive_in_order_where_a_keyed_send_puts_them(
    kafka: KafkaSettings, fresh_topic: Topic
) -> None:
    # 600 records of 200 bytes: several 16 KiB batches per partition.
    records = [(f"t/learner-{n % 97}".encode(), os.urandom(200)) for n in range(600)]

    async def send() -> int:
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks=-1)
        await producer.start()
        try:
            partitions = sorted(await producer.partitions_for(fresh_topic.name))
            placed = ((_PARTITIONER(key, partitions, None), key, value) for key, value in records)
            sent = await _send_batched(producer, fresh_topic.name, placed)
            await _delivered(producer, sent)
            return len(sent)
        finally:
            await producer.stop()

    sends = asyncio.run(send())
    assert sends > fresh_topic.partitions  # some partition took more than one batch

    consumer = kafka_consumer(kafka, "test-batched-sends", fresh_topic.name)
    try:
        received = drain(consumer, len(records))
    finally:
        consumer.close()
    assert len(received) == len(records)
    for partition in range(fresh_topic.partitions):
        arrived = [(r.key, r.value) for r in sorted(received, key=lambda r: r.offset)
                   if r.partition == partition]  # fmt: skip
        expected = [(k, v) for k, v in records if (murmur2(k) & 0x7FFFFFFF) % 3 == partition]
        assert arrived == expected
