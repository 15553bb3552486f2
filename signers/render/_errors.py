"""The typed errors of baking and extraction."""

from __future__ import annotations

from credstream.errors import InvalidInputError


class BakingError(InvalidInputError):
    """An image cannot be baked or read; the message says what is wrong and where."""


class MalformedImageError(BakingError):
    """The bytes are not a well-formed PNG or SVG that can carry a credential."""


class CredentialNotBakedError(BakingError):
    """A well-formed image that carries no Open Badges credential."""


class CredentialNotStoredError(InvalidInputError):
    """A notification names a credential the store does not hold."""
