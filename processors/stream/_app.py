"""The processor stage: a Faust app, a thin adapter around :class:`EventHandler`.

- Input topic: ``assessment.completed.v1`` (AssessmentCompleted, keyed ``tenant/learner``,
  signed by its engine in headers).
- Output topic: ``credential.requested.v1`` (CredentialRequested, keyed by credential id).
- Dead-letter topic: ``assessment.completed.v1.dlq`` (undecodable, unauthenticated,
  misrouted events and unknown tenants), with origin headers.
- State: per-learner progress in a Faust table (RocksDB, changelog-backed).
- Delivery: at least once. Per batch, the awards and dead letters are acknowledged
  first, then the progress changelog, then the local store is written; offsets are
  committed after that (Faust flushes before it commits). The next batch is evaluated
  while one waits for acks, but progress is saved, and offsets acknowledged, in batch
  order. A crash anywhere re-reads the events from progress that does not include them,
  so an award can be requested twice, never lost; awards carry deterministic credential
  ids, and the signer's conditional writes make a repeated award harmless. A stop
  (SIGTERM, SIGINT) finishes the batches in hand and exits without Faust's shutdown,
  which commits records it never processed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, NoReturn, cast

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from faust.tables.table import Table
from faust.types import Message

from credstream.errors import CredstreamError
from credstream.observability import Metrics
from processors.stream._handler import Admitted, EventHandler, Handled
from processors.stream._local_store import LocalProgress
from processors.stream._source import FetchedBatches
from schemas.codec import Codec
from schemas.dead_letters import Origin
from schemas.topics import DEAD_LETTER_MAX_BYTES, Topic, Topology

PROGRESS_TABLE = "credstream-progress"
_Admission = Sequence[Admitted | Handled]
# A batch's outcomes, and the progress it changed (the last per key) with its record.
_Evaluated = tuple[list[Handled], dict[bytes, tuple[Message, bytes]]]
log = logging.getLogger("credstream.processor")
# How the producer itself places a keyed record (murmur2, as Kafka's Java clients do).
_PARTITIONER = DefaultPartitioner()


def progress_changelog(app_id: str, topology: Topology) -> Topic:
    """The progress table's changelog topic, as Faust names and uses it. The processor
    creates it before Faust starts, so that it is replicated like every other topic (the
    cluster's default) rather than with Faust's own setting."""
    return Topic(
        f"{app_id}-{PROGRESS_TABLE}-changelog",
        partitions=topology.assessments.partitions,
        config={"cleanup.policy": "compact"},
    )


def build_app(
    app_id: str,
    broker: str,
    store: str,
    data_dir: str,
    topology: Topology,
    handler: EventHandler,
    codec: Codec,
    metrics: Metrics,
    *,
    batch_size: int,
    batch_seconds: float,
    store_options: Mapping[str, int] | None = None,
    **faust_options: Any,
) -> faust.App:
    """A Faust app whose one agent folds assessment events into learners' progress.

    ``batch_size`` and ``batch_seconds``: the processor's settings (their defaults and
    why are in ``ProcessorSettings``).

    ``store_options`` go to the table's store (for rocksdb://, Faust's ``RocksDBOptions``:
    write buffer and block cache sizes per partition).
    """
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
        # A dead letter wraps the refused record whole (up to the codec's 1 MiB and more).
        producer_max_request_size=DEAD_LETTER_MAX_BYTES,
        # Offsets are committed every batch, after the records it produced are flushed.
        **FetchedBatches.app_settings(batch_size),
        **faust_options,
    )
    events = app.topic(source.name, key_serializer="raw", value_serializer="raw")
    # Progress is stored as the engine's own compact bytes: bytes types make Faust use raw
    # codecs for the table AND its changelog topic (created with the table), so recovery
    # reads back what was written.
    table = cast(
        Table[bytes, bytes],
        app.Table(
            PROGRESS_TABLE,
            partitions=source.partitions,
            key_type=bytes,
            value_type=bytes,
            options=dict(store_options or {}),
        ),
    )

    steps = _BatchSteps(
        handler, codec, topology, metrics, LocalProgress(table.data),
        table.changelog_topic.get_topic_name(), partial(_aiokafka_producer, app),
    )  # fmt: skip
    _hold_records_until_restored(app, source.name)
    stop = _StopBetweenBatches(partial(_leave_group, app))

    async def take_over_stop_signals() -> None:
        # Replaces the handlers Faust's worker installed at start (see _StopBetweenBatches).
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.request)

    app.task(take_over_stop_signals)

    # One loop over whole fetched batches (concurrency 1: one batch at a time, in order).
    batches = FetchedBatches(app, events, batch_size)

    async def process() -> None:
        await _process_batches(batches, steps, stop, batch_seconds)

    app.task(process)

    return app


class _BatchSteps:
    """What the processor does with a batch, in three steps (see ``_process_batches``)."""

    def __init__(
        self,
        handler: EventHandler,
        codec: Codec,
        topology: Topology,
        metrics: Metrics,
        local: LocalProgress,
        changelog: str,
        producer: Callable[[], AIOKafkaProducer],
    ) -> None:
        self._handler = handler
        self._codec = codec
        self._requests = topology.requests.name
        self._metrics = metrics
        self._local = local
        self._changelog = changelog
        self._producer = producer
        # A batch's signatures are checked on another thread (and core) while this one
        # goes on with the batch before: the check is a fifth of the work and nearly all
        # of it runs outside the interpreter lock. Decoding stays here: Python work on two
        # threads contends for the lock (the whole admission on the other thread was ~15%
        # slower).
        self._checking = ThreadPoolExecutor(1, thread_name_prefix="credstream-signatures")
        self._unsaved: dict[bytes, bytes] = {}  # progress evaluated, not yet stored

    async def admit(self, batch: Sequence[Message]) -> _Admission:
        admission = self._handler.read([_origin_of(message) for message in batch])
        return await asyncio.get_running_loop().run_in_executor(self._checking, admission.check)

    def evaluate(self, batch: Sequence[Message], admitted: _Admission) -> _Evaluated:
        self._metrics.batch("processor", len(batch))
        pending: dict[bytes, tuple[Message, bytes]] = {}
        with self._metrics.evaluating():
            outcomes = [
                self._record(message, checked, pending)
                for message, checked in zip(batch, admitted, strict=True)
            ]
        _count(outcomes, self._metrics)
        return outcomes, pending

    def _record(
        self,
        message: Message,
        admitted: Admitted | Handled,
        pending: dict[bytes, tuple[Message, bytes]],
    ) -> Handled:
        if isinstance(admitted, Handled):  # a dead letter already
            return admitted
        key = message.key or b""
        # Progress of this batch and of the one still being delivered is not in the store
        # yet (see deliver).
        stored = self._unsaved.get(key)
        if stored is None:
            stored = self._local.get(message.partition, key)
        handled = self._handler.evaluate(admitted, stored)
        if handled.progress is not None:
            pending[key] = (message, handled.progress)
            self._unsaved[key] = handled.progress
        return handled

    async def deliver(self, evaluated: _Evaluated, saved_before: Awaitable[None] | None) -> None:
        """The batch's outputs, then its progress, durable; ``saved_before``: the batch
        before this one, whose progress goes first."""
        outcomes, pending = evaluated
        # Faust's own send path costs ~0.4 ms per record here; the aiokafka producer
        # beneath it ~0.05 ms.
        producer = self._producer()
        # Outputs before state. The awards and dead letters the batch caused are durable
        # first; then the progress that records them (changelog, then the local store). A
        # crash before the progress is saved reads the events again from the old progress
        # and requests the same awards again (the signer absorbs repeats); saving progress
        # first would turn a crash into lost awards, since the re-read events would then
        # look like duplicates.
        awards = [
            (award.credential_id.encode(), self._codec.encode(award))
            for handled in outcomes
            for award in handled.awards
        ]
        partitions = sorted(await producer.partitions_for(self._requests))
        sent = await _send_batched(
            producer, self._requests,
            ((_PARTITIONER(key, partitions, None), key, value) for key, value in awards),
        )  # fmt: skip
        for handled in outcomes:
            letter = handled.dead_letter
            if letter is not None:  # rare, and up to the producer's largest request
                sent.append(
                    await producer.send(
                        letter.topic, letter.value, key=letter.key, headers=letter.headers
                    )
                )
        await _delivered(producer, sent)
        if saved_before is not None:
            await saved_before
        saved = await _send_batched(
            producer, self._changelog,
            ((message.partition, key, progress) for key, (message, progress) in pending.items()),
        )  # fmt: skip
        await _delivered(producer, saved)
        self._local.write(
            (message.partition, key, progress) for key, (message, progress) in pending.items()
        )
        for key, (_, progress) in pending.items():
            if self._unsaved.get(key) is progress:  # not changed again by a later batch
                del self._unsaved[key]


def _origin_of(message: Message) -> Origin:
    headers = message.headers or []
    return Origin(
        message.topic, message.partition, message.offset, message.key, message.value,
        list(headers.items()) if isinstance(headers, Mapping) else list(headers),
    )  # fmt: skip


async def _process_batches(
    batches: FetchedBatches,
    steps: _BatchSteps,
    stop: _StopBetweenBatches,
    batch_seconds: float,
) -> None:
    """One batch at a time, in order, in three overlapping steps: batch N+2 is taken and
    admitted and N+1 evaluated while N's outputs and progress wait for the broker's acks
    (evaluation reads the progress N has not saved yet). ``deliver`` saves a batch's
    progress only after the batch before it is finished. Each batch is tracked until it
    is acknowledged, so a rebalance waits for all of them, as Faust waits for the records
    its streams hold; a stop or crash leaves what is not finished unacknowledged, to be
    read again."""

    async def take_and_admit() -> tuple[list[Message], _Admission]:
        batch = await batches.take(batch_seconds)
        return batch, await steps.admit(batch)

    async def finish(
        batch: list[Message], evaluated: _Evaluated, before: Awaitable[None] | None
    ) -> None:
        # A batch is finished whole before it is acknowledged (Faust commits acknowledged
        # offsets), or the process ends before anything of it is committed.
        await steps.deliver(evaluated, before)
        batches.done(batch)
        await stop.batch_done()

    upcoming = asyncio.ensure_future(take_and_admit())
    finishing: asyncio.Future[None] | None = None
    while True:
        batch, admitted = await upcoming
        if stop.requested:
            # Left unacknowledged: the batch in flight ends the process once it is finished.
            await asyncio.Event().wait()
        stop.batch_taken()
        evaluated = _or_exit_now(partial(steps.evaluate, batch, admitted))
        upcoming = asyncio.ensure_future(take_and_admit())
        previous = finishing
        finishing = asyncio.ensure_future(_or_exit(finish(batch, evaluated, previous)))
        try:
            if previous is not None:  # two batches in flight at most
                await asyncio.shield(previous)
        except asyncio.CancelledError:
            upcoming.cancel()
            await finishing  # a stopping worker finishes its batches first
            raise


def _hold_records_until_restored(app: faust.App, source: str) -> None:
    """No record of the source topic reaches a stream before the tables are restored and
    the consumer has seeked to the committed offsets, on every assignment.

    Faust (pinned 0.15.3) let records through twice too early: on a process's first
    assignment it had not stopped the flow (it does so only when a rebalance revokes
    partitions it holds), and after every recovery it resumed the source partitions one
    await before seeking them to the committed offsets. Records fetched in between were
    still being delivered after the seek; the consumer took the jump in offsets for a gap
    in the topic, which it counts as processed, and committed records no batch had handled
    (an award lost, or made later from a later event), or dropped their re-reads and
    stalled its commits. So the flow stops at every rebalance, and the source partitions
    stay paused until the recovery's seek is done, then are each seeked again (see below).

    The source topic is neither compacted nor transactional, so a gap in its offsets can
    only come from such a race: it is logged and never counted as processed.
    """
    consumer: Any = app.consumer  # pinned faust: private members below
    held: set[Any] = set()
    seek_pending = False
    resume_partitions, perform_seek, add_gap = (
        consumer.resume_partitions, consumer.perform_seek, consumer._add_gap,
    )  # fmt: skip

    async def on_revoked(sender: Any, *revoked: Any, **_: Any) -> None:
        nonlocal seek_pending
        seek_pending = True
        held.clear()  # the next recovery resumes what is assigned then
        consumer.stop_flow()
        app.flow_control.suspend()

    def resume_after_the_seek(partitions: Any) -> None:
        wanted = set(partitions)
        if seek_pending:
            sources = {tp for tp in wanted if tp.topic == source}
            held.update(sources)
            wanted -= sources
        resume_partitions(wanted)

    async def seek_then_resume() -> None:
        nonlocal seek_pending
        await perform_seek()
        if not (seek_pending and consumer.flow_active):
            return  # a fetch that met the stopped flow seeks back; the recovery's seek follows
        # aiokafka ignores a seek to offset 0 (a group reset to the earliest offsets), and a
        # fetch that met the stopped flow has moved the position on: seek each held one.
        for partition in held:
            await consumer.seek(partition, consumer._read_offset.get(partition) or 0)
        seek_pending = False
        resume_partitions(set(held))
        held.clear()

    async def add_gap_unless_source(tp: Any, offset_from: int, offset_to: int) -> None:
        if tp.topic == source:
            log.error("offsets %d-%d of %s skipped by the consumer", offset_from, offset_to, tp)
            return
        await add_gap(tp, offset_from, offset_to)

    app.on_partitions_revoked.connect(on_revoked)  # type: ignore[arg-type]
    consumer.resume_partitions = resume_after_the_seek
    consumer.perform_seek = seek_then_resume
    consumer._add_gap = add_gap_unless_source


class _StopBetweenBatches:
    """SIGTERM and SIGINT end the process between batches, without Faust's shutdown.

    Faust's graceful stop lost an award in a stop test (while stopping, its streams
    acknowledge the records they skip, and it commits acknowledged offsets on its way
    out). So a stop takes no new batch, waits for those in hand to finish (their awards
    and progress are durable), leaves the group (its partitions move at once) and exits
    without committing: the records since the last periodic commit are read again by the
    next owner and find themselves already in the learners' progress (no award twice). An
    exit at any other point is a crash, which loses nothing either.
    """

    def __init__(
        self,
        leave_group: Callable[[], Coroutine[Any, Any, None]],
        exit_process: Callable[[int], object] = os._exit,
    ) -> None:
        self.requested = False
        self._in_hand = 0  # batches taken and not finished
        self._leave_group = leave_group
        self._exit_process = exit_process
        self._finishing: asyncio.Task[None] | None = None

    def request(self) -> None:
        self.requested = True
        if not self._in_hand and self._finishing is None:
            self._finishing = asyncio.get_running_loop().create_task(self.finish())

    def batch_taken(self) -> None:
        """A stop waits until this batch is finished too."""
        self._in_hand += 1

    async def batch_done(self) -> None:
        self._in_hand -= 1
        if self.requested and not self._in_hand and self._finishing is None:
            await self.finish()

    async def finish(self) -> None:
        try:
            await asyncio.wait_for(self._leave_group(), timeout=5.0)
        except Exception:  # the group notices the exit after its session timeout instead
            log.warning("could not leave the group before exiting", exc_info=True)
        log.warning("stop requested: exiting between batches, without committing")
        logging.shutdown()
        self._exit_process(0)


async def _leave_group(app: faust.App) -> None:
    """LeaveGroup, nothing else (no commit), on the consumer's own thread and loop."""
    thread: Any = app.consumer._thread  # type: ignore[attr-defined]  # pinned faust

    async def leave() -> None:
        await thread._ensure_consumer()._coordinator._maybe_leave_group()

    await thread.call_thread(leave)


