"""pydantic models that mirror the Avro schemas in ``schemas/avro`` field for field.

A unit test round-trips every model through its schema and fails if they drift.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Learner(_Record):
    id: str = Field(min_length=1)
    email: str | None = None


class AssessmentCompleted(_Record):
    """``assessment.completed.v1``: a learner completed an assessment."""

    event_id: str = Field(min_length=1)
    tenant_id: str = Field(min_length=1)
    engine_id: str = Field(min_length=1)
    learner: Learner
    course_id: str = Field(min_length=1)
    assessment_id: str = Field(min_length=1)
    score: float
    max_score: float
    passed: bool | None = None
    attempt: int = 1
    occurred_at: datetime  # timezone-aware, UTC, millisecond precision on the wire
    attributes: dict[str, str] = Field(default_factory=dict)


class Evidence(_Record):
    event_id: str
    course_id: str
    assessment_id: str
    score: float
    max_score: float
    occurred_at: datetime


class CredentialRequested(_Record):
    """``credential.requested.v1``: an award the signer turns into a credential."""

    credential_id: str
    tenant_id: str
    achievement_key: str
    achievement_version: int
    learner: Learner
    awarded_at: datetime
    evidence: tuple[Evidence, ...] = ()
    source_event_id: str


class CredentialIssued(_Record):
    """``credential.issued.v1``: a credential is stored; consumers dedupe on credential_id."""

    credential_id: str
    tenant_id: str
    learner_id: str
    achievement_key: str
    achievement_version: int
    credential_url: str
    image_url: str | None = None
    linkedin_add_to_profile_url: str | None = None
    issued_at: datetime


class StatusAction(StrEnum):
    REVOKE = "revoke"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


class CredentialStatusChange(_Record):
    """``credential.status.v1``: revoke, suspend or reinstate an issued credential."""

    credential_id: str = Field(min_length=1)
    tenant_id: str = Field(min_length=1)
    action: StatusAction
    reason: str | None = None
    requested_at: datetime


class AchievementCatalog(_Record):
    """``achievement.catalog.v1``: a tenant's catalog as a JSON document (content model elsewhere).

    ``sha256`` must match ``document``, so a corrupted or hand-edited record is refused.
    """

    tenant_id: str = Field(min_length=1)
    version: int = Field(ge=0)
    sha256: str
    document: str
    published_at: datetime

    @classmethod
    def of(cls, tenant_id: str, version: int, document: str, published_at: datetime) -> Self:
        digest = hashlib.sha256(document.encode()).hexdigest()
        return cls(
            tenant_id=tenant_id,
            version=version,
            sha256=digest,
            document=document,
            published_at=published_at,
        )

    @model_validator(mode="after")
    def _digest_matches(self) -> Self:
        if hashlib.sha256(self.document.encode()).hexdigest() != self.sha256:
            raise ValueError("sha256 does not match the document")
        return self


class Header(_Record):
    key: str
    value: bytes | None = None


class DeadLetter(_Record):
    """A record a stage could not process; topic ``<source topic>.dlq``."""

    source_topic: str
    source_partition: int
    source_offset: int
    original_key: bytes | None = None
    original_value: bytes | None = None
    original_headers: tuple[Header, ...] = ()
    stage: str
    error_class: str
    error_message: str
    failed_at: datetime
