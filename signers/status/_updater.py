"""Applying revoke / suspend / reinstate to status lists and republishing them.

- ``revoke`` sets the credential's bit in its revocation list. Revocation is permanent
  (Bitstring Status List: "revocation ... is not reversible"): nothing clears it.
- ``suspend`` sets the bit in the suspension list; ``reinstate`` clears it, and only it:
  reinstating a revoked credential lifts a suspension, the credential stays revoked.

The credential's slot is read from the stored (signed) credential's ``credentialStatus``,
never from the request, so a change can only touch the bit the issuer assigned. Changes
are keyed ``{tenant}/{list_id}`` on ``credential.status.v1``: every change to one list
sits on one partition, in order, and one updater owns it.

A batch's changes are applied per list, in order, and each changed list credential is
re-signed ONCE per batch. Publishing:

1. an immutable history copy, ``{tenant}/status/{purpose}/{list_id}/history/{seq}.json``
   with ``If-None-Match: *`` (``seq`` = partition and offset of the last change in it);
2. the stable URL, replaced with ``If-Match`` on the ETag read at load. The object
   carries the position of the last change it includes (``x-amz-meta-credstream-applied``:
   topic/partition/offset); changes at or before it are already in the list and are not
   applied again. So a replay, or an updater that lost its partition in a rebalance and
   still finishes its batch, can never roll a list back to an older state: its If-Match
   fails, it reloads, and finds its changes already applied. (So never recreate
   ``credential.status.v1`` under the same name: its offsets would start again below the
   marks, and new changes would look applied.)

Determinism: ``validFrom`` (and ``proof.created``) is the latest ``requested_at`` of all
changes applied so far, never the wall clock, so a list's bytes at a given ``seq`` are
the same whoever computes them, and a replayed history write is IDENTICAL.

Provisioning: a credential's ``statusListCredential`` URL must resolve from the moment
it is issued, before any change (a verifier fails a credential whose list is missing).
Slots come from request offsets (``allocate_slot``), so the lists that can be in use are
known from the end offsets of ``credential.requested.v1``: :meth:`StatusUpdater.provision`
publishes an empty signed list (``If-None-Match``) for every tenant, purpose and list up
to the current one plus one ahead, so a list exists before its first credential.

No ``validUntil``: a list is re-signed only when it changes, and an expiry would force
re-signing every list on a timer. Freshness comes from ``ttl`` (a caching hint, in
milliseconds, in ``credentialSubject``) and the updater's bounded linger.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from credstream.errors import InvalidInputError, SigningError
from credstream.observability import Metrics, StatusPurpose
from schemas.codec import Codec
from schemas.dead_letters import DeadLetterRecord, Origin, dead_letter_record
from schemas.models import CredentialStatusChange
from signers.keys import KmsUnavailableError
from signers.proofs import EDDSA_RDFC_2022, PROOF_TYPE, Canonicalizer, add_proof
from signers.status._bitstring import LIST_SIZE, Bitstring, StatusListError
from signers.status._lists import status_list_credential, status_list_key, status_list_url
from signers.storage import (
    ObjectWrite,
    Outcome,
    ReplaceableStore,
    StoredObject,
    StoreUnavailableError,
)

STAGE = "status-updater"
APPLIED_METADATA = "credstream-applied"
LIST_MEDIA_TYPE = "application/vc+ld+json"
# What each action does: the purpose whose bit it touches, and the bit's new value.
ACTIONS: dict[str, tuple[StatusPurpose, bool]] = {
    "revoke": ("revocation", True),
    "suspend": ("suspension", True),
    "reinstate": ("suspension", False),
}
_PURPOSES: tuple[StatusPurpose, ...] = ("revocation", "suspension")
_LIST_PATH = re.compile(
    r"/(?P<tenant>[A-Za-z0-9][A-Za-z0-9._-]*)/status/(?P<purpose>revocation|suspension)/"
    r"(?P<list_id>[A-Za-z0-9._-]+)\.json$"
)
log = logging.getLogger("credstream.status")


class StatusChangeError(InvalidInputError):
    """A status change cannot be applied (no such credential, no status entry, ...)."""


class ListContentionError(StoreUnavailableError):
    """Another writer kept replacing the list between our read and our write."""


class SigningUnavailableError(StoreUnavailableError):
    """The key service (KMS) is unreachable: hold the batch, as for a store outage."""


class CredentialReader(Protocol):
    def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...


class TenantKey(Protocol):
    """What signing a list needs of a tenant's key (a ``signers.keys.SigningKey``)."""

    def sign(self, message: bytes) -> bytes: ...

    def verification_method(self, did: str) -> str: ...


