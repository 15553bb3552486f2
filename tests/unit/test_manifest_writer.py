"""The manifest chains stay linear and complete through store failures, rebalances and
zombies (faults the system scenarios 4, 6 and 7 found)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signers.keys._custody import InProcessKey
from signers.manifest import manifest_digest, manifest_prefix
from signers.service import ManifestWriter, Signed, Stored
from signers.service._manifests import LISTED_MANIFESTS_KEPT
from signers.storage import Outcome, StoreUnavailableError
from tests.unit._memory_store import MemoryStore

KEY = InProcessKey("k1", bytes(32))
TENANT, SOURCE = "acme", "p0"


def _writer(store: MemoryStore) -> ManifestWriter:
    def keys(tenant: str, source: str) -> list[str]:
        return sorted(k for k in store.objects if k.startswith(manifest_prefix(tenant, source)))

    def latest(tenant: str, source: str) -> str | None:
        found = keys(tenant, source)
        return manifest_digest(store.objects[found[-1]].body) if found else None

    return ManifestWriter(store, lambda _: KEY, lambda _: "did:web:acme.example", latest, keys)


def _batch(*offsets: int) -> list[tuple[str, int, Stored, str]]:
    return [
        (SOURCE, o, Stored(Signed(f"c{o}", TENANT, b"{}", "0" * 64), Outcome.CREATED, "0" * 64),
         "2026-01-01T00:00:00Z")
        for o in offsets
    ]  # fmt: skip


def _linear(store: MemoryStore) -> bool:
    previous = None
    for key in sorted(k for k in store.objects if "/manifests/" in k):
        body = store.objects[key].body
        if json.loads(body)["previous"] != previous:
            return False
        previous = manifest_digest(body)
    return True


def test_a_manifest_the_store_refused_is_not_taken_as_written() -> None:
    store = MemoryStore()
    writer = _writer(store)
    assert not writer.announced(TENANT, SOURCE, 1, "c1")
    store.down = True
    with pytest.raises(StoreUnavailableError):
        writer.write(_batch(1, 2))
    store.down = False
    # The retried batch must announce again, then write the manifest.
    assert not writer.announced(TENANT, SOURCE, 1, "c1")
    writer.write(_batch(1, 2))
    assert writer.announced(TENANT, SOURCE, 2, "c2")


class _FailsAfterWriting(MemoryStore):
    """Stores the objects, then fails: the response to a batch of PUTs was lost."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_next = False

    def put_new(self, writes: Any) -> Any:
        results = super().put_new(writes)
        if self.fail_next:
            self.fail_next = False
            raise StoreUnavailableError("connection reset")
        return results


def test_a_manifest_stored_despite_a_failure_is_linked_to_by_the_next() -> None:
    store = _FailsAfterWriting()
    writer = _writer(store)
    writer.write(_batch(1, 2))
    store.fail_next = True
    with pytest.raises(StoreUnavailableError):
        writer.write(_batch(3, 4))
    assert writer.announced(TENANT, SOURCE, 3, "c3")  # the retry finds it stored and listed
    writer.write([])
    writer.write(_batch(5, 6))
    assert _linear(store)


def test_a_reassigned_partition_continues_the_chain_another_signer_extended() -> None:
    store = MemoryStore()
    first, second = _writer(store), _writer(store)
    first.write(_batch(1, 2))
    second.write(_batch(3, 4))  # the partition moved to the second signer...
    first.forget(SOURCE)  # ...and back to the first, which is told so
    first.write(_batch(5, 6))
    assert _linear(store)


def test_without_being_told_a_signer_would_fork_the_chain() -> None:
    # The failure forget() prevents: what scenario 7 measured as chain breaks.
    store = MemoryStore()
    first, second = _writer(store), _writer(store)
    first.write(_batch(1, 2))
    second.write(_batch(3, 4))
    first.write(_batch(5, 6))
    assert not _linear(store)


def test_a_resumed_zombie_finds_what_the_new_owner_announced() -> None:
    store = MemoryStore()
    zombie, owner = _writer(store), _writer(store)
    zombie.write(_batch(1, 2))
    assert zombie.announced(TENANT, SOURCE, 1, "c1")  # the chain is now cached
    zombie.write([])  # the end of that batch
    owner.write(_batch(3, 4))  # while the zombie was frozen
    assert zombie.announced(TENANT, SOURCE, 3, "c3")  # listed again on a miss
    zombie.write(_batch(5))  # and its next manifest links to the owner's
    assert _linear(store)


