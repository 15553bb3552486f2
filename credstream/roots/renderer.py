"""Composition root of the renderer (``credstream renderer``): baked PNG and SVG badges."""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from credstream.observability import MetricsSettings
from credstream.settings import KafkaSettings, S3Settings

GROUP = "credstream-renderer"


def renderer_group(settings: KafkaSettings) -> str:
    """The consumer group of the renderers of one topology (prefixed like its topics)."""
    return settings.topic_prefix + GROUP


class RendererSettings(BaseSettings):
    """Settings of a renderer process. Environment prefix ``CREDSTREAM_RENDERER_``; Kafka,
    the store and metrics from ``CREDSTREAM_KAFKA_``, ``CREDSTREAM_S3_`` and
    ``CREDSTREAM_METRICS_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_RENDERER_", frozen=True)

    max_batch: int = Field(default=200, ge=1, le=5_000)
    linger_ms: int = Field(default=200, ge=0)
    # How long an issuer's uploaded artwork is cached before it is looked up again.
    artwork_ttl_seconds: float = Field(default=300.0, ge=0)
    store_connections: int = Field(default=4, ge=1)
    # Issuance first (signers/render/_yield.py): the renderer pauses while issuance is
    # more than yield_above_seconds behind (what waits for the processors and signers,
    # over the rate they work at).
    yield_to_issuance: bool = True
    yield_above_seconds: float = Field(default=0.5, ge=0)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    s3: S3Settings = Field(default_factory=S3Settings)


def run_renderer(settings: RendererSettings) -> None:
    from typing import Any

    from credstream.clients import kafka_consumer, kafka_producer
    from credstream.observability import Metrics, OffsetWatch, consumer_lag, serve
    from credstream.roots.processor import processor_group
    from credstream.roots.signer import signer_group
    from schemas.codec import Codec
    from signers.consuming import BatchLoop, send_dead_letters
    from signers.render import ArtworkSource, Renderer, YieldToIssuance
    from signers.storage import pipelined_store

    metrics = Metrics("renderer")
    group = renderer_group(settings.kafka)
    store = pipelined_store(settings.s3, connections=settings.store_connections)
    producer = kafka_producer(settings.kafka)
    renderer = Renderer(
        store,
        ArtworkSource(store.get_many, settings.artwork_ttl_seconds),
        Codec(),
        metrics,
        lambda: datetime.now(UTC),
    )
    consumer = kafka_consumer(settings.kafka, group, max_poll_records=settings.max_batch)
    periodic: list[tuple[float, Callable[[], object]]] = [
        (5.0, lambda: metrics.set_consumer_lag(group, consumer_lag(consumer)))
    ]
    watch = OffsetWatch(settings.kafka)
    if settings.yield_to_issuance:
        topology = settings.kafka.topology()
        issuance = [
            (processor_group(settings.kafka), topology.assessments.name),
            (signer_group(settings.kafka), topology.requests.name),
        ]

        def issuance_progress() -> list[tuple[int, int]]:
            return [watch.progress(*stage) for stage in issuance]

        periodic.append(
            (1.0, YieldToIssuance(consumer, issuance_progress, settings.yield_above_seconds))
        )
    loop = BatchLoop(
        consumer,
        [settings.kafka.topology().issued.name],
        max_batch=settings.max_batch,
        linger_ms=settings.linger_ms,
        periodic=periodic,
    )

    def process(records: list[Any]) -> None:
        send_dead_letters(producer, renderer.render(records).dead_letters)

    server = serve(metrics, settings.metrics)
    signal.signal(signal.SIGTERM, lambda *_: loop.stop())
    try:
        loop.run(process)
    finally:
        watch.close()
        producer.close()
        store.close()
        server.close()
