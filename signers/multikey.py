"""Multibase (base58btc) and Multikey encodings of Ed25519 keys and signatures.

A ``publicKeyMultibase`` is ``z`` + base58btc(0xed 0x01 + 32-byte public key); a secret
key's multibase is ``z`` + base58btc(0x80 0x26 + 32-byte seed).
"""

from __future__ import annotations

from gmpy2 import mpz

from credstream.errors import SigningError

_ALPHABET = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# GMP converts integers to and from base 58 in C, with its own digits (0-9, A-Z, a-v):
# translating them costs ~1 us a signature, against ~7 us for divisions in Python.
_GMP_DIGITS = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
_FROM_GMP = bytes.maketrans(_GMP_DIGITS, _ALPHABET)
_TO_GMP = bytes.maketrans(_ALPHABET, _GMP_DIGITS)
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"


def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    if not number:
        return "1" * zeros
    digits: str = mpz(number).digits(58)
    return "1" * zeros + digits.encode("ascii").translate(_FROM_GMP).decode("ascii")


def b58decode(text: str) -> bytes:
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise SigningError("not a base58btc string") from None
    if raw.translate(None, _ALPHABET):  # a character outside the alphabet is left
        raise SigningError("not a base58btc string")
    body = raw.lstrip(b"1")
    zeros = len(raw) - len(body)
    if not body:
        return b"\0" * zeros
    number = int(mpz(body.translate(_TO_GMP).decode("ascii"), 58))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


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