def test_only_recent_manifests_are_kept_in_memory_and_older_ones_are_read_again() -> None:
    # The soak found the ids of every announced credential kept for the signer's lifetime.
    store = MemoryStore()
    writer = _writer(store)
    assert not writer.announced(TENANT, SOURCE, 0, "c0")  # the chain is listed from now on
    batches = LISTED_MANIFESTS_KEPT + 10
    for number in range(1, batches + 1):
        writer.write(_batch(2 * number, 2 * number + 1))
    assert writer.announced(TENANT, SOURCE, 2 * batches, f"c{2 * batches}")
    assert store.reads == 0  # the newest manifests answer from memory
    assert writer.announced(TENANT, SOURCE, 2, "c2")
    assert store.reads == 1  # the oldest was forgotten, and is read from the store
    assert not writer.announced(TENANT, SOURCE, 2, "c9")  # and it lists only its own ids


def _listed(store: MemoryStore) -> list[str]:
    """Every credential id the chain lists, as often as it lists it (sorted)."""
    manifests = [json.loads(o.body) for k, o in store.objects.items() if "/manifests/" in k]
    return sorted(entry["id"] for manifest in manifests for entry in manifest["entries"])


def _ids(*offsets: int) -> list[str]:
    return sorted(f"c{o}" for o in offsets)


def _zombie_and_owner() -> tuple[MemoryStore, ManifestWriter, ManifestWriter]:
    """A store, a signer that knows the chain as it stood before it stalled (its head,
    the manifest of 1-2, is cached) and the signer that took its partition over."""
    store = MemoryStore()
    zombie = _writer(store)
    zombie.write(_batch(1, 2))
    return store, zombie, _writer(store)


def test_a_stalled_signers_late_manifest_is_refused_at_its_chain_position() -> None:
    # Scenario 4 in CI: a signer froze with its manifests in flight; the signer that took
    # over wrote its own from the same first offset, and the late bytes landed after.
    store, zombie, owner = _zombie_and_owner()
    owner.write(_batch(3, 4, 5))
    owner.write(_batch(6, 7, 8, 9, 10))
    before = dict(store.objects)
    zombie.write(_batch(3, 4, 5, 6, 7, 8))  # its head is still the manifest of 1-2
    assert store.objects == before  # refused: nothing new, nothing changed
    assert _linear(store)
    owner.write(_batch(11))
    assert _linear(store)
    assert _listed(store) == _ids(*range(1, 12))


def test_a_stalled_signer_lists_only_what_the_new_owner_has_not() -> None:
    store, zombie, owner = _zombie_and_owner()
    owner.write(_batch(3, 4, 5))
    zombie.write(_batch(3, 4, 5, 6, 7))  # its batch reached further than the owner's
    assert _linear(store)
    assert owner.announced(TENANT, SOURCE, 7, "c7")  # so the owner announces 6-7 no more
    owner.write(_batch(8, 9))
    assert _linear(store)
    assert _listed(store) == _ids(*range(1, 10))


def test_a_new_owner_whose_manifest_was_preempted_continues_from_the_stored_one() -> None:
    store, zombie, owner = _zombie_and_owner()
    assert not owner.announced(TENANT, SOURCE, 3, "c3")  # the zombie's manifest not yet in
    zombie.write(_batch(3, 4, 5, 6))  # its late bytes land first
    owner.write(_batch(3, 4))  # refused at offset 3: the zombie's manifest lists them
    owner.write(_batch(7, 8))
    assert _linear(store)
    assert _listed(store) == _ids(*range(1, 9))


def test_a_manifest_is_stored_at_the_first_offset_it_lists() -> None:
    store = MemoryStore()
    _writer(store).write(_batch(12, 7, 9))
    [key] = [k for k in store.objects if "/manifests/" in k]
    assert key == f"{manifest_prefix(TENANT, SOURCE)}000000000007.json"
    assert json.loads(store.objects[key].body)["offsets"] == [7, 12]


def test_a_chain_of_manifests_keyed_by_offset_range_continues() -> None:
    # Stores written before manifests were keyed by first offset alone (a demo's).
    store = MemoryStore()
    writer = _writer(store)
    writer.write(_batch(1, 2))
    [key] = [k for k in store.objects if "/manifests/" in k]
    store.objects[key.replace("000000000001.json", "000000000001-000000000002.json")] = (
        store.objects.pop(key)
    )
    upgraded = _writer(store)
    assert upgraded.announced(TENANT, SOURCE, 2, "c2")
    upgraded.write(_batch(3, 4))
    assert _linear(store)
    assert _listed(store) == _ids(1, 2, 3, 4)
