"""The processor stage: a Faust app, a thin adapter around :class:`EventHandler`.

- Input topic: ``assessment.completed.v1`` (AssessmentCompleted, keyed ``tenant/learner``,
  signed by its engine in headers).
- Output topic: ``credential.requested.v1`` (CredentialRequested, keyed by credential id).
- Dead-letter topic: ``assessment.completed.v1.dlq`` (undecodable, unauthenticated,
  misrouted events and unknown tenants), with origin headers.
- State: per-learner progress in a Faust table (RocksDB, changelog-backed).
- Delivery: at least once. Faust flushes the producer before it commits offsets, so
  every produced record (awards, dead letters, the progress changelog) is durable before
  the offsets of the events that produced it are committed; awards carry
  deterministic credential ids, and the signer's conditional writes make a repeated
  award harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import faust
from aiokafka import AIOKafkaProducer
from faust.streams import Stream
from faust.tables.table import Table
from faust.types import EventT

from credstream.observability import Metrics
from processors.stream._handler import EventHandler, Handled
from schemas.codec import Codec
from schemas.dead_letters import Origin
from schemas.topics import Topology

PROGRESS_TABLE = "credstream-progress"


def build_app(
    app_id: str,
    broker: str,
    store: str,
    data_dir: str,
    topology: Topology,
    handler: EventHandler,
    codec: Codec,
    metrics: Metrics,
    batch_size: int = 500,
    batch_seconds: float = 0.05,
    **faust_options: Any,
) -> faust.App:
    """A Faust app whose one agent folds assessment events into learners' progress."""
    source = topology.assessments
    app = faust.App(
        app_id,
        broker=broker,
        store=store,
        datadir=data_dir,
        topic_partitions=source.partitions,
        topic_disable_leader=True,
        web_enabled=False,
        producer_acks=-1,
        # Offsets are committed after the records they produced are flushed (see above).
        broker_commit_every=batch_size,
        **faust_options,
    )
    events = app.topic(source.name, key_serializer="raw", value_serializer="raw")
    table = cast(Table[bytes, bytes], app.Table(PROGRESS_TABLE, partitions=source.partitions))
    # Progress is stored as the engine's own compact bytes. Faust derives a table's codecs
    # from record types only (else json); set raw before the store is first created.
    table.key_serializer = table.value_serializer = "raw"

    def record(event: EventT[Any]) -> Handled:
        message = event.message
        headers = message.headers or []
        origin = Origin(
            message.topic, message.partition, message.offset, message.key, message.value,
            list(headers.items()) if isinstance(headers, Mapping) else list(headers),
        )  # fmt: skip
        key = message.key or b""
        handled = handler.handle(origin, table.get(key))
        if handled.progress is not None:
            # The local store only; the changelog record is produced with the batch below.
            table.data[key] = handled.progress
        return handled

    @app.agent(events, concurrency=1)  # higher concurrency loses messages in faust-streaming
    async def process(agent_stream: faust.StreamT[Any]) -> None:
        stream = cast(Stream[Any], agent_stream)  # the concrete stream has take_events
        changelog = table.changelog_topic.get_topic_name()
        async for batch in stream.take_events(batch_size, within=batch_seconds):
            metrics.batch("processor", len(batch))
            outcomes = _fold(stream, batch, record, metrics)
            # Faust's own send path costs ~0.4 ms per record here; the aiokafka producer
            # beneath it ~0.05 ms. Faust flushes that producer before every offset commit,
            # so these records are durable before the events that caused them are committed.
            producer = _aiokafka_producer(app)
            for event, handled in zip(batch, outcomes, strict=True):
                message = event.message
                if handled.progress is not None:
                    await producer.send(
                        changelog, handled.progress, key=message.key, partition=message.partition
                    )
                for award in handled.awards:
                    await producer.send(
                        topology.requests.name,
                        codec.encode(award),
                        key=award.credential_id.encode(),
                    )
                letter = handled.dead_letter
                if letter is not None:
                    await producer.send(
                        letter.topic, letter.value, key=letter.key, headers=letter.headers
                    )

    return app


def _aiokafka_producer(app: faust.App) -> AIOKafkaProducer:
    """The aiokafka producer under Faust's (started with the app, flushed before commits)."""
    producer = app.producer._ensure_producer()  # type: ignore[attr-defined]
    assert isinstance(producer, AIOKafkaProducer)
    return producer


def _fold(
    stream: Stream[Any],
    batch: Sequence[EventT[Any]],
    record: Callable[[EventT[Any]], Handled],
    metrics: Metrics,
) -> list[Handled]:
    results = []
    with metrics.evaluating():
        for event in batch:
            # Table writes go to the changelog partition of the "current event"; inside a
            # batch Faust's notion of it is the last event, so set it for each one.
            stream._set_current_event(event)
            handled = record(event)
            metrics.consumed(handled.tenant, handled.outcome)  # type: ignore[arg-type]
            if handled.reason is not None:
                metrics.dead_lettered("processor", handled.reason)
                if handled.outcome == "rejected_auth":
                    metrics.authentication_failed(handled.reason)
            if handled.awards:
                metrics.awarded(handled.tenant, len(handled.awards))
            results.append(handled)
    return results
