"""did:web identity: the DID document built from a key ring, its URL and object key, and
the verifier's side (a verification method id to a public key).

Publishing layout: the document for ``did:web:HOST[:PATH...]`` is served at
``https://HOST/.well-known/did.json`` (no path) or ``https://HOST/PATH.../did.json``.
In the object store it is written under the tenant's prefix with that same URL path:
``{tenant}/.well-known/did.json`` or ``{tenant}/PATH.../did.json``, so the tenant's
prefix is what the web front (CDN, bucket website) serves at the root of the DID's host.
"""

from __future__ import annotations

import re
from typing import Any

from credstream.errors import SigningError
from signers.keys._errors import DidDocumentError
from signers.keys._keyring import KeyRing
from signers.multikey import public_key_from_multibase

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]

_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*"
_PORT = r"(?:%3[Aa](?P<port>[0-9]{1,5}))?"  # a port is percent-encoded: did:web:host%3A8443
_PATH = r"(?P<path>(?::[A-Za-z0-9._~%-]+)*)"
_DID_WEB = re.compile(f"did:web:(?P<host>{_HOST}){_PORT}{_PATH}")


def did_web_url(did: str) -> str:
    """The HTTPS URL of a did:web DID's document (did:web method specification)."""
    match = _DID_WEB.fullmatch(did)
    if not match:
        raise DidDocumentError(
            f"DID {did!r} is not a did:web DID (did:web:HOST[%3APORT][:PATH...])"
        )
    host = match["host"].lower() + (f":{match['port']}" if match["port"] else "")
    # Only the port is percent-decoded; path segments stay as written (did:web spec).
    segments = match["path"].split(":")[1:]
    if any(s in {".", ".."} for s in segments):
        raise DidDocumentError(f"DID {did!r}: a path segment is not a plain name")
    path = "/".join(segments) if segments else ".well-known"
    return f"https://{host}/{path}/did.json"


def did_document_object_key(tenant: str, did: str) -> str:
    """Where the tenant's DID document goes in the object store (see the module doc)."""
    path = did_web_url(did).split("/", 3)[3]
    return f"{tenant}/{path}"


def did_document(ring: KeyRing, did: str | None = None) -> dict[str, Any]:
    """The DID document of a tenant: every key, active and retired, as a Multikey
    verification method listed in ``assertionMethod``, so that credentials signed before
    a rotation keep verifying. Pure: the same ring gives the same document."""
    controller = did or ring.did
    if controller is None:
        raise DidDocumentError(f"tenant {ring.tenant}: no DID set (give one with --did)")
    did_web_url(controller)
    if not ring.keys:
        raise DidDocumentError(
            f"tenant {ring.tenant}: no keys yet (run `credstream keys generate`)"
        )
    methods = [
        {
            "id": f"{controller}#{record.key_id}",
            "type": "Multikey",
            "controller": controller,
            "publicKeyMultibase": record.public_key_multibase,
        }
        for record in ring.keys
    ]
    return {
        "@context": list(DID_CONTEXTS),
        "id": controller,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def _absolute(reference: str, did: str) -> str:
    return did + reference if reference.startswith("#") else reference


def resolve_verification_method(document: dict[str, Any], vm_id: str) -> bytes:
    """The raw Ed25519 public key of verification method ``vm_id``, from its controller's
    DID document, checking what a verifier of an assertion must: the method belongs to
    the document's DID, is controlled by it, is a Multikey, and is an assertionMethod."""
    did = document.get("id") if isinstance(document, dict) else None
    if not isinstance(did, str):
        raise DidDocumentError("DID document has no string 'id'")
    if vm_id.split("#", 1)[0] != did or "#" not in vm_id:
        raise DidDocumentError(f"verification method {vm_id!r} is not a fragment of {did!r}")
    methods = document.get("verificationMethod", [])
    assertion = document.get("assertionMethod", [])
    if not isinstance(methods, list) or not isinstance(assertion, list):
        raise DidDocumentError(f"{did}: verificationMethod and assertionMethod must be lists")
    # assertionMethod entries are references (strings) or embedded methods (objects).
    embedded = [m for m in assertion if isinstance(m, dict)]
    referenced = {_absolute(m, did) for m in assertion if isinstance(m, str)}
    candidates = [
        (m, _absolute(m["id"], did) in referenced)
        for m in methods
        if isinstance(m, dict) and isinstance(m.get("id"), str)
    ] + [(m, True) for m in embedded if isinstance(m.get("id"), str)]
    for method, is_assertion in candidates:
        if _absolute(method["id"], did) != vm_id:
            continue
        if not is_assertion:
            raise DidDocumentError(f"{vm_id}: not listed in assertionMethod")
        if method.get("controller") != did:
            raise DidDocumentError(f"{vm_id}: controller is not {did}")
        if method.get("type") != "Multikey":
            raise DidDocumentError(f"{vm_id}: type {method.get('type')!r} is not Multikey")
        multibase = method.get("publicKeyMultibase")
        if not isinstance(multibase, str):
            raise DidDocumentError(f"{vm_id}: no publicKeyMultibase")
        try:
            return public_key_from_multibase(multibase)
        except SigningError as error:
            raise DidDocumentError(f"{vm_id}: publicKeyMultibase: {error}") from None
    raise DidDocumentError(f"{vm_id}: no such verification method in the DID document of {did}")
