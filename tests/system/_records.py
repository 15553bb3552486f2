"""Hand-made records for the bad-input scenarios: what a broken or hostile producer sends."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from credstream.clients import kafka_producer
from credstream.pipeline import LocalPipeline, read_all
from producers import EventSigner
from schemas.codec import Codec
from schemas.dead_letters import (
    ERROR_CLASS,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TOPIC,
    STAGE,
)
from schemas.models import AssessmentCompleted, DeadLetter

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class Injected:
    """A record sent on purpose, and where it landed."""

    name: str
    topic: str
    key: bytes
    value: bytes
    headers: Headers
    expected_error: str
    partition: int = -1
    offset: int = -1


def signed(event: AssessmentCompleted, signer: EventSigner, codec: Codec) -> tuple[bytes, Headers]:
    """The value and signature headers an engine's SDK would send for ``event``."""
    value = codec.encode(event)
    fingerprint = codec.writer_fingerprint(value)
    return value, signer.headers(event.event_id, fingerprint, int(time.time() * 1000), value)


def event_key(event: AssessmentCompleted) -> bytes:
    return f"{event.tenant_id}/{event.learner.id}".encode()


def inject(pipeline: LocalPipeline, records: Sequence[Injected]) -> list[Injected]:
    """Send raw records; returns them with the partition and offset each got."""
    placed = []
    with kafka_producer(pipeline.kafka) as producer:
        futures = [
            producer.send(r.topic, key=r.key, value=r.value, headers=list(r.headers))
            for r in records
        ]
        producer.flush()
        for record, future in zip(records, futures, strict=True):
            metadata = future.get(timeout=30)
            placed.append(
                Injected(
                    record.name, record.topic, record.key, record.value, record.headers,
                    record.expected_error, metadata.partition, metadata.offset,
                )
            )  # fmt: skip
    return placed


@dataclass
class DeadLetterCheck:
    """How each injected record came out of a dead-letter topic."""

    letters: int = 0
    matched: int = 0
    wrong: list[str] | None = None

    def figures(self) -> dict[str, Any]:
        return {"dead_letters": self.letters, "matched": self.matched, "wrong": self.wrong or []}


def check_dead_letters(
    pipeline: LocalPipeline, dlq_topic: str, injected: Sequence[Injected], stage: str
) -> DeadLetterCheck:
    """Each injected record is in ``dlq_topic`` exactly once, with its origin headers, its
    original bytes and headers, and the expected error class."""
    wide = Codec(max_record_bytes=None)  # an envelope may hold a record the stage refused
    letters = read_all(pipeline.kafka, dlq_topic, want=len(injected), seconds=60)
    check = DeadLetterCheck(letters=len(letters), wrong=[])
    by_origin: dict[tuple[int, int], list[Any]] = {}
    for letter in letters:
        headers = dict(letter.headers)
        origin = (int(headers[SOURCE_PARTITION]), int(headers[SOURCE_OFFSET]))
        by_origin.setdefault(origin, []).append(letter)
    assert check.wrong is not None
    for record in injected:
        found = by_origin.get((record.partition, record.offset), [])
        if len(found) != 1:
            check.wrong.append(f"{record.name}: {len(found)} dead letters")
            continue
        headers = dict(found[0].headers)
        envelope = wide.decode_as(found[0].value, DeadLetter)
        problems = [
            what
            for what, ok in (
                ("source topic", headers[SOURCE_TOPIC] == record.topic.encode()),
                ("stage", headers[STAGE] == stage.encode()),
                ("error class", headers[ERROR_CLASS] == record.expected_error.encode()),
                ("original value", envelope.original_value == record.value),
                ("original key", envelope.original_key == record.key),
                (
                    "original headers",
                    [(h.key, h.value) for h in envelope.original_headers] == record.headers,
                ),
            )
            if not ok
        ]
        if problems:
            check.wrong.append(f"{record.name}: {problems} ({headers[ERROR_CLASS]!r})")
        else:
            check.matched += 1
    return check
