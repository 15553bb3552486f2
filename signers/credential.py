"""The Open Badges 3.0 credential builder: a pure function of the award and the catalog.

Nothing here reads a clock or a random source: ``validFrom`` is the award time and the
identity salt derives from the credential id, so a retry builds byte-identical JSON (and
Ed25519 then signs it to byte-identical proofs).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from credstream.errors import SigningError
from processors.catalog import Achievement, Issuer
from schemas.models import CredentialRequested
from signers.status import StatusSlot, status_entries

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_V3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CONTEXTS = (VC_V2_CONTEXT, OB_V3_CONTEXT)
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
# pyld writes these raw in canonical N-Quads while RDFC-1.0 escapes them: a proof over
# such text would not verify in other verifiers, so such a credential is refused.
_UNPORTABLE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


class InvalidCredentialError(SigningError):
    """The built credential breaks an Open Badges 3.0 rule; it is never signed."""


@dataclass(frozen=True)
class BuildOptions:
    """Per-deployment choices of how credentials look."""

    public_base_url: str  # where the bucket is served, for status list URLs
    status_lists: bool = True


def xsd_datetime(moment: datetime) -> str:
    """UTC, 'Z', milliseconds only when there are any (the wire has millisecond precision)."""
    # isoformat, not strftime: ~40% less time (1.9 against 3.2 us), several per credential.
    utc = moment.astimezone(UTC)
    spec = "milliseconds" if utc.microsecond >= 1000 else "seconds"
    return utc.isoformat(timespec=spec).removesuffix("+00:00") + "Z"


def identity_hash(identity: str, salt: str) -> str:
    """Open Badges IdentityHash: ``sha256$`` + hex SHA-256 of identity + salt."""
    return "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest()


def _identifier(request: CredentialRequested) -> dict[str, Any]:
    # The salt is public (it travels in the credential) and unique per credential, which
    # is what defeats precomputed tables; deriving it keeps retries byte-identical.
    salt = hashlib.sha256(f"salt:{request.credential_id}".encode()).hexdigest()[:32]
    if request.learner.email:
        identity, kind = request.learner.email.strip().lower(), "emailAddress"
    else:
        identity, kind = f"{request.tenant_id}:{request.learner.id}", "systemId"
    return {
        "type": "IdentityObject",
        "identityHash": identity_hash(identity, salt),
        "identityType": kind,
        "hashed": True,
        "salt": salt,
    }


def _image(url: str) -> dict[str, str]:
    return {"id": url, "type": "Image"}


def _issuer(issuer: Issuer) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": issuer.id,
        "type": ["Profile"],
        "name": issuer.name,
        "url": issuer.url,
    }
    if issuer.email:
        profile["email"] = issuer.email
    if issuer.description:
        profile["description"] = issuer.description
    if issuer.image:
        profile["image"] = _image(issuer.image)
    return profile


def _achievement(achievement: Achievement) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": achievement.id,
        "type": ["Achievement"],
        "achievementType": achievement.achievement_type,
        "name": achievement.name,
        "description": achievement.description,
        "criteria": {"narrative": achievement.criteria.narrative},
    }
    if achievement.image:
        body["image"] = _image(achievement.image)
    if achievement.tags:
        body["tag"] = list(achievement.tags)
    if achievement.alignments:
        body["alignment"] = [
            {
                "type": ["Alignment"],
                "targetName": a.target_name,
                "targetUrl": a.target_url,
                **({"targetDescription": a.target_description} if a.target_description else {}),
                **({"targetFramework": a.target_framework} if a.target_framework else {}),
                **({"targetCode": a.target_code} if a.target_code else {}),
                **({"targetType": a.target_type} if a.target_type else {}),
            }
            for a in achievement.alignments
        ]
    return body


def _assessment_name(course_id: str, assessment_id: str) -> str:
    # Engines often prefix assessment ids with their course ("da-101/m1"): say it once.
    if assessment_id.startswith(course_id):
        return assessment_id
    return f"{course_id} {assessment_id}"


def _percent(score: float, max_score: float) -> str:
    return f"{100 * score / max_score:.1f}" if max_score > 0 else f"{score:g}"


def build_credential(
    request: CredentialRequested,
    achievement: Achievement,
    issuer: Issuer,
    options: BuildOptions,
    slot: StatusSlot | None = None,
) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` for one award; checked before it is returned."""
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [_identifier(request)],
        "achievement": _achievement(achievement),
    }
    if request.evidence:
        subject["result"] = [
            {
                "type": ["Result"],
                "value": _percent(e.score, e.max_score),
            }
            for e in sorted(request.evidence, key=lambda e: (e.course_id, e.assessment_id))
        ]
    credential: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": f"urn:uuid:{request.credential_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": _issuer(issuer),
        "validFrom": xsd_datetime(request.awarded_at),
    }
    if achievement.valid_for_days:
        valid_until = request.awarded_at + timedelta(days=achievement.valid_for_days)
        credential["validUntil"] = xsd_datetime(valid_until)
    credential["name"] = achievement.name
    credential["credentialSubject"] = subject
    if request.evidence:
        credential["evidence"] = [
            {
                "type": ["Evidence"],
                "name": _assessment_name(e.course_id, e.assessment_id),
                "description": (
                    f"Scored {e.score:g} of {e.max_score:g} on {xsd_datetime(e.occurred_at)}"
                ),
            }
            for e in sorted(request.evidence, key=lambda e: (e.course_id, e.assessment_id))
        ]
    if options.status_lists:
        if slot is None:
            raise InvalidCredentialError("status lists are enabled but no status slot was given")
        credential["credentialStatus"] = status_entries(
            options.public_base_url, request.tenant_id, slot
        )
    problems = credential_problems(credential)
    if problems:
        raise InvalidCredentialError(
            f"credential {credential['id']} is not a valid OpenBadgeCredential: "
            + "; ".join(problems)
        )
    return credential


