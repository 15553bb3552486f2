"""Scenario 7: a rebalance storm. Every 10 s a processor or a signer is added or removed
(SIGTERM, a graceful stop) for 3 minutes while events arrive: every change moves
partitions, every stop hands over mid-stream. Exactness afterwards, and the issuance
log (manifest chains) must stay linear. Short: every 5 s for 30 s.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from credstream.e2e import expected_awards, produce
from credstream.settings import KafkaSettings, S3Settings
from tests.integration.workers import new_pipeline
from tests.system._harness import Crew, audit, sized, wait_drained, workload_events
from tests.system.conftest import Recorder

KINDS = ("processor", "signer")
MOST = 3


def test_a_rebalance_storm_loses_and_duplicates_nothing(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    storm, every = sized(30, 180), sized(5, 10)
    rate = sized(150, 150)
    events = workload_events(pipeline, mixed=int(storm * rate * 0.7), burst=int(storm * rate * 0.3))
    expected = expected_awards(pipeline, events)
    rng = random.Random(10)
    changes: list[str] = []
    with Crew(pipeline, CREDSTREAM_SIGNER_PROCESSES="1") as crew:
        for kind in KINDS:
            crew.start(kind)
        producer = threading.Thread(target=produce, args=(pipeline, events, rate), daemon=True)
        producer.start()
        started = time.monotonic()
        while time.monotonic() - started < storm:
            time.sleep(every)
            kind = rng.choice(KINDS)
            live = crew.live(kind)
            grow = len(live) == 1 or (len(live) < MOST and rng.random() < 0.5)
            if grow:
                crew.start(kind)
                changes.append(f"+{kind}")
            else:
                crew.stop(rng.choice(live))
                changes.append(f"-{kind}")
            crew.check()
        producer.join(timeout=600)
        drain_seconds = wait_drained(pipeline, crew, sized(600, 1800))
    result = audit(pipeline, expected)
    scenario(
        7,
        "rebalance storm (add or remove a worker every 10 s for 3 min)",
        events=len(events),
        rate=rate,
        storm_seconds=storm,
        changes=len(changes),
        added=sum(1 for c in changes if c.startswith("+")),
        removed=sum(1 for c in changes if c.startswith("-")),
        drain_seconds=round(drain_seconds, 1),
        **result.figures(),
    )
    assert result.exact, result.explain()
