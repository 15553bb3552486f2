"""What every adapter shares: its context, its results, its errors, field checks."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from credstream.errors import InvalidInputError

# Event ids derived from content (when a source has none) use this namespace, so replaying
# the same file yields the same ids and consumers drop the repeats.
EVENT_NAMESPACE = uuid.UUID("6f1c9e52-43a4-5d8e-9a43-0c1b2d3e4f50")


@dataclass(frozen=True)
class AdapterContext:
    """Who is sending: every converted event carries this tenant and engine."""

    tenant_id: str
    engine_id: str


@dataclass(frozen=True)
class Skipped:
    """A well-formed input that is not an assessment result (a page view, a started attempt)."""

    location: str
    reason: str


@dataclass(frozen=True)
class Problem:
    location: str  # "line 3", "item 2"
    field: str  # dotted path inside the input, e.g. "result.score.max"
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.field}: {self.reason}"


class FieldError(InvalidInputError):
    """One input is malformed; ``problems`` name each field at fault."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in self.problems))


class RejectedFileError(InvalidInputError):
    """A file has malformed inputs; nothing from it was sent."""

    def __init__(self, path: str, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "\n  ".join(str(p) for p in self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{path}: {len(self.problems)} rejected, nothing sent:\n  {shown}{more}")


def fail(name: str, reason: str) -> FieldError:
    return FieldError([(name, reason)])


def derived_event_id(*parts: object) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, json.dumps(parts, sort_keys=True, default=str)))


def get(document: Any, path: str) -> Any:
    """The value at a dotted path, or None when any step is missing."""
    value = document
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def text(document: Any, path: str, prefix: str = "") -> str:
    value = get(document, path)
    if not isinstance(value, str) or not value:
        raise fail(prefix + path, "required text" if value is None else "must be text")
    return value


def number(document: Any, path: str, prefix: str = "") -> float:
    value = get(document, path)
    if value is None:
        raise fail(prefix + path, "required number")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise fail(prefix + path, f"must be a finite number (got {value!r})")
    return float(value)


def timestamp(value: Any, name: str) -> datetime:
    """An ISO 8601 time with a UTC offset (a naive time is ambiguous: refused)."""
    if not isinstance(value, str):
        raise fail(name, "required ISO 8601 time" if value is None else "must be an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise fail(name, f"not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise fail(name, f"needs a UTC offset: {value!r}")
    return parsed


def check_score(score: float, max_score: float, score_name: str, max_name: str) -> None:
    if max_score <= 0:
        raise fail(max_name, f"must be greater than 0 (got {max_score}): nothing to score against")
    if not 0 <= score <= max_score:
        raise fail(score_name, f"{score} is outside 0..{max_score}")


def json_documents(data: str) -> Iterator[tuple[str, Any]]:
    """The documents of a JSON file (one object, or an array) or of a JSON Lines file.

    A line that is not JSON comes out as a :class:`FieldError` in place of its document, so
    the caller reports every bad line, not just the first.
    """
    stripped = data.strip()
    try:
        whole = json.loads(stripped) if stripped else []
    except json.JSONDecodeError:
        whole = None
    if whole is not None:
        if isinstance(whole, list):
            yield from ((f"item {i + 1}", item) for i, item in enumerate(whole))
        else:
            yield "document", whole
        return
    for line_number, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            try:
                yield f"line {line_number}", json.loads(line)
            except json.JSONDecodeError as error:
                yield f"line {line_number}", fail("(line)", f"not JSON: {error.msg}")
