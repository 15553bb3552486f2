"""The signing service: requests in, stored and announced credentials out.

- Input topic: ``credential.requested.v1`` (CredentialRequested, keyed by credential id).
- Output: credential JSON and batch manifests in the object store (write-once), then
  ``credential.issued.v1`` (CredentialIssued, keyed by credential id).
- Dead-letter topic: ``credential.requested.v1.dlq`` (undecodable requests, unknown
  tenant or achievement, credentials that fail validation, integrity conflicts).
- Delivery: at least once, effectively once. Credentials are deterministic and written
  with ``If-None-Match: *``; notifications follow storage; offsets are committed only
  after objects, dead letters and notifications are durable. A store outage pauses
  consumption (the batch is retried, never skipped).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata

from credstream.errors import InvalidInputError
from credstream.observability import Metrics
from processors.catalog import Achievement, Issuer
from schemas.codec import Codec
from schemas.dead_letters import DeadLetterRecord, Origin, dead_letter_record
from schemas.models import CredentialRequested
from schemas.topics import Topology
from signers.credential import xsd_datetime
from signers.service._factory import Signed, SignFailure, SigningPool, SignJob
from signers.service._manifests import ManifestWriter
from signers.service._publish import Stored, notification, store_credentials
from signers.status import allocate_slot
from signers.storage import Outcome, StoreUnavailableError, WriteOnceStore

STAGE = "signer"
log = logging.getLogger("credstream.signer")


class CatalogLookup(Protocol):
    def achievement(self, tenant: str, key: str, version: int) -> tuple[Achievement, Issuer]: ...


@dataclass
class BatchReport:
    requests: int = 0
    created: int = 0
    identical: int = 0
    duplicate_requests: int = 0
    dead_letters: int = 0
    notified: int = 0
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True)
class _Pending:
    origin: Origin
    request: CredentialRequested


class SignerService:
    """One consumer in the ``credstream-signer`` group (scale out: more processes)."""

    def __init__(
        self,
        consumer: KafkaConsumer,
        producer: KafkaProducer,
        codec: Codec,
        topology: Topology,
        catalog: CatalogLookup,
        pool: SigningPool,
        store: WriteOnceStore,
        manifests: ManifestWriter,
        metrics: Metrics,
        public_base_url: str,
        suite: str,
        max_batch: int = 500,
        linger_ms: int = 50,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._consumer = consumer
        self._producer = producer
        self._codec = codec
        self._topology = topology
        self._catalog = catalog
        self._pool = pool
        self._store = store
        self._manifests = manifests
        self._metrics = metrics
        self._public_base_url = public_base_url
        self._suite = suite
        self._max_batch = max_batch
        self._linger_ms = linger_ms
        self._clock = clock
        self._running = True

    def stop(self) -> None:
        self._running = False

    def run(self) -> None:
        self._consumer.subscribe([self._topology.requests.name])
        try:
            while self._running:
                records = self._poll_batch()
                if records:
                    self._process_until_durable(records)
        finally:
            self._consumer.close()  # leave the group now: partitions move without a timeout
            self._producer.close()

    def _poll_batch(self) -> list[Any]:
        """Up to max_batch records, waiting at most linger_ms once the first arrives."""
        records: list[Any] = []
        deadline = None
        while len(records) < self._max_batch and self._running:
            timeout = (
                1000 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            )
            polled = self._consumer.poll(
                timeout_ms=timeout, max_records=self._max_batch - len(records)
            )
            for batch in polled.values():
                records.extend(batch)
            if records and deadline is None:
                deadline = time.monotonic() + self._linger_ms / 1000
            if deadline is not None and time.monotonic() >= deadline:
                break
            if not records and not polled:
                break
        return records

    def _process_until_durable(self, records: list[Any]) -> None:
        delay = 0.5
        while True:
            try:
                self.process(records)
                return
            except StoreUnavailableError as error:
                # Back-pressure: hold the batch, keep the group membership alive, retry.
                log.warning("object store unavailable, pausing: %s", error)
                assigned = self._consumer.assignment()
                self._consumer.pause(*assigned)
                self._consumer.poll(timeout_ms=0)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                self._consumer.resume(*assigned)

    def process(self, records: list[Any]) -> BatchReport:
        """Sign, store, announce and commit one batch of consumed records."""
        report = BatchReport(requests=len(records))
        dead: list[DeadLetterRecord] = []
        self._metrics.batch(STAGE, len(records))
        jobs = self._decode(records, dead, report)
        with self._metrics.signing():
            outcomes = self._pool.sign([job for _, job in jobs]) if jobs else []
        signed: list[tuple[_Pending, Signed]] = []
        for (item, _), outcome in zip(jobs, outcomes, strict=True):
            if isinstance(outcome, SignFailure):
                dead.append(self._dead(item.origin, outcome.error_class, outcome.message, report))
            else:
                self._metrics.signed(item.request.tenant_id, self._suite)
                signed.append((item, outcome))
        with self._metrics.storing():
            stored = store_credentials(self._store, [s for _, s in signed])
        announce = self._to_announce(signed, stored, dead, report)
        self._send(dead, announce)
        report.notified = len(announce)
        # The manifest goes last: a credential it lists was stored AND announced.
        self._manifests.write(
            [
                (
                    self._topology.partition_label(i.origin.partition),
                    i.origin.offset,
                    r,
                    xsd_datetime(i.request.awarded_at),
                )
                for i, r in announce
            ]
        )
        self._commit(records)
        return report

    def _decode(
        self, records: list[Any], dead: list[DeadLetterRecord], report: BatchReport
    ) -> list[tuple[_Pending, SignJob]]:
        jobs = []
        for record in records:
            origin = Origin(
                record.topic, record.partition, record.offset, record.key, record.value,
                list(record.headers or []),
            )  # fmt: skip
            try:
                request = self._codec.decode_as(record.value or b"", CredentialRequested)
                achievement, issuer = self._catalog.achievement(
                    request.tenant_id, request.achievement_key, request.achievement_version
                )
            except InvalidInputError as error:
                dead.append(self._dead(origin, type(error).__name__, str(error), report))
                continue
            slot = allocate_slot(self._topology.partition_label(record.partition), record.offset)
            jobs.append((_Pending(origin, request), SignJob(request, achievement, issuer, slot)))
        return jobs

    def _to_announce(
        self,
        signed: list[tuple[_Pending, Signed]],
        stored: list[Stored],
        dead: list[DeadLetterRecord],
        report: BatchReport,
    ) -> list[tuple[_Pending, Stored]]:
        announce: list[tuple[_Pending, Stored]] = []
        for (item, _), result in zip(signed, stored, strict=True):
            request = item.request
            self._metrics.stored(request.tenant_id, result.outcome.value)
            if result.alarm:
                self._metrics.integrity_alarm("object_conflict")
                message = f"credential {request.credential_id}: the store holds other bytes"
                dead.append(self._dead(item.origin, "IntegrityConflict", message, report))
                continue
            if result.outcome is Outcome.CREATED:
                report.created += 1
            elif result.duplicate_request:
                report.duplicate_requests += 1
            else:
                report.identical += 1
            source = self._topology.partition_label(item.origin.partition)
            if result.outcome is not Outcome.CREATED and self._manifests.announced(
                request.tenant_id, source, item.origin.offset, request.credential_id
            ):
                continue  # a replay of a batch that completed: nothing to announce again
            announce.append((item, result))
        return announce

    def _send(self, dead: list[DeadLetterRecord], announce: list[tuple[_Pending, Stored]]) -> None:
        for letter in dead:
            self._producer.send(
                letter.topic, key=letter.key, value=letter.value, headers=letter.headers
            )
        for item, _ in announce:
            request = item.request
            achievement, issuer = self._catalog.achievement(
                request.tenant_id, request.achievement_key, request.achievement_version
            )
            issued = notification(request, self._public_base_url, achievement.name, issuer.name)
            self._producer.send(
                self._topology.issued.name,
                key=request.credential_id.encode(),
                value=self._codec.encode(issued),
            )
        self._producer.flush()  # every dead letter and notification acknowledged (acks=all)
        for item, _ in announce:
            self._metrics.notified(item.request.tenant_id, item.request.awarded_at.timestamp())

    def _dead(
        self, origin: Origin, reason: str, message: str, report: BatchReport
    ) -> DeadLetterRecord:
        report.dead_letters += 1
        report.reasons[reason] += 1
        self._metrics.dead_lettered(STAGE, reason)
        log.warning(
            "dead letter from %s[%d]@%d: %s: %s",
            origin.topic, origin.partition, origin.offset, reason, message,
        )  # fmt: skip
        return dead_letter_record(self._codec, origin, STAGE, reason, message, self._clock())

    def _commit(self, records: list[Any]) -> None:
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            current = offsets.get(partition)
            if current is None or record.offset + 1 > current.offset:
                offsets[partition] = OffsetAndMetadata(record.offset + 1, "", -1)
        try:
            self._consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as error:
            # A rebalance took the partitions: the new owner re-reads this batch, and the
            # conditional writes make that harmless.
            log.warning("commit refused after a rebalance; the batch will be re-read: %s", error)
