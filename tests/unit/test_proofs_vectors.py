"""Both test-vector sets are reproduced byte for byte, step by step."""

from __future__ import annotations

import json

import pytest

from signers.multikey import b58encode, multibase_encode
from signers.proofs import (
    RdfcReferenceCanonicalizer,
    add_proof,
    canonicalizer_for,
    ed25519_public_key,
    ed25519_signer,
    hash_data,
    proof_configuration,
)
from tests.unit._proofs_vectors import (
    OB,
    W3C,
    W3C_SUITES,
    load,
    ob_expected,
    text,
    w3c_file,
    w3c_options,
    w3c_seed,
)

SUITES = sorted(W3C_SUITES)


@pytest.fixture(scope="module")
def canonicalizer() -> RdfcReferenceCanonicalizer:
    return RdfcReferenceCanonicalizer()


def test_w3c_key_pair_is_the_published_public_key() -> None:
    public = ed25519_public_key(w3c_seed())
    assert (
        multibase_encode(b"\xed\x01" + public) == load(W3C / "keyPair.json")["publicKeyMultibase"]
    )


@pytest.mark.parametrize("suite", SUITES)
def test_w3c_proof_configuration(suite: str) -> None:
    config = proof_configuration(load(W3C / "unsigned.json"), w3c_options(suite))
    assert config == load(w3c_file(suite, "proofConfig", "json"))


@pytest.mark.parametrize("suite", SUITES)
def test_w3c_canonical_forms_and_hashes(
    suite: str, canonicalizer: RdfcReferenceCanonicalizer
) -> None:
    document = load(W3C / "unsigned.json")
    config = proof_configuration(document, w3c_options(suite))
    data = hash_data(document, config, canonicalizer_for(suite, canonicalizer))
    assert data.canonical_document == text(w3c_file(suite, "canonDoc"))
    assert data.canonical_proof == text(w3c_file(suite, "proofCanon"))
    assert data.document_hash.hex() == text(w3c_file(suite, "docHash"))
    assert data.proof_hash.hex() == text(w3c_file(suite, "proofHash"))
    assert data.combined.hex() == text(w3c_file(suite, "combinedHash"))


@pytest.mark.parametrize("suite", SUITES)
def test_w3c_signature(suite: str) -> None:
    combined = bytes.fromhex(text(w3c_file(suite, "combinedHash")))
    signature = ed25519_signer(w3c_seed())(combined)
    assert signature.hex() == text(w3c_file(suite, "sigHex"))
    assert multibase_encode(signature) == text(w3c_file(suite, "sigBTC58"))
    assert "z" + b58encode(signature) == text(w3c_file(suite, "sigBTC58"))


@pytest.mark.parametrize("suite", SUITES)
def test_w3c_signed_credential_byte_for_byte(
    suite: str, canonicalizer: RdfcReferenceCanonicalizer
) -> None:
    unsigned = load(W3C / "unsigned.json")
    signed = add_proof(unsigned, w3c_options(suite), ed25519_signer(w3c_seed()), canonicalizer)
    # Same members in the same order, so the published pretty-printed file is reproduced.
    assert json.dumps(signed, indent=2) == text(w3c_file(suite, "signed", "json"))
    assert unsigned == load(W3C / "unsigned.json")  # the input is not modified


def test_ob_canonical_n_quads_and_hashes(canonicalizer: RdfcReferenceCanonicalizer) -> None:
    document = load(OB / "unsigned.json")
    expected = ob_expected()
    config = proof_configuration(document, expected["proofOptions"])
    data = hash_data(document, config, canonicalizer)
    assert data.canonical_document == text(OB / "document-canon.nq")
    assert data.canonical_proof == text(OB / "proof-canon.nq")
    assert data.document_hash.hex() == expected["documentHashHex"]
    assert data.proof_hash.hex() == expected["proofHashHex"]


def test_ob_key_signature_and_proof_value(canonicalizer: RdfcReferenceCanonicalizer) -> None:
    expected = ob_expected()
    seed = bytes.fromhex(expected["privateKeySeedHex"])
    public = ed25519_public_key(seed)
    assert public.hex() == expected["publicKeyHex"]
    assert multibase_encode(b"\xed\x01" + public) == expected["publicKeyMultibase"]

    signed = add_proof(
        load(OB / "unsigned.json"), expected["proofOptions"], ed25519_signer(seed), canonicalizer
    )
    proof = signed.pop("proof")
    assert signed == load(OB / "unsigned.json")
    assert proof == {**expected["proofOptions"], "proofValue": expected["proofValue"]}
    signature = ed25519_signer(seed)(
        bytes.fromhex(expected["proofHashHex"] + expected["documentHashHex"])
    )
    assert signature.hex() == expected["signatureHex"]
    assert multibase_encode(signature) == expected["proofValue"]
