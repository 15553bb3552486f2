"""The processor's Faust app: codecs of its state, its local store, delivery checks."""

from __future__ import annotations

import asyncio
import weakref
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.streams import _current_event as _CURRENT_EVENT

from credstream.observability import Metrics
from processors.catalog import Catalog
from processors.stream import EventHandler, build_app, progress_changelog
from processors.stream._app import DeliveryFailedError, _delivered
from processors.stream._local_store import LocalProgress
from schemas.codec import MAX_RECORD_BYTES, Codec
from schemas.topics import Topology


def _app(tmp_path: Path) -> faust.App:
    codec = Codec()
    handler = EventHandler(codec, Catalog, {}, lambda: datetime.now(UTC))
    metrics = Metrics("processor", process_collectors=False)
    return build_app(
        "unit-app", "kafka://127.0.0.1:1", "memory://", str(tmp_path), Topology("unit."),
        handler, codec, metrics,
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
        Metrics("processor", process_collectors=False),
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
        with pytest.raises(DeliveryFailedError, match=r"1 produced records failed.*too large"):
            await _delivered(producer, _futures(None, ValueError("record too large")))
        await _delivered(producer, [])  # nothing sent: nothing to wait for
        assert producer.flushed == 2

    asyncio.run(scenario())


def test_a_stop_waits_for_the_batch_in_hand_leaves_the_group_and_exits() -> None:
    from processors.stream._app import _StopBetweenBatches

    async def scenario() -> list[str]:
        steps: list[str] = []

        async def leave() -> None:
            steps.append("leave")

        stop = _StopBetweenBatches(leave, lambda code: steps.append(f"exit {code}"))
        stop.busy = True
        stop.request()
        await asyncio.sleep(0)
        steps.append("batch finished")  # nothing happened before the batch ended
        await stop.batch_done()

        idle = _StopBetweenBatches(leave, lambda code: steps.append(f"exit {code}"))
        idle.request()  # nothing in hand: at once
        await asyncio.sleep(0.01)

        working = _StopBetweenBatches(leave, lambda code: steps.append(f"exit {code}"))
        working.busy = True
        await working.batch_done()  # no stop asked: keeps going
        return steps

    assert asyncio.run(scenario()) == ["batch finished", "leave", "exit 0", "leave", "exit 0"]


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
        store_options=settings.rocksdb_options(),
    )  # fmt: skip
    (table,) = app.tables.values()
    options = table.data.rocksdb_options
    assert options.write_buffer_size * options.max_write_buffer_number <= 2 << 20
    assert options.block_cache_size <= 1 << 20
