"""The source topic's records in whole batches, as Faust's consumer fetched them.

Faust hands a stream one record at a time: per record, its fetch loop races two tasks
(the delivery against a stopped flow), the conductor takes a lock, decodes an event and
queues it, the stream and ``take_events`` pass it on through further awaits, and then it
is acknowledged. That machinery alone cost ~0.15-0.18 ms of CPU per record here
(``credstream bench processor --floor`` before this module): more than the processor's
own work. :class:`FetchedBatches` replaces the fetch loop (``Consumer._drain_messages``
of the pinned faust-streaming 0.15.3) with one that keeps the source topic's records in
the lists they were fetched in and hands them to the agent loop whole. Everything around
it stays Faust's: the consumer thread and its fetches, group membership, rebalances and
table recovery, acknowledgements and commits. Records of other topics (a table's
changelog while it recovers) still go one by one to Faust's conductor.

The rules Faust's own path keeps, kept here:
- a record is tracked as unacknowledged before a batch holds it, and acknowledged only
  when the batch is finished (so a rebalance waits for the batch in hand, and a commit
  never covers a record no batch finished);
- records are handed over only while the flow is on; a rebalance (the consumer's flow
  stopped) drops what is fetched or buffered and not yet taken: the consumer seeks back
  to the committed offsets, so they are read again;
- a record of an older consumer generation is never processed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, cast

import faust
from faust.types import Message


class FetchedBatches:
    """Batches of up to ``batch_size`` of the source topic's records, in fetch order, for
    one loop (concurrency 1). The app is made with :meth:`app_settings`.

    Up to four batches wait beyond the one in hand: then the fetch loop waits for room, so
    the consumer's own fetch buffer fills and it stops fetching.
    """

    @staticmethod
    def app_settings(batch_size: int) -> dict[str, Any]:
        """Faust settings: a fetch hands over one batch at most (the rest waits in the
        consumer's buffer), and offsets are committed every batch."""
        return {"broker_max_poll_records": batch_size, "broker_commit_every": batch_size}

    def __init__(self, app: faust.App, topic: faust.TopicT, batch_size: int) -> None:
        self._app = app
        self._consumer: Any = cast(Any, app.consumer)  # pinned faust: private members below
        (self._topic,) = topic.topics
        self._batch_size = batch_size
        self._max_buffered = 4 * batch_size
        self._chunks: deque[list[Message]] = deque()
        self._buffered = 0
        self._changed = asyncio.Event()  # a chunk was added, or taken
        app.topics.add(topic)  # subscribed, with acknowledgements (topic.acks)
        app.flow_control.manage_queue(self)  # type: ignore[arg-type]  # cleared at rebalances
        self._consumer._drain_messages = self._drain_messages

    async def take(self, within: float) -> list[Message]:
        """The next batch, as soon as a whole batch is buffered or ``within`` seconds after
        its first record is."""
        max_records = self._batch_size
        while True:
            while not self._buffered:
                await self._wait_changed()
            if self._buffered < max_records:
                try:
                    async with asyncio.timeout(within):
                        while 0 < self._buffered < max_records:
                            await self._wait_changed()
                except TimeoutError:
                    pass
            await self._app.flow_control.acquire()
            batch = self._pop(max_records)
            generation = self._app.consumer_generation_id
            stale = [message for message in batch if message.generation_id != generation]
            if stale:
                self._untrack(stale)
                batch = [message for message in batch if message.generation_id == generation]
            if batch:
                return batch

    def done(self, batch: list[Message]) -> None:
        """The batch is finished: its offsets may be committed."""
        ack = self._consumer.ack
        for message in batch:
            ack(message)

    def clear(self) -> None:
        """Drop what is buffered (called by Faust's flow control at rebalances)."""
        while self._chunks:
            self._untrack(self._chunks.popleft())
        self._buffered = 0
        self._changed.set()

    async def _wait_changed(self) -> None:
        self._changed.clear()
        await self._changed.wait()

    def _pop(self, max_records: int) -> list[Message]:
        batch: list[Message] = []
        while self._chunks and len(batch) < max_records:
            chunk = self._chunks.popleft()
            room = max_records - len(batch)
            if len(chunk) > room:
                self._chunks.appendleft(chunk[room:])
                chunk = chunk[:room]
            batch.extend(chunk)
        self._buffered -= len(batch)
        self._changed.set()
        return batch

    def _untrack(self, messages: list[Message]) -> None:
        unacked = self._consumer._unacked_messages
        for message in messages:
            unacked.discard(message)

    async def _hand_over(self, chunk: list[Message]) -> None:
        consumer = self._consumer
        track = consumer.track_message
        for message in chunk:
            track(message)
        stored = False

        async def put() -> None:
            nonlocal stored
            await self._app.flow_control.acquire()
            while self._buffered >= self._max_buffered and consumer.flow_active:
                await self._wait_changed()
                await self._maybe_commit()  # as the fetch loop would, were it not waiting
            if consumer.flow_active:  # checked in the same step as the append
                self._chunks.append(chunk)
                self._buffered += len(chunk)
                self._changed.set()
                stored = True

        if consumer.flow_active:
            await consumer.wait_first(put(), consumer.suspend_flow.wait())
        if not stored:  # a rebalance stopped the flow: read again after its seek
            self._untrack(chunk)

    async def _drain_messages(self, fetcher: Any) -> None:
        """Faust's fetch loop (pinned 0.15.3), with the source topic's records handed over
        per fetch instead of per record: the same offsets, gaps and periodic commits."""
        consumer = self._consumer
        try:
            while not (consumer._stopped.is_set() or fetcher._stopped.is_set()):
                await self._drain_once()
                await self._maybe_commit()
        except (*consumer.consumer_stopped_errors, asyncio.CancelledError):
            if self._app.should_stop:
                return  # stopping: as Faust's loop does
            raise

    async def _maybe_commit(self) -> None:
        """Faust's commit every ``broker_commit_every`` acknowledged records."""
        consumer = self._consumer
        commit_every = consumer._commit_every
        if commit_every is not None and consumer._n_acked >= commit_every:
            consumer._n_acked = 0
            await consumer.commit()

    async def _drain_once(self) -> None:
        consumer = self._consumer
        await asyncio.sleep(0)  # getmany can return at once, again and again
        if consumer.should_stop:
            return
        read_offset = consumer._read_offset
        acks_enabled_for = self._app.topics.acks_enabled_for
        chunk: list[Message] = []
        source = self._topic
        async for tp, message in consumer.getmany(timeout=1.0):
            offset = message.offset
            last = read_offset[tp]
            if last is not None and offset < last:
                continue  # read before: a fetch from before a seek back
            if last and offset - last > 1 and acks_enabled_for(message.topic):
                await consumer._add_gap(tp, last + 1, offset)
            if message.topic == source:
                chunk.append(message)
            else:
                delivered = consumer.callback(message)  # Faust's conductor, one by one
                await consumer.wait_first(delivered, consumer.suspend_flow.wait())
            read_offset[tp] = offset
        if chunk:
            await self._hand_over(chunk)
