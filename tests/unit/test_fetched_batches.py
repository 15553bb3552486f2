"""Whole fetched batches past Faust's per-record path: the rules Faust's own path keeps.

The consumer here is a fake of the few Faust consumer members the hand-over uses
(tracking, acknowledgements, the flow, commits); the real one is exercised by the
processor's integration tests and fault scenarios 2, 3 and 7.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from faust.types import TP
from mode.utils.queues import FlowControlEvent

from processors.stream import FetchedBatches

SOURCE, CHANGELOG = "assessments", "progress-changelog"


@dataclass(eq=False)
class _Record:
    topic: str
    offset: int
    generation_id: int = 1
    partition: int = 0

    @property
    def tp(self) -> TP:
        return TP(self.topic, self.partition)


class _Consumer:
    def __init__(self, commit_every: int) -> None:
        self._unacked_messages: set[Any] = set()
        self._read_offset: dict[TP, int | None] = {}
        self._commit_every = commit_every
        self._n_acked = 0
        self.acked: list[Any] = []
        self.commits = 0
        self.delivered: list[_Record] = []  # one by one, to Faust's conductor
        self.flow_active = True
        self.suspend_flow = asyncio.Event()
        self.should_stop = False
        self.getmany: Any = None  # set per fetch by the tests
        self.gaps: list[tuple[TP, int, int]] = []

    def track_message(self, message: _Record) -> None:
        self._unacked_messages.add(message)

    def ack(self, message: _Record) -> None:
        self._unacked_messages.discard(message)
        self.acked.append(message)
        self._n_acked += 1

    async def commit(self) -> None:
        self.commits += 1

    async def callback(self, message: _Record) -> None:
        self.delivered.append(message)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        self.gaps.append((tp, offset_from, offset_to))

    async def wait_first(self, *coros: Coroutine[Any, Any, Any]) -> None:
        tasks = [asyncio.ensure_future(coro) for coro in coros]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()

    def stop_flow(self) -> None:
        self.flow_active = False
        self.suspend_flow.set()


class _Topics:
    def __init__(self) -> None:
        self.subscribed: list[Any] = []

    def add(self, topic: Any) -> None:
        self.subscribed.append(topic)

    def acks_enabled_for(self, topic: str) -> bool:
        return True


class _App:
    def __init__(self, commit_every: int) -> None:
        self.consumer = _Consumer(commit_every)
        self.consumer_generation_id = 1
        self.topics = _Topics()
        self.flow_control = FlowControlEvent(initially_suspended=False)


class _Topic:
    topics = (SOURCE,)


def _batches(batch_size: int) -> tuple[FetchedBatches, _App]:
    app = _App(commit_every=batch_size)
    return FetchedBatches(app, _Topic(), batch_size), app  # type: ignore[arg-type]


def _records(offsets: Iterable[int], topic: str = SOURCE, **fields: int) -> list[Any]:
    return [_Record(topic, offset, **fields) for offset in offsets]


def _fetch(records: list[_Record]) -> Any:
    async def getmany(timeout: float) -> AsyncIterator[tuple[TP, _Record]]:
        for record in records:
            yield record.tp, record

    return getmany


async def _drain(batches: FetchedBatches, app: _App, records: list[_Record]) -> None:
    """One round of the fetch loop over a fetch of ``records``."""
    consumer = app.consumer
    for record in records:
        consumer._read_offset.setdefault(record.tp, None)
    consumer.getmany = _fetch(records)
    await batches._drain_once()


async def _nothing_within(batches: FetchedBatches, seconds: float = 0.2) -> bool:
    try:
        await asyncio.wait_for(batches.take(within=0.0), seconds)
    except TimeoutError:
        return True
    return False


def test_a_fetch_is_handed_over_whole_and_other_topics_record_by_record() -> None:
    async def scenario() -> None:
        batches, app = _batches(batch_size=10)
        source, changelog = _records(range(3)), _records([7], topic=CHANGELOG)
        await _drain(batches, app, [*source[:2], *changelog, source[2]])
        assert app.consumer.delivered == changelog  # a table's changelog: Faust's path
        assert app.consumer._unacked_messages == set(source)  # tracked before handed over
        assert await batches.take(within=0.0) == source
        assert app.consumer._read_offset[TP(SOURCE, 0)] == 2
        assert [topic.topics for topic in app.topics.subscribed] == [(SOURCE,)]

    asyncio.run(scenario())


def test_batches_keep_fetch_order_and_the_batch_size_across_fetches() -> None:
    async def scenario() -> None:
        batches, app = _batches(batch_size=4)
        await _drain(batches, app, _records(range(5)))
        await _drain(batches, app, _records(range(5, 8)))
        first, second = await batches.take(within=0.0), await batches.take(within=0.0)
        assert [r.offset for r in first] == [0, 1, 2, 3]
        assert [r.offset for r in second] == [4, 5, 6, 7]

    asyncio.run(scenario())


def test_a_short_batch_waits_within_seconds_for_more_records() -> None:
    async def scenario() -> None:
        batches, app = _batches(batch_size=4)
        await _drain(batches, app, _records(range(2)))
        taking = asyncio.ensure_future(batches.take(within=5.0))
        await asyncio.sleep(0.05)
        assert not taking.done()  # two of four: it waits for the rest
        await _drain(batches, app, _records(range(2, 4)))
        assert [r.offset for r in await taking] == [0, 1, 2, 3]
        await _drain(batches, app, _records([4]))
        assert [r.offset for r in await batches.take(within=0.05)] == [4]

    asyncio.run(scenario())


def test_only_finished_batches_are_acknowledged() -> None:
    async def scenario() -> None:
        batches, app = _batches(batch_size=3)
        await _drain(batches, app, _records(range(3)))
        batch = await batches.take(within=0.0)
        assert app.consumer.acked == []
        batches.done(batch)
        assert app.consumer.acked == batch
        assert app.consumer._unacked_messages == set()

    asyncio.run(scenario())


def test_a_rebalance_drops_what_is_buffered_and_stops_tracking_it() -> None:
    async def scenario() -> None:
        batches, app = _batches(batch_size=2)
        await _drain(batches, app, _records(range(4)))
        in_hand = await batches.take(within=0.0)
        app.consumer.stop_flow()
        app.flow_control.clear()  # Faust clears the queues it manages at a rebalance
        # The batch in hand is still awaited (Faust waits for it); the rest is read again.
        assert app.consumer._unacked_messages == set(in_hand)
        assert await _nothing_within(batches)

    asyncio.run(scenario())


def test_records_fetched_while_the_flow_is_stopped_are_not_handed_over() -> None:
    async def scenario() -> None:
        batches, app = _batches(batch_size=2)
        app.consumer.stop_flow()
        await _drain(batches, app, _records(range(2)))
        assert app.consumer._unacked_messages == set()
        assert await _nothing_within(batches)

    asyncio.run(scenario())


def test_records_of_an_older_consumer_generation_are_never_processed() -> None:
    async def scenario() -> None:
        batches, app = _batches(batch_size=4)
        old = _records(range(2), generation_id=1)
        await _drain(batches, app, old)
        app.consumer_generation_id = 2
        new = _records(range(2, 4), generation_id=2)
        await _drain(batches, app, new)
        assert await batches.take(within=0.0) == new
        assert app.consumer._unacked_messages == set(new)

    asyncio.run(scenario())


async def _fetch_into_a_full_buffer(batches: FetchedBatches, app: _App) -> asyncio.Future[None]:
    """Batches of two: four (8 records) wait, so the fetch of records 8 and 9 waits."""
    await _drain(batches, app, _records(range(8)))
    fetching = asyncio.ensure_future(_drain(batches, app, _records(range(8, 10))))
    await asyncio.sleep(0.05)
    assert not fetching.done()  # no room: the fetch loop waits
    return fetching


def test_a_full_buffer_holds_the_fetch_and_commits_go_on_meanwhile() -> None:
    async def scenario() -> None:
        batches, app = _batches(batch_size=2)
        fetching = await _fetch_into_a_full_buffer(batches, app)
        batches.done(await batches.take(within=0.0))  # a batch finished: room, two acks
        await asyncio.wait_for(fetching, 1.0)
        assert app.consumer.commits == 1  # committed every batch while it waited
        offsets = []
        for _ in range(4):
            offsets += [r.offset for r in await batches.take(within=0.0)]
        assert offsets == list(range(2, 10))

    asyncio.run(scenario())


def test_a_rebalance_while_the_fetch_waits_for_room_drops_its_records() -> None:
    async def scenario() -> None:
        batches, app = _batches(batch_size=2)
        fetching = await _fetch_into_a_full_buffer(batches, app)
        app.consumer.stop_flow()
        app.flow_control.clear()
        await asyncio.wait_for(fetching, 1.0)
        assert app.consumer._unacked_messages == set()
        assert await _nothing_within(batches)

    asyncio.run(scenario())


def test_a_gap_in_offsets_is_reported_to_the_consumer() -> None:
    async def scenario() -> None:
        batches, app = _batches(batch_size=10)
        await _drain(batches, app, _records([3, 4, 9]))
        assert app.consumer.gaps == [(TP(SOURCE, 0), 5, 9)]

    asyncio.run(scenario())


def test_the_app_fetches_one_batch_at_most_and_commits_every_batch() -> None:
    assert FetchedBatches.app_settings(500) == {
        "broker_max_poll_records": 500,
        "broker_commit_every": 500,
    }
