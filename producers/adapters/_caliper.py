"""IMS Caliper 1.2 events to ``AssessmentCompleted``.

A score comes from a ``GradeEvent`` (action Graded, object an Attempt, generated a Score
with ``scoreGiven`` out of ``maxScore`` > 0). When the same batch holds the
``AssessmentEvent`` Submitted of that attempt, its submission time is when the learner
completed the assessment; otherwise the attempt's ``endedAtTime`` (else the grade's
``eventTime``). Learner: the attempt's ``assignee``; course: the event's ``group``.

Both event types are checked against the specification (action, entity types) even when
they carry no result; other event types (navigation, annotation...) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from producers.adapters._common import (
    AdapterContext,
    FieldError,
    Skipped,
    check_score,
    fail,
    get,
    number,
    text,
    timestamp,
)
from schemas.models import AssessmentCompleted, Learner

ASSESSMENT_ACTIONS = ("Started", "Paused", "Resumed", "Restarted", "Reset", "Submitted")
_ASSESSABLE = ("Assessment", "AssessmentItem")


def caliper_events(document: Any) -> list[tuple[str, Any]]:
    """The events of a sensor envelope (``data``), a list of events, or one event."""
    if isinstance(document, Mapping) and "data" in document and "sensor" in document:
        data = document["data"]
        if not isinstance(data, list):
            raise fail("data", "must be a list of events")
        return [(f"data[{i}]", event) for i, event in enumerate(data)]
    if isinstance(document, list):
        return [(f"[{i}]", event) for i, event in enumerate(document)]
    return [("", document)]


def _id(value: Any, name: str) -> str:
    """An entity given inline (object with id) or by reference (its IRI)."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Mapping):
        return text(value, "id", name + ".")
    raise fail(name, "required entity (object with id, or IRI)")


def _expect_type(event: Mapping[str, Any], path: str, *types: str) -> None:
    found = get(event, path)
    if found not in types:
        expected = " or ".join(types)
        raise fail(path, f"expected {expected}, got {found!r}" if found else f"required {expected}")


def submissions(events: Iterable[Any]) -> dict[str, Any]:
    """Attempt id to submission time, from the valid AssessmentEvent Submitted events."""
    found = {}
    for event in events:
        if (
            isinstance(event, Mapping)
            and event.get("type") == "AssessmentEvent"
            and event.get("action") == "Submitted"
        ):
            attempt = get(event, "generated.id")
            if isinstance(attempt, str):
                found[attempt] = get(event, "generated.endedAtTime") or event.get("eventTime")
    return found


def _check_assessment_event(event: Mapping[str, Any]) -> Skipped:
    action = text(event, "action")
    if action not in ASSESSMENT_ACTIONS:
        raise fail(
            "action",
            f"{action!r} is not an AssessmentEvent action ({', '.join(ASSESSMENT_ACTIONS)})",
        )
    _expect_type(event, "object.type", "Assessment")
    if event.get("generated") is not None:
        _expect_type(event, "generated.type", "Attempt")
    timestamp(event.get("eventTime"), "eventTime")
    if action == "Submitted":
        return Skipped("", "AssessmentEvent Submitted: its score comes with the GradeEvent")
    return Skipped("", f"AssessmentEvent {action} carries no result")


def from_caliper(
    event: Any, context: AdapterContext, submitted: Mapping[str, Any] | None = None
) -> AssessmentCompleted | Skipped:
    """One Caliper event; ``submitted`` maps attempt ids to submission times (see module)."""
    if not isinstance(event, Mapping):
        raise fail("event", "must be a JSON object")
    kind = text(event, "type")
    event_id = text(event, "id")
    if kind == "AssessmentEvent":
        return _check_assessment_event(event)
    if kind != "GradeEvent":
        return Skipped("", f"{kind} is not an assessment result")
    if event.get("action") != "Graded":
        raise fail("action", f"{event.get('action')!r} is not a GradeEvent action (Graded)")
    _expect_type(event, "object.type", "Attempt")
    _expect_type(event, "generated.type", "Score")
    # Report both score fields at once: the published fixtures get both wrong.
    problems: list[tuple[str, str]] = []
    values = []
    for name in ("generated.scoreGiven", "generated.maxScore"):
        try:
            values.append(number(event, name))
        except FieldError as error:
            problems += error.problems
    max_score = get(event, "generated.maxScore")
    if isinstance(max_score, int | float) and not isinstance(max_score, bool) and max_score <= 0:
        problems.append(
            (
                "generated.maxScore",
                f"must be greater than 0 (got {max_score}): nothing to score against",
            )
        )
    if problems:
        raise FieldError(problems)
    score, max_score = values
    check_score(score, max_score, "generated.scoreGiven", "generated.maxScore")
    learner = _id(get(event, "object.assignee"), "object.assignee")
    assignable = get(event, "object.assignable")
    assessment = _id(assignable, "object.assignable")
    if isinstance(assignable, Mapping) and assignable.get("type") not in (None, *_ASSESSABLE):
        raise fail("object.assignable.type", f"expected Assessment, got {assignable.get('type')!r}")
    course = _id(event.get("group"), "group")
    attempt_id = text(event, "object.id")
    attempt = get(event, "object.count")
    if attempt is None:
        attempt = 1
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise fail("object.count", f"must be a positive integer (got {attempt!r})")
    when = (
        (submitted or {}).get(attempt_id)
        or get(event, "object.endedAtTime")
        or event.get("eventTime")
    )
    occurred_at = timestamp(when, "eventTime")
    if isinstance(assignable, Mapping) and assignable.get("type") == "AssessmentItem":
        return Skipped("", f"item-level grade for {assessment}: not a whole assessment")
    return AssessmentCompleted(
        event_id=event_id.removeprefix("urn:uuid:"),
        tenant_id=context.tenant_id,
        engine_id=context.engine_id,
        learner=Learner(id=learner),
        course_id=course,
        assessment_id=assessment,
        score=score,
        max_score=max_score,
        attempt=attempt,
        occurred_at=occurred_at,
        attributes={
            "source": "caliper",
            "attempt_id": attempt_id,
            "graded_by": _id(event.get("actor"), "actor"),
        },
    )
