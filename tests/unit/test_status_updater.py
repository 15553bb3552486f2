"""The status-list updater over an in-memory store: apply, coalesce, sign, publish safely."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from credstream.observability import Metrics
from schemas.codec import Codec
from schemas.models import CredentialStatusChange, StatusAction
from signers.keys import KeyCustodyError, KmsUnavailableError
from signers.proofs import RdfcReferenceCanonicalizer, ed25519_public_key, ed25519_signer
from signers.proofs import verify_proof as verify
from signers.service import credential_key
from signers.status import (
    APPLIED_METADATA,
    LIST_SIZE,
    PURPOSES,
    Bitstring,
    SigningUnavailableError,
    StatusSlot,
    StatusUpdater,
    lists_in_use,
    read_status,
    status_change_key,
    status_entries,
    status_list_key,
)
from signers.storage import ObjectWrite, StoreUnavailableError
from tests.unit._memory_store import MemoryStore, Record

TENANT = "uni-a"
ISSUER = "did:web:badges.example.edu"
BASE = "https://badges.example.edu/store"
TOPIC = "credential.status.v1"
SEED = bytes(range(32))
T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
CANON = RdfcReferenceCanonicalizer()


class Key:
    def sign(self, message: bytes) -> bytes:
        return ed25519_signer(SEED)(message)

    def verification_method(self, did: str) -> str:
        return f"{did}#key-1"


def stored_credential(number: int, slot: StatusSlot) -> dict[str, Any]:
    return {
        "id": f"urn:uuid:{number}",
        "issuer": {"id": ISSUER, "type": ["Profile"]},
        "credentialStatus": status_entries(BASE, TENANT, slot),
    }


class Updater:
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()
        self.codec = Codec()
        self.metrics = Metrics("status-updater", process_collectors=False)
        self.updater = StatusUpdater(
            self.store, self.codec, lambda tenant: Key(), CANON, self.metrics, lambda: T0
        )
        self.offset = 0
        self.slots: dict[int, StatusSlot] = {}

    def issue(self, number: int, slot: StatusSlot | None = None) -> None:
        self.slots[number] = slot or StatusSlot("p0-0", 1000 + number * 7)
        body = json.dumps(stored_credential(number, self.slots[number])).encode()
        self.store.put_new([ObjectWrite(credential_key(TENANT, f"c-{number}"), body)])

    def change(self, number: int, action: str, minutes: int = 0) -> Record:
        self.offset += 1
        change = CredentialStatusChange(
            credential_id=f"c-{number}",
            tenant_id=TENANT,
            action=StatusAction(action),
            reason="test",
            requested_at=T0 + timedelta(minutes=minutes),
        )
        slot = self.slots.get(number, StatusSlot("p0-0", 0))
        key = status_change_key(TENANT, slot.list_id)
        return Record(TOPIC, 0, self.offset, key, self.codec.encode(change))

    def list(self, purpose: str, list_id: str = "p0-0") -> dict[str, Any]:
        body = self.store.get(status_list_key(TENANT, purpose, list_id))
        assert body is not None, f"no {purpose} list published"
        document: dict[str, Any] = json.loads(body)
        return document

    def status(self, number: int, purpose: str) -> bool:
        slot = self.slots[number]
        document = self.list(purpose, slot.list_id)
        entry = next(e for e in status_entries(BASE, TENANT, slot) if e["statusPurpose"] == purpose)
        return read_status(document, entry)

    def sample(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


def test_revoke_publishes_a_signed_revocation_list_with_the_bit_set() -> None:
    u = Updater()
    u.issue(1)
    u.issue(2)
    report = u.updater.update([u.change(1, "revoke", minutes=5)])
    assert report.published == [status_list_key(TENANT, "revocation", "p0-0")]
    assert u.status(1, "revocation") and not u.status(2, "revocation")
    document = u.list("revocation")
    assert verify(document, ed25519_public_key(SEED), CANON).verified
    assert document["issuer"] == ISSUER
    assert document["id"] == f"{BASE}/{status_list_key(TENANT, 'revocation', 'p0-0')}"
    # Deterministic: the latest requested_at, not the wall clock.
    assert document["validFrom"] == document["proof"]["created"] == "2026-05-01T09:05:00Z"
    assert document["credentialSubject"]["ttl"] == 60_000
    assert "validUntil" not in document
    assert u.store.get(status_list_key(TENANT, "suspension", "p0-0")) is None  # untouched
    assert (
        u.sample("credstream_status_list_updates_total", tenant=TENANT, purpose="revocation") == 1
    )


def test_suspend_then_reinstate_and_reinstate_never_lifts_a_revocation() -> None:
    u = Updater()
    u.issue(1)
    u.issue(2)
    u.updater.update([u.change(1, "suspend"), u.change(2, "revoke"), u.change(2, "suspend")])
    assert u.status(1, "suspension") and u.status(2, "suspension") and u.status(2, "revocation")
    u.updater.update([u.change(1, "reinstate", 1), u.change(2, "reinstate", 1)])
    assert not u.status(1, "suspension") and not u.status(2, "suspension")
    assert u.status(2, "revocation")  # revocation is permanent


def test_many_changes_in_a_batch_are_one_signature_per_list() -> None:
    u = Updater()
    for n in range(60):
        u.issue(n)
    writes = u.store.writes
    report = u.updater.update([u.change(n, "revoke", n) for n in range(60)])
    assert report.applied == 60
    assert u.store.writes - writes == 2  # one history copy + one stable list
    assert all(u.status(n, "revocation") for n in range(60))


def test_lists_are_separate_per_slot_list() -> None:
    u = Updater()
    u.issue(1, StatusSlot("p0-0", 5))
    u.issue(2, StatusSlot("p3-0", 5))
    u.updater.update([u.change(1, "revoke"), u.change(2, "suspend")])
    assert u.status(1, "revocation") and u.status(2, "suspension")
    assert u.store.get(status_list_key(TENANT, "revocation", "p3-0")) is None


def test_a_replayed_batch_writes_nothing() -> None:
    u = Updater()
    u.issue(1)
    records = [u.change(1, "suspend"), u.change(1, "reinstate", 1), u.change(1, "suspend", 2)]
    u.updater.update(records)
    stored = dict(u.store.objects)
    assert stored[status_list_key(TENANT, "suspension", "p0-0")].metadata == {
        APPLIED_METADATA: f"{TOPIC}/0/3"
    }
    report = u.updater.update(records)
    assert report.published == [] and u.store.objects == stored


def test_an_updater_that_lost_its_partition_cannot_roll_the_list_back() -> None:
    u = Updater()
    u.issue(1)
    suspend, reinstate = u.change(1, "suspend"), u.change(1, "reinstate", 1)
    u.updater.update([suspend, reinstate])  # the new owner got there first
    u.updater.update([suspend])  # the old owner finishes its older batch
    assert not u.status(1, "suspension")


class RacingStore(MemoryStore):
    """Runs ``before_first_replace`` just before the first If-Match write."""

    def __init__(self) -> None:
        super().__init__()
        self.before_first_replace: Callable[[], None] | None = None

    def put_if_match(
        self, write: ObjectWrite, etag: str | None, metadata: dict[str, str] | None = None
    ) -> str | None:
        hook, self.before_first_replace = self.before_first_replace, None
        if hook is not None:
            hook()
        return super().put_if_match(write, etag, metadata)


def test_a_concurrent_write_is_detected_by_if_match_and_the_change_reapplied() -> None:
    store = RacingStore()
    old, new = Updater(store), Updater(store)
    old.issue(1)
    old.issue(2)
    new.slots = old.slots
    first = old.change(1, "revoke")
    second = old.change(2, "revoke", 1)
    # Between the old owner's read and write, the new owner publishes both changes.
    store.before_first_replace = lambda: new.updater.update([first, second])
    report = old.updater.update([first])
    assert report.published == []  # reloaded: already applied by the other writer
    assert old.status(1, "revocation") and old.status(2, "revocation")

    # The other writer publishes only the first of our two changes: we apply the second.
    third, fourth = old.change(1, "suspend", 2), old.change(2, "suspend", 3)
    store.before_first_replace = lambda: new.updater.update([third])
    report = old.updater.update([third, fourth])
    assert report.published == [status_list_key(TENANT, "suspension", "p0-0")]
    assert old.status(1, "suspension") and old.status(2, "suspension")
    stored = store.get_object(status_list_key(TENANT, "suspension", "p0-0"))
    assert stored is not None and stored.metadata[APPLIED_METADATA] == f"{TOPIC}/0/4"


def test_history_copies_are_written_once_per_change_position() -> None:
    u = Updater()
    u.issue(1)
    u.updater.update([u.change(1, "revoke")])
    history = [k for k in u.store.objects if "/history/" in k]
    assert history == [f"{TENANT}/status/revocation/p0-0/history/0-000000000001.json"]
    assert u.store.get(history[0]) == u.store.get(status_list_key(TENANT, "revocation", "p0-0"))


def test_a_history_copy_with_another_list_is_an_alarm_and_is_kept() -> None:
    u = Updater()
    u.issue(1)
    squatted = f"{TENANT}/status/revocation/p0-0/history/0-000000000001.json"
    u.store.put_new([ObjectWrite(squatted, b'{"other":true}')])
    u.updater.update([u.change(1, "revoke")])
    assert u.store.get(squatted) == b'{"other":true}'
    assert u.status(1, "revocation")  # the stable list is still published
    assert u.sample("credstream_integrity_alarms_total", kind="object_conflict") == 1


def test_changes_that_cannot_apply_are_dead_lettered() -> None:
    u = Updater()
    u.issue(1)
    no_status = {"id": "urn:uuid:9", "issuer": ISSUER}
    u.store.put_new([ObjectWrite(credential_key(TENANT, "c-9"), json.dumps(no_status).encode())])
    bad = Record(TOPIC, 0, 99, b"k", b"\x00not avro")
    report = u.updater.update(
        [u.change(1, "revoke"), u.change(404, "revoke"), u.change(9, "suspend"), bad]
    )
    reasons = sorted(dict(d.headers)["cs-dlq-error-class"] for d in report.dead_letters)
    assert reasons == [b"StatusChangeError", b"StatusChangeError", b"UnknownSchemaError"]
    assert all(d.topic == TOPIC + ".dlq" for d in report.dead_letters)
    assert u.status(1, "revocation")  # the good change in the batch still applies


def test_an_unreadable_published_list_dead_letters_its_changes_with_an_alarm() -> None:
    u = Updater()
    u.issue(1)
    u.store.put_if_match(
        ObjectWrite(status_list_key(TENANT, "revocation", "p0-0"), b"{broken"), None
    )
    report = u.updater.update([u.change(1, "revoke")])
    assert [dict(d.headers)["cs-dlq-error-class"] for d in report.dead_letters] == [
        b"UnreadableStatusList"
    ]
    assert u.sample("credstream_integrity_alarms_total", kind="verification_failed") == 1


def test_a_store_outage_surfaces_so_the_batch_is_held() -> None:
    u = Updater()
    u.issue(1)
    u.store.down = True
    with pytest.raises(StoreUnavailableError):
        u.updater.update([u.change(1, "revoke")])
    u.store.down = False
    u.updater.update([u.change(1, "revoke")])
    assert u.status(1, "revocation")


class BrokenKey(Key):
    def __init__(self, error: Exception) -> None:
        self.error = error

    def sign(self, message: bytes) -> bytes:
        raise self.error


def test_a_tenant_without_a_usable_key_dead_letters_and_a_kms_outage_holds() -> None:
    u = Updater()
    u.issue(1)
    u.updater = StatusUpdater(
        u.store,
        u.codec,
        lambda _: BrokenKey(KeyCustodyError("tenant uni-a has no active key")),
        CANON,
        u.metrics,
        lambda: T0,
    )
    report = u.updater.update([u.change(1, "revoke")])
    assert [dict(d.headers)["cs-dlq-error-class"] for d in report.dead_letters] == [
        b"KeyCustodyError"
    ]
    u.updater = StatusUpdater(
        u.store,
        u.codec,
        lambda _: BrokenKey(KmsUnavailableError("KMS Sign kept throttling")),
        CANON,
        u.metrics,
        lambda: T0,
    )
    with pytest.raises(SigningUnavailableError):
        u.updater.update([u.change(1, "revoke")])
    assert isinstance(SigningUnavailableError("x"), StoreUnavailableError)  # the loop pauses


def test_lists_in_use_follow_request_offsets_with_one_ahead() -> None:
    assert lists_in_use({"p1": LIST_SIZE + 3, "p0": 5}) == ["p0-0", "p0-1", "p1-0", "p1-1", "p1-2"]
    assert lists_in_use({}) == []


def test_provisioning_publishes_empty_signed_lists_once_and_keeps_published_ones() -> None:
    u = Updater()
    u.issue(1)
    u.updater.update([u.change(1, "revoke")])
    revoked = u.store.get(status_list_key(TENANT, "revocation", "p0-0"))
    created = u.updater.provision({TENANT: ISSUER, "uni-b": ISSUER}, ["p0-0", "p0-1"], BASE)
    expected = [
        status_list_key(tenant, purpose, list_id)
        for tenant in (TENANT, "uni-b")
        for purpose in PURPOSES
        for list_id in ("p0-0", "p0-1")
        if (tenant, purpose, list_id) != (TENANT, "revocation", "p0-0")
    ]
    assert sorted(created) == sorted(expected)
    assert u.store.get(status_list_key(TENANT, "revocation", "p0-0")) == revoked  # kept
    empty = u.list("suspension", "p0-1")
    assert empty["id"] == f"{BASE}/{status_list_key(TENANT, 'suspension', 'p0-1')}"
    assert empty["credentialSubject"]["encodedList"] == Bitstring().encode()
    assert verify(empty, ed25519_public_key(SEED), CANON).verified
    writes = u.store.writes
    assert u.updater.provision({TENANT: ISSUER}, ["p0-0", "p0-1"], BASE) == []
    assert u.store.writes == writes  # known lists are not looked up again
