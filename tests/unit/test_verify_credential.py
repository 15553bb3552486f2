"""verify_credential: verification method, issuer binding and validity period."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from signers.multikey import public_key_multibase
from signers.proofs import (
    CheckId,
    RdfcReferenceCanonicalizer,
    VerificationMethodError,
    add_proof,
    controller_document_method,
    did_key_method,
    ed25519_public_key,
    ed25519_signer,
    verify_credential,
)
from tests.unit._proofs_vectors import W3C, load, ob_expected, ob_signed, signed_vectors

NOW = datetime(2030, 1, 1, tzinfo=UTC)
OB_ISSUER = "https://example.edu/issuers/565049"
OB_METHOD = ob_expected()["proofOptions"]["verificationMethod"]
W3C_METHOD = load(W3C / "eddsa-rdfc-2022" / "proofConfigDataInt.json")["verificationMethod"]
SEED = bytes(range(32))
DID = "did:key:" + public_key_multibase(ed25519_public_key(SEED))
DID_METHOD = f"{DID}#{DID.removeprefix('did:key:')}"


@pytest.fixture(scope="module")
def canonicalizer() -> RdfcReferenceCanonicalizer:
    return RdfcReferenceCanonicalizer()


def ob_controller(**method_changes: Any) -> dict[str, Any]:
    method = {
        "id": "#" + OB_METHOD.partition("#")[2],
        "type": "Multikey",
        "controller": OB_ISSUER,
        "publicKeyMultibase": ob_expected()["publicKeyMultibase"],
        **method_changes,
    }
    return {"id": OB_ISSUER, "verificationMethod": [method], "assertionMethod": [method["id"]]}


def signed_did_key_credential(
    canonicalizer: RdfcReferenceCanonicalizer, purpose: str = "assertionMethod", **changes: Any
) -> dict[str, Any]:
    credential = {**load(W3C / "unsigned.json"), "issuer": DID, **changes}
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-05-01T10:00:00Z",
        "verificationMethod": DID_METHOD,
        "proofPurpose": purpose,
    }
    return add_proof(credential, options, ed25519_signer(SEED), canonicalizer)


def ids(checks: Any) -> list[CheckId]:
    return [check.id for check in checks]


def test_did_key_method_reads_the_key_from_the_identifier() -> None:
    method = did_key_method(W3C_METHOD)
    assert method.controller == W3C_METHOD.partition("#")[0]
    assert method.public_key == signed_vectors()["w3c-rdfc"][1]


@pytest.mark.parametrize(
    "method_id",
    [
        "did:web:example.com#key-1",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#other",
        "did:key:z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq#z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",
    ],
)
def test_did_key_method_refuses_anything_else(method_id: str) -> None:
    with pytest.raises(VerificationMethodError):
        did_key_method(method_id)


def test_controller_document_method_resolves_a_relative_id() -> None:
    method = controller_document_method(ob_controller(), OB_METHOD)
    assert (method.id, method.controller) == (OB_METHOD, OB_ISSUER)
    assert method.public_key.hex() == ob_expected()["publicKeyHex"]


@pytest.mark.parametrize(
    ("controller", "message"),
    [
        ({**ob_controller(), "assertionMethod": []}, "not listed in assertionMethod"),
        (ob_controller(type="JsonWebKey"), "not Multikey"),
        (ob_controller(controller="https://elsewhere.example"), "controller is not"),
    ],
)
def test_controller_document_method_refuses(controller: dict[str, Any], message: str) -> None:
    with pytest.raises(VerificationMethodError, match=message):
        controller_document_method(controller, OB_METHOD)


def test_embedded_assertion_method_is_found() -> None:
    controller = ob_controller()
    embedded = {**controller["verificationMethod"][0], "id": OB_METHOD}
    controller = {"id": OB_ISSUER, "assertionMethod": [embedded]}
    assert controller_document_method(controller, OB_METHOD).id == OB_METHOD


def test_open_badges_vector_verifies_against_its_controller_document(
    canonicalizer: RdfcReferenceCanonicalizer,
) -> None:
    resolve = partial(controller_document_method, ob_controller())
    result = verify_credential(ob_signed(), resolve, NOW, canonicalizer)
    assert result.verified, result.problems
    assert ids(result.checks) == [
        CheckId.PROOF_FORMAT,
        CheckId.PROOF_PURPOSE,
        CheckId.VERIFICATION_METHOD,
        CheckId.CANONICALIZATION,
        CheckId.SIGNATURE,
        CheckId.ISSUER_BINDING,
        CheckId.VALID_FROM,
        CheckId.VALID_UNTIL,
    ]


def test_w3c_vector_key_is_not_its_issuers(canonicalizer: RdfcReferenceCanonicalizer) -> None:
    signed, _ = signed_vectors()["w3c-rdfc"]
    result = verify_credential(signed, did_key_method, NOW, canonicalizer)
    assert ids(result.problems) == [CheckId.ISSUER_BINDING]
    assert "https://vc.example/issuers/5678" in result.problems[0].message


def test_did_key_issuer_verifies(canonicalizer: RdfcReferenceCanonicalizer) -> None:
    signed = signed_did_key_credential(canonicalizer)
    result = verify_credential(signed, did_key_method, NOW, canonicalizer)
    assert result.verified, result.problems


def test_unresolvable_method_is_reported_and_dates_still_checked(
    canonicalizer: RdfcReferenceCanonicalizer,
) -> None:
    resolve = partial(controller_document_method, {**ob_controller(), "assertionMethod": []})
    result = verify_credential(ob_signed(), resolve, NOW, canonicalizer)
    assert ids(result.problems) == [CheckId.VERIFICATION_METHOD]
    assert CheckId.VALID_FROM in ids(result.checks)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"validFrom": "2031-01-01T00:00:00Z"}, CheckId.VALID_FROM),
        ({"validUntil": "2029-12-31T23:59:59Z"}, CheckId.VALID_UNTIL),
        ({"validUntil": "2029-12-31T23:59:59"}, CheckId.VALID_UNTIL),  # no time zone
    ],
)
def test_validity_period_is_checked_against_now(
    changes: dict[str, str], problem: CheckId, canonicalizer: RdfcReferenceCanonicalizer
) -> None:
    signed = signed_did_key_credential(canonicalizer, **changes)
    result = verify_credential(signed, did_key_method, NOW, canonicalizer)
    assert ids(result.problems) == [problem]


def test_valid_until_compares_instants_across_time_zones(
    canonicalizer: RdfcReferenceCanonicalizer,
) -> None:
    signed = signed_did_key_credential(canonicalizer, validUntil="2030-01-01T00:00:01+01:00")
    assert not verify_credential(signed, did_key_method, NOW, canonicalizer).verified
    signed = signed_did_key_credential(canonicalizer, validUntil="2030-01-01T00:00:01Z")
    assert verify_credential(signed, did_key_method, NOW, canonicalizer).verified


def test_other_proof_purpose_is_refused(canonicalizer: RdfcReferenceCanonicalizer) -> None:
    signed = signed_did_key_credential(canonicalizer, purpose="authentication")
    result = verify_credential(signed, did_key_method, NOW, canonicalizer)
    assert ids(result.problems) == [CheckId.PROOF_PURPOSE]


def test_result_as_json(canonicalizer: RdfcReferenceCanonicalizer) -> None:
    signed, _ = signed_vectors()["w3c-rdfc"]
    result = verify_credential(signed, did_key_method, NOW, canonicalizer).as_dict()
    assert result["verified"] is False
    binding = result["checks"][5]
    assert (binding["id"], binding["valid"]) == ("issuer_binding", False)
    assert "https://vc.example/issuers/5678" in binding["message"]
