"""CSV and JSON Lines rows (historical results, for backfill) to ``AssessmentCompleted``.

Columns: ``learner_id``, ``course_id``, ``assessment_id``, ``score``, ``max_score``,
``occurred_at`` (ISO 8601 with offset) are required; ``event_id``, ``tenant_id``,
``engine_id``, ``learner_email``, ``passed``, ``attempt`` and ``attributes`` (a JSON object
in CSV) are optional. A JSON line may also be an event as ``--dry-run`` prints it (with a
``learner`` object). Without ``event_id`` the id is derived from the row's content, so a
backfill run twice sends the same ids and consumers drop the repeats.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from producers.adapters._common import (
    AdapterContext,
    FieldError,
    check_score,
    derived_event_id,
    fail,
)
from schemas.models import AssessmentCompleted

COLUMNS = (
    "event_id", "tenant_id", "engine_id", "learner_id", "learner_email", "course_id",
    "assessment_id", "score", "max_score", "passed", "attempt", "occurred_at", "attributes",
)  # fmt: skip
_REQUIRED = ("learner_id", "course_id", "assessment_id", "score", "max_score", "occurred_at")


def from_row(row: Any, context: AdapterContext) -> AssessmentCompleted:
    """One CSV row (all values text) or JSON object."""
    if not isinstance(row, Mapping):
        raise fail("row", "must be an object")
    if isinstance(row.get("learner"), Mapping):  # the event's own JSON shape
        flat = {k: v for k, v in row.items() if k != "learner"}
        flat["learner_id"] = row["learner"].get("id")
        flat["learner_email"] = row["learner"].get("email")
        row = flat
    unknown = sorted(set(row) - set(COLUMNS))
    values = {k: v for k, v in row.items() if v not in ("", None)}
    if unknown:
        raise fail(unknown[0], f"unknown column (expected some of {', '.join(COLUMNS)})")
    missing = [name for name in _REQUIRED if name not in values]
    if missing:
        raise FieldError([(name, "required") for name in missing])
    engine = values.get("engine_id", context.engine_id)
    if engine != context.engine_id:
        raise fail("engine_id", f"{engine!r} is not the sending engine {context.engine_id!r}")
    attributes = values.get("attributes", {})
    if isinstance(attributes, str):
        try:
            attributes = json.loads(attributes)
        except json.JSONDecodeError:
            raise fail("attributes", "must be a JSON object of strings") from None
    candidate = {
        "tenant_id": values.get("tenant_id", context.tenant_id),
        "engine_id": engine,
        "learner": {"id": values["learner_id"], "email": values.get("learner_email")},
        "course_id": values["course_id"],
        "assessment_id": values["assessment_id"],
        "score": values["score"],
        "max_score": values["max_score"],
        "passed": values.get("passed"),
        "attempt": values.get("attempt", 1),
        "occurred_at": values["occurred_at"],
        "attributes": attributes,
    }
    candidate["event_id"] = values.get("event_id") or derived_event_id(
        "row", *(candidate[k] for k in ("tenant_id", "course_id", "assessment_id", "attempt")),
        candidate["learner"]["id"], candidate["occurred_at"], candidate["score"],
    )  # fmt: skip
    try:
        event = AssessmentCompleted.model_validate(candidate)
    except ValidationError as error:
        raise FieldError([_problem(e) for e in error.errors()]) from None
    if event.occurred_at.tzinfo is None:
        raise fail("occurred_at", "needs a UTC offset")
    check_score(event.score, event.max_score, "score", "max_score")
    return event


def _problem(error: Any) -> tuple[str, str]:
    location = [str(part) for part in error["loc"]]
    if location[:1] == ["learner"]:
        location = ["learner_" + location[1]] if len(location) > 1 else ["learner_id"]
    return ".".join(location) or "row", error["msg"]
