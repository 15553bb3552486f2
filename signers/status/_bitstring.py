"""Bitstring Status List v1.0: the list, its encoding, and where each credential sits.

The list is a bitstring of at least 131,072 entries (16 KiB); bit 0 is the left-most
(most significant) bit of the first byte. ``encodedList`` is the multibase base64url
(prefix ``u``, no padding) of the GZIP-compressed bitstring.
"""

from __future__ import annotations

import base64
import gzip
import zlib
from dataclasses import dataclass

from credstream.errors import InvalidInputError

LIST_SIZE = 131_072  # entries per list: the specification's minimum, for herd privacy
# The largest list a verifier decodes (128 Mi entries): far above any list we publish.
MAX_DECODED_BYTES = 16 * 1024 * 1024
PURPOSES = ("revocation", "suspension")
# An odd multiplier is a bijection on [0, 2**17): consecutive allocations land far apart
# in the list, so neighbours in a list say nothing about issuance order.
_SPREAD = 0x9E3B  # odd
_OFFSET = 0x1F35D


class StatusListError(InvalidInputError):
    """A status list or status entry is malformed."""


@dataclass(frozen=True)  # not slotted: it is pickled in every SignJob (see SignJob)
class StatusSlot:
    """Where one credential's status bit lives: the same slot in each purpose's list."""

    list_id: str
    index: int


def allocate_slot(source: str, offset: int) -> StatusSlot:
    """The slot of the credential requested at ``offset`` of the partition ``source``.

    ``source`` names one partition of one credential.requested.v1 topic (see
    ``Topology.partition_label``). A record's partition and offset never change and are
    never reused, so a slot is never handed out twice, a crash or a replay gets the same
    slot (and so byte-identical credentials), and no allocation state needs to be stored.
    A list fills after LIST_SIZE requests on one partition; the next offset opens the
    next list. (Never recreate the requests topic under the same name: its offsets would
    start again.)
    """
    if offset < 0 or not source:
        raise StatusListError("a slot needs a partition label and a non-negative offset")
    sequence, position = divmod(offset, LIST_SIZE)
    return StatusSlot(f"{source}-{sequence}", (position * _SPREAD + _OFFSET) % LIST_SIZE)


class Bitstring:
    """A mutable status bitstring (one per list and purpose)."""

    __slots__ = ("_bits",)

    def __init__(self, size: int = LIST_SIZE, bits: bytes | None = None) -> None:
        if size % 8 or size < LIST_SIZE:
            raise StatusListError(f"a status list has a multiple of 8 and >= {LIST_SIZE} bits")
        self._bits = bytearray(bits) if bits is not None else bytearray(size // 8)
        if len(self._bits) * 8 != size:
            raise StatusListError("the bitstring does not have the declared size")

    @property
    def size(self) -> int:
        return len(self._bits) * 8

    def _check(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise StatusListError(f"statusListIndex {index} is outside the list (size {self.size})")

    def get(self, index: int) -> bool:
        self._check(index)
        return bool(self._bits[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool) -> None:
        self._check(index)
        if value:
            self._bits[index >> 3] |= 0x80 >> (index & 7)
        else:
            self._bits[index >> 3] &= ~(0x80 >> (index & 7)) & 0xFF

    def encode(self) -> str:
        # mtime=0 keeps the encoding deterministic: the same bits give the same bytes.
        packed = gzip.compress(bytes(self._bits), compresslevel=9, mtime=0)
        return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded: object) -> Bitstring:
        """The list a published ``encodedList`` holds (any value: it comes from outside)."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusListError("encodedList must be multibase base64url (start with 'u')")
        body = encoded[1:]
        try:
            packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            # Bounded: a few hostile bytes must not inflate to gigabytes in a verifier.
            inflater = zlib.decompressobj(wbits=31)  # the gzip container
            bits = inflater.decompress(packed, MAX_DECODED_BYTES)
            if inflater.unconsumed_tail:
                raise StatusListError(f"encodedList holds more than {MAX_DECODED_BYTES} bytes")
            if not inflater.eof:
                raise StatusListError("encodedList does not decode: truncated gzip data")
        except (ValueError, zlib.error) as error:
            raise StatusListError(f"encodedList does not decode: {error}") from None
        return cls(len(bits) * 8, bits)
