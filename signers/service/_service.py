"""The signing service: requests in, stored and announced credentials out.

- Input topic: ``credential.requested.v1`` (CredentialRequested, keyed by credential id).
- Output: credential JSON and batch manifests in the object store (write-once), then
  ``credential.issued.v1`` (CredentialIssued, keyed by credential id).
- Dead-letter topic: ``credential.requested.v1.dlq`` (undecodable requests, unknown
  tenant or achievement, credentials that fail validation, integrity conflicts).
- Delivery: at least once, effectively once. Credentials are deterministic and written
  with ``If-None-Match: *``; notifications follow storage; offsets are committed only
  after objects, dead letters and notifications are durable. A store or key-service
  outage pauses consumption (the batch is retried, never skipped or dead-lettered).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from kafka import KafkaProducer

from credstream.errors import InvalidInputError
from credstream.observability import Metrics
from processors.catalog import Achievement, Issuer
from schemas.codec import Codec
from schemas.dead_letters import DeadLetterRecord, Origin, dead_letter_record
from schemas.models import CredentialRequested
from schemas.topics import Topology
from signers.credential import xsd_datetime
from signers.keys import KmsUnavailableError
from signers.service._factory import Signed, SignFailure, SigningPool, SignJob
from signers.service._manifests import ManifestWriter
from signers.service._publish import Stored, notification, store_credentials
from signers.status import SigningUnavailableError, allocate_slot
from signers.storage import Outcome, WriteOnceStore

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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        fence: Callable[[list[Any]], None] = lambda records: None,
    ) -> None:
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
        self._clock = clock
        self._fence = fence

    def process(self, records: list[Any]) -> BatchReport:
        """Sign, store and announce one batch; the caller commits when this returns.

        Raises StoreUnavailableError while the store or the key service is down: the
        batch is held and retried (``signers.consuming.BatchLoop``), never skipped.
        """
        report = BatchReport(requests=len(records))
        dead: list[DeadLetterRecord] = []
        self._metrics.batch(STAGE, len(records))
        jobs = self._decode(records, dead, report)
        with self._metrics.signing():
            outcomes = self._pool.sign([job for _, job in jobs]) if jobs else []
        unavailable = next(
            (o for o in outcomes if isinstance(o, SignFailure) and o.transient), None
        )
        if unavailable is not None:
            # Not the requests' fault: hold the batch and retry it (BatchLoop pauses).
            raise SigningUnavailableError(f"cannot sign: {unavailable.message}")
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
        # Storing was idempotent; announcing is not: only if these partitions are still ours.
        self._fence(records)
        self._send(dead, announce)
        report.notified = len(announce)
        # The manifest goes last: a credential it lists was stored AND announced. Fenced
        # again: a worker paused while announcing must not extend a chain it lost.
        self._fence(records)
        self._write_manifests(announce)
        return report

    def _write_manifests(self, announce: list[tuple[_Pending, Stored]]) -> None:
        try:
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
        except KmsUnavailableError as error:  # the manifest key: retried like the store
            raise SigningUnavailableError(f"cannot sign the batch manifest: {error}") from None

    def _decode(
        self, records: list[Any], dead: list[DeadLetterRecord], report: BatchReport
    ) -> list[tuple[_Pending, SignJob]]:
        jobs = []
        for record in records:
            origin = Origin.of(record)
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
