"""Faust's own ceiling: the processor's consumption, with nothing done per batch.

``credstream bench processor --floor`` runs this in place of the processor on the same
backlog: a loop that takes batches as the processor's does (Faust's consumer, whole
fetched batches through :class:`~processors.stream.FetchedBatches`, same batch size and
wait, offsets committed every batch) and drops them. What it costs per event is the
consumption machinery alone (fetch, hand-over, acks, commits): the processor cannot be
faster than this.

Run as ``python -m credstream.faust_floor GROUP BOOTSTRAP_SERVERS TOPIC PARTITIONS DATA_DIR``
(``DATA_DIR``: Faust's own files, which would otherwise land in the working directory).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import faust

from credstream.roots.processor import ProcessorSettings, faust_broker
from processors.stream import FetchedBatches


def floor_app(
    group: str, bootstrap_servers: str, topic: str, partitions: int, data_dir: str
) -> faust.App:
    batch_size = ProcessorSettings.model_fields["batch_size"].default
    batch_seconds = ProcessorSettings.model_fields["batch_seconds"].default
    app = faust.App(
        group,
        broker=faust_broker(bootstrap_servers),
        store="memory://",
        datadir=data_dir,
        topic_partitions=partitions,
        topic_disable_leader=True,
        web_enabled=False,
        **FetchedBatches.app_settings(batch_size),
    )
    source = app.topic(topic, key_serializer="raw", value_serializer="raw")
    batches = FetchedBatches(app, source, batch_size)

    async def drop() -> None:
        while True:
            batches.done(await batches.take(batch_seconds))

    app.task(drop)
    return app


def command(
    group: str, bootstrap_servers: str, topic: str, partitions: int, data_dir: Path
) -> list[str]:
    """The ``python -m`` arguments that run the floor agent."""
    arguments = [group, bootstrap_servers, topic, str(partitions), str(data_dir)]
    return ["credstream.faust_floor", *arguments]


def main(argv: Sequence[str]) -> None:
    group, bootstrap_servers, topic, partitions, data_dir = argv
    app = floor_app(group, bootstrap_servers, topic, int(partitions), data_dir)
    faust.Worker(app, loglevel=logging.WARNING, quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main(sys.argv[1:])
