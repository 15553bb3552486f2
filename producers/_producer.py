"""The SDK an assessment engine embeds to send ``assessment.completed.v1`` events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from kafka import KafkaProducer
from kafka.errors import KafkaError

from credstream.clients import kafka_producer
from credstream.errors import CredstreamError, InvalidInputError
from credstream.settings import KafkaSettings
from producers._signing import EventSigner
from schemas.codec import Codec
from schemas.models import AssessmentCompleted
from schemas.topics import ASSESSMENT_COMPLETED

# Measured with `credstream produce --synthetic` on the local broker (producers/README.md):
# lz4 (the clients' default) and large batches cut the client's CPU per event by about a
# quarter against gzip with linger_ms=5; the 50 ms linger is invisible next to an
# assessment's duration.
TUNING: dict[str, Any] = {
    "linger_ms": 50,
    "batch_size": 512 * 1024,
}


@dataclass(frozen=True)
class DeliveryFailure:
    event_id: str
    error: str


@dataclass(frozen=True)
class DeliveryReport:
    """Counts since the producer was made: acknowledged, failed, bytes acknowledged."""

    sent: int
    failed: int
    bytes: int
    failures: tuple[DeliveryFailure, ...]  # those not reported by an earlier flush


class DeliveryError(CredstreamError):
    """Events the broker did not acknowledge (after the client's own retries)."""

    def __init__(self, report: DeliveryReport) -> None:
        self.report = report
        shown = "; ".join(f"{f.event_id}: {f.error}" for f in report.failures[:5])
        more = f" (and {len(report.failures) - 5} more)" if len(report.failures) > 5 else ""
        super().__init__(f"{len(report.failures)} events not delivered: {shown}{more}")


@dataclass(frozen=True, slots=True)
class SignedRecord:
    """One event as it goes on the wire: key, encoded value and signature headers."""

    event_id: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class AssessmentEventProducer:
    """Sends signed events, keyed ``tenant/learner`` so one learner's events stay ordered.

    The Kafka producer is idempotent with acks=all (see :func:`credstream.clients.kafka_producer`).
    ``send`` is asynchronous; ``flush`` waits for every acknowledgement and raises
    :class:`DeliveryError` for any event not delivered; leaving the ``with`` block flushes
    and closes, so nothing sent is lost silently.
    """

    def __init__(
        self,
        producer: KafkaProducer,
        signer: EventSigner,
        *,
        codec: Codec | None = None,
        topic: str = ASSESSMENT_COMPLETED.name,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._producer = producer
        self._signer = signer
        self._codec = codec or Codec()
        self._fingerprint = self._codec.contract(AssessmentCompleted).current.fingerprint
        self._topic = topic
        self._clock = clock
        self._lock = threading.Lock()  # callbacks run on the client's sender thread
        self._sent = 0
        self._bytes = 0
        self._failed = 0
        self._failures: list[DeliveryFailure] = []

    @classmethod
    def connect(
        cls,
        settings: KafkaSettings,
        signer: EventSigner,
        *,
        codec: Codec | None = None,
        topic: str = ASSESSMENT_COMPLETED.name,
        **overrides: Any,
    ) -> Self:
        """A producer on a new Kafka client (``overrides`` are kafka-python options)."""
        return cls(
            kafka_producer(settings, **(TUNING | overrides)), signer, codec=codec, topic=topic
        )

    @property
    def topic(self) -> str:
        return self._topic

    def send(self, event: AssessmentCompleted) -> int:
        """Queue one event; returns its size in bytes (key, value and headers)."""
        return self.send_signed(self.signed(event))

    def signed(self, event: AssessmentCompleted) -> SignedRecord:
        """The event encoded and signed now, to be sent by :meth:`send_signed`."""
        if event.engine_id != self._signer.engine_id:
            raise InvalidInputError(
                f"event {event.event_id}: engine_id {event.engine_id!r} is not the signing "
                f"engine {self._signer.engine_id!r}"
            )
        value = self._codec.encode(event)
        key = f"{event.tenant_id}/{event.learner.id}".encode()
        headers = self._signer.headers(
            event.event_id, self._fingerprint, int(self._clock() * 1000), value
        )
        return SignedRecord(event.event_id, key, value, headers)

    def send_signed(self, record: SignedRecord) -> int:
        """Queue a signed event; returns its size in bytes (key, value and headers)."""
        key, value, headers = record.key, record.value, record.headers
        size = len(key) + len(value) + sum(len(k) + len(v) for k, v in headers)
        try:
            future = self._producer.send(self._topic, key=key, value=value, headers=headers)
        except KafkaError as error:
            self._failed_one(record.event_id, error)
            raise DeliveryError(self.report()) from None
        future.add_callback(self._delivered, size)
        future.add_errback(self._failed_one, record.event_id)
        return size

    def flush(self, timeout: float | None = None) -> DeliveryReport:
        """Wait until every queued event is acknowledged or failed."""
        try:
            self._producer.flush(timeout=timeout)
        except KafkaError as error:  # a flush timeout: events may still be in flight
            raise CredstreamError(f"flush did not finish: {error}") from None
        report = self.report()
        if report.failures:
            with self._lock:
                self._failures.clear()
            raise DeliveryError(report)
        return report

    def report(self) -> DeliveryReport:
        with self._lock:
            return DeliveryReport(self._sent, self._failed, self._bytes, tuple(self._failures))

    def close(self, timeout: float | None = None) -> DeliveryReport:
        """Flush, then close the client (even when the flush reports failures)."""
        try:
            return self.flush(timeout)
        finally:
            self._producer.close(timeout=timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.close()
        except CredstreamError as failure:
            if error is None:
                raise
            error.add_note(f"and on close: {failure}")  # keep the body's error first

    def _delivered(self, size: int, _metadata: object) -> None:
        with self._lock:
            self._sent += 1
            self._bytes += size

    def _failed_one(self, event_id: str, error: BaseException) -> None:
        with self._lock:
            self._failed += 1
            self._failures.append(DeliveryFailure(event_id, f"{type(error).__name__}: {error}"))