async def _or_exit(batch: Coroutine[Any, Any, None]) -> None:
    try:
        await batch
    except Exception:
        _exit_failed()


def _or_exit_now(step: Callable[[], _Evaluated]) -> _Evaluated:
    try:
        return step()
    except Exception:
        _exit_failed()


def _exit_failed() -> NoReturn:
    # Not committed, not to be: the events are read again after the restart.
    log.critical("processing a batch failed; exiting without committing", exc_info=True)
    os._exit(70)  # EX_SOFTWARE; a normal exit would commit the batch (see above)


class DeliveryFailedError(CredstreamError):
    """A record the processor produced was not acknowledged: its events must be read again,
    so the worker stops (its offsets were not committed) and is restarted."""


async def _delivered(producer: AIOKafkaProducer, sent: Sequence[asyncio.Future[Any]]) -> None:
    """Wait until every send in ``sent`` (a record, or a batch of them) is acknowledged
    (acks=all); raise if one failed."""
    if not sent:
        return
    await producer.flush()
    failed = [f for f in sent if f.cancelled() or f.exception() is not None]
    if failed:
        first = "cancelled" if failed[0].cancelled() else repr(failed[0].exception())
        raise DeliveryFailedError(f"{len(failed)} of {len(sent)} sends failed: {first}")


