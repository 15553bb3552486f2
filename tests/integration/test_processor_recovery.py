"""A processor that loses its local state rebuilds learners' progress from the changelog."""

from __future__ import annotations

import shutil
from pathlib import Path

from credstream.e2e import expected_awards
from credstream.pipeline import group_progress, read_all, running, wait_until
from credstream.roots.processor import APP_ID
from credstream.settings import KafkaSettings, S3Settings
from schemas.codec import Codec
from schemas.models import CredentialRequested
from tests.integration.workers import (
    committed_everything,
    new_pipeline,
    produce_events,
    synthetic_events,
)


def test_progress_survives_a_new_processor_without_local_state(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = synthetic_events(pipeline, 3000, learners=120)
    expected = expected_awards(pipeline, events)
    group = f"{pipeline.kafka.topic_prefix}{APP_ID}"
    source = pipeline.topology.assessments.name
    data_dir = tmp_path / "processor-state"
    env = {"CREDSTREAM_PROCESSOR_DATA_DIR": str(data_dir)}

    for half in (events[:1500], events[1500:]):
        produce_events(pipeline, half)
        with running(pipeline, ["processor"], **env) as workers:
            wait_until(
                lambda: committed_everything(pipeline.kafka, group, source),
                seconds=180,
                what="the processor to commit every event",
                alive=list(workers.values()),
            )
        # A new pod: nothing local, so the second half is evaluated on restored progress.
        shutil.rmtree(data_dir)

    codec = Codec()
    requests = [
        codec.decode_as(r.value, CredentialRequested)
        for r in read_all(pipeline.kafka, pipeline.topology.requests.name, len(expected))
    ]
    dead = read_all(
        pipeline.kafka,
        pipeline.topology.dead_letters(pipeline.topology.assessments).name,
        0,
        seconds=5,
    )
    assert [dict(d.headers)["cs-dlq-error"] for d in dead] == []  # every event was accepted
    # Awards completed in the second half by results from the first: exactly the oracle's.
    assert sorted((r.credential_id, r.awarded_at) for r in requests) == sorted(
        (a.credential_id, a.awarded_at) for a in expected
    )


def test_a_processor_stopped_while_busy_loses_nothing(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path
) -> None:
    """SIGTERM with a backlog (a rolling deploy, a scale-in): the stop must not commit
    events it did not process, and the successor must award exactly the oracle's."""
    pipeline = new_pipeline(kafka, store, tmp_path)
    # A backlog the three short runs below cannot drain: each stops right after its first
    # commit (one drained 12,000 in CI, and whole fetched batches made it ~2x faster).
    events = synthetic_events(pipeline, 40_000, learners=2000)
    expected = expected_awards(pipeline, events)
    group = f"{pipeline.kafka.topic_prefix}{APP_ID}"
    source = pipeline.topology.assessments.name
    produce_events(pipeline, events)
    for _ in range(3):
        before = group_progress(pipeline.kafka, group, source)[0]
        with running(pipeline, ["processor"]) as workers:
            wait_until(
                lambda before=before: group_progress(pipeline.kafka, group, source)[0] > before,
                seconds=180,
                what="the processor to commit some events",
                alive=list(workers.values()),
            )
    stopped_at, end = group_progress(pipeline.kafka, group, source)
    assert stopped_at < end  # the stops did land mid-backlog
    with running(pipeline, ["processor"]) as workers:
        wait_until(
            lambda: committed_everything(pipeline.kafka, group, source),
            seconds=300,
            what="the processor to commit every event",
            alive=list(workers.values()),
        )
    codec = Codec()
    requests = {
        (r.credential_id, r.awarded_at)
        for r in (
            codec.decode_as(record.value, CredentialRequested)
            for record in read_all(pipeline.kafka, pipeline.topology.requests.name, len(expected))
        )
    }
    assert requests == {(a.credential_id, a.awarded_at) for a in expected}
