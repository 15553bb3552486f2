"""Multibase (base58btc) and Multikey encodings of Ed25519 keys and signatures.

A ``publicKeyMultibase`` is ``z`` + base58btc(0xed 0x01 + 32-byte public key); a secret
key's multibase is ``z`` + base58btc(0x80 0x26 + 32-byte seed).
"""

from __future__ import annotations

from credstream.errors import SigningError

_ALPHABET = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(_ALPHABET)}
# Two base58 digits per division: half the big-integer steps (signing encodes every proof).
_PAIRS = tuple(chr(high) + chr(low) for high in _ALPHABET for low in _ALPHABET)
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"


def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58 * 58)
        digits.append(_PAIRS[remainder])
    # The top pair may start with a zero digit ("1"); the number's own digits never do.
    return "1" * zeros + "".join(reversed(digits)).lstrip("1")


def b58decode(text: str) -> bytes:
    number = 0
    try:
        for char in text.encode("ascii"):
            number = number * 58 + _INDEX[char]
    except (KeyError, UnicodeEncodeError):
        raise SigningError("not a base58btc string") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes) -> str:
    """base58btc multibase (prefix ``z``)."""
    return "z" + b58encode(data)


def multibase_decode(text: str) -> bytes:
    if not text.startswith("z"):
        raise SigningError("multibase value must be base58btc (start with 'z')")
    return b58decode(text[1:])


def public_key_multibase(public_key: bytes) -> str:
    if len(public_key) != 32:
        raise SigningError("an Ed25519 public key has 32 bytes")
    return multibase_encode(ED25519_PUB_PREFIX + public_key)


def public_key_from_multibase(text: str) -> bytes:
    raw = multibase_decode(text)
    if len(raw) != 34 or not raw.startswith(ED25519_PUB_PREFIX):
        raise SigningError("publicKeyMultibase is not an Ed25519 Multikey")
    return raw[2:]


def seed_from_multibase(text: str) -> bytes:
    raw = multibase_decode(text)
    if len(raw) != 34 or not raw.startswith(ED25519_PRIV_PREFIX):
        raise SigningError("secretKeyMultibase is not an Ed25519 secret Multikey")
    return raw[2:]
