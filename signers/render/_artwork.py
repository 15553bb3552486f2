"""Default badge artwork, drawn here when the issuer has uploaded none.

A disc in a ring with a star, coloured from a hash of the achievement id; the SVG also
shows the achievement's name. Nothing secret and nothing about the learner is drawn:
only what the credential itself says publicly. Pure Python (zlib for PNG), no fonts,
and deterministic: the same achievement always gets the same bytes.
"""

from __future__ import annotations

import base64
import colorsys
import hashlib
import math
import struct
import zlib
from xml.sax.saxutils import escape, quoteattr

from signers.render._png import PNG_SIGNATURE, Chunk

SIZE = 256
_CENTER = SIZE / 2
_RING, _DISC = 124.0, 108.0
_STAR_OUTER, _STAR_INNER = 64.0, 26.0
_NAME_LIMIT = 30


def _colours(seed: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(ring, disc) RGB from the seed: one hue, two shades."""
    hue = hashlib.sha256(seed.encode()).digest()[0] / 256

    def rgb(lightness: float) -> tuple[int, int, int]:
        r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.55)
        return round(r * 255), round(g * 255), round(b * 255)

    return rgb(0.32), rgb(0.48)


_STAR_RGB = (248, 248, 244)


def _star() -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        radius = _STAR_OUTER if i % 2 == 0 else _STAR_INNER
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((_CENTER + radius * math.cos(angle), _CENTER - 8 + radius * math.sin(angle)))
    return points


def _spans(y: float, polygon: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Where the scanline at ``y`` is inside the polygon (even-odd rule)."""
    crossings = []
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y1 <= y < y2) or (y2 <= y < y1):
            crossings.append(x1 + (y - y1) * (x2 - x1) / (y2 - y1))
    crossings.sort()
    return list(zip(crossings[::2], crossings[1::2], strict=True))


def _fill(row: bytearray, left: float, right: float, value: int) -> None:
    """Set the pixels whose centres lie in [left, right]."""
    for x in range(max(0, math.ceil(left - 0.5)), min(SIZE, math.floor(right - 0.5) + 1)):
        row[x] = value


def default_png(seed: str) -> bytes:
    """A 256x256 palette PNG (2 bits per pixel, transparent outside the badge)."""
    ring, disc = _colours(seed)
    star = _star()
    raw = bytearray()
    for y in range(SIZE):
        centre_y = y + 0.5
        row = bytearray(SIZE)  # palette index 0: transparent
        for radius, value in ((_RING, 1), (_DISC, 2)):
            dy = centre_y - _CENTER
            if abs(dy) <= radius:
                half = math.sqrt(radius * radius - dy * dy)
                _fill(row, _CENTER - half, _CENTER + half, value)
        for left, right in _spans(centre_y, star):
            _fill(row, left, right, 3)
        raw.append(0)  # filter: none
        for x in range(0, SIZE, 4):
            raw.append(row[x] << 6 | row[x + 1] << 4 | row[x + 2] << 2 | row[x + 3])
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 2, 3, 0, 0, 0)  # 2-bit palette
    palette = bytes((0, 0, 0, *ring, *disc, *_STAR_RGB))
    chunks = [
        Chunk(b"IHDR", header),
        Chunk(b"PLTE", palette),
        Chunk(b"tRNS", b"\x00"),  # palette entry 0 is fully transparent
        Chunk(b"IDAT", zlib.compress(bytes(raw), 9)),
        Chunk(b"IEND", b""),
    ]
    return PNG_SIGNATURE + b"".join(chunk.encode() for chunk in chunks)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def default_svg(seed: str, name: str) -> bytes:
    """The same badge as :func:`default_png`, as SVG, with the achievement's name."""
    ring, disc = _colours(seed)
    name = "".join(c for c in name if c.isprintable())  # no control characters in XML
    points = " ".join(f"{x:.2f},{y:.2f}" for x, y in _star())
    label = name if len(name) <= _NAME_LIMIT else name[: _NAME_LIMIT - 1].rstrip() + "\u2026"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" role="img" aria-label={quoteattr(name)}>'
        f"<title>{escape(name)}</title>"
        f'<circle cx="128" cy="128" r="{_RING:g}" fill="{_hex(ring)}"/>'
        f'<circle cx="128" cy="128" r="{_DISC:g}" fill="{_hex(disc)}"/>'
        f'<polygon points="{points}" fill="{_hex(_STAR_RGB)}"/>'
        f'<text x="128" y="196" font-family="sans-serif" font-size="13" '
        f'text-anchor="middle" fill="{_hex(_STAR_RGB)}">{escape(label)}</text>'
        "</svg>"
    ).encode()


def svg_around_png(png: bytes, width: int, height: int) -> bytes:
    """An SVG that shows a PNG (when the issuer uploaded only a PNG)."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f'<image width="{width}" height="{height}" href="data:image/png;base64,{data}"/>'
        "</svg>"
    ).encode()
