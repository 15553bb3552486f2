"""The Faust floor of ``bench processor --floor`` consumes and commits a whole backlog."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

from credstream.clients import kafka_producer
from credstream.pipeline import OffsetWatch
from credstream.settings import KafkaSettings
from schemas.topics import Topic


def test_the_floor_agent_commits_every_record_of_the_backlog(
    kafka: KafkaSettings, fresh_topic: Topic
) -> None:
    with kafka_producer(kafka) as producer:
        for i in range(2_000):
            producer.send(fresh_topic.name, key=f"k{i % 50}".encode(), value=b"x" * 100)
        producer.flush()
    group = f"test-floor-{uuid.uuid4().hex[:8]}"
    floor = subprocess.Popen(
        [sys.executable, "-m", "credstream.faust_floor", group, kafka.bootstrap_servers,
         fresh_topic.name, str(fresh_topic.partitions)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        with OffsetWatch(kafka) as watch:
            deadline = time.monotonic() + 90
            committed, end = watch.progress(group, fresh_topic.name)
            while committed < end and time.monotonic() < deadline:
                assert floor.poll() is None, floor.stderr.read().decode() if floor.stderr else ""
                time.sleep(0.5)
                committed, end = watch.progress(group, fresh_topic.name)
    finally:
        floor.terminate()
        floor.wait(timeout=30)
    assert (committed, end) == (2_000, 2_000)
