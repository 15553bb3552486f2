"""The processor's Faust app: codecs of its state, its local store, delivery checks."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.streams import _current_event as _CURRENT_EVENT

from credstream.observability import Metrics
from processors.catalog import Catalog
from processors.stream import EventHandler, Handled, build_app, progress_changelog
from processors.stream._app import (
    DeliveryFailedError,
    _BatchSteps,
    _delivered,
    _process_batches,
    _StopBetweenBatches,
)
from processors.stream._local_store import LocalProgress
from schemas.codec import MAX_RECORD_BYTES, Codec
from schemas.topics import Topology


def _app(tmp_path: Path) -> faust.App:
    codec = Codec()
    handler = EventHandler(codec, Catalog, {}, lambda: datetime.now(UTC))
    metrics = Metrics("processor", process_collectors=False)
    return build_app(
        "unit-app", "kafka://127.0.0.1:1", "memory://", str(tmp_path), Topology("unit."),
        handler, codec, metrics, batch_size=500, batch_seconds=0.05,
    )  # fmt: skip


def test_progress_and_its_changelog_use_raw_codecs(tmp_path: Path) -> None:
    # Regression: the changelog topic was created with json codecs before the table's were
    # set to raw, so recovery could not read back a single progress record.
    (table,) = _app(tmp_path).tables.values()
    changelog = table.changelog_topic
    assert (table.key_serializer, table.value_serializer) == ("raw", "raw")
    assert (changelog.key_serializer, changelog.value_serializer) == ("raw", "raw")


def test_the_changelog_the_processor_creates_is_the_one_faust_uses(tmp_path: Path) -> None:
    (table,) = _app(tmp_path).tables.values()
    created = progress_changelog("unit-app", Topology("unit."))
    assert created.name == table.changelog_topic.get_topic_name()
    assert created.partitions == Topology("unit.").assessments.partitions
    assert created.config == {"cleanup.policy": "compact"}


def test_dead_letters_of_the_largest_records_fit_the_producer(tmp_path: Path) -> None:
    # A refused record of the codec's maximum size, wrapped in its envelope, is sent.
    assert _app(tmp_path).conf.producer_max_request_size > MAX_RECORD_BYTES + 64_000


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
def test_local_progress_is_the_tables_own_data_by_partition(tmp_path: Path, store: str) -> None:
    # What the processor writes by partition, Faust's table reads back as its own (the
    # record's partition set as the current event), and the other way round.
    codec = Codec()
    app = build_app(
        "unit-app", "kafka://127.0.0.1:1", store, str(tmp_path), Topology("unit."),
        EventHandler(codec, Catalog, {}, lambda: datetime.now(UTC)), codec,
        Metrics("processor", process_collectors=False), batch_size=500, batch_seconds=0.05,
    )  # fmt: skip
    (table,) = app.tables.values()
    local = LocalProgress(table.data)
    local.write([(4, b"t/a", b"progress a"), (1, b"t/b", b"progress b"), (4, b"t/c", b"c")])
    assert [local.get(4, b"t/a"), local.get(1, b"t/b"), local.get(4, b"t/x")] == [
        b"progress a", b"progress b", None,
    ]  # fmt: skip

    class _At:  # what Faust's stores read of the current event: its record's partition
        def __init__(self, partition: int) -> None:
            self.message = SimpleNamespace(partition=partition)

    at = _At(4)
    token = _CURRENT_EVENT.set(weakref.ref(at))  # type: ignore[arg-type]
    try:
        assert table.data[b"t/a"] == b"progress a"
        table.data[b"t/d"] = b"written by Faust"
    finally:
        _CURRENT_EVENT.reset(token)
    assert local.get(4, b"t/d") == b"written by Faust"


class _Producer:
    def __init__(self) -> None:
        self.flushed = 0

    async def flush(self) -> None:
        self.flushed += 1


def _futures(*errors: Exception | None) -> list[asyncio.Future[Any]]:
    futures: list[asyncio.Future[Any]] = []
    for error in errors:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if error is None:
            future.set_result("metadata")
        else:
            future.set_exception(error)
        futures.append(future)
    return futures


def test_delivery_waits_for_the_flush_and_reports_a_failed_record() -> None:
    async def scenario() -> None:
        producer: Any = _Producer()
        await _delivered(producer, _futures(None, None))
        assert producer.flushed == 1
        with pytest.raises(DeliveryFailedError, match=r"1 of 2 sends failed.*too large"):
            await _delivered(producer, _futures(None, ValueError("record too large")))
        await _delivered(producer, [])  # nothing sent: nothing to wait for
        assert producer.flushed == 2

    asyncio.run(scenario())


def test_a_stop_waits_for_the_batches_in_hand_leaves_the_group_and_exits() -> None:
    async def scenario() -> list[str]:
        steps: list[str] = []

        async def leave() -> None:
            steps.append("leave")

        stop = _StopBetweenBatches(leave, lambda code: steps.append(f"exit {code}"))
        stop.batch_taken()
        stop.batch_taken()
        stop.request()
        await asyncio.sleep(0)
        steps.append("first batch finished")  # nothing happened before the batches ended
        await stop.batch_done()
        steps.append("second batch finished")
        await stop.batch_done()

        idle = _StopBetweenBatches(leave, lambda code: steps.append(f"exit {code}"))
        idle.request()  # nothing in hand: at once
        await asyncio.sleep(0.01)

        working = _StopBetweenBatches(leave, lambda code: steps.append(f"exit {code}"))
        working.batch_taken()
        await working.batch_done()  # no stop asked: keeps going
        return steps

    assert asyncio.run(scenario()) == [
        "first batch finished", "second batch finished", "leave", "exit 0", "leave", "exit 0",
    ]  # fmt: skip


class _Batches:
    """Batches 1, 2, 3... of one record each, taken at once; acknowledgements noted."""

    def __init__(self, steps: list[str]) -> None:
        self._steps = steps
        self._next = 0

    async def take(self, within: float) -> list[int]:
        self._next += 1
        return [self._next]

    def done(self, batch: list[int]) -> None:
        self._steps.append(f"ack {batch[0]}")


class _Steps:
    """Batch steps whose outputs each wait for the test to acknowledge them."""

    def __init__(self, steps: list[str]) -> None:
        self._steps = steps
        self.acks: dict[int, asyncio.Event] = {}

    async def admit(self, batch: list[int]) -> list[int]:
        return batch

    def evaluate(self, batch: list[int], admitted: list[int]) -> int:
        self._steps.append(f"evaluate {batch[0]}")
        self.acks[batch[0]] = asyncio.Event()
        return batch[0]

    async def deliver(self, number: int, saved_before: Awaitable[None] | None) -> None:
        await self.acks[number].wait()
        if saved_before is not None:
            await saved_before
        self._steps.append(f"save {number}")


def test_the_next_batch_is_evaluated_while_one_is_delivered_and_saved_in_order() -> None:
    async def scenario() -> list[str]:
        steps: list[str] = []
        stop = _StopBetweenBatches(_nothing, lambda code: steps.append(f"exit {code}"))
        work = _Steps(steps)
        loop: Any = _process_batches(_Batches(steps), work, stop, 0.0)  # type: ignore[arg-type]
        task = asyncio.ensure_future(loop)
        await asyncio.sleep(0.01)
        steps.append("broker acks 2")  # out of order: 2 waits for 1 to be saved
        work.acks[2].set()
        await asyncio.sleep(0.01)
        steps.append("broker acks 1")
        work.acks[1].set()
        await asyncio.sleep(0.01)
        stop.request()  # 3 and 4 are in flight: 5 is not evaluated, and 4 ends the process
        steps.append("broker acks 3 and 4")
        work.acks[3].set()
        work.acks[4].set()
        await asyncio.sleep(0.01)
        task.cancel()
        return steps

    steps = asyncio.run(scenario())
    at = {step: number for number, step in enumerate(steps)}
    # Two batches in flight, no more: 3 is evaluated once 1 is acknowledged.
    assert steps[:4] == ["evaluate 1", "evaluate 2", "broker acks 2", "broker acks 1"]
    assert at["save 1"] < at["ack 1"] < at["evaluate 3"]
    # Saved and acknowledged in order, though the broker acknowledged 2 first.
    assert at["ack 1"] < at["save 2"] < at["ack 2"] < at["save 3"] < at["ack 3"] < at["ack 4"]
    assert at["ack 2"] < at["evaluate 4"] < at["broker acks 3 and 4"]
    # After the stop: no new batch, and the exit once those in flight are finished.
    assert "evaluate 5" not in at
    assert steps[-2:] == ["ack 4", "exit 0"]


class _Appending:
    """An event handler whose progress is the stored progress plus the event's value."""

    def evaluate(self, admitted: Any, stored: bytes | None) -> Handled:
        return Handled("accepted", "t", (stored or b"") + admitted)


