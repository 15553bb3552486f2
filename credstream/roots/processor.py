"""Composition root of the processor (``credstream processor``): a Faust worker."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from credstream.observability import MetricsSettings
from credstream.settings import KafkaSettings
from producers import DEFAULT_DIRECTORY

if TYPE_CHECKING:
    import faust
    from kafka import KafkaConsumer

    from credstream.observability import Metrics

APP_ID = "credstream-processor"
log = logging.getLogger("credstream.processor")


def processor_group(settings: KafkaSettings) -> str:
    """The Faust app id, and so the consumer group, of the processors of one topology
    (prefixed like its topics)."""
    return settings.topic_prefix + APP_ID


class ProcessorSettings(BaseSettings):
    """Settings of a processor process. Environment prefix ``CREDSTREAM_PROCESSOR_``;
    Kafka from ``CREDSTREAM_KAFKA_``, metrics from ``CREDSTREAM_METRICS_``."""

    model_config = SettingsConfigDict(env_prefix="CREDSTREAM_PROCESSOR_", frozen=True)

    # rocksdb:// in production (per-partition RocksDB, restored from the changelog);
    # memory:// keeps the table in memory and restores it from the changelog at start.
    store: str = "rocksdb://"
    data_dir: Path = Path(".credstream/processor")
    engines_dir: Path = DEFAULT_DIRECTORY
    # Under a backlog, batches of 2,000 records took ~17% less CPU per event than 500
    # (README, performance; likely what a batch does once, its flushes, commit and produce
    # requests, shared by more events). When events arrive more slowly, a batch holds what
    # arrives within batch_seconds of its first record, as before.
    batch_size: int = Field(default=2000, ge=1, le=10_000)
    batch_seconds: float = Field(default=0.05, gt=0)
    # Replication of the progress changelog; None: the cluster's default replication
    # factor, like every other topic (a changelog on one broker would lose progress with it).
    replication_factor: int | None = Field(default=None, ge=1)
    # Memory of the RocksDB store of each partition (Faust opens one per partition):
    # write buffers (memtables) and block cache. Faust's defaults (3 x 64 MiB, 2 GiB) let
    # a processor grow with the learners it has seen: +168% after warm-up in the soak.
    # The resident memory rises by about these bounds before it levels off (2 x 4 MiB and
    # 4 MiB: ~58 MB over ~500,000 events; these: ~17 MB), at the same CPU per event.
    rocksdb_write_buffer_bytes: int = Field(default=1 << 20, ge=1 << 20)
    rocksdb_write_buffers: int = Field(default=2, ge=2)
    rocksdb_block_cache_bytes: int = Field(default=1 << 20, ge=1 << 20)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "warning"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    def rocksdb_options(self) -> dict[str, int]:
        """The progress table's RocksDB options (Faust's ``RocksDBOptions`` names)."""
        return {
            "write_buffer_size": self.rocksdb_write_buffer_bytes,
            "max_write_buffer_number": self.rocksdb_write_buffers,
            "block_cache_size": self.rocksdb_block_cache_bytes,
        }


def faust_broker(bootstrap_servers: str) -> str:
    """Faust's broker setting for comma-separated ``host:port`` servers."""
    return ";".join(f"kafka://{server}" for server in bootstrap_servers.split(","))


def _session(kafka: KafkaSettings) -> dict[str, float]:
    """Faust's group session settings (seconds) from ``CREDSTREAM_KAFKA_SESSION_TIMEOUT_MS``."""
    if kafka.session_timeout_ms is None:
        return {}
    session = kafka.session_timeout_ms / 1000
    return {"broker_session_timeout": session, "broker_heartbeat_interval": min(3.0, session / 3)}


def run_processor(settings: ProcessorSettings) -> None:
    import faust

    from credstream.clients import ensure_topics, kafka_consumer
    from credstream.observability import Metrics, serve
    from processors.catalog import Catalog, TenantCatalog
    from processors.catalog_feed import CatalogFeed
    from processors.stream import EventHandler, build_app, progress_changelog
    from producers import EngineRegistry
    from schemas.codec import Codec

    metrics = Metrics("processor")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    topology = settings.kafka.topology()
    index: list[Catalog] = [Catalog()]  # swapped whole when a catalog changes

    def reindex(catalogs: dict[str, TenantCatalog]) -> None:
        index[0] = Catalog(catalogs.values())

    feed = CatalogFeed(
        lambda: kafka_consumer(settings.kafka, None), topology.catalog.name, on_change=reindex
    )
    feed.start()
    codec = Codec()
    handler = EventHandler(
        codec,
        lambda: index[0],
        EngineRegistry(settings.engines_dir).public_keys(),
        lambda: datetime.now(UTC),
    )
    broker = faust_broker(settings.kafka.bootstrap_servers)
    app_id = processor_group(settings.kafka)
    # Faust creates only what is missing: the changelog exists, replicated as configured.
    ensure_topics(
        settings.kafka, [progress_changelog(app_id, topology)], settings.replication_factor
    )
    app = build_app(
        app_id,
        broker,
        settings.store,
        str(settings.data_dir),
        topology,
        handler,
        codec,
        metrics,
        batch_size=settings.batch_size,
        batch_seconds=settings.batch_seconds,
        store_options=settings.rocksdb_options(),
        topic_replication_factor=settings.replication_factor or 1,
        **_session(settings.kafka),
    )
    offsets = kafka_consumer(settings.kafka, app_id)  # reads offsets; never joins
    _report_lag(app, app_id, topology.assessments.name, offsets, metrics)
    server = serve(metrics, settings.metrics, readiness=lambda: None)
    try:
        # A number, not a name: mode reads "warn" as level 0 and logs every debug record.
        level = logging.getLevelNamesMapping()[settings.log_level.upper()]
        worker = faust.Worker(app, loglevel=level, quiet=True)
        # aiokafka logs a debug line per record sent: keep its logger at our level even
        # where a library lowers the root's.
        for name in ("aiokafka", "faust", "mode", "kafka"):
            logging.getLogger(name).setLevel(max(level, logging.INFO))
        worker.execute_from_commandline()
    finally:
        feed.stop()
        server.close()
        offsets.close()


def _report_lag(
    app: faust.App, group: str, source: str, offsets: KafkaConsumer, metrics: Metrics
) -> None:
    """Every 5 s, ``credstream_consumer_lag`` of the group on this process's partitions of
    ``source``, as the other workers report it (summed over processes: the group's lag)."""
    from kafka import TopicPartition
    from kafka.errors import KafkaError

    from credstream.observability import consumer_lag

    async def report_lag() -> None:
        partitions = [
            TopicPartition(tp.topic, tp.partition)
            for tp in app.consumer.assignment()
            if tp.topic == source
        ]
        loop = asyncio.get_running_loop()
        try:  # kafka-python blocks: off the event loop
            lag = await loop.run_in_executor(None, consumer_lag, offsets, partitions)
        except KafkaError as error:  # a figure missed, not a reason to stop processing
            log.warning("consumer lag not measured: %s", error)
            return
        metrics.set_consumer_lag(group, lag)

    app.timer(interval=5.0)(report_lag)
