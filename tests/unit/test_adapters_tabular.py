"""CSV and JSON Lines backfill files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from credstream.errors import InvalidInputError
from producers.adapters import (
    AdapterContext,
    FieldError,
    RejectedFileError,
    convert_file,
    convert_text,
    from_row,
)

SAMPLES = Path(__file__).parents[1] / "data" / "samples" / "backfill"
CONTEXT = AdapterContext("uni", "lms")
ROW = {
    "learner_id": "l-1", "course_id": "da-101", "assessment_id": "da-101/m1", "score": "17",
    "max_score": "20", "occurred_at": "2025-09-01T10:00:00Z",
}  # fmt: skip


def test_csv_backfill() -> None:
    first, second, retake, unknown = convert_file(
        SAMPLES / "results-2025.csv", "csv", CONTEXT
    ).events
    assert (first.learner.email, first.score, first.max_score, first.passed) == (
        "ada@example.org",
        17.0,
        20.0,
        True,
    )
    assert first.attributes == {"term": "2025-fall"}
    assert (second.passed, second.occurred_at) == (False, datetime(2025, 9, 8, 8, tzinfo=UTC))
    assert (retake.attempt, retake.learner.email) == (2, None)
    assert unknown.passed is None
    assert {e.tenant_id for e in (first, second)} == {"uni"}


def test_ids_are_derived_from_content_so_a_rerun_sends_the_same_ids() -> None:
    again = convert_file(SAMPLES / "results-2025.csv", "csv", CONTEXT).events
    once = convert_file(SAMPLES / "results-2025.csv", "csv", CONTEXT).events
    assert [e.event_id for e in again] == [e.event_id for e in once]
    assert len({e.event_id for e in once}) == 4


def test_jsonl_accepts_rows_and_printed_events() -> None:
    row, printed = convert_file(SAMPLES / "results.jsonl", "jsonl", CONTEXT).events
    assert (row.learner.id, row.score, row.attributes) == ("l-0003", 19.0, {"term": "2025-fall"})
    assert printed.event_id == "5b0c1a6e-8f9a-4c1e-9a57-3f0e5d2c7b11"
    assert printed.learner.email == "l4@example.org"
    # What --dry-run prints reads back as the same event.
    assert convert_text(printed.model_dump_json(), "jsonl", CONTEXT).events == (printed,)


def test_bad_csv_names_line_and_column() -> None:
    with pytest.raises(RejectedFileError) as caught:
        convert_file(SAMPLES / "results-bad.csv", "csv", CONTEXT)
    assert [str(p) for p in caught.value.problems][:1] == [
        "line 2: scroe: unknown column (expected some of event_id, tenant_id, engine_id, "
        "learner_id, learner_email, course_id, assessment_id, score, max_score, passed, "
        "attempt, occurred_at, attributes)"
    ]


def test_bad_jsonl_reports_every_line() -> None:
    with pytest.raises(RejectedFileError) as caught:
        convert_file(SAMPLES / "results-bad.jsonl", "jsonl", CONTEXT)
    assert [str(p) for p in caught.value.problems] == [
        "line 1: score: Input should be a valid number, unable to parse string as a number",
        "line 2: occurred_at: needs a UTC offset",
        "line 3: (line): not JSON: Expecting value",
        "line 4: engine_id: 'someone-else' is not the sending engine 'lms'",
    ]
    assert "4 rejected, nothing sent" in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"score": "25"}, "score: 25.0 is outside 0..20.0"),
        ({"max_score": "0"}, "max_score: must be greater than 0"),
        ({"learner_id": ""}, "learner_id: required"),
        ({"attempt": "two"}, "attempt: Input should be a valid integer"),
        ({"passed": "maybe"}, "passed: Input should be a valid boolean"),
        ({"attributes": "{not json"}, "attributes: must be a JSON object"),
        ({"attributes": '{"n": 1}'}, "attributes.n: Input should be a valid string"),
        ({"occurred_at": "2025-13-01T00:00:00Z"}, "occurred_at: Input should be a valid datetime"),
    ],
)
def test_malformed_rows_name_the_column(changes: dict[str, str], message: str) -> None:
    with pytest.raises(FieldError, match=message):
        from_row(ROW | changes, CONTEXT)


def test_csv_with_more_values_than_columns(tmp_path: Path) -> None:
    text = ",".join(ROW) + "\n" + ",".join(ROW.values()) + ",extra\n"
    with pytest.raises(RejectedFileError, match="line 2: \\(row\\): more values than header"):
        convert_text(text, "csv", CONTEXT)


def test_unknown_format_and_missing_file() -> None:
    with pytest.raises(InvalidInputError, match="format 'xml'"):
        convert_text("", "xml", CONTEXT)
    with pytest.raises(InvalidInputError, match="cannot read"):
        convert_file(SAMPLES / "missing.csv", "csv", CONTEXT)
