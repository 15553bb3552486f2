"""The Faust floor of ``bench processor --floor`` consumes and commits a whole backlog."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from credstream import faust_floor
from credstream.clients import kafka_producer
from credstream.observability import OffsetWatch
from credstream.pipeline import wait_until
from credstream.settings import KafkaSettings
from schemas.topics import Topic


def test_the_floor_agent_commits_every_record_of_the_backlog(
    kafka: KafkaSettings, fresh_topic: Topic, tmp_path: Path
) -> None:
    with kafka_producer(kafka) as producer:
        for i in range(2_000):
            producer.send(fresh_topic.name, key=f"k{i % 50}".encode(), value=b"x" * 100)
        producer.flush()
    group = f"test-floor-{uuid.uuid4().hex[:8]}"
    module = faust_floor.command(
        group, kafka.bootstrap_servers, fresh_topic.name, fresh_topic.partitions, tmp_path
    )
    floor = subprocess.Popen(
        [sys.executable, "-m", *module], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        with OffsetWatch(kafka) as watch:

            def caught_up() -> bool:
                assert floor.poll() is None, floor.stderr.read().decode() if floor.stderr else ""
                committed, end = watch.progress(group, fresh_topic.name)
                return committed >= end

            wait_until(caught_up, 90, "the floor agent to commit the backlog")
            progress = watch.progress(group, fresh_topic.name)
    finally:
        floor.terminate()
        floor.wait(timeout=30)
    assert progress == (2_000, 2_000)
