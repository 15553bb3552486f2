"""Open edX event-bus events to ``AssessmentCompleted``.

The bus (openedx-event-bus-kafka) puts one Avro record per message, its CloudEvent
attributes in the headers ``ce_id``, ``ce_type`` and ``ce_time``. This adapter takes the
event as a CloudEvent with the record as ``data`` (JSON files, or a message decoded with
:class:`OpenEdxDecoder` and the schemas the bus publishes, shipped in ``openedx_schemas/``).

- persistent grade summary changed: ``percent_grade`` out of 1, passed when
  ``passed_timestamp`` is set; the assessment is the course (its final grade).
- course passing status updated (and its CCX variant): a pass/fail of the course, as
  1 or 0 out of 1.
- exam attempts and certificates carry no grade: skipped (the grade follows as a grade
  summary).
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import fastavro

from producers.adapters._common import (
    AdapterContext,
    Skipped,
    check_score,
    fail,
    get,
    number,
    text,
    timestamp,
)
from schemas.models import AssessmentCompleted, Learner

_PREFIX = "org.openedx.learning."
GRADE_CHANGED = _PREFIX + "course.persistent_grade_summary.changed.v1"
PASSING_STATUS = _PREFIX + "course.passing.status.updated.v1"
CCX_PASSING_STATUS = _PREFIX + "ccx.course.passing.status.updated.v1"
_NO_GRADE = {
    _PREFIX + "exam.attempt.submitted.v1": "an exam attempt submission carries no grade",
    _PREFIX + "exam.attempt.verified.v1": "an exam attempt verification carries no grade",
    _PREFIX + "certificate.created.v1": "a certificate carries no grade",
}
_NOT_PASSED = ("", "None", "null")


class OpenEdxDecoder:
    """Turns event-bus messages (Avro value + ``ce_*`` headers) into CloudEvent dicts."""

    def __init__(self) -> None:
        folder = resources.files("producers.adapters").joinpath("openedx_schemas")
        self._schemas = {
            entry.name.removesuffix("_schema.avsc").replace("+", "."): fastavro.parse_schema(
                json.loads(entry.read_text())
            )
            for entry in folder.iterdir()
            if entry.name.endswith("_schema.avsc")
        }

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(sorted(self._schemas))

    def cloudevent(
        self, value: bytes, headers: Sequence[tuple[str, bytes | None]]
    ) -> dict[str, Any]:
        """The CloudEvent of one message; the value may carry Confluent framing (00 + id)."""
        attributes = {k: (v or b"").decode("utf-8", "replace") for k, v in headers}
        event_type = attributes.get("ce_type")
        if not event_type:
            raise fail("ce_type", "required header")
        schema = self._schemas.get(event_type)
        if schema is None:
            raise fail("ce_type", f"no schema for {event_type}")
        body = io.BytesIO(value[5:] if value[:1] == b"\x00" else value)
        try:
            record = fastavro.schemaless_reader(body, schema, None)
        except Exception as error:  # any failure on foreign bytes means the same: bad value
            raise fail(
                "value", f"does not decode as {event_type}: {type(error).__name__}"
            ) from None
        return {
            "id": attributes.get("ce_id"),
            "type": event_type,
            "time": attributes.get("ce_time"),
            "source": attributes.get("ce_source"),
            "data": record,
        }


def _user(user: Any, prefix: str) -> Learner:
    user_id = get(user, "id")
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise fail(prefix + ".id", "required integer user id")
    email = get(user, "pii.email")
    return Learner(id=str(user_id), email=email if isinstance(email, str) and email else None)


def from_openedx(event: Any, context: AdapterContext) -> AssessmentCompleted | Skipped:
    if not isinstance(event, Mapping):
        raise fail("event", "must be a JSON object")
    event_type = text(event, "type")
    if event_type in _NO_GRADE:
        return Skipped("", _NO_GRADE[event_type])
    if event_type not in (GRADE_CHANGED, PASSING_STATUS, CCX_PASSING_STATUS):
        return Skipped("", f"{event_type} is not a grade or passing status")
    raw_id = text(event, "id")
    try:
        event_id = str(uuid.UUID(raw_id))
    except ValueError:
        raise fail("id", f"must be a UUID (got {raw_id!r})") from None
    occurred_at = timestamp(event.get("time"), "time")
    data = event.get("data")
    if event_type == GRADE_CHANGED:
        grade = get(data, "grade")
        course = text(grade, "course.course_key", "data.grade.")
        score = number(grade, "percent_grade", "data.grade.")
        check_score(score, 1.0, "data.grade.percent_grade", "data.grade.percent_grade")
        user_id = get(grade, "user_id")
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            raise fail("data.grade.user_id", "required integer user id")
        passed_at = get(grade, "passed_timestamp")
        attributes = {
            "source": "openedx",
            "event_type": event_type,
            "letter_grade": str(get(grade, "letter_grade") or ""),
            "course_version": str(get(grade, "course_version") or ""),
        }
        return AssessmentCompleted(
            event_id=event_id,
            tenant_id=context.tenant_id,
            engine_id=context.engine_id,
            learner=Learner(id=str(user_id)),
            course_id=course,
            assessment_id=course,
            score=score,
            max_score=1.0,
            passed=isinstance(passed_at, str) and passed_at not in _NOT_PASSED,
            occurred_at=occurred_at,
            attributes=attributes,
        )
    status = get(data, "course_passing_status")
    is_passing = get(status, "is_passing")
    if not isinstance(is_passing, bool):
        raise fail("data.course_passing_status.is_passing", "required true or false")
    learner = _user(get(status, "user"), "data.course_passing_status.user")
    attributes = {"source": "openedx", "event_type": event_type}
    if event_type == CCX_PASSING_STATUS:
        course = text(status, "course.ccx_course_key", "data.course_passing_status.")
        attributes["master_course_key"] = text(
            status, "course.master_course_key", "data.course_passing_status."
        )
    else:
        course = text(status, "course.course_key", "data.course_passing_status.")
    return AssessmentCompleted(
        event_id=event_id,
        tenant_id=context.tenant_id,
        engine_id=context.engine_id,
        learner=learner,
        course_id=course,
        assessment_id=course,
        score=1.0 if is_passing else 0.0,
        max_score=1.0,
        passed=is_passing,
        occurred_at=occurred_at,
        attributes=attributes,
    )
