"""Store signed credentials write-once, then say what to announce.

A 412 with identical bytes is a retry or replay: success. A 412 with other bytes is
either a duplicate request for the same award (the processor delivers at least once, and
a second request sits at another offset, so it got another status slot): the stored
credential is the same award, and it wins; or anything else: an integrity alarm, never
an overwrite.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from schemas.models import CredentialIssued, CredentialRequested
from signers.service._factory import Signed
from signers.storage import ObjectWrite, Outcome, WriteOnceStore

CREDENTIAL_MEDIA_TYPE = "application/vc+ld+json"
# Parts of a credential that may legitimately differ between two requests of one award.
_PER_REQUEST_FIELDS = ("credentialStatus", "proof")


def credential_key(tenant: str, credential_id: str) -> str:
    return f"{tenant}/credentials/{credential_id}.json"


def badge_key(tenant: str, credential_id: str, extension: str) -> str:
    return f"{tenant}/badges/{credential_id}.{extension}"


@dataclass(frozen=True, slots=True)
class Stored:
    signed: Signed
    outcome: Outcome  # CREATED, IDENTICAL, or CONFLICT
    stored_sha256: str  # of the bytes in the store (a duplicate request's differ from ours)
    duplicate_request: bool = False  # a CONFLICT that is the same award: not an alarm

    @property
    def alarm(self) -> bool:
        return self.outcome is Outcome.CONFLICT and not self.duplicate_request


def _same_award(stored: bytes, candidate: bytes) -> bool:
    def core(body: bytes) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(body)
        return {k: v for k, v in document.items() if k not in _PER_REQUEST_FIELDS}

    try:
        return core(stored) == core(candidate)
    except (ValueError, AttributeError):
        return False


def store_credentials(store: WriteOnceStore, signed: Sequence[Signed]) -> list[Stored]:
    writes = [
        ObjectWrite(credential_key(s.tenant_id, s.credential_id), s.body, CREDENTIAL_MEDIA_TYPE)
        for s in signed
    ]
    results = store.put_new(writes)
    stored = []
    for item, result in zip(signed, results, strict=True):
        duplicate, digest = False, item.sha256
        if result.outcome is Outcome.CONFLICT:
            existing = store.get(result.key)
            if existing is not None:
                duplicate = _same_award(existing, item.body)
                digest = hashlib.sha256(existing).hexdigest()
        stored.append(Stored(item, result.outcome, digest, duplicate))
    return stored


def linkedin_url(name: str, organization: str, issued: CredentialRequested, url: str) -> str:
    """LinkedIn's add-to-profile link for a certification."""
    # What urlencode writes for these fields, formatted directly: half the time (9.6 vs
    # 18 us), and urlencode was 6% of the signer's main process.
    return (
        "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME"
        f"&name={quote_plus(name)}&organizationName={quote_plus(organization)}"
        f"&issueYear={issued.awarded_at.year}&issueMonth={issued.awarded_at.month}"
        f"&certUrl={quote_plus(url)}&certId={quote_plus(issued.credential_id)}"
    )


def notification(
    request: CredentialRequested, public_base_url: str, name: str, organization: str
) -> CredentialIssued:
    """What ``credential.issued.v1`` says of a stored credential (deterministic)."""
    base = public_base_url.rstrip("/")
    url = f"{base}/{credential_key(request.tenant_id, request.credential_id)}"
    return CredentialIssued(
        credential_id=request.credential_id,
        tenant_id=request.tenant_id,
        learner_id=request.learner.id,
        achievement_key=request.achievement_key,
        achievement_version=request.achievement_version,
        credential_url=url,
        image_url=f"{base}/{badge_key(request.tenant_id, request.credential_id, 'png')}",
        linkedin_add_to_profile_url=linkedin_url(name, organization, request, url),
        issued_at=request.awarded_at,
    )
