"""Isolated pipelines on the shared local stack for the integration tests."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from credstream.pipeline import LocalPipeline, catalog_courses, group_progress, prepare
from credstream.settings import KafkaSettings, S3Settings
from processors.catalog import load_catalog
from producers import AssessmentEventProducer, EngineRegistry, Workload, generate
from schemas.models import AssessmentCompleted

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CATALOG = ROOT / "deploy" / "catalogs" / "example-u.yaml"
PASSPHRASE = "integration-test-passphrase"


def new_pipeline(kafka: KafkaSettings, store: S3Settings, tmp: Path) -> LocalPipeline:
    """Its own topic prefix, tenant, key ring and engine; the sample catalog."""
    run = uuid.uuid4().hex[:8]
    pipeline = LocalPipeline(
        kafka=kafka.model_copy(update={"topic_prefix": f"it-{run}."}),
        store=store,
        catalog=load_catalog(SAMPLE_CATALOG).model_copy(update={"tenant": f"it-{run}"}),
        home=tmp,
        passphrase=PASSPHRASE,
    )
    prepare(pipeline)
    return pipeline


def synthetic_events(
    pipeline: LocalPipeline, events: int, learners: int, seed: int = 7
) -> list[AssessmentCompleted]:
    workload = Workload(
        courses=catalog_courses(pipeline.catalog),
        learners=learners,
        events=events,
        seed=seed,
        tenant_id=pipeline.tenant,
        engine_id=pipeline.engine_id,
    )
    return list(generate(workload))


def produce_events(pipeline: LocalPipeline, events: list[AssessmentCompleted]) -> None:
    registry = EngineRegistry(pipeline.engines_dir)
    with AssessmentEventProducer.connect(
        pipeline.kafka,
        registry.signer(pipeline.engine_id),
        topic=pipeline.topology.assessments.name,
    ) as producer:
        for event in events:
            producer.send(event)
        producer.flush()


def committed_everything(kafka: KafkaSettings, group: str, topic: str) -> bool:
    committed, end = group_progress(kafka, group, topic)
    return committed >= end


def drain(consumer: Any, want: int, seconds: float = 30.0) -> list[Any]:
    """Poll a kafka-python consumer until ``want`` records came, or ``seconds`` passed."""
    records: list[Any] = []
    deadline = time.monotonic() + seconds
    while len(records) < want and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    return records
