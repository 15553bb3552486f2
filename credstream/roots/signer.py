"""Composition root of the signing service (``credstream signer``)."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from credstream.clients import kafka_consumer, kafka_producer, s3_client
from credstream.errors import ConfigurationError
from credstream.observability import MetricsSettings
from credstream.settings import KafkaSettings, S3Settings
from processors.catalog_feed import CatalogFeed
from signers.credential import BuildOptions
from signers.keys import KeySettings, SigningKey, open_key
from signers.service import Signed

GROUP = "credstream-signer"


def signer_group(settings: KafkaSettings) -> str:
    """The consumer group of the signers of one topology (prefixed like its topics)."""
    return settings.topic_prefix + GROUP


class SignerSettings(BaseSettings):
    """Settings of a signer process. Environment prefix ``CREDSTREAM_SIGNER_``; Kafka, the
    store and keys come from ``CREDSTREAM_KAFKA_``, ``CREDSTREAM_S3_`` and
    ``CREDSTREAM_KEYS_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_SIGNER_", frozen=True)

    public_base_url: str = "http://127.0.0.1:7070/credentials"
    suite: Literal["eddsa-rdfc-2022", "eddsa-jcs-2022"] = "eddsa-rdfc-2022"
    # "reference": pyld canonicalization (the benchmark baseline); "default": the fast path.
    canonicalization: Literal["default", "reference"] = "default"
    # "pipelined": SigV4 requests pipelined over pooled connections; "boto3": put_object.
    store: Literal["pipelined", "boto3"] = "pipelined"
    # Signing worker processes; 0 signs in the consuming process.
    processes: int | None = Field(default=None, ge=0)
    # 1,000: what a batch does once (a manifest signed and stored, two fences, a flush, a
    # commit) is shared by more credentials. Burst runs of 40,000 events, 2026-12-01:
    # median 1,825 credentials/s over 8 runs against 1,630 over 4 with 500, within the
    # machine's noise (1,549-2,188).
    max_batch: int = Field(default=1000, ge=1, le=10_000)
    linger_ms: int = Field(default=50, ge=0)
    status_lists: bool = True
    store_connections: int = Field(default=4, ge=1)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    keys: KeySettings = Field(default_factory=KeySettings)


def run_signer(settings: SignerSettings) -> None:
    from credstream.observability import Metrics, consumer_lag, serve
    from schemas.codec import Codec
    from signers.consuming import BatchLoop
    from signers.service import ManifestWriter, S3ManifestIndex, SignerService, SigningPool
    from signers.storage import Boto3Store, WriteOnceStore, pipelined_store

    if not settings.keys.passphrase and settings.keys.backend == "local":
        settings.keys.require_passphrase()  # fails naming the variable
    metrics = Metrics("signer")
    topology = settings.kafka.topology()
    feed = CatalogFeed(lambda: kafka_consumer(settings.kafka, None), topology.catalog.name)
    feed.start()
    keys: dict[str, SigningKey] = {}

    def tenant_key(tenant: str) -> SigningKey:
        if tenant not in keys:
            keys[tenant] = open_key(settings.keys, tenant)
        return keys[tenant]

    def issuer_id(tenant: str) -> str:
        catalog = feed.catalogs().get(tenant)
        if catalog is None:
            raise ConfigurationError(f"no catalog for tenant {tenant!r}")
        return catalog.issuer.id

    index = S3ManifestIndex(s3_client(settings.s3), settings.s3.bucket)
    store: WriteOnceStore = (
        pipelined_store(settings.s3, connections=settings.store_connections)
        if settings.store == "pipelined"
        else Boto3Store(s3_client(settings.s3), settings.s3.bucket)
    )
    options = BuildOptions(settings.public_base_url, status_lists=settings.status_lists)
    pool = SigningPool(
        options, settings.keys, settings.suite, settings.processes, settings.canonicalization
    )
    # Every batch's sends end in flush(), so records never wait for the linger: a long one
    # and large batches wake the sender thread once per partition and batch, not every few
    # records (kafka-python wakes it for each new batch).
    producer = kafka_producer(
        settings.kafka, max_request_size=4_194_304, linger_ms=1000, batch_size=1 << 20
    )
    manifests = ManifestWriter(store, tenant_key, issuer_id, index.latest_digest, index.list)
    group = signer_group(settings.kafka)
    consumer = kafka_consumer(settings.kafka, group, max_poll_records=settings.max_batch)
    loop = BatchLoop(
        consumer,
        [topology.requests.name],
        max_batch=settings.max_batch,
        linger_ms=settings.linger_ms,
        periodic=[(5.0, lambda: metrics.set_consumer_lag(group, consumer_lag(consumer)))],
        # A partition (re)assigned may have had its manifest chain extended by another signer.
        on_assigned=lambda assigned: manifests.forget(
            *(topology.partition_label(p.partition) for p in assigned)
        ),
    )
    service = SignerService(
        producer=producer,
        codec=Codec(),
        topology=topology,
        catalog=feed,
        pool=pool,
        store=store,
        manifests=manifests,
        metrics=metrics,
        public_base_url=settings.public_base_url,
        suite=settings.suite,
        fence=loop.fence,  # a worker paused past its session announces nothing
    )
    self_test = SelfTest(feed, tenant_key, options, settings.suite)
    server = serve(metrics, settings.metrics, readiness=self_test)
    signal.signal(signal.SIGTERM, lambda *_: loop.stop())
    try:
        loop.run(service.process)
    finally:
        producer.close()
        pool.close()
        store.close()
        feed.stop()
        server.close()


class SelfTest:
    """Readiness: sign a fixture credential for a served tenant and verify it."""

    def __init__(
        self,
        feed: CatalogFeed,
        tenant_key: Callable[[str], SigningKey],
        options: BuildOptions,
        suite: str,
    ) -> None:
        self._feed = feed
        self._tenant_key = tenant_key
        self._options = options
        self._suite = suite

    def __call__(self) -> str | None:
        from datetime import UTC, datetime

        from schemas.models import CredentialRequested, Learner
        from signers.proofs import RdfcReferenceCanonicalizer, verify_proof
        from signers.service import CredentialFactory, SignJob
        from signers.status import allocate_slot

        catalogs = self._feed.catalogs()
        if not catalogs:
            return "no catalog published yet"
        catalog = catalogs[min(catalogs)]
        achievement = catalog.achievements[0]
        factory = CredentialFactory(self._options, self._tenant_key, self._suite)
        request = CredentialRequested(
            credential_id="00000000-0000-5000-8000-000000000000",
            tenant_id=catalog.tenant,
            achievement_key=achievement.key,
            achievement_version=achievement.version,
            learner=Learner(id="readiness-check"),
            awarded_at=datetime(2026, 1, 1, tzinfo=UTC),
            source_event_id="readiness-check",
        )
        made = factory.make(
            SignJob(request, achievement, catalog.issuer, allocate_slot("readiness", 0))
        )
        if not isinstance(made, Signed):
            return f"cannot sign for {catalog.tenant}: {made.message}"
        # Verified on the reference path: the fast canonicalizer is checked on every probe.
        key = self._tenant_key(catalog.tenant).public_key
        result = verify_proof(json.loads(made.body), key, RdfcReferenceCanonicalizer())
        return None if result.verified else f"self-signed credential does not verify: {result}"