class _Acked:
    """A producer whose sends are acknowledged at once; the changelog's records are noted."""

    def __init__(self) -> None:
        self.changelog: list[tuple[bytes, bytes]] = []

    def create_batch(self) -> _Batch:
        return _Batch()

    async def partitions_for(self, topic: str) -> set[int]:
        return {0}

    async def send_batch(self, batch: _Batch, topic: str, *, partition: int) -> Any:
        if topic == "changelog":
            self.changelog.extend(batch.records)
        (future,) = _futures(None)
        return future

    async def flush(self) -> None:
        pass


class _Batch:
    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes]] = []

    def append(self, *, key: bytes, value: bytes, timestamp: None) -> object:
        self.records.append((key, value))
        return "metadata"


def test_a_batch_is_evaluated_on_the_progress_the_one_before_has_not_saved_yet() -> None:
    async def scenario() -> tuple[list[bytes | None], list[tuple[bytes, bytes]]]:
        local = LocalProgress(SimpleNamespace(data={}))
        producer = _Acked()
        steps = _BatchSteps(
            _Appending(), Codec(), Topology("unit."),  # type: ignore[arg-type]
            Metrics("processor", process_collectors=False), local, "changelog",
            lambda: producer,  # type: ignore[arg-type,return-value]
        )  # fmt: skip
        a: Any = SimpleNamespace(key=b"t/a", partition=0)
        first = steps.evaluate([a, a], [b"1", b"2"])
        second = steps.evaluate([a], [b"3"])  # before the first is saved
        seen = [local.get(0, b"t/a")]
        await steps.deliver(first, None)
        seen.append(local.get(0, b"t/a"))
        third = steps.evaluate([a], [b"4"])  # the second's progress, not the store's
        await steps.deliver(second, None)
        await steps.deliver(third, None)
        seen.append(local.get(0, b"t/a"))
        return seen, producer.changelog

    seen, changelog = asyncio.run(scenario())
    assert seen == [None, b"12", b"1234"]
    # One changelog record per key and batch: the batch's last progress.
    assert changelog == [(b"t/a", b"12"), (b"t/a", b"123"), (b"t/a", b"1234")]


async def _nothing() -> None:
    pass


def test_rocksdb_memory_is_bounded_by_the_settings(tmp_path: Path) -> None:
    # Regression (scenario 13, the soak): Faust's RocksDB defaults (3 x 64 MiB memtables
    # and a 2 GiB block cache per partition) grew the processor by 168% after warm-up.
    from credstream.roots.processor import ProcessorSettings

    settings = ProcessorSettings()
    codec = Codec()
    app = build_app(
        "unit-app", "kafka://127.0.0.1:1", "rocksdb://", str(tmp_path), Topology("unit."),
        EventHandler(codec, Catalog, {}, lambda: datetime.now(UTC)), codec,
        Metrics("processor", process_collectors=False),
        batch_size=settings.batch_size, batch_seconds=settings.batch_seconds,
        store_options=settings.rocksdb_options(),
    )  # fmt: skip
    (table,) = app.tables.values()
    options = table.data.rocksdb_options
    assert options.write_buffer_size * options.max_write_buffer_number <= 2 << 20
    assert options.block_cache_size <= 1 << 20
