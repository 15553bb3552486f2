"""Scenario 3: replay everything. Every consumer group back to the earliest offset, and run
the four workers again: no new objects, no changed object, no new notification.

The first run issues, renders badges and applies status changes (revocations and a
suspension); then the processor, signer, renderer and status-updater groups are all
rewound to offset 0 and the same workers read every topic again from the start.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from credstream.e2e import expected_awards
from credstream.pipeline import LocalPipeline
from credstream.settings import KafkaSettings, S3Settings
from tests.integration.workers import new_pipeline, produce_events
from tests.system._harness import (
    Crew,
    audit,
    committed,
    rewind,
    sized,
    snapshot,
    topic_end,
    wait_drained,
    workload_events,
)
from tests.system.conftest import Recorder

STAGES = ("processor", "signer", "renderer", "status-updater")


def _change_status(pipeline: LocalPipeline, action: str, credential_id: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "credstream", action, credential_id, "--tenant", pipeline.tenant,
         "--reason", "replay scenario"],
        env=pipeline.env(), check=True, capture_output=True,
    )  # fmt: skip


def test_replaying_every_group_from_the_start_changes_nothing(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = workload_events(pipeline, mixed=sized(1000, 20_000), burst=sized(300, 10_000))
    expected = expected_awards(pipeline, events)
    produce_events(pipeline, events)
    topology = pipeline.topology
    watched = {
        "requests": topology.requests.name,
        "notifications": topology.issued.name,
        "event dead letters": topology.dead_letters(topology.assessments).name,
        "request dead letters": topology.dead_letters(topology.requests).name,
    }
    with Crew(pipeline, CREDSTREAM_SIGNER_PROCESSES="1") as crew:
        workers = [crew.start(stage) for stage in STAGES]
        first_seconds = wait_drained(pipeline, crew, sized(300, 1800), STAGES[:3])
        changed = sorted(a.credential_id for a in expected)[:3]
        for action, credential_id in zip(("revoke", "revoke", "suspend"), changed, strict=True):
            _change_status(pipeline, action, credential_id)
        wait_drained(pipeline, crew, 120, STAGES)
        for worker in workers:
            crew.stop(worker)
        before = snapshot(pipeline)
        ends = {name: topic_end(pipeline, topic) for name, topic in watched.items()}

        for stage in STAGES:
            rewind(pipeline, stage)
        assert all(committed(pipeline, stage)[0] == 0 for stage in STAGES)
        for stage in STAGES:
            crew.start(stage, name=f"{stage}-1")
        replay_seconds = wait_drained(pipeline, crew, sized(300, 1800), STAGES)
        time.sleep(3)  # any late write lands before we look (the status updater lingers)
        crew.close()
    after = snapshot(pipeline)
    new_objects = sorted(set(after) - set(before))
    changed_objects = sorted(k for k in before if after.get(k) != before[k])
    again = {name: topic_end(pipeline, topic) - ends[name] for name, topic in watched.items()}
    result = audit(pipeline, expected, badges=True)
    scenario(
        3,
        "replay every consumer group from the earliest offset",
        events=len(events),
        objects=len(before),
        new_objects=len(new_objects),
        changed_objects=len(changed_objects),
        new_records=again,
        status_changes=len(changed),
        first_run_seconds=round(first_seconds, 1),
        replay_seconds=round(replay_seconds, 1),
        **result.figures(),
    )
    assert result.exact, result.explain()
    assert new_objects == [] and changed_objects == [], (new_objects[:5], changed_objects[:5])
    assert again == dict.fromkeys(watched, 0), again
