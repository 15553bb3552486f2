"""pydantic models that mirror the Avro schemas in ``schemas/avro`` field for field.

A unit test round-trips every model through its schema and fails if they drift.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


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
