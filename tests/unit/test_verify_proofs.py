"""verify_proof accepts every signed vector and nothing changed, re-keyed or unknown."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signers.proofs import (
    CheckId,
    RdfcReferenceCanonicalizer,
    UnknownContextError,
    add_proof,
    ed25519_public_key,
    ed25519_signer,
    verify_proof,
)
from tests.unit._proofs_vectors import OB, load, ob_expected, signed_vectors

VECTORS = signed_vectors()
NAMES = sorted(VECTORS)
Path = tuple[str | int, ...]


@pytest.fixture(scope="module")
def canonicalizer() -> RdfcReferenceCanonicalizer:
    return RdfcReferenceCanonicalizer()


def leaves(value: Any, path: Path = ()) -> Iterator[Path]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield from leaves(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path


def replaced(document: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    parent: Any = changed
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return changed


@pytest.mark.parametrize("name", NAMES)
def test_signed_vector_verifies(name: str, canonicalizer: RdfcReferenceCanonicalizer) -> None:
    signed, public = VECTORS[name]
    result = verify_proof(signed, public, canonicalizer)
    assert result.verified, result.problems
    assert [check.id for check in result.checks][-1] is CheckId.SIGNATURE


@pytest.mark.parametrize("name", NAMES)
def test_wrong_key_fails(name: str, canonicalizer: RdfcReferenceCanonicalizer) -> None:
    signed, _ = VECTORS[name]
    result = verify_proof(signed, ed25519_public_key(b"\x07" * 32), canonicalizer)
    assert not result.verified
    assert [problem.id for problem in result.problems] == [CheckId.SIGNATURE]


CASES = [(name, path) for name in NAMES for path in leaves(VECTORS[name][0])]
new_values = st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.none())


@settings(max_examples=300, deadline=None)
@given(case=st.sampled_from(CASES), value=new_values)
def test_changing_any_leaf_fails(
    canonicalizer: RdfcReferenceCanonicalizer, case: tuple[str, Path], value: Any
) -> None:
    name, path = case
    signed, public = VECTORS[name]
    original = load_leaf(signed, path)
    if type(value) is type(original) and value == original:
        return
    result = verify_proof(replaced(signed, path, value), public, canonicalizer)
    assert not result.verified, (path, value)


def load_leaf(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


@pytest.mark.parametrize(
    ("name", "path"),
    [(name, path[:-1] or path) for name, path in CASES if path and isinstance(path[-1], str)],
)
def test_removing_any_member_fails(
    name: str, path: Path, canonicalizer: RdfcReferenceCanonicalizer
) -> None:
    signed, public = VECTORS[name]
    changed = copy.deepcopy(signed)
    parent: Any = changed
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    assert not verify_proof(changed, public, canonicalizer).verified


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("where", [(), ("credentialSubject",)])
def test_adding_a_member_fails(
    name: str, where: Path, canonicalizer: RdfcReferenceCanonicalizer
) -> None:
    signed, public = VECTORS[name]
    changed = copy.deepcopy(signed)
    load_leaf(changed, where)["extra"] = "added after signing"
    assert not verify_proof(changed, public, canonicalizer).verified


def test_unknown_context_is_a_canonicalization_problem_naming_the_url(
    canonicalizer: RdfcReferenceCanonicalizer,
) -> None:
    signed, public = VECTORS["ob-rdfc"]
    changed = copy.deepcopy(signed)
    changed["@context"].append("https://example.org/unknown/v1")
    result = verify_proof(changed, public, canonicalizer)
    assert [(p.id, "https://example.org/unknown/v1" in p.message) for p in result.problems] == [
        (CheckId.CANONICALIZATION, True)
    ]


def test_signing_with_an_unknown_context_is_a_typed_error(
    canonicalizer: RdfcReferenceCanonicalizer,
) -> None:
    document = load(OB / "unsigned.json")
    document["@context"].append("https://example.org/unknown/v1")
    seed = bytes.fromhex(ob_expected()["privateKeySeedHex"])
    with pytest.raises(UnknownContextError, match=r"example\.org/unknown"):
        add_proof(document, ob_expected()["proofOptions"], ed25519_signer(seed), canonicalizer)


def test_jcs_proof_context_must_prefix_the_document_context(
    canonicalizer: RdfcReferenceCanonicalizer,
) -> None:
    signed, public = VECTORS["w3c-jcs"]
    changed = copy.deepcopy(signed)
    changed["@context"].reverse()
    result = verify_proof(changed, public, canonicalizer)
    assert [problem.id for problem in result.problems] == [CheckId.PROOF_CONTEXT]


@pytest.mark.parametrize(
    ("secured", "message"),
    [
        ([], "not a JSON object"),
        ({"id": "x"}, "no proof"),
        ({"proof": [{}]}, "proof sets"),
        ({"proof": {"type": "DataIntegrityProof"}}, "no proofValue"),
    ],
)
def test_malformed_input_is_a_proof_format_problem(
    secured: Any, message: str, canonicalizer: RdfcReferenceCanonicalizer
) -> None:
    result = verify_proof(secured, bytes(32), canonicalizer)
    assert [(p.id, message in p.message) for p in result.problems] == [(CheckId.PROOF_FORMAT, True)]


@pytest.mark.parametrize(
    "context",
    [
        {"@language": None, "type": {"type": None}},  # pyld 2 raises KeyError on this one
        [{"@version": 2.0}],
    ],
)
def test_malformed_json_ld_is_a_canonicalization_problem_not_a_crash(
    context: Any, canonicalizer: RdfcReferenceCanonicalizer
) -> None:
    signed, public = VECTORS["ob-rdfc"]
    result = verify_proof({**signed, "@context": context}, public, canonicalizer)
    assert [problem.id for problem in result.problems] == [CheckId.CANONICALIZATION]


def test_deeply_nested_input_is_refused_not_a_crash(
    canonicalizer: RdfcReferenceCanonicalizer,
) -> None:
    signed, public = VECTORS["w3c-jcs"]
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    result = verify_proof({**signed, "credentialSubject": deep}, public, canonicalizer)
    assert [problem.id for problem in result.problems] == [CheckId.CANONICALIZATION]
