"""The renderer stage over an in-memory store: bake, write once, replay, conflicts, DLQ."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from credstream.observability import Metrics
from schemas.codec import Codec
from schemas.models import CredentialIssued, DeadLetter
from signers.render import (
    ArtworkSource,
    Renderer,
    bake_png,
    bake_svg,
    default_png,
    default_svg,
    extract_png,
    extract_svg,
    image_key,
)
from signers.service import badge_key, credential_key
from signers.storage import ObjectWrite, StoreUnavailableError
from tests.unit._memory_store import MemoryStore, Record
from tests.unit._proofs_vectors import ob_signed

TENANT = "uni-a"
TOPIC = "credential.issued.v1"
NOW = datetime(2026, 5, 1, tzinfo=UTC)


def credential(number: int) -> dict[str, Any]:
    return {**ob_signed(), "id": f"urn:uuid:{number}"}


def stored_json(number: int) -> bytes:
    return json.dumps(credential(number), separators=(",", ":")).encode()


def notification(number: int) -> CredentialIssued:
    return CredentialIssued(
        credential_id=f"c-{number}",
        tenant_id=TENANT,
        learner_id=f"l-{number}",
        achievement_key="da-101",
        achievement_version=1,
        credential_url=f"http://store/{credential_key(TENANT, f'c-{number}')}",
        issued_at=NOW,
    )


class Stage:
    def __init__(self, store: MemoryStore | None = None, clock: list[float] | None = None) -> None:
        self.store = store or MemoryStore()
        self.codec = Codec()
        self.metrics = Metrics("renderer", process_collectors=False)
        self.fetches = 0
        self.now = clock if clock is not None else [0.0]

        def fetch(keys: list[str]) -> list[bytes | None]:
            self.fetches += 1
            return self.store.get_many(keys)

        artwork = ArtworkSource(fetch, ttl_seconds=60, clock=lambda: self.now[0])
        self.renderer = Renderer(self.store, artwork, self.codec, self.metrics, lambda: NOW)
        self._offset = 0

    def record(self, value: bytes, key: bytes = b"k") -> Record:
        self._offset += 1
        return Record(TOPIC, 0, self._offset, key, value)

    def issued(self, *numbers: int) -> list[Record]:
        return [self.record(self.codec.encode(notification(n))) for n in numbers]

    def store_credentials(self, *numbers: int) -> None:
        for n in numbers:
            self.store.put_new([ObjectWrite(credential_key(TENANT, f"c-{n}"), stored_json(n))])

    def renders(self, outcome: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "credstream_renders_total", {"outcome": outcome}
        )
        return value or 0.0

    def alarms(self) -> float:
        value = self.metrics.registry.get_sample_value(
            "credstream_integrity_alarms_total", {"kind": "object_conflict"}
        )
        return value or 0.0


def badge(stage: Stage, number: int, extension: str) -> bytes:
    body = stage.store.get(badge_key(TENANT, f"c-{number}", extension))
    assert body is not None
    return body


def test_each_credential_gets_a_png_and_an_svg_carrying_it() -> None:
    stage = Stage()
    stage.store_credentials(1, 2)
    report = stage.renderer.render(stage.issued(1, 2))
    assert (report.created, report.identical, report.dead_letters) == (4, 0, [])
    for number in (1, 2):
        assert json.loads(extract_png(badge(stage, number, "png"))) == credential(number)
        assert json.loads(extract_svg(badge(stage, number, "svg"))) == credential(number)
    assert stage.renders("created") == 4


def test_a_replay_writes_nothing_and_a_duplicate_in_a_batch_is_dropped() -> None:
    stage = Stage()
    stage.store_credentials(1)
    stage.renderer.render(stage.issued(1, 1))
    writes = stage.store.writes
    report = stage.renderer.render(stage.issued(1))
    assert stage.store.writes == writes
    assert (report.created, report.identical) == (0, 2)
    assert stage.renders("identical") == 2


def test_uploaded_artwork_is_used_and_new_artwork_does_not_raise_a_false_alarm() -> None:
    stage = Stage()
    stage.store_credentials(1, 2)
    stage.renderer.render(stage.issued(1))  # drawn default artwork
    upload = default_png("urn:uploaded-art")
    stage.store.put_new([ObjectWrite(image_key(TENANT, "da-101", "png"), upload)])
    stage.now[0] = 61.0  # past the artwork cache's ttl
    report = stage.renderer.render(stage.issued(1, 2))
    # c-1 was baked from the default: other bytes, same credential -> identical, no alarm.
    assert (report.created, report.identical, report.conflicts) == (2, 2, 0)
    assert stage.alarms() == 0
    assert badge(stage, 2, "png") == bake_png(upload, stored_json(2).decode())
    assert b"data:image/png;base64," in badge(stage, 2, "svg")  # the SVG shows the upload


def test_artwork_lookups_are_cached_for_the_ttl() -> None:
    stage = Stage()
    stage.store_credentials(1, 2, 3)
    stage.renderer.render(stage.issued(1))
    stage.renderer.render(stage.issued(2))
    assert stage.fetches == 1
    stage.now[0] = 120.0
    stage.renderer.render(stage.issued(3))
    assert stage.fetches == 2


def test_an_unusable_upload_falls_back_to_the_default() -> None:
    stage = Stage()
    stage.store_credentials(1)
    stage.store.put_new([ObjectWrite(image_key(TENANT, "da-101", "svg"), b"<not svg")])
    report = stage.renderer.render(stage.issued(1))
    assert report.dead_letters == [] and report.created == 2
    achievement = credential(1)["credentialSubject"]["achievement"]
    default = default_svg(achievement["id"], achievement["name"])
    assert badge(stage, 1, "svg") == bake_svg(default, stored_json(1).decode())


def test_a_badge_of_another_credential_is_an_alarm_and_a_dead_letter_never_overwritten() -> None:
    stage = Stage()
    stage.store_credentials(1)
    squatter = bake_png(default_png("x"), stored_json(99).decode())
    stage.store.put_new([ObjectWrite(badge_key(TENANT, "c-1", "png"), squatter)])
    report = stage.renderer.render(stage.issued(1))
    assert badge(stage, 1, "png") == squatter
    assert report.conflicts == 1 and stage.alarms() == 1
    assert [dict(d.headers)["cs-dlq-error-class"] for d in report.dead_letters] == [
        b"IntegrityConflict"
    ]
    assert json.loads(extract_svg(badge(stage, 1, "svg"))) == credential(1)  # the other one


def test_bad_records_and_missing_credentials_go_to_the_dead_letter_topic() -> None:
    stage = Stage()
    stage.store_credentials(1)
    records = [stage.record(b"\x00garbage", key=b"poison"), *stage.issued(7, 1)]
    report = stage.renderer.render(records)
    assert report.created == 2
    reasons = [dict(d.headers)["cs-dlq-error-class"] for d in report.dead_letters]
    assert reasons == [b"UnknownSchemaError", b"CredentialNotStoredError"]
    envelope = stage.codec.decode_as(report.dead_letters[0].value, DeadLetter)
    assert envelope.original_value == b"\x00garbage" and envelope.stage == "renderer"
    assert report.dead_letters[0].topic == TOPIC + ".dlq"


def test_a_store_outage_surfaces_so_the_batch_is_held_not_skipped() -> None:
    stage = Stage()
    stage.store_credentials(1)
    stage.store.down = True
    with pytest.raises(StoreUnavailableError):
        stage.renderer.render(stage.issued(1))
    stage.store.down = False
    assert stage.renderer.render(stage.issued(1)).created == 2
