"""The packaged contexts are the published bytes, and nothing else is ever loaded."""

from __future__ import annotations

import hashlib
import json

import pytest

from signers.proofs import (
    CONTEXT_FILES,
    OfflineDocumentLoader,
    RdfcReferenceCanonicalizer,
    UnknownContextError,
    packaged_context_bytes,
)
from tests.unit._proofs_vectors import OB, load

# SHA-256 of the files in ../shared/standards/contexts, so an edit to a copy is caught.
PUBLISHED_SHA256 = {
    "https://www.w3.org/ns/credentials/v2": (
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    ),
    "https://www.w3.org/ns/credentials/examples/v2": (
        "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c"
    ),
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": (
        "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761"
    ),
}
UNKNOWN = "https://example.org/not-packaged/v1"


@pytest.mark.parametrize("url", sorted(CONTEXT_FILES))
def test_packaged_context_is_the_published_file(url: str) -> None:
    assert hashlib.sha256(packaged_context_bytes(url)).hexdigest() == PUBLISHED_SHA256[url]


@pytest.mark.parametrize("url", sorted(CONTEXT_FILES))
def test_loader_serves_the_packaged_document(url: str) -> None:
    remote = OfflineDocumentLoader()(url, {})
    assert remote["documentUrl"] == url
    assert remote["document"] == json.loads(packaged_context_bytes(url))


def test_loader_hands_out_copies_of_its_cached_document() -> None:
    loader = OfflineDocumentLoader()
    url = "https://www.w3.org/ns/credentials/v2"
    loader(url)["document"]["@context"]["id"] = "tampered"
    assert loader(url)["document"]["@context"]["id"] == "@id"


def test_unknown_url_is_a_typed_error_naming_it() -> None:
    with pytest.raises(UnknownContextError, match="not-packaged") as caught:
        OfflineDocumentLoader()(UNKNOWN, {})
    assert caught.value.url == UNKNOWN


def test_canonicalizing_a_document_with_an_unknown_context_names_the_url() -> None:
    document = load(OB / "unsigned.json")
    document["@context"].append(UNKNOWN)
    with pytest.raises(UnknownContextError) as caught:
        RdfcReferenceCanonicalizer().canonize(document)
    assert caught.value.url == UNKNOWN


def test_unknown_context_fails_even_after_known_ones_were_resolved() -> None:
    canonicalizer = RdfcReferenceCanonicalizer()
    document = load(OB / "unsigned.json")
    canonicalizer.canonize(document)
    document["credentialSubject"]["@context"] = UNKNOWN  # a scoped, nested reference
    with pytest.raises(UnknownContextError):
        canonicalizer.canonize(document)
