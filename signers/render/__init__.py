"""Baked badges: Open Badges 3.0 credentials carried inside PNG and SVG images.

Pure functions over bytes::

    baked = bake_png(artwork_png, credential_json)   # iTXt "openbadgecredential"
    assert json.loads(extract_png(baked)) == credential
    baked = bake_svg(artwork_svg, credential_json)   # <openbadges:credential> CDATA

and the renderer stage (:class:`Renderer`) that bakes every issued credential into
``{tenant}/badges/{id}.png`` and ``.svg``, with artwork from the issuer's uploads in the
store (:class:`ArtworkSource`, ``credstream images put``) or a drawn default; it stands
aside while the signer has a backlog (:class:`YieldToIssuance`).
"""

from signers.render._artwork import default_png, default_svg, svg_around_png
from signers.render._errors import (
    BakingError,
    CredentialNotBakedError,
    CredentialNotStoredError,
    MalformedImageError,
)
from signers.render._images import (
    MAX_IMAGE_BYTES,
    Artwork,
    ArtworkSource,
    check_png,
    check_svg,
    choose_artwork,
    image_key,
)
from signers.render._png import bake_png, extract_png, png_size
from signers.render._renderer import MEDIA_TYPES, STAGE, BadgeStore, Renderer, RenderReport
from signers.render._svg import OB_NAMESPACE, bake_svg, extract_svg
from signers.render._yield import YieldToIssuance

__all__ = [
    "MAX_IMAGE_BYTES",
    "MEDIA_TYPES",
    "OB_NAMESPACE",
    "STAGE",
    "Artwork",
    "ArtworkSource",
    "BadgeStore",
    "BakingError",
    "CredentialNotBakedError",
    "CredentialNotStoredError",
    "MalformedImageError",
    "RenderReport",
    "Renderer",
    "YieldToIssuance",
    "bake_png",
    "bake_svg",
    "check_png",
    "check_svg",
    "choose_artwork",
    "default_png",
    "default_svg",
    "extract_png",
    "extract_svg",
    "image_key",
    "png_size",
    "svg_around_png",
]
