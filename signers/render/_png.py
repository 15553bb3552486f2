"""Baked PNG badges (Open Badges 3.0, 5.3.1): the credential in one ``iTXt`` chunk.

The chunk has the keyword ``openbadgecredential``, compression flag 0, an empty language
tag and translated keyword, and the credential (JSON, or a compact JWS) as UTF-8 text.
It goes just before ``IEND``; a PNG already carrying one has it replaced, so an image
never holds two credentials.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from signers.render._errors import CredentialNotBakedError, MalformedImageError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
_MAX_CHUNK = 2**31 - 1  # PNG chunk lengths are 31-bit


@dataclass(frozen=True, slots=True)
class Chunk:
    type: bytes
    data: bytes

    def encode(self) -> bytes:
        crc = zlib.crc32(self.type + self.data)
        return struct.pack(">I", len(self.data)) + self.type + self.data + struct.pack(">I", crc)


def read_chunks(image: bytes) -> list[Chunk]:
    """Every chunk, CRCs checked; IHDR first, IEND last and nothing after it."""
    if not image.startswith(PNG_SIGNATURE):
        raise MalformedImageError("not a PNG: the 8-byte PNG signature is missing")
    chunks: list[Chunk] = []
    position = len(PNG_SIGNATURE)
    while position < len(image):
        where = f"PNG chunk {len(chunks)} at byte {position}"
        if position + 12 > len(image):
            raise MalformedImageError(f"{where}: truncated chunk header")
        (length,) = struct.unpack_from(">I", image, position)
        kind = image[position + 4 : position + 8]
        if length > _MAX_CHUNK:
            raise MalformedImageError(f"{where}: length {length} exceeds 2^31-1")
        if not kind.isalpha() or not kind.isascii():
            raise MalformedImageError(f"{where}: chunk type {kind!r} is not four ASCII letters")
        end = position + 8 + length
        if end + 4 > len(image):
            raise MalformedImageError(f"{where} ({kind.decode()}): truncated data")
        data = image[position + 8 : end]
        (crc,) = struct.unpack_from(">I", image, end)
        if crc != zlib.crc32(kind + data):
            raise MalformedImageError(f"{where} ({kind.decode()}): CRC mismatch")
        chunks.append(Chunk(kind, data))
        position = end + 4
        if kind == b"IEND":
            break
    if not chunks or chunks[0].type != b"IHDR":
        raise MalformedImageError("PNG: the first chunk must be IHDR")
    if chunks[-1].type != b"IEND":
        raise MalformedImageError("PNG: no IEND chunk (the file is truncated)")
    if position != len(image):
        raise MalformedImageError(f"PNG: {len(image) - position} stray bytes after IEND")
    return chunks


def png_size(image: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk of a well-formed PNG."""
    header = read_chunks(image)[0].data
    if len(header) != 13:
        raise MalformedImageError("PNG: IHDR must hold 13 bytes")
    width, height = struct.unpack_from(">II", header)
    if not (width and height):
        raise MalformedImageError("PNG: width and height must be positive")
    return width, height


def _is_credential_chunk(chunk: Chunk) -> bool:
    return chunk.type == b"iTXt" and chunk.data.split(b"\x00", 1)[0] == KEYWORD


def bake_png(image: bytes, credential: str) -> bytes:
    """``image`` with ``credential`` baked in (deterministic: same inputs, same bytes)."""
    chunks = [c for c in read_chunks(image) if not _is_credential_chunk(c)]
    # keyword NUL, compression flag 0, method 0, language tag "" NUL, translated keyword "" NUL
    data = KEYWORD + b"\x00\x00\x00\x00\x00" + credential.encode("utf-8")
    if len(data) > _MAX_CHUNK:
        raise MalformedImageError("the credential is too large for one PNG chunk")
    baked = [*chunks[:-1], Chunk(b"iTXt", data), chunks[-1]]
    return PNG_SIGNATURE + b"".join(chunk.encode() for chunk in baked)


def extract_png(image: bytes) -> str:
    """The credential text baked into a PNG."""
    found = [c for c in read_chunks(image) if _is_credential_chunk(c)]
    if not found:
        raise CredentialNotBakedError("PNG: no iTXt chunk with keyword openbadgecredential")
    if len(found) > 1:
        raise MalformedImageError(f"PNG: {len(found)} openbadgecredential chunks (one allowed)")
    fields = found[0].data[len(KEYWORD) + 1 :]
    if len(fields) < 2:
        raise MalformedImageError("PNG: openbadgecredential chunk: truncated header")
    if fields[0] != 0:
        raise MalformedImageError(
            "PNG: openbadgecredential chunk is compressed (Open Badges forbids compression)"
        )
    parts = fields[2:].split(b"\x00", 2)  # language tag, translated keyword, text
    if len(parts) != 3:
        raise MalformedImageError("PNG: openbadgecredential chunk: missing NUL separators")
    try:
        text = parts[2].decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedImageError(f"PNG: openbadgecredential text is not UTF-8 ({error})") from None
    if not text.strip():
        raise MalformedImageError("PNG: openbadgecredential chunk has no text")
    return text
