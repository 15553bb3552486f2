"""Open edX event-bus events, as CloudEvent JSON and as Avro messages off the bus."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import fastavro
import pytest

from producers.adapters import (
    AdapterContext,
    FieldError,
    OpenEdxDecoder,
    RejectedFileError,
    Skipped,
    convert_file,
    from_openedx,
)

SAMPLES = Path(__file__).parents[1] / "data" / "samples" / "openedx"
CONTEXT = AdapterContext("edx", "openedx-bus")
DEMO = "course-v1:edX+DemoX+Demo_Course"


def _lines(name: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (SAMPLES / name).read_text().splitlines()]


def test_grades_and_passing_status() -> None:
    conversion = convert_file(SAMPLES / "grades.jsonl", "openedx", CONTEXT)
    passed, failing, passing, ccx = conversion.events
    assert (passed.learner.id, passed.course_id, passed.assessment_id) == ("4417", DEMO, DEMO)
    assert (passed.score, passed.max_score, passed.passed) == (0.83, 1.0, True)
    assert passed.event_id == "b2f0c6a4-2d5e-11ef-9a2b-0242ac120002"
    assert passed.attributes["letter_grade"] == "Pass"
    assert (failing.score, failing.passed) == (0.31, False)  # no passed_timestamp
    assert passing.learner.email == "ada@example.org"
    assert (passing.score, passing.passed) == (1.0, True)
    assert passing.occurred_at == datetime(2026, 3, 2, 14, 5, 11, 250000, tzinfo=UTC)
    assert (ccx.course_id, ccx.passed, ccx.score) == (
        "ccx-v1:edX+DemoX+Demo_Course+ccx@3",
        False,
        0.0,
    )
    assert ccx.attributes["master_course_key"] == DEMO
    assert [s.reason for s in conversion.skipped] == ["an exam attempt submission carries no grade"]


def test_malformed_events_name_the_field() -> None:
    with pytest.raises(RejectedFileError) as caught:
        convert_file(SAMPLES / "bad-grade.jsonl", "openedx", CONTEXT)
    assert [str(p) for p in caught.value.problems] == [
        "line 1: data.grade.percent_grade: 1.7 is outside 0..1.0",
        "line 2: id: must be a UUID (got 'not-a-uuid')",
        "line 3: time: needs a UTC offset: '2026-03-02 14:05:11'",
    ]
    event = _lines("grades.jsonl")[2]
    event["data"]["course_passing_status"]["is_passing"] = "yes"
    with pytest.raises(FieldError, match=r"data.course_passing_status.is_passing: required true"):
        from_openedx(event, CONTEXT)
    del event["data"]["course_passing_status"]["user"]
    event["data"]["course_passing_status"]["is_passing"] = True
    with pytest.raises(FieldError, match=r"data.course_passing_status.user.id: required integer"):
        from_openedx(event, CONTEXT)


def test_other_event_types_are_skipped() -> None:
    event = {"type": "org.openedx.learning.course.enrollment.created.v1", "id": "x"}
    result = from_openedx(event, CONTEXT)
    assert isinstance(result, Skipped)
    assert "not a grade or passing status" in result.reason


def _schema(event_type: str) -> dict:  # type: ignore[type-arg]
    name = event_type.replace(".", "+") + "_schema.avsc"
    folder = resources.files("producers.adapters").joinpath("openedx_schemas")
    return fastavro.parse_schema(json.loads(folder.joinpath(name).read_text()))


@pytest.mark.parametrize("index", [0, 2, 3, 4])
def test_avro_messages_as_on_the_bus(index: int) -> None:
    cloudevent = _lines("grades.jsonl")[index]
    body = io.BytesIO()
    fastavro.schemaless_writer(body, _schema(cloudevent["type"]), cloudevent["data"])
    value = b"\x00\x00\x00\x00\x07" + body.getvalue()  # Confluent framing, as the bus writes
    headers = [
        ("ce_id", cloudevent["id"].encode()),
        ("ce_type", cloudevent["type"].encode()),
        ("ce_time", cloudevent["time"].encode()),
        ("ce_source", b"openedx/lms/web"),
    ]
    decoder = OpenEdxDecoder()
    decoded = decoder.cloudevent(value, headers)
    assert decoded["data"] == cloudevent["data"]
    assert from_openedx(decoded, CONTEXT) == from_openedx(cloudevent, CONTEXT)
    assert len(decoder.event_types) == 6


def test_undecodable_messages_are_field_errors() -> None:
    decoder = OpenEdxDecoder()
    grade_type = _lines("grades.jsonl")[0]["type"].encode()
    with pytest.raises(FieldError, match="ce_type: required header"):
        decoder.cloudevent(b"", [])
    with pytest.raises(FieldError, match="ce_type: no schema for"):
        decoder.cloudevent(b"", [("ce_type", b"org.openedx.other.v1")])
    with pytest.raises(FieldError, match="value: does not decode as"):
        decoder.cloudevent(b"\x00\x00\x00\x00\x07\xff", [("ce_type", grade_type)])