def credential_problems(credential: dict[str, Any]) -> list[str]:
    """The Open Badges 3.0 / VC 2.0 schema rules a credential breaks (empty when none)."""
    problems: list[str] = [
        f"{path}: contains a control character that canonicalizes differently across verifiers"
        for path in _control_character_paths(credential, "")
    ]

    def iri(path: str, value: Any) -> None:
        if not isinstance(value, str) or not _ABSOLUTE_IRI.match(value):
            problems.append(f"{path}: must be an absolute IRI, got {value!r}")

    def text(path: str, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{path}: must be a non-empty string")

    context = credential.get("@context")
    if not isinstance(context, list) or context[:1] != [VC_V2_CONTEXT]:
        problems.append(f"@context: must start with {VC_V2_CONTEXT}")
    elif OB_V3_CONTEXT not in context:
        problems.append(f"@context: must include {OB_V3_CONTEXT}")
    iri("id", credential.get("id"))
    types = credential.get("type")
    if not isinstance(types, list) or not {"VerifiableCredential", "OpenBadgeCredential"} <= set(
        types
    ):
        problems.append("type: must include VerifiableCredential and OpenBadgeCredential")
    issuer = credential.get("issuer")
    iri("issuer.id", issuer.get("id") if isinstance(issuer, dict) else issuer)
    for field in ("validFrom", "validUntil"):
        value = credential.get(field)
        if (field == "validFrom" or value is not None) and not (
            isinstance(value, str) and _DATETIME.match(value)
        ):
            problems.append(f"{field}: must be an xsd:dateTime in UTC ending in Z")
    if "validUntil" in credential and credential["validUntil"] <= credential.get("validFrom", ""):
        problems.append("validUntil: must be after validFrom")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        return [*problems, "credentialSubject: must be an object"]
    if "id" not in subject and not subject.get("identifier"):
        problems.append("credentialSubject: needs an id or an identifier")
    for i, identifier in enumerate(subject.get("identifier", [])):
        if identifier.get("hashed") and not str(identifier.get("identityHash", "")).startswith(
            "sha256$"
        ):
            problems.append(f"credentialSubject.identifier[{i}].identityHash: must be sha256$...")
        if "@" in str(identifier.get("identityHash", "")):
            problems.append(f"credentialSubject.identifier[{i}]: a plain email must be hashed")
    achievement = subject.get("achievement")
    if not isinstance(achievement, dict):
        return [*problems, "credentialSubject.achievement: must be an object"]
    iri("credentialSubject.achievement.id", achievement.get("id"))
    text("credentialSubject.achievement.name", achievement.get("name"))
    text("credentialSubject.achievement.description", achievement.get("description"))
    criteria = achievement.get("criteria")
    if not isinstance(criteria, dict) or not (criteria.get("id") or criteria.get("narrative")):
        problems.append("credentialSubject.achievement.criteria: needs an id or a narrative")
    image = achievement.get("image")
    if image is not None:
        iri("credentialSubject.achievement.image.id", image.get("id"))
    return problems


def _control_character_paths(value: Any, path: str) -> list[str]:
    # The document as JSON (orjson) first: paths are searched only in a credential with a
    # backslash or a DEL, which most have not (a walk over every string took ~16 of the
    # check's ~23 us per credential; this takes ~3).
    # orjson escapes U+0000-U+001F, each with a backslash, and writes U+007F raw.
    document = orjson.dumps(value)
    if b"\\" not in document and b"\x7f" not in document:
        return []
    return _paths_with_control(value, path)


def _paths_with_control(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [path or "(document)"] if _UNPORTABLE_CONTROL.search(value) else []
    if isinstance(value, dict):
        return [
            p for k, v in value.items() for p in _paths_with_control(v, f"{path}.{k}".lstrip("."))
        ]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _paths_with_control(v, f"{path}[{i}]")]
    return []
