"""Run real worker processes (``credstream <worker>``) against the local stack in tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from credstream.clients import ensure_topics, kafka_producer
from credstream.settings import KafkaSettings, S3Settings
from processors.catalog import TenantCatalog, encode_catalog, load_catalog
from producers import AssessmentEventProducer, CourseSpec, EngineRegistry, Workload, generate
from schemas.models import AssessmentCompleted
from schemas.topics import Topology
from signers.keys import KeySettings, generate_key

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CATALOG = ROOT / "deploy" / "catalogs" / "example-u.yaml"
ENGINE = "it-engine"
PASSPHRASE = "integration-test-passphrase"


@dataclass(frozen=True)
class Pipeline:
    """An isolated pipeline on the shared stack: its own topics, tenant and keys."""

    kafka: KafkaSettings
    store: S3Settings
    keys: KeySettings
    catalog: TenantCatalog
    engines_dir: Path

    @property
    def topology(self) -> Topology:
        return self.kafka.topology()

    @property
    def tenant(self) -> str:
        return self.catalog.tenant

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "CREDSTREAM_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            "CREDSTREAM_KAFKA_TOPIC_PREFIX": self.kafka.topic_prefix,
            "CREDSTREAM_S3_ENDPOINT_URL": self.store.endpoint_url or "",
            "CREDSTREAM_S3_BUCKET": self.store.bucket,
            "CREDSTREAM_KEYS_KEYRING_DIR": str(self.keys.keyring_dir),
            "CREDSTREAM_KEYS_PASSPHRASE": PASSPHRASE,
            "CREDSTREAM_METRICS_PORT": "0",
            "CREDSTREAM_PROCESSOR_ENGINES_DIR": str(self.engines_dir),
            "CREDSTREAM_PROCESSOR_STORE": "memory://",
            "CREDSTREAM_PROCESSOR_DATA_DIR": str(self.engines_dir.parent / "processor"),
            **extra,
        }


def new_pipeline(kafka: KafkaSettings, store: S3Settings, tmp: Path) -> Pipeline:
    run = uuid.uuid4().hex[:8]
    settings = kafka.model_copy(update={"topic_prefix": f"it-{run}."})
    ensure_topics(settings, settings.topology().all())
    catalog = load_catalog(SAMPLE_CATALOG).model_copy(update={"tenant": f"it-{run}"})
    keys = KeySettings(keyring_dir=tmp / "keys", passphrase=PASSPHRASE)
    generate_key(keys, catalog.tenant, now=datetime.now(UTC), did=catalog.issuer.id)
    with kafka_producer(settings) as producer:
        producer.send(
            settings.topology().catalog.name,
            key=catalog.tenant.encode(),
            value=encode_catalog(catalog),
        )
        producer.flush()
    engines = tmp / "engines"
    EngineRegistry(engines).add(ENGINE, datetime.now(UTC))
    return Pipeline(settings, store, keys, catalog, engines)


def catalog_courses(catalog: TenantCatalog) -> tuple[CourseSpec, ...]:
    """The courses a catalog's assessment rules name, for the synthetic workload."""
    from processors.catalog import AssessmentRule

    found: dict[str, set[str]] = {}

    def visit(rule: object) -> None:
        if isinstance(rule, AssessmentRule):
            found.setdefault(rule.course, set()).add(rule.assessment)
        for child in (
            getattr(rule, "all_of", ()) + getattr(rule, "any_of", ()) + getattr(rule, "of", ())
        ):
            visit(child)

    for achievement in catalog.achievements:
        visit(achievement.criteria.rule)
    return tuple(CourseSpec(course, tuple(sorted(ids))) for course, ids in sorted(found.items()))


def synthetic_events(
    pipeline: Pipeline, events: int, learners: int, seed: int = 7
) -> list[AssessmentCompleted]:
    workload = Workload(
        courses=catalog_courses(pipeline.catalog),
        learners=learners,
        events=events,
        seed=seed,
        tenant_id=pipeline.tenant,
        engine_id=ENGINE,
    )
    return list(generate(workload))


def produce_events(pipeline: Pipeline, events: list[AssessmentCompleted]) -> None:
    registry = EngineRegistry(pipeline.engines_dir)
    with AssessmentEventProducer.connect(
        pipeline.kafka, registry.signer(ENGINE), topic=pipeline.topology.assessments.name
    ) as producer:
        for event in events:
            producer.send(event)
        producer.flush()


@contextmanager
def worker(pipeline: Pipeline, name: str, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """A ``credstream NAME`` process; stopped with SIGTERM (then SIGKILL) on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "credstream", name, "--log-level", "warning"],
        env=pipeline.env(**env),
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def read_topic(kafka: KafkaSettings, topic: str, want: int, seconds: float = 90) -> list:  # type: ignore[type-arg]
    """Every record of ``topic`` from the beginning, waiting until at least ``want``."""
    consumer = KafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False, group_id=None
    )
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records: list = []  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
        ends = consumer.end_offsets(partitions)
        if len(records) >= want and all(consumer.position(tp) >= ends[tp] for tp in partitions):
            break
    consumer.close()
    return records


def committed_everything(kafka: KafkaSettings, group: str, topic: str) -> bool:
    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=group)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    ends = consumer.end_offsets(partitions)
    done = all((consumer.committed(tp) or 0) >= ends[tp] for tp in partitions)
    consumer.close()
    return done


def wait_until(  # type: ignore[no-untyped-def]
    condition, seconds: float = 90, what: str = "condition", alive=()
) -> None:
    """Poll ``condition``; fail early if a process in ``alive`` has exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        for process in alive:
            if process.poll() is not None:
                raise AssertionError(f"{process.args} exited ({process.returncode}) before {what}")
        time.sleep(0.5)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")
