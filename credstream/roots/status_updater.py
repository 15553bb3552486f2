"""Composition root of the status-list updater (``credstream status-updater``)."""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from credstream.observability import MetricsSettings
from credstream.settings import KafkaSettings, S3Settings
from signers.keys import KeySettings

GROUP = "credstream-status-updater"
log = logging.getLogger("credstream.status")


def status_updater_group(settings: KafkaSettings) -> str:
    """The consumer group of the status-list updaters of one topology."""
    return settings.topic_prefix + GROUP


class StatusUpdaterSettings(BaseSettings):
    """Settings of a status-list updater. Environment prefix ``CREDSTREAM_STATUS_``;
    Kafka, the store, keys and metrics from ``CREDSTREAM_KAFKA_``, ``CREDSTREAM_S3_``,
    ``CREDSTREAM_KEYS_`` and ``CREDSTREAM_METRICS_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_STATUS_", frozen=True)

    # A change is published within linger + one re-sign and two writes per touched list:
    # keep linger well under the 5 s visibility target.
    linger_ms: int = Field(default=1000, ge=0, le=4000)
    max_batch: int = Field(default=5000, ge=1, le=50_000)
    # credentialSubject.ttl of published lists (ms): how long verifiers may cache them.
    # 0 leaves it out.
    ttl_ms: int = Field(default=60_000, ge=0)
    # Where the bucket is served: the lists' ids, as the signer writes them into
    # credentials. One variable for both (CREDSTREAM_SIGNER_PUBLIC_BASE_URL) unless this
    # one is set.
    public_base_url: str = Field(
        default="http://127.0.0.1:7070/credentials",
        validation_alias=AliasChoices(
            "CREDSTREAM_STATUS_PUBLIC_BASE_URL", "CREDSTREAM_SIGNER_PUBLIC_BASE_URL"
        ),
    )
    # How often empty lists are provisioned for new tenants and list ids.
    provision_every_seconds: float = Field(default=10.0, gt=0)
    store_connections: int = Field(default=2, ge=1)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    keys: KeySettings = Field(default_factory=KeySettings)


def run_status_updater(settings: StatusUpdaterSettings) -> None:
    from typing import Any

    from kafka import TopicPartition

    from credstream.clients import kafka_consumer, kafka_producer
    from credstream.observability import Metrics, consumer_lag, serve
    from processors.catalog_feed import CatalogFeed
    from schemas.codec import Codec
    from signers.consuming import BatchLoop, send_dead_letters
    from signers.keys import SigningKey, open_key
    from signers.proofs import default_canonicalizer
    from signers.status import StatusUpdater, lists_in_use
    from signers.storage import pipelined_store

    if settings.keys.backend == "local":
        settings.keys.require_passphrase()  # fails at start, naming the variable
    metrics = Metrics("status-updater")
    group = status_updater_group(settings.kafka)
    topology = settings.kafka.topology()
    # Tenants and their issuers, for provisioning (changes take the issuer from the credential).
    feed = CatalogFeed(lambda: kafka_consumer(settings.kafka, None), topology.catalog.name)
    feed.start()
    keys: dict[str, SigningKey] = {}

    def tenant_key(tenant: str) -> SigningKey:
        if tenant not in keys:
            keys[tenant] = open_key(settings.keys, tenant)
        return keys[tenant]

    store = pipelined_store(settings.s3, connections=settings.store_connections)
    producer = kafka_producer(settings.kafka)
    updater = StatusUpdater(
        store,
        Codec(),
        tenant_key,
        default_canonicalizer(),
        metrics,
        lambda: datetime.now(UTC),
        ttl_ms=settings.ttl_ms or None,
    )
    consumer = kafka_consumer(settings.kafka, group, max_poll_records=settings.max_batch)
    requests = topology.requests.name

    def provision() -> None:
        """Empty lists for every tenant and every list a slot can point at by now."""
        partitions = [
            TopicPartition(requests, p) for p in consumer.partitions_for_topic(requests) or []
        ]
        ends = {
            topology.partition_label(tp.partition): end
            for tp, end in consumer.end_offsets(partitions).items()
        }
        issuers = {tenant: c.issuer.id for tenant, c in feed.catalogs().items()}
        created = updater.provision(issuers, lists_in_use(ends), settings.public_base_url)
        if created:
            log.info("provisioned %d empty status lists", len(created))

    loop = BatchLoop(
        consumer,
        [topology.status.name],
        max_batch=settings.max_batch,
        linger_ms=settings.linger_ms,
        periodic=[
            (settings.provision_every_seconds, provision),
            (5.0, lambda: metrics.set_consumer_lag(group, consumer_lag(consumer))),
        ],
    )

    def process(records: list[Any]) -> None:
        send_dead_letters(producer, updater.update(records).dead_letters)

    server = serve(metrics, settings.metrics)
    signal.signal(signal.SIGTERM, lambda *_: loop.stop())
    try:
        loop.run(process)
    finally:
        producer.close()
        store.close()
        feed.stop()
        server.close()
