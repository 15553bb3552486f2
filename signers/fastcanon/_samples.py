"""Seeded OpenBadgeCredentials, for the differential tests and the benchmarks.

By default they mirror what the project's builder (``signers.credential``) emits for a
catalog of achievements: a hashed IdentityObject, one ``Result`` (just a percentage) and one
``Evidence`` per assessment, ``validUntil`` when the achievement has a validity, two
status-list entries; achievements with and without image, tags and alignments. Each
achievement has a fixed number of assessments, as a catalog would. Equal scores give
identical results: blank nodes with equal first-degree hashes.

``varied=True`` draws every optional part anew for each credential and adds what the
builder does not emit (subject ``id``, credits as numbers, results with other fields,
evidence with ids, image as a plain IRI or with a caption, ``type`` as a string);
``hostile=True`` fills free text with what escaping gets wrong (quotes, backslashes,
control characters, combining marks, emoji, other scripts).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator
from typing import Any, Final

CONTEXT: Final = (
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
)
_NAMESPACE: Final = uuid.UUID("6f0f7d4e-8a52-4a8e-9a43-2f1c8e5d7b10")
_ISSUER: Final = {
    "id": "did:web:badges.example.edu",
    "type": ["Profile"],
    "name": "Example University",
    "url": "https://example.edu",
}
_STATUS_BASE: Final = "https://badges.example.edu/status/example-tenant"
_WORDS: Final = (
    *("data", "analysis", "python", "statistics", "course", "module", "final", "project"),
    *("capstone", "introduction", "advanced", "applied", "machine", "learning", "ethics"),
    *("research", "writing", "cloud", "security", "networks"),
)
_HOSTILE: Final = (
    'quote " and \\ backslash',
    "tab\there",
    "line\nbreak",
    "carriage\rreturn",
    "bell\x07 null\x00 del\x7f bs\x08 ff\x0c",
    "café naïve Ångström",
    "e\u0301 combining \u0327c",
    "emoji 🎓🏅👩🏽‍🎓",
    "中文 日本語 한국어 العربية עברית",
    "line\u2028separator\u2029",
    "\ufeffbom and \u200bzero width",
    "<b>not html</b> & {braces} | ^ `tick`",
    "trailing space ",
    "",
)


def sample_credentials(
    count: int,
    *,
    seed: int = 0,
    achievements: int = 8,
    varied: bool = False,
    hostile: bool = False,
) -> Iterator[dict[str, Any]]:
    """``count`` unsigned credentials awarded from a catalog of ``achievements``."""
    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    catalog = [_achievement(rng, number, varied, hostile) for number in range(achievements)]
    for number in range(count):
        achievement, assessments = rng.choice(catalog)
        if varied:
            yield _varied(rng, achievement, number, hostile)
        else:
            yield _built(rng, achievement, assessments, number, hostile)


def _text(rng: random.Random, hostile: bool, words: int = 6) -> str:
    parts = [rng.choice(_WORDS) for _ in range(rng.randint(1, words))]
    if hostile and rng.random() < 0.7:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(_HOSTILE))
    return " ".join(parts).capitalize()


def _achievement(
    rng: random.Random, number: int, varied: bool, hostile: bool
) -> tuple[dict[str, Any], int]:
    """An achievement as the builder writes it, and its number of assessments."""
    slug = f"{rng.choice(_WORDS)}-{100 + number}"
    achievement: dict[str, Any] = {
        "id": f"https://badges.example.edu/achievements/{slug}/v{rng.randint(1, 3)}",
        "type": ["Achievement"],
        "achievementType": rng.choice(["Certificate", "Badge", "Course"]),
        "name": _text(rng, hostile, 4),
        "description": _text(rng, hostile, 12),
        "criteria": {"narrative": _text(rng, hostile, 16)},
    }
    image = f"https://badges.example.edu/images/{slug}.png"
    if rng.random() < 0.6:
        achievement["image"] = {"id": image, "type": "Image"}
        if varied and rng.random() < 0.3:
            achievement["image"]["caption"] = _text(rng, hostile, 3)
    elif varied and rng.random() < 0.5:
        achievement["image"] = image
    if rng.random() < 0.5:
        achievement["tag"] = rng.sample(_WORDS, rng.randint(1, 4))
    if rng.random() < 0.4:
        achievement["alignment"] = [_alignment(rng, hostile) for _ in range(rng.randint(1, 3))]
    if varied and rng.random() < 0.3:
        achievement["creditsAvailable"] = rng.choice([3, 1.5, 2.0, 0.25])
    if varied and rng.random() < 0.3:
        achievement["humanCode"] = f"DA-{100 + number}"
    return achievement, rng.choice([0, 1, 1, 2, 3])


def _alignment(rng: random.Random, hostile: bool) -> dict[str, Any]:
    alignment: dict[str, Any] = {
        "type": ["Alignment"],
        "targetName": _text(rng, hostile, 3),
        "targetUrl": f"https://framework.example.org/items/{rng.randint(1, 999)}",
    }
    if rng.random() < 0.3:
        alignment["targetDescription"] = _text(rng, hostile, 8)
    if rng.random() < 0.5:
        alignment["targetCode"] = f"C{rng.randint(1, 99)}"
    alignment["targetType"] = "CFItem"
    return alignment


def _common(rng: random.Random, achievement: dict[str, Any], number: int) -> dict[str, Any]:
    """The credential's head: context, deterministic id, type, issuer, validFrom, name."""
    learner = f"learner-{rng.randrange(10**9)}"
    credential_id = uuid.uuid5(_NAMESPACE, f"example-tenant|{achievement['id']}|{learner}")
    return {
        "@context": list(CONTEXT),
        "id": f"urn:uuid:{credential_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": dict(_ISSUER),
        "validFrom": _timestamp(rng),
    }


