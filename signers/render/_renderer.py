"""The renderer stage: baked PNG and SVG badges for every issued credential.

- Input topic: ``credential.issued.v1`` (CredentialIssued, keyed by credential id), group
  ``{prefix}credstream-renderer``.
- Output: ``{tenant}/badges/{credential id}.png`` and ``.svg`` in the object store,
  written once (``If-None-Match: *``), baked from the stored credential JSON and the
  achievement's artwork (see ``_images``). No output topic.
- Dead-letter topic: ``credential.issued.v1.dlq`` (undecodable notifications, a
  credential missing from the store, an integrity conflict).
- Delivery: at least once, effectively once. Badges are deterministic; a 412 with the
  same bytes is success; a 412 with other bytes is success too when the stored badge
  carries the same credential (rendered earlier from other artwork), and otherwise an
  integrity alarm and a dead letter, never an overwrite. Offsets are committed after the
  writes and dead letters are durable; a store outage pauses consumption.

Off the critical path: issuance never waits for it; while the signer has a backlog it
pauses (:class:`~signers.render.YieldToIssuance`), and it catches up after a burst.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from credstream.errors import InvalidInputError
from credstream.observability import Metrics
from schemas.codec import Codec
from schemas.dead_letters import DeadLetterRecord, Origin, dead_letter_record
from schemas.models import CredentialIssued
from signers.render._errors import BakingError, CredentialNotStoredError
from signers.render._images import ArtworkSource
from signers.render._png import bake_png, extract_png
from signers.render._svg import bake_svg, extract_svg
from signers.service import badge_key, credential_key
from signers.storage import ObjectWrite, Outcome, PutResult

STAGE = "renderer"
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
_EXTRACT: dict[str, Callable[[bytes], str]] = {"png": extract_png, "svg": extract_svg}
log = logging.getLogger("credstream.renderer")


class BadgeStore(Protocol):
    def put_new(self, writes: Sequence[ObjectWrite]) -> list[PutResult]: ...

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...


@dataclass
class RenderReport:
    notifications: int = 0
    duplicates: int = 0  # the same credential twice in one batch
    created: int = 0  # badge objects
    identical: int = 0
    conflicts: int = 0
    dead_letters: list[DeadLetterRecord] = field(default_factory=list)


@dataclass(frozen=True)
class _Job:
    origin: Origin
    issued: CredentialIssued
    writes: tuple[ObjectWrite, ...] = ()
    credential: Any = None


def _achievement(credential: Any) -> tuple[str | None, str | None]:
    """(id, name) of the credential's achievement, when it has them."""
    subject = credential.get("credentialSubject") if isinstance(credential, dict) else None
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if not isinstance(achievement, dict):
        return None, None
    found_id, name = achievement.get("id"), achievement.get("name")
    return (
        found_id if isinstance(found_id, str) else None,
        name if isinstance(name, str) else None,
    )


class Renderer:
    """Bakes and stores one batch of notifications; the caller sends the dead letters."""

    def __init__(
        self,
        store: BadgeStore,
        artwork: ArtworkSource,
        codec: Codec,
        metrics: Metrics,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._artwork = artwork
        self._codec = codec
        self._metrics = metrics
        self._clock = clock

    def render(self, records: Sequence[Any]) -> RenderReport:
        report = RenderReport(notifications=len(records))
        self._metrics.batch(STAGE, len(records))
        jobs = self._decode(records, report)
        bodies = self._store.get_many(
            [credential_key(j.issued.tenant_id, j.issued.credential_id) for j in jobs]
        )
        baked: list[_Job] = []
        for job, body in zip(jobs, bodies, strict=True):
            issued = job.issued
            try:
                if body is None:
                    raise CredentialNotStoredError(
                        f"credential {issued.credential_id} of {issued.tenant_id} is not stored"
                    )
                text = body.decode("utf-8")
                credential = json.loads(text)
                seed, name = _achievement(credential)
                art = self._artwork.artwork(
                    issued.tenant_id,
                    issued.achievement_key,
                    seed or issued.achievement_key,
                    name or issued.achievement_key,
                )
                writes = (
                    ObjectWrite(
                        badge_key(issued.tenant_id, issued.credential_id, "png"),
                        bake_png(art.png, text),
                        MEDIA_TYPES["png"],
                    ),
                    ObjectWrite(
                        badge_key(issued.tenant_id, issued.credential_id, "svg"),
                        bake_svg(art.svg, text),
                        MEDIA_TYPES["svg"],
                    ),
                )
            except (InvalidInputError, ValueError) as error:
                if isinstance(error, BakingError):
                    self._metrics.rendered("failed")
                self._dead(job.origin, type(error).__name__, str(error), report)
                continue
            baked.append(_Job(job.origin, issued, writes, credential))
        self._store_badges(baked, report)
        return report

    def _decode(self, records: Sequence[Any], report: RenderReport) -> list[_Job]:
        jobs: list[_Job] = []
        seen: set[tuple[str, str]] = set()
        for record in records:
            origin = Origin.of(record)
            try:
                issued = self._codec.decode_as(record.value or b"", CredentialIssued)
            except InvalidInputError as error:
                self._dead(origin, type(error).__name__, str(error), report)
                continue
            identity = (issued.tenant_id, issued.credential_id)
            if identity in seen:  # notifications are at least once: dedupe on the id
                report.duplicates += 1
                continue
            seen.add(identity)
            jobs.append(_Job(origin, issued))
        return jobs

    def _store_badges(self, jobs: list[_Job], report: RenderReport) -> None:
        writes = [write for job in jobs for write in job.writes]
        results = iter(self._store.put_new(writes))
        conflicts: list[tuple[_Job, PutResult]] = []
        for job in jobs:
            for _ in job.writes:
                result = next(results)
                if result.outcome is Outcome.CREATED:
                    report.created += 1
                    self._metrics.rendered("created")
                elif result.outcome is Outcome.IDENTICAL:
                    report.identical += 1
                    self._metrics.rendered("identical")
                else:
                    conflicts.append((job, result))
        if not conflicts:
            return
        stored = self._store.get_many([result.key for _, result in conflicts])
        alarmed: set[str] = set()
        for (job, result), body in zip(conflicts, stored, strict=True):
            if body is not None and self._carries(body, result.key, job.credential):
                # Rendered before from other artwork (a re-uploaded image): same credential.
                report.identical += 1
                self._metrics.rendered("identical")
                continue
            report.conflicts += 1
            self._metrics.rendered("conflict")
            self._metrics.integrity_alarm("object_conflict")
            if job.issued.credential_id not in alarmed:
                alarmed.add(job.issued.credential_id)
                message = f"{result.key}: the store holds a badge of another credential"
                self._dead(job.origin, "IntegrityConflict", message, report)

    @staticmethod
    def _carries(body: bytes, key: str, credential: Any) -> bool:
        try:
            return bool(json.loads(_EXTRACT[key.rsplit(".", 1)[1]](body)) == credential)
        except (InvalidInputError, ValueError):
            return False

    def _dead(self, origin: Origin, reason: str, message: str, report: RenderReport) -> None:
        self._metrics.dead_lettered(STAGE, reason)
        log.warning(
            "dead letter from %s[%d]@%d: %s: %s",
            origin.topic, origin.partition, origin.offset, reason, message,
        )  # fmt: skip
        report.dead_letters.append(
            dead_letter_record(self._codec, origin, STAGE, reason, message, self._clock())
        )
