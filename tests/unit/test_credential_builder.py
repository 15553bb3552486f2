"""The Open Badges 3.0 credential builder: deterministic, hashed identities, valid shape."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from processors.catalog import Achievement, Issuer
from schemas.models import CredentialRequested, Evidence, Learner
from signers.credential import (
    BuildOptions,
    InvalidCredentialError,
    build_credential,
    credential_problems,
    identity_hash,
)
from signers.status import allocate_slot

ISSUER = Issuer(
    id="did:web:badges.example.edu", name="Example University", url="https://example.edu"
)
ACHIEVEMENT = Achievement.model_validate(
    {
        "key": "da-101",
        "id": "https://badges.example.edu/achievements/da-101",
        "version": 1,
        "name": "Data Analytics Fundamentals",
        "description": "Analyse données — naïvely ✓",
        "image": "https://badges.example.edu/images/da-101.png",
        "achievement_type": "Certificate",
        "criteria": {
            "narrative": "Pass m1.",
            "rule": {"assessment": "da-101/m1", "min_percent": 80},
        },
        "valid_for_days": 730,
    }
)
OPTIONS = BuildOptions(public_base_url="https://cdn.example.edu")
AWARDED = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


def _request(email: str | None = "Ada@Example.org") -> CredentialRequested:
    return CredentialRequested(
        credential_id="8a1b5c1e-8d2a-5d7e-9a55-0c7c2e3e3b11",
        tenant_id="example-u",
        achievement_key="da-101",
        achievement_version=1,
        learner=Learner(id="learner-7", email=email),
        awarded_at=AWARDED,
        evidence=(
            Evidence(
                event_id="e-1",
                course_id="da-101",
                assessment_id="m1",
                score=46,
                max_score=50,
                occurred_at=AWARDED,
            ),
        ),
        source_event_id="e-1",
    )


def test_build_is_deterministic_and_shaped_like_open_badges() -> None:
    slot = allocate_slot("p1", 10)
    first = build_credential(_request(), ACHIEVEMENT, ISSUER, OPTIONS, slot)
    again = build_credential(_request(), ACHIEVEMENT, ISSUER, OPTIONS, slot)
    assert json.dumps(first) == json.dumps(again)
    assert first["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert first["id"] == "urn:uuid:8a1b5c1e-8d2a-5d7e-9a55-0c7c2e3e3b11"
    assert first["validFrom"] == "2026-03-01T12:00:00.123Z"
    assert first["validUntil"] == "2028-02-29T12:00:00.123Z"
    assert first["issuer"]["id"] == "did:web:badges.example.edu"
    achievement = first["credentialSubject"]["achievement"]
    assert achievement["criteria"] == {"narrative": "Pass m1."}
    assert achievement["image"] == {"id": ACHIEVEMENT.image, "type": "Image"}
    assert first["credentialSubject"]["result"] == [{"type": ["Result"], "value": "92.0"}]
    assert [s["statusPurpose"] for s in first["credentialStatus"]] == ["revocation", "suspension"]
    assert credential_problems(first) == []


def test_email_is_hashed_never_plain() -> None:
    credential = build_credential(_request(), ACHIEVEMENT, ISSUER, OPTIONS, allocate_slot("p0", 0))
    text = json.dumps(credential)
    assert "ada@example.org" not in text.lower()
    [identifier] = credential["credentialSubject"]["identifier"]
    assert identifier["identityType"] == "emailAddress"
    assert identifier["hashed"] is True
    assert identifier["identityHash"] == identity_hash("ada@example.org", identifier["salt"])
    other = build_credential(_request(None), ACHIEVEMENT, ISSUER, OPTIONS, allocate_slot("p0", 0))
    assert other["credentialSubject"]["identifier"][0]["identityType"] == "systemId"
    assert "learner-7" not in json.dumps(other)


def test_invalid_credential_is_refused_with_the_reason() -> None:
    broken = ACHIEVEMENT.model_copy(update={"id": "not an iri"})
    with pytest.raises(InvalidCredentialError, match=r"credentialSubject\.achievement\.id"):
        build_credential(_request(), broken, ISSUER, OPTIONS, allocate_slot("p0", 0))
    with pytest.raises(InvalidCredentialError, match="no status slot"):
        build_credential(_request(), ACHIEVEMENT, ISSUER, OPTIONS, None)


def test_problems_name_the_field() -> None:
    credential = build_credential(_request(), ACHIEVEMENT, ISSUER, OPTIONS, allocate_slot("p0", 0))
    credential["validUntil"] = "2020-01-01T00:00:00Z"
    credential["credentialSubject"]["identifier"][0]["identityHash"] = "ada@example.org"
    problems = credential_problems(credential)
    assert "validUntil: must be after validFrom" in problems
    assert any("identityHash: must be sha256$" in p for p in problems)


def test_control_characters_that_canonicalize_differently_are_refused() -> None:
    noisy = ACHIEVEMENT.model_copy(update={"description": "bell\x07 and form feed\x0c"})
    with pytest.raises(
        InvalidCredentialError, match=r"achievement\.description: contains a control"
    ):
        build_credential(_request(), noisy, ISSUER, OPTIONS, allocate_slot("p0", 0))
    fine = ACHIEVEMENT.model_copy(update={"description": "tabs\tand\nnew lines are portable"})
    assert build_credential(_request(), fine, ISSUER, OPTIONS, allocate_slot("p0", 0))


def _string_paths(value: Any, path: str = "") -> Iterator[tuple[str, list[Any], Any]]:
    """(path, container, key) of every string in a JSON document."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        here = f"{path}.{key}".lstrip(".") if isinstance(value, dict) else f"{path}[{key}]"
        if isinstance(item, str):
            yield here, value, key
        elif isinstance(item, dict | list):
            yield from _string_paths(item, here)


@settings(max_examples=200, deadline=None)
@given(
    picks=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=3),
    control=st.sampled_from([*map(chr, [*range(0, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])]),
)
def test_every_string_with_a_control_character_is_named_by_its_path(
    picks: list[int], control: str
) -> None:
    credential = build_credential(_request(), ACHIEVEMENT, ISSUER, OPTIONS, allocate_slot("p", 3))
    assert credential_problems(credential) == []
    strings = list(_string_paths(credential))
    chosen = {strings[pick % len(strings)][0]: strings[pick % len(strings)] for pick in picks}
    for _, container, key in chosen.values():
        container[key] = container[key] + control
    named = [p.split(": ")[0] for p in credential_problems(credential) if "control" in p]
    assert sorted(named) == sorted(chosen)


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",))))
@example(text="C:\\bin\\fonts")  # backslashes: JSON writes "\\b", "\\f"
@example(text="\\u0001 and \\u007f, written out")
@example(text="\u2028\u0085\u00a0")  # not in the refused class
def test_a_string_is_refused_exactly_when_it_holds_an_unportable_control_character(
    text: str,
) -> None:
    # The search over the document as JSON must miss nothing the search over each string
    # finds, and raise no refusal of its own.
    credential = build_credential(_request(), ACHIEVEMENT, ISSUER, OPTIONS, allocate_slot("p", 3))
    credential["credentialSubject"]["achievement"]["description"] = f"x{text}"
    refused = [p for p in credential_problems(credential) if "control" in p]
    unportable = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text) is not None
    expected = ["credentialSubject.achievement.description"] if unportable else []
    assert [p.split(": ")[0] for p in refused] == expected
