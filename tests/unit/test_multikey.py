"""Multikey encodings reproduce the W3C and 1EdTech test-vector keys."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from credstream.errors import SigningError
from signers.multikey import (
    b58decode,
    b58encode,
    public_key_from_multibase,
    public_key_multibase,
    seed_from_multibase,
)

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58_by_definition(data: bytes) -> str:
    """Base58btc as the draft specifies it: a leading 1 per zero byte, then the digits of
    the big-endian number, most significant first."""
    number, digits = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        digits = _ALPHABET[digit] + digits
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


@given(st.binary(max_size=80))
def test_base58_round_trips(data: bytes) -> None:
    assert b58encode(data) == base58_by_definition(data)
    assert b58decode(b58encode(data)) == data


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "z+", "1é", " 2"])
def test_base58_refuses_characters_outside_the_alphabet(text: str) -> None:
    with pytest.raises(SigningError, match="not a base58btc string"):
        b58decode(text)


def test_w3c_key_pair_seed_derives_its_public_key() -> None:
    seed = seed_from_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert public_key_multibase(raw) == "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def test_open_badges_vector_public_key() -> None:
    raw = bytes.fromhex("4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5")
    assert public_key_multibase(raw) == "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
    assert public_key_from_multibase(public_key_multibase(raw)) == raw
