"""Verification methods: which key a proof's ``verificationMethod`` names, and who controls it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from credstream.errors import SigningError
from signers.multikey import public_key_from_multibase

_DID_KEY = "did:key:"


class VerificationMethodError(SigningError):
    """A verification method cannot be resolved to a key for the required purpose."""


@dataclass(frozen=True)
class VerificationMethod:
    id: str
    controller: str
    public_key: bytes


ResolveMethod = Callable[[str, str], VerificationMethod]
"""(verification method id, proof purpose) -> the method, or VerificationMethodError."""


def did_key_method(method_id: str, purpose: str = "assertionMethod") -> VerificationMethod:
    """A ``did:key:z6Mk...#z6Mk...`` method: the key is in the identifier itself.

    A did:key document authorizes its one key for every purpose, so ``purpose`` is not
    restricted.
    """
    did, _, fragment = method_id.partition("#")
    multibase = did.removeprefix(_DID_KEY)
    if not did.startswith(_DID_KEY) or fragment != multibase:
        raise VerificationMethodError(
            f"{method_id!r} is not a did:key verification method (did:key:<key>#<key>)"
        )
    return VerificationMethod(method_id, did, _multikey(method_id, multibase))


def controller_document_method(
    document: Mapping[str, Any], method_id: str, purpose: str = "assertionMethod"
) -> VerificationMethod:
    """The Multikey ``method_id`` of a controller document (a did.json) for ``purpose``.

    The method must be listed (or embedded) under ``purpose``, be a Multikey with a
    ``publicKeyMultibase``, and be controlled by the document's subject.
    """
    controller = document.get("id")
    if not isinstance(controller, str) or not controller:
        raise VerificationMethodError("the controller document has no id")
    entries = [
        *_as_list(document.get("verificationMethod")),
        *(entry for entry in _as_list(document.get(purpose)) if isinstance(entry, Mapping)),
    ]
    authorized = {
        _absolute(entry if isinstance(entry, str) else entry.get("id"), controller)
        for entry in _as_list(document.get(purpose))
    }
    if method_id not in authorized:
        raise VerificationMethodError(
            f"{method_id!r} is not listed under {purpose} in the controller document {controller}"
        )
    method = next(
        (
            entry
            for entry in entries
            if isinstance(entry, Mapping) and _absolute(entry.get("id"), controller) == method_id
        ),
        None,
    )
    if method is None:
        raise VerificationMethodError(f"the controller document does not define {method_id!r}")
    if method.get("type") != "Multikey":
        raise VerificationMethodError(f"{method_id!r} is not a Multikey")
    if method.get("controller") != controller:
        raise VerificationMethodError(
            f"{method_id!r} names controller {method.get('controller')!r}, "
            f"not the document's id {controller!r}"
        )
    multibase = method.get("publicKeyMultibase")
    if not isinstance(multibase, str):
        raise VerificationMethodError(f"{method_id!r} has no publicKeyMultibase")
    return VerificationMethod(method_id, controller, _multikey(method_id, multibase))


def _multikey(method_id: str, multibase: str) -> bytes:
    try:
        return public_key_from_multibase(multibase)
    except SigningError as error:
        raise VerificationMethodError(f"{method_id!r}: {error}") from None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _absolute(reference: Any, controller: str) -> str | None:
    if not isinstance(reference, str):
        return None
    return controller + reference if reference.startswith("#") else reference
