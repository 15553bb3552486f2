"""Verification methods: which key a proof's ``verificationMethod`` names, and who controls it.

Only methods for ``assertionMethod`` are resolved: that is the purpose of a credential's proof.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from credstream.errors import SigningError
from signers.multikey import public_key_from_multibase

_DID_KEY = "did:key:"


class VerificationMethodError(SigningError):
    """A verification method cannot be resolved to a key authorized for assertions."""


@dataclass(frozen=True)
class VerificationMethod:
    id: str
    controller: str
    public_key: bytes


ResolveMethod = Callable[[str], VerificationMethod]
"""Verification method id -> the method, or VerificationMethodError."""


def did_key_method(method_id: str) -> VerificationMethod:
    """A ``did:key:z6Mk...#z6Mk...`` method: the key is in the identifier, and a did:key
    document authorizes its one key for every purpose."""
    did, _, fragment = method_id.partition("#")
    multibase = did.removeprefix(_DID_KEY)
    if not did.startswith(_DID_KEY) or fragment != multibase:
        raise VerificationMethodError(
            f"{method_id!r} is not a did:key verification method (did:key:<key>#<key>)"
        )
    try:
        public_key = public_key_from_multibase(multibase)
    except SigningError as error:
        raise VerificationMethodError(f"{method_id!r}: {error}") from None
    return VerificationMethod(method_id, did, public_key)


def controller_document_method(document: Mapping[str, Any], method_id: str) -> VerificationMethod:
    """The Multikey ``method_id`` of a controller document (a did.json), listed under
    ``assertionMethod`` and controlled by the document's subject."""
    # Key custody owns DID documents; imported here so verification alone stays light.
    from signers.keys import DidDocumentError, resolve_verification_method

    try:
        public_key = resolve_verification_method(dict(document), method_id)
    except DidDocumentError as error:
        raise VerificationMethodError(str(error)) from None
    return VerificationMethod(method_id, str(document["id"]), public_key)
