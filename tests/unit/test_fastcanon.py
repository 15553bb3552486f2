"""signers.fastcanon: byte-identical to the pyld reference, on thousands of credentials.

The reference (``RdfcReferenceCanonicalizer``) is slow (~4 ms a document), so one module-wide
pair of canonicalizers serves all tests and the randomized corpus is a few thousand
documents: builder-like ones, varied ones and hostile text.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signers.fastcanon import FastRdfcCanonicalizer, sample_credentials
from signers.proofs import RdfcReferenceCanonicalizer
from tests.unit._proofs_vectors import OB, W3C, load, text, w3c_file

REFERENCE = RdfcReferenceCanonicalizer()


@pytest.fixture(scope="module")
def fast() -> FastRdfcCanonicalizer:
    return FastRdfcCanonicalizer(REFERENCE)


def outcome(canonicalizer: Any, document: Any) -> tuple[str, str]:
    """("ok", N-Quads) or ("error", type and message): both paths must agree on either."""
    try:
        return "ok", canonicalizer.canonize(document)
    except Exception as error:  # the comparison is the point: any error type must match
        return "error", f"{type(error).__name__}: {error}"


def assert_same(fast: FastRdfcCanonicalizer, documents: list[dict[str, Any]]) -> None:
    for number, document in enumerate(documents):
        expected = outcome(REFERENCE, document)
        assert outcome(fast, document) == expected, f"document {number} differs: {document}"


def test_open_badges_vector(fast: FastRdfcCanonicalizer) -> None:
    document = load(OB / "unsigned.json")
    proof = {"@context": document["@context"], **load(OB / "expected.json")["proofOptions"]}
    before = fast.stats()
    assert fast.canonize(document) == text(OB / "document-canon.nq")
    assert fast.canonize(proof) == text(OB / "proof-canon.nq")
    assert fast.stats().fast == before.fast + 2


def test_w3c_vector(fast: FastRdfcCanonicalizer) -> None:
    document = load(W3C / "unsigned.json")
    config = load(w3c_file("eddsa-rdfc-2022", "proofConfig", "json"))
    before = fast.stats()
    assert fast.canonize(document) == text(w3c_file("eddsa-rdfc-2022", "canonDoc"))
    assert fast.canonize(config) == text(w3c_file("eddsa-rdfc-2022", "proofCanon"))
    assert fast.stats().fast == before.fast + 2


def test_builder_like_credentials_are_identical_and_fast(fast: FastRdfcCanonicalizer) -> None:
    documents = list(sample_credentials(500, seed=11, achievements=12))
    before = fast.stats()
    assert_same(fast, documents)
    after = fast.stats()
    assert after.fallbacks == before.fallbacks
    assert after.fast - before.fast == len(documents)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_varied_hostile_credentials_are_identical(fast: FastRdfcCanonicalizer, seed: int) -> None:
    documents = list(sample_credentials(500, seed=seed, achievements=10, varied=True, hostile=True))
    before = fast.stats()
    assert_same(fast, documents)
    # Nearly all on the fast path: fallbacks are for values JSON-LD merges (equal tags).
    assert fast.stats().fast - before.fast >= 0.95 * len(documents)


def test_proof_options_are_identical(fast: FastRdfcCanonicalizer) -> None:
    configs = [
        {
            "@context": list(context),
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": f"2026-0{month}-0{day}T1{hour}:00:00{'.5' * (day % 2)}Z",
            "verificationMethod": f"did:web:badges.example.edu#key-{month}{day}",
            "proofPurpose": "assertionMethod",
        }
        for context in (
            ("https://www.w3.org/ns/credentials/v2",),
            ("https://www.w3.org/ns/credentials/v2", OB_CONTEXT),
        )
        for month in range(1, 4)
        for day in range(1, 6)
        for hour in range(3)
    ]
    before = fast.stats()
    assert_same(fast, configs)
    assert fast.stats().fast - before.fast == len(configs)


OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def _vector() -> dict[str, Any]:
    document: dict[str, Any] = load(OB / "unsigned.json")
    return document


def _with(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    document = _vector()
    change(document)
    return document


def _achievement(document: dict[str, Any]) -> dict[str, Any]:
    achievement: dict[str, Any] = document["credentialSubject"]["achievement"]
    return achievement


EDGE_CASES: dict[str, dict[str, Any]] = {
    "undefined key": _with(lambda d: d.update(foo="bar")),
    "undefined key, null": _with(lambda d: d.update(foo=None)),
    "undefined key, empty list": _with(lambda d: d.update(foo=[])),
    "undefined nested key": _with(lambda d: _achievement(d).update(bar=1)),
    "relative id": _with(lambda d: d.update(id="credentials/1")),
    "blank node id": _with(lambda d: d["issuer"].update(id="_:b1")),
    "relative anyURI literal": _with(lambda d: d["issuer"].update(url="relative/x")),
    "type as a string": _with(lambda d: d["issuer"].update(type="Profile")),
    "undefined type": _with(lambda d: d["issuer"].update(type=["Profile", "Foo"])),
    "language value object": _with(
        lambda d: d.update(name={"@value": "Équipe", "@language": "fr"})
    ),
    "typed value object": _with(lambda d: d.update(name={"@value": "x", "@type": "urn:ex:t"})),
    "list of names": _with(lambda d: d.update(name=["a", "b"])),
    "equal names": _with(lambda d: d.update(name=["a", "a"])),
    "null name": _with(lambda d: d.update(name=None)),
    "nested context": _with(lambda d: d["issuer"].update({"@context": {"x": "urn:x"}})),
    "keyword key": _with(lambda d: d["issuer"].update({"@type": "Profile"})),
    "float credits": _with(lambda d: _achievement(d).update(creditsAvailable=2.0)),
    "fraction credits": _with(lambda d: _achievement(d).update(creditsAvailable=-0.125)),
    "integer credits": _with(lambda d: _achievement(d).update(creditsAvailable=3)),
    "huge credits": _with(lambda d: _achievement(d).update(creditsAvailable=1e21)),
    "integer and float": _with(lambda d: _achievement(d).update(tag=[1, 1.0])),
    "boolean and integer": _with(lambda d: _achievement(d).update(tag=[True, 1])),
    "hashed as integer": _with(
        lambda d: d["credentialSubject"].update(
            identifier=[{"type": "IdentityObject", "hashed": 1, "identityHash": "x", "salt": "s"}]
        )
    ),
    "proof present": _with(lambda d: d.update(proof={"type": "DataIntegrityProof"})),
    "image IRI": _with(lambda d: _achievement(d).update(image="https://x.example/i.png")),
    "image relative": _with(lambda d: _achievement(d).update(image="i.png")),
    "image with space": _with(lambda d: _achievement(d).update(image="https://x.example/a b")),
    "image with braces": _with(lambda d: _achievement(d).update(image="https://x.example/{a}")),
    "image scheme is a term": _with(lambda d: _achievement(d).update(image="name:foo")),
    "image unicode IRI": _with(lambda d: _achievement(d).update(image="https://x.example/é")),
    "one object twice": _with(lambda d: d["credentialSubject"].update(id=d["issuer"]["id"])),
    "id reused as a value": _with(lambda d: d["issuer"].update(url=d["id"])),
    "list container": _with(
        lambda d: _achievement(d).update(
            resultDescription=[{"type": ["ResultDescription"], "allowedValue": ["a", "b"]}]
        )
    ),
    "empty list container": _with(
        lambda d: _achievement(d).update(
            resultDescription=[{"type": ["ResultDescription"], "allowedValue": []}]
        )
    ),
    "empty object": _with(lambda d: _achievement(d).update(criteria={})),
    "control characters": _with(
        lambda d: d.update(name='a\x00b\x08c\x0cd\x7f\u2028"\\\t\n\r\x1f\u0085')
    ),
    "escape-looking text": _with(lambda d: d.update(name='\\n \\t \\" \\u0041 \\\\')),
    "unknown context": _with(lambda d: d["@context"].append("https://example.org/ctx")),
    "inline context": _with(lambda d: d["@context"].append({"ex": "urn:ex:"})),
    "tab in id": _with(lambda d: d.update(id="urn:a\tb")),
    "keyword-like string": _with(lambda d: d.update(name="@id")),
    "term as a string": _with(lambda d: d.update(name="Achievement")),
    "nested list": _with(lambda d: d.update(name=[["a"]])),
    "id as a list": _with(lambda d: d["issuer"].update(id=["https://a.example"])),
    "id as a number": _with(lambda d: d["issuer"].update(id=5)),
    "type as a number": _with(lambda d: d["issuer"].update(type=5)),
    "type holding an object": _with(lambda d: d["issuer"].update(type=[{"a": "b"}])),
    "type with a control character": _with(lambda d: d["issuer"].update(type=["Pro\x01file"])),
    "identical evidence": _with(
        lambda d: d.update(evidence=[{"type": ["Evidence"], "name": "x"}] * 3)
    ),
    "identical nested blank nodes": _with(
        lambda d: d.update(
            evidence=[{"type": ["Evidence"], "name": "x", "image": {"type": "Image"}}] * 2
        )
    ),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_cases_match_the_reference(fast: FastRdfcCanonicalizer, name: str) -> None:
    document = copy.deepcopy(EDGE_CASES[name])
    assert outcome(fast, document) == outcome(REFERENCE, document)
    assert document == EDGE_CASES[name]  # the input is not modified


def test_interchangeable_blank_nodes_stay_on_the_fast_path() -> None:
    fast = FastRdfcCanonicalizer(REFERENCE)
    document = EDGE_CASES["identical evidence"]
    assert fast.canonize(document) == REFERENCE.canonize(document)
    stats = fast.stats()
    assert (stats.fast, stats.full_rdfc, stats.fallbacks) == (1, 0, 0)


def test_tied_blank_nodes_with_tied_neighbours_use_pyld_labelling() -> None:
    fast = FastRdfcCanonicalizer(REFERENCE)
    document = EDGE_CASES["identical nested blank nodes"]
    assert fast.canonize(document) == REFERENCE.canonize(document)
    stats = fast.stats()
    assert (stats.fast, stats.full_rdfc, stats.fallbacks) == (1, 1, 0)


def test_fallbacks_are_counted_by_reason() -> None:
    fast = FastRdfcCanonicalizer(REFERENCE)
    fast.canonize(EDGE_CASES["nested context"])  # not modelled by the walk
    fast.canonize(EDGE_CASES["list container"])  # a part the templates reject
    fast.canonize(EDGE_CASES["equal names"])  # values JSON-LD merges
    fast.canonize(EDGE_CASES["image with braces"])  # a value unfit for its IRI hole
    with pytest.raises(Exception, match="not defined"):
        fast.canonize(EDGE_CASES["undefined key"])  # the reference's error, unchanged
    stats = fast.stats()
    assert stats.fallback_reasons == {"unmodelled": 1, "template": 2, "values": 2}
    assert stats.fallbacks == 5 and stats.fast == 0


def test_caches_are_bounded_and_stay_correct() -> None:
    fast = FastRdfcCanonicalizer(REFERENCE, max_templates=3, max_units=40)
    documents = list(sample_credentials(40, seed=5, varied=True))
    assert_same(fast, documents)
    stats = fast.stats()
    assert stats.templates <= 3 and stats.units <= 40
    assert stats.fast == len(documents)


def test_cache_sizes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        FastRdfcCanonicalizer(REFERENCE, max_templates=0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(max_size=40),
    narrative=st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    score=st.one_of(st.integers(-(10**20), 10**20), st.floats(allow_nan=False)),
)
def test_any_text_and_number_is_identical(name: str, narrative: str, score: float) -> None:
    document = _vector()
    document["name"] = name
    _achievement(document)["criteria"]["narrative"] = narrative
    _achievement(document)["creditsAvailable"] = score
    assert outcome(HYPOTHESIS_FAST, document) == outcome(REFERENCE, document)


HYPOTHESIS_FAST = FastRdfcCanonicalizer(REFERENCE)