@dataclass(frozen=True, slots=True)
class ListLocation:
    tenant: str
    purpose: StatusPurpose
    list_id: str

    @property
    def key(self) -> str:
        return status_list_key(self.tenant, self.purpose, self.list_id)

    def history_key(self, seq: str) -> str:
        return f"{self.tenant}/status/{self.purpose}/{self.list_id}/history/{seq}.json"


def lists_in_use(end_offsets: Mapping[str, int], ahead: int = 1) -> list[str]:
    """Every list id a slot can have been given so far, from the end offsets of the
    request topic's partitions (keyed by partition label, as ``allocate_slot`` takes),
    plus ``ahead`` more per partition."""
    return [
        f"{label}-{sequence}"
        for label, end in sorted(end_offsets.items())
        for sequence in range(end // LIST_SIZE + 1 + ahead)
    ]


def status_change_key(tenant: str, list_id: str) -> bytes:
    """The Kafka key of a change to one list: one list, one partition, one owner."""
    return f"{tenant}/{list_id}".encode()


def parse_status_list_url(url: object) -> ListLocation:
    """Where a ``statusListCredential`` URL of ours points: tenant, purpose and list id."""
    found = _LIST_PATH.search(url) if isinstance(url, str) else None
    if found is None:
        raise StatusListError(
            f"statusListCredential {url!r} is not a credstream status list URL "
            "(.../{tenant}/status/{revocation|suspension}/{list}.json)"
        )
    purpose: StatusPurpose = "revocation" if found["purpose"] == "revocation" else "suspension"
    return ListLocation(found["tenant"], purpose, found["list_id"])


@dataclass(frozen=True, slots=True)
class StatusTarget:
    """The one bit a change sets or clears."""

    location: ListLocation
    url: str  # the statusListCredential URL, the list credential's id
    index: int
    value: bool


def status_target(credential: Any, action: str, tenant: str) -> StatusTarget:
    """The bit ``action`` changes, from the credential's ``credentialStatus`` entries."""
    if action not in ACTIONS:
        raise StatusChangeError(f"action must be one of {sorted(ACTIONS)}, not {action!r}")
    purpose, value = ACTIONS[action]
    entries = credential.get("credentialStatus") if isinstance(credential, dict) else None
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        raise StatusChangeError("the credential has no credentialStatus entries")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("statusPurpose") != purpose:
            continue
        if entry.get("type") != "BitstringStatusListEntry":
            raise StatusChangeError(f"the {purpose} entry is not a BitstringStatusListEntry")
        url = entry.get("statusListCredential")
        if not isinstance(url, str):
            raise StatusChangeError(f"the {purpose} entry has no statusListCredential URL")
        location = parse_status_list_url(url)
        if location.purpose != purpose or location.tenant != tenant:
            raise StatusChangeError(
                f"the {purpose} entry points at {url!r}, not a {purpose} list of {tenant}"
            )
        index = entry.get("statusListIndex")
        if not isinstance(index, str) or not index.isdigit():
            raise StatusChangeError(f"the {purpose} entry's statusListIndex is not a number")
        return StatusTarget(location, url, int(index), value)
    raise StatusChangeError(f"the credential has no {purpose} status entry")


def issuer_id(credential: dict[str, Any]) -> str:
    issuer = credential.get("issuer")
    found = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(found, str) or not found:
        raise StatusChangeError("the credential has no issuer id")
    return found


@dataclass(frozen=True, slots=True)
class Mark:
    """The position of the last change a published list includes."""

    topic: str
    partition: int
    offset: int

    def encode(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    @classmethod
    def decode(cls, text: str | None) -> Mark | None:
        parts = (text or "").rsplit("/", 2)
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            return None
        return cls(parts[0], int(parts[1]), int(parts[2]))

    def covers(self, origin: Origin) -> bool:
        return (
            origin.topic == self.topic
            and origin.partition == self.partition
            and origin.offset <= self.offset
        )


@dataclass(frozen=True)
class Change:
    """A decoded change with the bit it targets and where it was read."""

    origin: Origin
    change: CredentialStatusChange
    target: StatusTarget
    issuer: str


@dataclass
class ListState:
    """A list as loaded from the store (empty when it was never published)."""

    bits: Bitstring
    valid_from: datetime | None = None
    etag: str | None = None
    mark: Mark | None = None

    @classmethod
    def load(cls, stored: StoredObject | None, purpose: str) -> ListState:
        if stored is None:
            return cls(Bitstring())
        try:
            document = json.loads(stored.body)
            subject = document["credentialSubject"]
            if subject.get("statusPurpose") != purpose:
                raise StatusListError(f"the stored list's statusPurpose is not {purpose}")
            bits = Bitstring.decode(subject["encodedList"])
            valid_from = datetime.fromisoformat(document["validFrom"])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise StatusListError(f"the stored status list cannot be read: {error}") from None
        mark = Mark.decode(stored.metadata.get(APPLIED_METADATA))
        return cls(bits, valid_from, stored.etag, mark)


@dataclass
class UpdateReport:
    changes: int = 0
    applied: int = 0  # changes published now (not already in the list, and flipping a bit)
    published: list[str] = field(default_factory=list)  # object keys replaced
    dead_letters: list[DeadLetterRecord] = field(default_factory=list)


class StatusUpdater:
    """Applies one batch of ``credential.status.v1`` records and republishes the lists."""

    def __init__(
        self,
        store: ReplaceableStore,
        codec: Codec,
        tenant_key: Callable[[str], TenantKey],
        canonicalizer: Canonicalizer,
        metrics: Metrics,
        clock: Callable[[], datetime],
        *,
        ttl_ms: int | None = 60_000,
        attempts: int = 5,
    ) -> None:
        self._store = store
        self._codec = codec
        self._tenant_key = tenant_key
        self._canonicalizer = canonicalizer
        self._metrics = metrics
        self._clock = clock
        self._ttl_ms = ttl_ms
        self._attempts = attempts
        self._provisioned: set[ListLocation] = set()  # lists known to exist

    def update(self, records: Sequence[Any]) -> UpdateReport:
        report = UpdateReport(changes=len(records))
        self._metrics.batch(STAGE, len(records))
        changes = self._resolve(records, report)
        by_list: dict[ListLocation, list[Change]] = {}
        for change in changes:
            by_list.setdefault(change.target.location, []).append(change)
        for location, list_changes in by_list.items():
            try:
                self._publish(location, list_changes, report)
            except StatusListError as error:
                log.error("status list %s is unreadable: %s", location.key, error)
                self._metrics.integrity_alarm("verification_failed")
                for change in list_changes:
                    self._dead(change.origin, "UnreadableStatusList", str(error), report)
            except KmsUnavailableError as error:
                raise SigningUnavailableError(f"cannot sign {location.key}: {error}") from None
            except SigningError as error:
                # No usable key for the tenant: an operator fixes it and replays the DLQ.
                log.error("cannot sign status list %s: %s", location.key, error)
                for change in list_changes:
                    self._dead(change.origin, type(error).__name__, str(error), report)
        return report

    def provision(
        self, issuers: Mapping[str, str], list_ids: Iterable[str], public_base_url: str
    ) -> list[str]:
        """Publish an empty list for every (tenant, purpose, list id) not in the store yet;
        ``issuers`` maps each tenant to its issuer id. Returns the keys created."""
        created = []
        now = _timestamp(self._clock())
        for tenant, issuer in sorted(issuers.items()):
            for list_id in list_ids:
                for purpose in _PURPOSES:
                    location = ListLocation(tenant, purpose, list_id)
                    if location in self._provisioned:
                        continue
                    if self._store.get_object(location.key) is None:
                        url = status_list_url(public_base_url, tenant, purpose, list_id)
                        body = self._sign(location, url, issuer, Bitstring(), now)
                        # If-None-Match: a list someone published meanwhile is kept.
                        write = ObjectWrite(location.key, body, LIST_MEDIA_TYPE)
                        if self._store.put_if_match(write, None) is not None:
                            created.append(location.key)
                    self._provisioned.add(location)
        return created

    # -- decoding and resolving --------------------------------------------------------
    def _resolve(self, records: Sequence[Any], report: UpdateReport) -> list[Change]:
        decoded: list[tuple[Origin, CredentialStatusChange]] = []
        for record in records:
            origin = Origin.of(record)
            try:
                change = self._codec.decode_as(record.value or b"", CredentialStatusChange)
            except InvalidInputError as error:
                self._dead(origin, type(error).__name__, str(error), report)
                continue
            decoded.append((origin, change))
        from signers.service import credential_key  # see _timestamp on the import cycle

        keys = sorted({credential_key(c.tenant_id, c.credential_id) for _, c in decoded})
        bodies = dict(zip(keys, self._store.get_many(keys), strict=True))
        resolved = []
        for origin, change in decoded:
            body = bodies[credential_key(change.tenant_id, change.credential_id)]
            try:
                if body is None:
                    raise StatusChangeError(
                        f"no credential {change.credential_id} of tenant {change.tenant_id}"
                    )
                credential = json.loads(body)
                target = status_target(credential, change.action, change.tenant_id)
                resolved.append(Change(origin, change, target, issuer_id(credential)))
            except (InvalidInputError, ValueError) as error:
                self._dead(origin, type(error).__name__, str(error), report)
        return resolved

    # -- applying and publishing -------------------------------------------------------
    def _publish(self, location: ListLocation, changes: list[Change], report: UpdateReport) -> None:
        for _ in range(self._attempts):
            state = ListState.load(self._store.get_object(location.key), location.purpose)
            pending = [c for c in changes if state.mark is None or not state.mark.covers(c.origin)]
            if not pending:
                return  # already in the published list (a replay, or a faster owner)
            flipped = 0
            for change in pending:
                target = change.target
                if state.bits.get(target.index) != target.value:
                    state.bits.set(target.index, target.value)
                    flipped += 1
            if not flipped:
                return  # no bit changed (a repeated revoke, suspend + reinstate): nothing to sign
            last = pending[-1]
            valid_from = max(c.change.requested_at for c in pending)
            if state.valid_from is not None:
                valid_from = max(valid_from, state.valid_from)
            body = self._signed_list(last, state.bits, valid_from)
            mark = Mark(last.origin.topic, last.origin.partition, last.origin.offset)
            self._history(location, f"{mark.partition}-{mark.offset:012d}", body)
            write = ObjectWrite(location.key, body, LIST_MEDIA_TYPE)
            etag = self._store.put_if_match(write, state.etag, {APPLIED_METADATA: mark.encode()})
            if etag is not None:
                report.applied += len(pending)
                report.published.append(location.key)
                self._metrics.status_list_updated(location.tenant, location.purpose, len(pending))
                self._metrics.status_list_published(
                    location.tenant, location.purpose, self._clock().timestamp()
                )
                return
            log.info("status list %s changed under us; reloading", location.key)
        raise ListContentionError(
            f"status list {location.key} kept changing during {self._attempts} attempts"
        )

    def _signed_list(self, last: Change, bits: Bitstring, valid_from: datetime) -> bytes:
        target = last.target
        return self._sign(target.location, target.url, last.issuer, bits, _timestamp(valid_from))

    def _sign(
        self, location: ListLocation, url: str, issuer: str, bits: Bitstring, moment: str
    ) -> bytes:
        document = status_list_credential(url, issuer, location.purpose, bits, moment)
        if self._ttl_ms:
            document["credentialSubject"]["ttl"] = self._ttl_ms
        key = self._tenant_key(location.tenant)
        options = {
            "type": PROOF_TYPE,
            "cryptosuite": EDDSA_RDFC_2022,
            "created": moment,
            "verificationMethod": key.verification_method(issuer),
            "proofPurpose": "assertionMethod",
        }
        from signers.service import credential_json  # see _timestamp on the import cycle

        return credential_json(add_proof(document, options, key.sign, self._canonicalizer))

    def _history(self, location: ListLocation, seq: str, body: bytes) -> None:
        key = location.history_key(seq)
        result = self._store.put_new([ObjectWrite(key, body, LIST_MEDIA_TYPE)])[0]
        if result.outcome is not Outcome.CONFLICT:
            return
        stored = self._store.get(key)
        if stored is not None and _same_list(stored, body):
            return  # re-signed (a rotated key): the same list, another proof
        self._metrics.integrity_alarm("object_conflict")
        log.error(
            "history copy %s holds another list (sha256 %s); kept, not overwritten",
            key,
            hashlib.sha256(stored or b"").hexdigest(),
        )

    def _dead(self, origin: Origin, reason: str, message: str, report: UpdateReport) -> None:
        self._metrics.dead_lettered(STAGE, reason)
        log.warning(
            "dead letter from %s[%d]@%d: %s: %s",
            origin.topic, origin.partition, origin.offset, reason, message,
        )  # fmt: skip
        report.dead_letters.append(
            dead_letter_record(self._codec, origin, STAGE, reason, message, self._clock())
        )


def _timestamp(moment: datetime) -> str:
    # Imported here: the credential builder imports this package (a cycle at import).
    from signers.credential import xsd_datetime

    return xsd_datetime(moment)


def _same_list(stored: bytes, body: bytes) -> bool:
    def unsigned(data: bytes) -> Any:
        document = json.loads(data)
        document.pop("proof", None)
        return document

    try:
        return bool(unsigned(stored) == unsigned(body))
    except (ValueError, AttributeError):
        return False
