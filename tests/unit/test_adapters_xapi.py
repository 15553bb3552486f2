"""xAPI statements: the specification's examples and an LRS page, accepted and rejected."""

from __future__ import annotations

import copy
import hashlib
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
    from_xapi,
    learner_of,
)

SAMPLES = Path(__file__).parents[1] / "data" / "samples" / "xapi"
CONTEXT = AdapterContext("uni", "lms")


def _load(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def test_spec_example_attempted_with_scaled_score() -> None:
    event = from_xapi(_load("spec-appendix-a-2.json"), CONTEXT)
    assert not isinstance(event, Skipped)
    digest = hashlib.sha1(b"mailto:example.learner@adlnet.gov").hexdigest()
    assert event.learner.id == f"mbox_sha1sum:{digest}"
    assert event.learner.email == "example.learner@adlnet.gov"
    assert (event.score, event.max_score, event.passed) == (0.95, 1.0, True)
    assert event.event_id == "7ccd3322-e1a5-411a-a67d-6a735c76f119"
    assert (
        event.course_id == event.assessment_id == "http://example.adlnet.gov/xapi/example/simpleCBT"
    )
    assert event.occurred_at == datetime(2015, 12, 18, 12, 17, tzinfo=UTC)
    assert (event.tenant_id, event.engine_id) == ("uni", "lms")


def test_spec_example_with_another_verb_is_skipped() -> None:
    result = from_xapi(_load("spec-appendix-a-1.json"), CONTEXT)
    assert isinstance(result, Skipped)
    assert "sent-a-statement is not an assessment result" in result.reason


def test_group_actor_is_rejected() -> None:
    with pytest.raises(FieldError, match="actor: a Group is not a learner"):
        from_xapi(_load("spec-appendix-a-3.json"), CONTEXT)
    with pytest.raises(RejectedFileError, match="nothing sent"):
        convert_file(SAMPLES / "spec-appendix-a-3.json", "xapi", CONTEXT)


def test_lrs_statement_result_with_every_identifier_kind() -> None:
    conversion = convert_file(SAMPLES / "lrs-statement-result.json", "xapi", CONTEXT)
    passed, failed, scored = conversion.events
    assert passed.learner.email == "ada@example.org"
    assert (passed.score, passed.max_score, passed.passed) == (17.0, 20.0, True)  # raw over scaled
    assert passed.course_id == "https://lms.example.org/courses/da-101"
    assert passed.attributes["registration"] == "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
    # min 5, max 25, raw 8: 3 out of 20; the verb failed implies passed=False
    assert (failed.score, failed.max_score, failed.passed) == (3.0, 20.0, False)
    assert failed.learner.id == "mbox_sha1sum:b4f1b5d2a9d2d3b0c7d8e9f0a1b2c3d4e5f60718"
    assert failed.occurred_at.utcoffset() is not None
    assert scored.learner.id == "account:https://sso.example.org|u-4417"
    assert (scored.score, scored.max_score, scored.passed) == (0.64, 1.0, None)
    assert scored.course_id == "https://lms.example.org/courses/ml-201"  # parent as one object
    assert [s.location for s in conversion.skipped] == ["document statements[3]"]
    assert "completed without result.score" in conversion.skipped[0].reason


def test_mbox_and_its_sha1sum_are_the_same_learner() -> None:
    mbox = learner_of({"mbox": "mailto:ada@example.org"})
    digest = hashlib.sha1(b"mailto:ada@example.org").hexdigest()
    assert learner_of({"mbox_sha1sum": digest.upper()}).id == mbox.id
    assert learner_of({"openid": "https://id.example/ada"}).id == "openid:https://id.example/ada"


STATEMENT = {
    "id": "11111111-2222-4333-8444-555555555555",
    "timestamp": "2026-01-01T00:00:00Z",
    "actor": {"mbox": "mailto:ada@example.org"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/scored"},
    "object": {"id": "https://lms.example.org/a/1"},
    "result": {"score": {"raw": 5, "max": 10}, "success": True},
}


def _with(path: str, value: Any) -> dict[str, Any]:
    statement = copy.deepcopy(STATEMENT)
    *parents, last = path.split(".")
    target = statement
    for step in parents:
        target = target[step]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return statement


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("actor", {"name": "nobody"}, "actor: needs exactly one of mbox"),
        ("actor", {"mbox": "mailto:a@b", "openid": "x"}, r"has mbox, openid"),
        ("actor", {"mbox": "ada@example.org"}, "actor.mbox: must be a mailto: IRI"),
        ("actor", {"mbox_sha1sum": "abc"}, "actor.mbox_sha1sum: must be 40 hex digits"),
        ("actor", {"account": {"homePage": "https://x"}}, "actor.account.name: required text"),
        ("result.score", {"raw": 5}, "result.score.max: required with result.score.raw"),
        ("result.score", {"raw": 11, "max": 10}, r"result.score.raw: 11.0 is outside 0.0..10.0"),
        ("result.score", {"raw": 1, "min": 5, "max": 5}, "result.score.max: must be greater"),
        ("result.score", {"scaled": 1.5}, r"result.score.scaled: 1.5 is outside -1..1"),
        ("result.score", {"raw": "five", "max": 10}, "result.score.raw: must be a finite number"),
        ("result.score", None, "result.score: required with verb scored"),
        ("result.success", "yes", "result.success: must be true or false"),
        ("timestamp", None, "timestamp: required ISO 8601 time"),
        ("timestamp", "2026-01-01T00:00:00", "timestamp: needs a UTC offset"),
        ("timestamp", "yesterday", "timestamp: not an ISO 8601 time"),
        ("id", "stmt-1", "id: must be a UUID"),
        ("verb", None, "verb.id: required text"),
        ("object.objectType", "Agent", "object.objectType: must be an Activity"),
    ],
)
def test_malformed_statements_name_the_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(FieldError, match=message):
        from_xapi(_with(path, value), CONTEXT)


def test_verb_contradicting_success_is_rejected() -> None:
    statement = _with("verb", {"id": "http://adlnet.gov/expapi/verbs/passed"})
    statement["result"]["success"] = False
    with pytest.raises(FieldError, match=r"result.success: False contradicts verb passed"):
        from_xapi(statement, CONTEXT)


def test_missing_id_is_derived_from_content_and_stable() -> None:
    first = from_xapi(_with("id", None), CONTEXT)
    second = from_xapi(_with("id", None), CONTEXT)
    other = from_xapi(_with("timestamp", "2026-01-02T00:00:00Z") | {"id": None}, CONTEXT)
    assert not isinstance(first, Skipped) and not isinstance(second, Skipped)
    assert not isinstance(other, Skipped)
    assert first.event_id == second.event_id != other.event_id
