"""Bitstring Status List encoding, slots and entries."""

from __future__ import annotations

import base64
import gzip
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signers.status import (
    LIST_SIZE,
    Bitstring,
    StatusListError,
    allocate_slot,
    read_status,
    status_entries,
    status_list_credential,
)


def test_spec_example_empty_list_decodes_to_zero_bits() -> None:
    # The encodedList of an all-zero 16 KiB list in the specification's example.
    bits = Bitstring.decode("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
    assert bits.size == LIST_SIZE
    assert not any(bits.get(i) for i in range(0, LIST_SIZE, 997))


def test_bit_zero_is_the_leftmost_bit_of_the_first_byte() -> None:
    bits = Bitstring()
    bits.set(0, True)
    bits.set(9, True)
    raw = gzip.decompress(base64.urlsafe_b64decode(bits.encode()[1:] + "=="))
    assert raw[0] == 0x80 and raw[1] == 0x40


@given(st.sets(st.integers(0, LIST_SIZE - 1), max_size=50))
def test_encode_decode_round_trip(indices: set[int]) -> None:
    bits = Bitstring()
    for i in indices:
        bits.set(i, True)
    decoded = Bitstring.decode(bits.encode())
    assert {i for i in indices if decoded.get(i)} == indices
    assert bits.encode() == decoded.encode()  # deterministic bytes


def test_slots_are_unique_spread_and_open_a_new_list_when_full() -> None:
    slots = [allocate_slot("p2", offset) for offset in range(LIST_SIZE)]
    assert len({s.index for s in slots}) == LIST_SIZE  # never handed out twice
    assert {s.list_id for s in slots} == {"p2-0"}
    gaps = [abs(a.index - b.index) for a, b in itertools.pairwise(slots)]
    assert min(gaps) > 1000  # consecutive awards land far apart
    assert allocate_slot("p2", LIST_SIZE).list_id == "p2-1"
    assert allocate_slot("p3", 5) == allocate_slot("p3", 5)  # a replay gets the same slot
    assert allocate_slot("p3", 5).list_id != allocate_slot("p2", 5).list_id


def test_entries_point_at_the_list_for_each_purpose() -> None:
    slot = allocate_slot("p0", 42)
    entries = status_entries("https://cdn.example.edu/", "example-u", slot)
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    revocation = entries[0]
    assert revocation["statusListCredential"] == (
        "https://cdn.example.edu/example-u/status/revocation/p0-0.json"
    )
    assert revocation["id"].endswith(f"#{slot.index}")
    bits = Bitstring()
    url = revocation["statusListCredential"]
    listed = status_list_credential(url, "did:web:x", "revocation", bits, "2026-01-01T00:00:00Z")
    assert read_status(listed, revocation) is False
    bits.set(slot.index, True)
    listed = status_list_credential(url, "did:web:x", "revocation", bits, "2026-01-01T00:00:00Z")
    assert read_status(listed, revocation) is True
    with pytest.raises(StatusListError, match="statusPurpose"):
        read_status(listed, entries[1])


def test_bad_encoded_list_is_a_clear_error() -> None:
    with pytest.raises(StatusListError, match="base64url"):
        Bitstring.decode("zabc")
    with pytest.raises(StatusListError, match="does not decode"):
        Bitstring.decode("uAAAA")
    with pytest.raises(StatusListError, match="outside the list"):
        Bitstring().get(LIST_SIZE)
