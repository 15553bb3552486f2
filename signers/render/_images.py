"""Where a badge's artwork comes from.

The achievement's ``image`` URL points at the issuer's site; the renderer never fetches
it (no outbound requests to URLs taken from data). Issuers upload artwork to the object
store instead (``credstream images put``), at ``{tenant}/images/{achievement key}.png``
and ``.svg``. The SVG badge uses the uploaded SVG, else an SVG showing the uploaded PNG,
else the default artwork; the PNG badge uses the uploaded PNG, else the default. An
upload that cannot be baked is logged and replaced by the default, so one bad file never
stops rendering. Lookups are cached for ``ttl_seconds`` (a replaced upload is picked up
after that).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from credstream.errors import InvalidInputError
from signers.render._artwork import default_png, default_svg, svg_around_png
from signers.render._errors import BakingError
from signers.render._png import bake_png, png_size
from signers.render._svg import bake_svg

MAX_IMAGE_BYTES = 4 * 1024 * 1024
log = logging.getLogger("credstream.renderer")


_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def image_key(tenant: str, achievement_key: str, extension: str) -> str:
    """Object key of an issuer's uploaded artwork for one achievement."""
    for name, value in (("tenant", tenant), ("achievement key", achievement_key)):
        if not _SEGMENT.fullmatch(value):
            raise InvalidInputError(f"{name} {value!r}: use letters, digits, '.', '_' or '-'")
    return f"{tenant}/images/{achievement_key}.{extension}"


@dataclass(frozen=True, slots=True)
class Artwork:
    """The unbaked images of one achievement."""

    png: bytes
    svg: bytes


def check_png(image: bytes) -> bytes:
    """``image`` if it is a PNG that can be baked (raises BakingError otherwise)."""
    if len(image) > MAX_IMAGE_BYTES:
        raise BakingError(f"image is {len(image)} bytes; the limit is {MAX_IMAGE_BYTES}")
    bake_png(image, "{}")
    return image


def check_svg(image: bytes) -> bytes:
    """``image`` if it is an SVG that can be baked (raises BakingError otherwise)."""
    if len(image) > MAX_IMAGE_BYTES:
        raise BakingError(f"image is {len(image)} bytes; the limit is {MAX_IMAGE_BYTES}")
    bake_svg(image, "{}")
    return image


def choose_artwork(
    png: bytes | None, svg: bytes | None, seed: str, name: str, where: str = ""
) -> Artwork:
    """The artwork from the uploads that can be baked, the defaults for the rest."""

    def usable(image: bytes | None, check: Callable[[bytes], bytes], kind: str) -> bytes | None:
        if image is None:
            return None
        try:
            return check(image)
        except BakingError as error:
            log.error(
                "uploaded %s artwork %s is unusable, using the default: %s", kind, where, error
            )
            return None

    good_png = usable(png, check_png, "PNG")
    good_svg = usable(svg, check_svg, "SVG")
    if good_svg is None and good_png is not None:
        good_svg = svg_around_png(good_png, *png_size(good_png))
    return Artwork(
        good_png if good_png is not None else default_png(seed),
        good_svg if good_svg is not None else default_svg(seed, name),
    )


class ArtworkSource:
    """Artwork per (tenant, achievement key), read from the store and cached."""

    def __init__(
        self,
        fetch: Callable[[list[str]], list[bytes | None]],
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._clock = clock
        # Keyed by everything the result depends on: the default differs per seed and name.
        self._cache: dict[tuple[str, str, str, str], tuple[float, Artwork]] = {}

    def artwork(self, tenant: str, achievement_key: str, seed: str, name: str) -> Artwork:
        """``seed`` (the achievement id) colours the default; ``name`` labels it."""
        now = self._clock()
        key = (tenant, achievement_key, seed, name)
        cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        png, svg = self._fetch(
            [image_key(tenant, achievement_key, "png"), image_key(tenant, achievement_key, "svg")]
        )
        found = choose_artwork(png, svg, seed, name, f"{tenant}/{achievement_key}")
        self._cache[key] = (now, found)
        return found
