"""did:web documents list every key; a verifier resolves old and new keys from them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import SecretStr

from signers.keys import (
    DidDocumentError,
    KeySettings,
    did_document,
    did_document_object_key,
    did_web_url,
    generate_key,
    open_key,
    read_keyring,
    resolve_verification_method,
    rotate_key,
    set_did,
)

DID = "did:web:badges.acme.edu"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture()
def settings(tmp_path: Path) -> KeySettings:
    return KeySettings(keyring_dir=tmp_path, passphrase=SecretStr("pass phrase"))


@pytest.mark.parametrize(
    ("did", "url", "object_key"),
    [
        (DID, "https://badges.acme.edu/.well-known/did.json", "acme/.well-known/did.json"),
        (
            "did:web:example.com:issuers:acme",
            "https://example.com/issuers/acme/did.json",
            "acme/issuers/acme/did.json",
        ),
        (
            "did:web:localhost%3A8443",
            "https://localhost:8443/.well-known/did.json",
            "acme/.well-known/did.json",
        ),
        ("did:web:Badges.ACME.edu", "https://badges.acme.edu/.well-known/did.json", None),
    ],
)
def test_did_web_maps_to_its_https_url_and_object_key(
    did: str, url: str, object_key: str | None
) -> None:
    assert did_web_url(did) == url
    if object_key:
        assert did_document_object_key("acme", did) == object_key


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6Mkabc",
        "did:web:",
        "did:web:exa mple.com",
        "did:web:example.com/path",
        "did:web:example.com:..",
        "did:web:example.com::x",
        "https://example.com",
    ],
)
def test_malformed_did_web_is_refused(did: str) -> None:
    with pytest.raises(DidDocumentError):
        did_web_url(did)


def test_rotation_keeps_the_old_key_in_assertion_method(settings: KeySettings) -> None:
    first = generate_key(settings, "acme", now=NOW, did=DID)
    second, _ = rotate_key(settings, "acme", now=NOW)
    third, _ = rotate_key(settings, "acme", now=NOW)

    document = did_document(read_keyring(settings, "acme"))

    ids = [f"{DID}#{r.key_id}" for r in (first, second, third)]
    assert document == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": DID,
        "verificationMethod": [
            {
                "id": vm,
                "type": "Multikey",
                "controller": DID,
                "publicKeyMultibase": record.public_key_multibase,
            }
            for vm, record in zip(ids, (first, second, third), strict=True)
        ],
        "assertionMethod": ids,
    }


def test_credential_signed_before_rotation_resolves_from_the_new_document(
    settings: KeySettings,
) -> None:
    generate_key(settings, "acme", now=NOW, did=DID)
    old_key = open_key(settings, "acme")
    message = b"hash of a credential issued in March"
    signature = old_key.sign(message)
    vm_id = old_key.verification_method(DID)

    rotate_key(settings, "acme", now=datetime(2026, 9, 1, tzinfo=UTC))
    document = did_document(read_keyring(settings, "acme"))

    public = resolve_verification_method(document, vm_id)
    Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    assert public == old_key.public_key
    new_key = open_key(settings, "acme")
    assert resolve_verification_method(document, new_key.verification_method(DID)) == (
        new_key.public_key
    )


def test_document_needs_a_did_and_keys(settings: KeySettings) -> None:
    generate_key(settings, "acme", now=NOW)
    with pytest.raises(DidDocumentError, match="--did"):
        did_document(read_keyring(settings, "acme"))
    with pytest.raises(DidDocumentError, match="no keys"):
        did_document(read_keyring(settings, "other"), DID)


def test_set_did_is_remembered_and_validated(settings: KeySettings) -> None:
    generate_key(settings, "acme", now=NOW)
    set_did(settings, "acme", "did:web:example.com:acme")
    assert did_document(read_keyring(settings, "acme"))["id"] == "did:web:example.com:acme"
    with pytest.raises(DidDocumentError):
        set_did(settings, "acme", "did:example:123")


def _document() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": DID,
        "verificationMethod": [
            {
                "id": f"{DID}#k1",
                "type": "Multikey",
                "controller": DID,
                "publicKeyMultibase": "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
            }
        ],
        "assertionMethod": [f"{DID}#k1"],
    }


def test_relative_and_embedded_methods_resolve() -> None:
    expected = bytes.fromhex("4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5")
    relative = _document()
    relative["verificationMethod"][0]["id"] = "#k1"
    relative["assertionMethod"] = ["#k1"]
    embedded = _document()
    embedded["assertionMethod"] = embedded.pop("verificationMethod")

    assert resolve_verification_method(_document(), f"{DID}#k1") == expected
    assert resolve_verification_method(relative, f"{DID}#k1") == expected
    assert resolve_verification_method(embedded, f"{DID}#k1") == expected


def _broken(change: str) -> dict[str, Any]:
    document = copy.deepcopy(_document())
    method = document["verificationMethod"][0]
    if change == "not-assertion":
        document["assertionMethod"] = []
    elif change == "controller":
        method["controller"] = "did:web:evil.example"
    elif change == "type":
        method["type"] = "JsonWebKey"
    elif change == "multibase":
        method["publicKeyMultibase"] = "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"
    elif change == "no-id":
        del document["id"]
    return document


@pytest.mark.parametrize(
    ("change", "vm_id", "reason"),
    [
        ("not-assertion", f"{DID}#k1", "not listed in assertionMethod"),
        ("controller", f"{DID}#k1", "controller is not"),
        ("type", f"{DID}#k1", "is not Multikey"),
        ("multibase", f"{DID}#k1", "publicKeyMultibase"),
        ("no-id", f"{DID}#k1", "no string 'id'"),
        ("none", f"{DID}#k2", "no such verification method"),
        ("none", "did:web:evil.example#k1", "not a fragment of"),
        ("none", DID, "not a fragment of"),
    ],
)
def test_unresolvable_methods_are_typed_errors(change: str, vm_id: str, reason: str) -> None:
    with pytest.raises(DidDocumentError, match=reason):
        resolve_verification_method(_broken(change), vm_id)
