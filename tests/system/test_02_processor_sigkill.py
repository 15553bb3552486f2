"""Scenario 2: SIGKILL each processor three times during a 100,000-event run.

Two processors (Faust workers, each with its own RocksDB folder that survives its
restarts, like a pod's volume) share the assessment partitions; they are killed in turn,
each three times, while the backlog drains, and restarted at once. The awards must be
exactly the oracle's: a kill between a progress update and the award it causes must
neither lose the award nor issue it twice. Short: each processor killed once in 3,600
events.
"""

from __future__ import annotations

import time
from pathlib import Path

from credstream.e2e import expected_awards
from credstream.settings import KafkaSettings, S3Settings
from tests.integration.workers import new_pipeline, produce_events
from tests.system._harness import (
    Crew,
    audit,
    committed,
    sized,
    wait,
    wait_drained,
    workload_events,
)
from tests.system.conftest import Recorder


def test_processors_killed_three_times_each_lose_and_duplicate_nothing(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = workload_events(pipeline, mixed=sized(3000, 90_000), burst=sized(600, 10_000))
    expected = expected_awards(pipeline, events)
    produce_events(pipeline, events)
    rounds = sized(1, 3)
    kills = 0
    with Crew(pipeline) as crew:
        processors = [crew.start("processor"), crew.start("processor")]
        crew.start("signer")
        for number in range(2 * rounds):
            target = len(events) * (number + 1) // (2 * rounds + 1)
            wait(lambda t=target: committed(pipeline, "processor")[0] >= t, 1200, "events", crew)
            victim = number % 2
            crew.kill(processors[victim])
            kills += 1
            time.sleep(1)
            processors[victim] = crew.start("processor", name=f"processor-{victim + 1}")
        drain_seconds = wait_drained(pipeline, crew, sized(400, 1800))
        requests = committed(pipeline, "signer")[1]
    result = audit(pipeline, expected)
    scenario(
        2,
        "SIGKILL each processor three times",
        events=len(events),
        processors=2,
        kills=kills,
        award_requests=requests,
        drain_seconds=round(drain_seconds, 1),
        **result.figures(),
    )
    assert result.exact, result.explain()
