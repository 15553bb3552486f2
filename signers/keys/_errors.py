"""Errors of key custody. All derive from SigningError: a key that cannot be used means
nothing can be signed. Messages name the key id, file or KMS operation, never a secret."""

from __future__ import annotations

from credstream.errors import SigningError


class KeyCustodyError(SigningError):
    """A key cannot be created, found or opened (missing keyring, no active key...)."""


class KeyDecryptionError(KeyCustodyError):
    """An encrypted key did not decrypt: wrong passphrase, wrong KMS key or context, or
    the stored file was altered."""


class KmsRequestError(KeyCustodyError):
    """KMS refused a request with an error that retrying cannot fix (access denied,
    disabled or missing key, invalid parameters)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class KmsUnavailableError(KeyCustodyError):
    """KMS kept throttling or stayed unreachable for the whole retry budget."""


class DidDocumentError(SigningError):
    """A DID or DID document is malformed, or a verification method cannot be resolved
    from it."""
