"""The reference RDFC canonicalizer refuses to silently drop data (VC DI safe mode)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from signers.proofs import DataLossError, RdfcReferenceCanonicalizer, add_proof, ed25519_signer
from tests.unit._proofs_vectors import OB, W3C, load, ob_expected, text


@pytest.fixture(scope="module")
def canonicalizer() -> RdfcReferenceCanonicalizer:
    return RdfcReferenceCanonicalizer()


def ob_unsigned() -> dict[str, Any]:
    document: dict[str, Any] = load(OB / "unsigned.json")
    return document


def test_undefined_term_is_data_loss_naming_the_term(
    canonicalizer: RdfcReferenceCanonicalizer,
) -> None:
    document = ob_unsigned()
    document["credentialSubject"]["achievement"]["favouriteColour"] = "green"
    with pytest.raises(DataLossError, match="favouriteColour"):
        canonicalizer.canonize(document)


def test_signing_refuses_a_credential_that_would_lose_data(
    canonicalizer: RdfcReferenceCanonicalizer,
) -> None:
    document = ob_unsigned()
    document["nmae"] = "typo"
    seed = bytes.fromhex(ob_expected()["privateKeySeedHex"])
    with pytest.raises(DataLossError, match="nmae"):
        add_proof(document, ob_expected()["proofOptions"], ed25519_signer(seed), canonicalizer)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("type",), ["VerifiableCredential", "OpenBadgeCredential", "NoSuchType"]),
        (("credentialSubject", "achievement", "id"), "achievements/teamwork"),
        (("issuer", "id"), "not an absolute iri"),
    ],
)
def test_relative_iri_is_data_loss(
    path: tuple[str, ...], value: Any, canonicalizer: RdfcReferenceCanonicalizer
) -> None:
    document = ob_unsigned()
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    with pytest.raises(DataLossError):
        canonicalizer.canonize(document)


def test_terms_defined_by_a_vocab_are_kept(canonicalizer: RdfcReferenceCanonicalizer) -> None:
    # The examples context maps any term with @vocab, so nothing is dropped.
    document = load(W3C / "unsigned.json")
    document["credentialSubject"]["favouriteColour"] = "green"
    assert "examples#favouriteColour" in canonicalizer.canonize(document)


def test_canonize_leaves_its_input_untouched(canonicalizer: RdfcReferenceCanonicalizer) -> None:
    document = ob_unsigned()
    before = copy.deepcopy(document)
    assert canonicalizer.canonize(document) == text(OB / "document-canon.nq")
    assert document == before


def test_member_order_does_not_matter(canonicalizer: RdfcReferenceCanonicalizer) -> None:
    document = ob_unsigned()
    reordered = dict(reversed(list(document.items())))
    assert canonicalizer.canonize(reordered) == canonicalizer.canonize(document)
