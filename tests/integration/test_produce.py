"""The producer SDK and ``credstream produce`` against the real broker."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from credstream.cli import cli
from credstream.clients import kafka_consumer
from credstream.commands import register
from credstream.settings import KafkaSettings
from producers import (
    AssessmentEventProducer,
    DeliveryError,
    EngineRegistry,
    Workload,
    generate,
    synthetic_courses,
    verify_event,
)
from schemas.codec import Codec
from schemas.models import AssessmentCompleted
from schemas.topics import Topic

SAMPLES = Path(__file__).parents[1] / "data" / "samples"


def _read(kafka: KafkaSettings, topic: str, want: int, seconds: float = 90.0) -> list:  # type: ignore[type-arg]
    consumer = kafka_consumer(kafka, f"test-{uuid.uuid4().hex[:8]}", topic)
    records: list = []  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    while len(records) < want and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500, max_records=5000).values():
            records.extend(batch)
    # A little longer: nothing beyond what was sent may arrive.
    for batch in consumer.poll(timeout_ms=1000).values():
        records.extend(batch)
    consumer.close()
    return records


def test_ten_thousand_synthetic_events_arrive_exactly_and_signed(
    kafka: KafkaSettings, fresh_topic: Topic, tmp_path: Path
) -> None:
    registry = EngineRegistry(tmp_path)
    registry.add("mooc-engine", datetime.now(UTC))
    workload = Workload(
        synthetic_courses(10), learners=500, events=10_000, seed=3, engine_id="mooc-engine"
    )
    sent = list(generate(workload))
    with AssessmentEventProducer.connect(
        kafka, registry.signer("mooc-engine"), topic=fresh_topic.name
    ) as producer:
        for event in sent:
            producer.send(event)
        report = producer.flush()
    assert (report.sent, report.failed) == (10_000, 0)

    records = _read(kafka, fresh_topic.name, len(sent))
    codec = Codec()
    keys = registry.public_keys()
    received = []
    partitions: dict[bytes, set[int]] = {}
    for record in records:
        event = codec.decode_as(record.value, AssessmentCompleted)
        verify_event(
            event_id=event.event_id,
            engine_id=event.engine_id,
            schema_fingerprint=codec.writer_fingerprint(record.value),
            value=record.value,
            headers=record.headers,
            public_keys=keys,
        )
        assert record.key == f"{event.tenant_id}/{event.learner.id}".encode()
        partitions.setdefault(record.key, set()).add(record.partition)
        received.append(event)
    assert Counter(e.event_id for e in received) == Counter(e.event_id for e in sent)
    assert {e.event_id: e for e in received} == {e.event_id: e for e in sent}
    assert all(len(p) == 1 for p in partitions.values())  # a learner's events stay ordered
    assert len({p for ps in partitions.values() for p in ps}) == fresh_topic.partitions


def test_delivery_errors_reach_the_caller(kafka: KafkaSettings, tmp_path: Path) -> None:
    registry = EngineRegistry(tmp_path)
    registry.add("lms", datetime.now(UTC))
    event = next(generate(Workload(synthetic_courses(1), events=1, engine_id="lms")))
    producer = AssessmentEventProducer.connect(
        kafka,
        registry.signer("lms"),
        topic=f"test.missing.{uuid.uuid4().hex[:8]}",
        allow_auto_create_topics=False,
        max_block_ms=1500,
    )
    with pytest.raises(DeliveryError, match=event.event_id):
        producer.send(event)
    with pytest.raises(DeliveryError):
        producer.close(timeout=5)


def test_produce_command_sends_a_backfill_file(
    kafka: KafkaSettings, fresh_topic: Topic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDSTREAM_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap_servers)
    monkeypatch.setenv("CREDSTREAM_ENGINES_DIR", str(tmp_path))
    register(cli)
    runner = CliRunner()
    added = runner.invoke(cli, ["engines", "add", "registrar"])
    assert added.exit_code == 0, added.output
    assert (tmp_path / "registrar.key").read_text().strip() not in added.output
    arguments = ["produce", str(SAMPLES / "backfill" / "results-2025.csv"), "--format", "csv"]
    arguments += ["--tenant", "uni", "--engine", "registrar", "--topic", fresh_topic.name]
    result = runner.invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    assert "sent 4 events" in result.output and "0 failed" in result.output
    events = [
        Codec().decode_as(r.value, AssessmentCompleted) for r in _read(kafka, fresh_topic.name, 4)
    ]
    assert sorted((e.learner.id, e.assessment_id, e.attempt) for e in events) == [
        ("l-0001", "da-101/m1", 1),
        ("l-0001", "da-101/m2", 1),
        ("l-0001", "da-101/m2", 2),
        ("l-0002", "da-101/m1", 1),
    ]
    rejected = runner.invoke(
        cli, ["produce", str(SAMPLES / "backfill" / "results-bad.csv"), "--format", "csv",
              "--engine", "registrar", "--topic", fresh_topic.name],
    )  # fmt: skip
    assert rejected.exit_code == 2
    assert "nothing sent" in rejected.output
    assert len(_read(kafka, fresh_topic.name, 5, seconds=5)) == 4  # the bad file sent nothing
