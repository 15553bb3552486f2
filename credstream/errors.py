"""The one exception tree of credstream.

Every error the project raises on purpose derives from :class:`CredstreamError`, so a
caller can catch all of them in one place and a worker can turn any of them into a
dead-letter record with a specific reason.
"""


class CredstreamError(Exception):
    """Base of every error credstream raises on purpose."""


class ConfigurationError(CredstreamError):
    """A setting is missing or wrong; raised at start, naming the option."""


class DevStackError(CredstreamError):
    """The local stack cannot be installed, started or stopped."""


class InvalidInputError(CredstreamError):
    """Input data (an event, a file, a record) is malformed; the message names the field."""


class SigningError(CredstreamError):
    """A credential cannot be built, signed or verified."""


class StorageError(CredstreamError):
    """The object store refused or failed a write."""
