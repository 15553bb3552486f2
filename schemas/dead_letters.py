"""Dead-letter records: the original bytes, wrapped with where they came from and why.

Every stage sends input it cannot process to ``<source topic>.dlq``: the value is a
``DeadLetter`` envelope (Avro, like every topic) holding the original key, value and
headers; Kafka headers repeat the origin so an operator can filter with ``kcat`` without
decoding anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from schemas.codec import Codec
from schemas.models import DeadLetter, Header
from schemas.topics import Topic, dead_letter

# Headers on every dead-letter record (values are UTF-8 text).
SOURCE_TOPIC = "cs-dlq-source-topic"
SOURCE_PARTITION = "cs-dlq-source-partition"
SOURCE_OFFSET = "cs-dlq-source-offset"
STAGE = "cs-dlq-stage"
ERROR_CLASS = "cs-dlq-error-class"
ERROR_MESSAGE = "cs-dlq-error"
_MESSAGE_LIMIT = 2000


# A NamedTuple: one is made per record consumed, and a frozen dataclass costs ~2.4x as
# much to make (its __init__ sets each field through object.__setattr__).
class Origin(NamedTuple):
    """Where a record was read: what a dead letter must name."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]]

    @classmethod
    def of(cls, record: Any) -> Origin:
        """The origin of a consumed kafka-python ``ConsumerRecord``."""
        return cls(
            record.topic, record.partition, record.offset, record.key, record.value,
            list(record.headers or []),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def dead_letter_record(
    codec: Codec,
    origin: Origin,
    stage: str,
    error_class: str,
    message: str,
    failed_at: datetime,
) -> DeadLetterRecord:
    """``error_class`` names the kind of failure (a typed error's class name)."""
    message = message[:_MESSAGE_LIMIT]
    envelope = DeadLetter(
        source_topic=origin.topic,
        source_partition=origin.partition,
        source_offset=origin.offset,
        original_key=origin.key,
        original_value=origin.value,
        original_headers=tuple(Header(key=k, value=v) for k, v in origin.headers),
        stage=stage,
        error_class=error_class,
        error_message=message,
        failed_at=failed_at,
    )
    headers = [
        (SOURCE_TOPIC, origin.topic.encode()),
        (SOURCE_PARTITION, str(origin.partition).encode()),
        (SOURCE_OFFSET, str(origin.offset).encode()),
        (STAGE, stage.encode()),
        (ERROR_CLASS, error_class.encode()),
        (ERROR_MESSAGE, message.encode()),
    ]
    topic = dead_letter(Topic(origin.topic)).name
    return DeadLetterRecord(topic, origin.key, codec.encode(envelope), headers)