async def _send_batched(
    producer: AIOKafkaProducer, topic: str, records: Iterable[tuple[int, bytes, bytes]]
) -> list[asyncio.Future[Any]]:
    """(partition, key, value) records sent as one record batch per partition (more where
    one fills): ~4 us of CPU per record here, against ~12 us for a send per record."""
    batches: dict[int, BatchBuilder] = {}
    sent = []
    for partition, key, value in records:
        batch = batches.get(partition)
        if batch is None or batch.append(key=key, value=value, timestamp=None) is None:
            if batch is not None:  # full
                sent.append(await producer.send_batch(batch, topic, partition=partition))
            batch = batches[partition] = producer.create_batch()
            # A new batch takes its first record whatever its size.
            batch.append(key=key, value=value, timestamp=None)
    for partition, batch in batches.items():
        sent.append(await producer.send_batch(batch, topic, partition=partition))
    return sent


def _aiokafka_producer(app: faust.App) -> AIOKafkaProducer:
    """The aiokafka producer under Faust's (started with the app, flushed before commits)."""
    producer = app.producer._ensure_producer()  # type: ignore[attr-defined]
    assert isinstance(producer, AIOKafkaProducer)
    return producer


def _count(results: Sequence[Handled], metrics: Metrics) -> None:
    """Per batch: a labelled counter per event cost ~3% of the processor's CPU."""
    for (tenant, outcome), count in Counter((h.tenant, h.outcome) for h in results).items():
        metrics.consumed(tenant, outcome, count)  # type: ignore[arg-type]
    refused = Counter((h.reason, h.outcome) for h in results if h.reason is not None)
    for (reason, outcome), count in refused.items():
        metrics.dead_lettered("processor", reason, count)
        if outcome == "rejected_auth":
            metrics.authentication_failed(reason, count)
    awarded = Counter[str]()
    for handled in results:
        awarded[handled.tenant] += len(handled.awards)
    for tenant, count in awarded.items():
        if count:
            metrics.awarded(tenant, count)