def _built(
    rng: random.Random,
    achievement: dict[str, Any],
    assessments: int,
    number: int,
    hostile: bool,
) -> dict[str, Any]:
    credential = _common(rng, achievement, number)
    if "tag" in achievement:  # this catalog's tagged achievements expire
        credential["validUntil"] = _timestamp(rng, year=2030)
    credential["name"] = achievement["name"]
    salt = hashlib.sha256(f"salt:{credential['id']}".encode()).hexdigest()[:32]
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [_identity(rng, salt)],
        "achievement": achievement,
    }
    scores = [(rng.randint(6, 10), 10) for _ in range(assessments)]
    if scores:
        subject["result"] = [
            {"type": ["Result"], "value": f"{100 * score / top:.1f}"} for score, top in scores
        ]
    credential["credentialSubject"] = subject
    if scores:
        credential["evidence"] = [
            {
                "type": ["Evidence"],
                "name": f"course-{number % 7} assessment-{index}",
                "description": f"Scored {score:g} of {top:g} on {_timestamp(rng)}",
            }
            for index, (score, top) in enumerate(scores)
        ]
    credential["credentialStatus"] = _status(rng)
    return credential


def _varied(
    rng: random.Random, achievement: dict[str, Any], number: int, hostile: bool
) -> dict[str, Any]:
    credential = _common(rng, achievement, number)
    if rng.random() < 0.3:
        credential["validUntil"] = _timestamp(rng, year=2030)
    credential["name"] = achievement["name"]
    subject: dict[str, Any] = {"type": rng.choice([["AchievementSubject"], "AchievementSubject"])}
    if rng.random() < 0.25:
        subject["id"] = rng.choice(
            [f"did:example:{rng.randrange(16**12):012x}", f"https://people.example.org/{number}"]
        )
    else:
        subject["identifier"] = [_identity(rng, f"{rng.randrange(16**16):016x}")]
    subject["achievement"] = achievement
    if rng.random() < 0.5:
        subject["result"] = [_result(rng, hostile) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.3:
        subject["activityEndDate"] = _timestamp(rng)[:10]
    if rng.random() < 0.2:
        subject["creditsEarned"] = rng.choice([3, 1.5, 4.0])
    credential["credentialSubject"] = subject
    if rng.random() < 0.4:
        credential["evidence"] = [_evidence(rng, hostile) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.5:
        credential["credentialStatus"] = _status(rng)
    if rng.random() < 0.1:
        credential["awardedDate"] = credential["validFrom"]
    return credential


def _identity(rng: random.Random, salt: str) -> dict[str, Any]:
    email = f"learner{rng.randrange(10**6)}@example.org"
    return {
        "type": "IdentityObject",
        "identityHash": "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest(),
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def _result(rng: random.Random, hostile: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"type": rng.choice([["Result"], "Result"])}
    if rng.random() < 0.5:
        result["resultDescription"] = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}"
    if rng.random() < 0.8:
        result["value"] = rng.choice([str(rng.randint(0, 100)), "A-", _text(rng, hostile, 2)])
    if rng.random() < 0.3:
        result["status"] = rng.choice(["Completed", "Passed"])
    if rng.random() < 0.2:
        result["achievedLevel"] = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}"
    return result


def _evidence(rng: random.Random, hostile: bool) -> dict[str, Any]:
    evidence: dict[str, Any] = {"type": ["Evidence"]}
    if rng.random() < 0.7:
        evidence["id"] = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}"
    evidence["name"] = _text(rng, hostile, 3)
    if rng.random() < 0.7:
        evidence["description"] = _text(rng, hostile, 10)
    if rng.random() < 0.3:
        evidence["genre"] = "Assessment"
    return evidence


def _status(rng: random.Random) -> list[dict[str, Any]]:
    """Two entries at one slot, as ``signers.status.status_entries`` writes them."""
    list_id, index = rng.randint(1, 9), rng.randrange(131072)
    entries = []
    for purpose in ("revocation", "suspension"):
        url = f"{_STATUS_BASE}/{purpose}/{list_id}"
        entries.append(
            {
                "id": f"{url}#{index}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": str(index),
                "statusListCredential": url,
            }
        )
    return entries


def _timestamp(rng: random.Random, year: int = 2026) -> str:
    millis = rng.choice(["", f".{rng.randrange(1, 1000):03d}"])
    return (
        f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}{millis}Z"
    )
