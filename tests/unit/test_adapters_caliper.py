"""IMS Caliper 1.2: the specification's fixtures, its malformed events, and scored grades."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from producers.adapters import (
    AdapterContext,
    FieldError,
    RejectedFileError,
    Skipped,
    convert_file,
    from_caliper,
)

SAMPLES = Path(__file__).parents[1] / "data" / "samples"
SPEC = SAMPLES / "caliper-v1p2"
SCORED = SAMPLES / "caliper-v1p2-scored"
CONTEXT = AdapterContext("uni", "lms")
COURSE = "https://example.edu/terms/201601/courses/7/sections/1"


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "name", ["caliperEventGradeGraded.json", "caliperEventGradeGradedItem.json"]
)
def test_published_grades_without_a_score_are_rejected_with_the_reason(name: str) -> None:
    with pytest.raises(FieldError) as caught:
        from_caliper(_load(SPEC / name), CONTEXT)
    assert dict(caught.value.problems) == {
        "generated.scoreGiven": "required number",
        "generated.maxScore": "must be greater than 0 (got 0.0): nothing to score against",
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "caliperEventAssessment-WrongAction.json",
            "action: 'Deleted' is not an AssessmentEvent action",
        ),
        (
            "caliperEventAssessment-MalformedObjectWrongEntityType.json",
            "object.type: expected Assessment, got 'Person'",
        ),
        (
            "caliperEventGrade-WrongAction.json",
            r"action: 'Deleted' is not a GradeEvent action \(Graded\)",
        ),
        (
            "caliperEventGrade-MalformedGeneratedWrongEntityType.json",
            "generated.type: expected Score, got 'Person'",
        ),
    ],
)
def test_specification_error_fixtures_name_the_field(name: str, message: str) -> None:
    with pytest.raises(FieldError, match=message):
        from_caliper(_load(SPEC / "errors" / name), CONTEXT)
    with pytest.raises(RejectedFileError, match=r"document: " + message):
        convert_file(SPEC / "errors" / name, "caliper", CONTEXT)


def test_a_scored_grade_becomes_an_event() -> None:
    event = from_caliper(_load(SCORED / "caliperEventGradeGraded-scored.json"), CONTEXT)
    assert not isinstance(event, Skipped)
    assert event.event_id == "a50ca17f-5971-47bb-8fca-4e6e6879001d"
    assert event.learner.id == "https://example.edu/users/554433"
    assert event.assessment_id == f"{COURSE}/assess/1"
    assert event.course_id == COURSE
    assert (event.score, event.max_score, event.attempt, event.passed) == (12.0, 15.0, 1, None)
    assert event.occurred_at == datetime(2016, 11, 15, 10, 55, 12, tzinfo=UTC)  # attempt ended
    assert event.attributes["graded_by"] == "https://example.edu/autograder"


def test_submission_time_comes_from_the_paired_assessment_event() -> None:
    conversion = convert_file(SCORED / "caliperEnvelopeSubmittedAndGraded.json", "caliper", CONTEXT)
    (event,) = conversion.events
    assert event.occurred_at == datetime(2016, 11, 15, 10, 25, 30, tzinfo=UTC)  # submitted
    assert [s.location for s in conversion.skipped] == ["document data[0]"]


def test_other_events_in_a_sensor_batch_are_skipped() -> None:
    conversion = convert_file(SPEC / "caliperEnvelopeEventBatch.json", "caliper", CONTEXT)
    assert conversion.events == ()
    assert [s.reason for s in conversion.skipped] == [
        "NavigationEvent is not an assessment result",
        "AnnotationEvent is not an assessment result",
        "ViewEvent is not an assessment result",
    ]
    started = convert_file(SPEC / "caliperEnvelopeEventSingle.json", "caliper", CONTEXT)
    assert [s.reason for s in started.skipped] == ["AssessmentEvent Started carries no result"]


def _scored(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(_load(SCORED / "caliperEventGradeGraded-scored.json"))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = event
        for step in parents:
            target = target[step]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return event


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"generated__scoreGiven": 16.0}, r"generated.scoreGiven: 16.0 is outside 0..15.0"),
        ({"generated__maxScore": -1.0}, "generated.maxScore: must be greater than 0"),
        ({"object__assignee": None}, "object.assignee: required entity"),
        ({"group": None}, "group: required entity"),
        ({"object__count": 0}, "object.count: must be a positive integer"),
        ({"object__assignable": {"id": "x", "type": "Person"}}, "object.assignable.type"),
        ({"object__endedAtTime": None, "eventTime": "soon"}, "eventTime: not an ISO 8601 time"),
    ],
)
def test_malformed_grades_name_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(FieldError, match=message):
        from_caliper(_scored(**changes), CONTEXT)


def test_an_item_level_grade_is_skipped_once_valid() -> None:
    item = _load(SPEC / "caliperEventGradeGradedItem.json")
    item["generated"] |= {"scoreGiven": 1.0, "maxScore": 1.0}
    result = from_caliper(item, CONTEXT)
    assert isinstance(result, Skipped)
    assert "item-level grade" in result.reason


def test_a_bad_event_anywhere_refuses_the_whole_file(tmp_path: Path) -> None:
    batch = [
        _load(SCORED / "caliperEventGradeGraded-scored.json"),
        _load(SPEC / "caliperEventGradeGraded.json"),
    ]
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(batch))
    with pytest.raises(RejectedFileError) as caught:
        convert_file(path, "caliper", CONTEXT)
    assert {p.location for p in caught.value.problems} == {"item 2"}
