"""A synthetic MOOC workload: pure and reproducible from its seed.

Learners pick courses with a Zipf-like popularity skew, work through each course's
assessments in order, pass with a probability that depends on their ability, retake what
they fail (up to ``max_attempts``, then drop out of the course), and the stream carries a
few percent duplicate deliveries and events delivered out of order, as real engines do.

The courses can come from a description, or from an achievement catalog itself (its rules'
``assessment: "da-101/m1"`` entries), so a test can generate events that exercise a given
catalog::

    {"courses": [{"id": "da-101", "assessments": ["da-101/m1", ..., "da-101/m6"],
                  "max_score": 100, "pass_mark": 0.7}]}
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from credstream.errors import InvalidInputError
from schemas.models import AssessmentCompleted, Learner


@dataclass(frozen=True)
class CourseSpec:
    course_id: str
    assessment_ids: tuple[str, ...]
    max_score: float = 100.0
    pass_mark: float = 0.6  # fraction of max_score that passes

    def __post_init__(self) -> None:
        if not self.assessment_ids:
            raise InvalidInputError(f"course {self.course_id}: needs at least one assessment")
        if self.max_score <= 0 or not 0 < self.pass_mark <= 1:
            raise InvalidInputError(
                f"course {self.course_id}: max_score must be > 0, pass_mark in (0, 1]"
            )


@dataclass(frozen=True)
class Workload:
    courses: tuple[CourseSpec, ...]
    learners: int = 1000
    events: int = 10_000
    seed: int = 0
    tenant_id: str = "mooc"
    engine_id: str = "synthetic"
    # Learner ids are f"{learner_prefix}{n:07d}": a new prefix is a new cohort.
    learner_prefix: str = "learner-"
    start: datetime = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    events_per_second: float = 20.0  # of simulated time, for occurred_at
    popularity_skew: float = 1.1  # Zipf exponent across courses
    mean_ability: float = 0.72  # mean score fraction of a learner's first attempt
    max_attempts: int = 3
    # None: the same ``learners`` all along, so awards thin out as they finish what they
    # can (over 100,000 events, from one award per 2.4 events to one per 28). A number:
    # the cohort turns over, one learner leaving and a new one joining every
    # ``turnover_events`` events, so each gets that many on average; the stream starts
    # from a cohort already turning over, and its share of awards stays about the same.
    turnover_events: int | None = None
    duplicate_rate: float = 0.02
    out_of_order_rate: float = 0.03
    attributes: Mapping[str, str] = field(default_factory=lambda: {"source": "synthetic"})

    def __post_init__(self) -> None:
        if not self.courses:
            raise InvalidInputError("a workload needs at least one course")
        if self.learners < 1 or self.events < 0:
            raise InvalidInputError("learners must be >= 1 and events >= 0")
        if self.turnover_events is not None and self.turnover_events < 1:
            raise InvalidInputError("turnover_events must be >= 1")
        for name in ("duplicate_rate", "out_of_order_rate"):
            if not 0 <= getattr(self, name) < 0.5:
                raise InvalidInputError(f"{name} must be in [0, 0.5)")


def synthetic_courses(count: int, seed: int = 0) -> tuple[CourseSpec, ...]:
    """``count`` courses ``course-001`` ... with 3 to 8 assessments ``course-001/m1`` ..."""
    rng = random.Random(f"courses-{seed}")  # noqa: S311 (a simulation, not a secret)
    return tuple(
        CourseSpec(f"course-{i:03d}", tuple(f"course-{i:03d}/m{m}" for m in range(1, n + 1)))
        for i, n in ((i, rng.randint(3, 8)) for i in range(1, count + 1))
    )


def courses_from_description(
    description: Mapping[str, Any] | Sequence[Any],
) -> tuple[CourseSpec, ...]:
    """Courses from ``{"courses": [{"id", "assessments", "max_score"?, "pass_mark"?}]}``.

    ``course_id`` / ``assessment_ids`` are accepted as key names too. Any other document
    (an achievement catalog) is searched for ``assessment: "<course>/<id>"`` entries, see
    :func:`courses_from_assessments`.
    """
    if isinstance(description, Mapping) and "courses" not in description:
        found: list[str] = []
        _collect_assessments(description, found)
        return courses_from_assessments(found)
    items = description.get("courses") if isinstance(description, Mapping) else description
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        raise InvalidInputError("courses: expected a non-empty list of courses")
    courses = []
    for index, item in enumerate(items):
        where = f"courses[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidInputError(f"{where}: expected an object")
        course_id = item.get("id", item.get("course_id"))
        assessments = item.get("assessments", item.get("assessment_ids"))
        if not isinstance(course_id, str) or not course_id:
            raise InvalidInputError(f"{where}.id: expected a course id")
        if (
            not isinstance(assessments, Sequence)
            or isinstance(assessments, str)
            or not all(isinstance(a, str) and a for a in assessments)
        ):
            raise InvalidInputError(f"{where}.assessments: expected a list of assessment ids")
        try:
            max_score = float(item.get("max_score", 100.0))
            pass_mark = float(item.get("pass_mark", 0.6))
        except (TypeError, ValueError):
            raise InvalidInputError(f"{where}: max_score and pass_mark are numbers") from None
        courses.append(CourseSpec(course_id, tuple(assessments), max_score, pass_mark))
    return tuple(courses)


def courses_from_assessments(assessment_ids: Sequence[str]) -> tuple[CourseSpec, ...]:
    """Courses from ``course/assessment`` ids, in the order they first appear."""
    courses: dict[str, list[str]] = {}
    for assessment in assessment_ids:
        course, slash, _ = assessment.partition("/")
        if not slash or not course:
            raise InvalidInputError(f"assessment {assessment!r}: expected <course>/<assessment>")
        if assessment not in courses.setdefault(course, []):
            courses[course].append(assessment)
    if not courses:
        raise InvalidInputError("courses: no assessments found")
    return tuple(CourseSpec(course, tuple(ids)) for course, ids in courses.items())


def _collect_assessments(node: Any, found: list[str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "assessment" and isinstance(value, str):
                found.append(value)
            else:
                _collect_assessments(value, found)
    elif isinstance(node, list):
        for item in node:
            _collect_assessments(item, found)


@dataclass
class _Progress:
    module: int = 0
    attempt: int = 1


class _Cohort:
    """The learners' state: where each is in each course, and how able each is."""

    def __init__(self, workload: Workload, rng: random.Random) -> None:
        self._workload = workload
        self._rng = rng
        count = len(workload.courses)
        self._weights = [1 / (rank + 1) ** workload.popularity_skew for rank in range(count)]
        self._abilities: dict[int, float] = {}
        self._progress: dict[tuple[int, int], _Progress] = {}
        self._clock = workload.start
        self._first_learner = 0
        self._steps = 0
        if workload.turnover_events is not None:
            # Unseen, so that the stream starts steady: every learner it begins with joined
            # before it, some of them part-way through a course, as in any day's stream.
            for _ in range(workload.learners * workload.turnover_events):
                self._step()

    def next_event(self) -> AssessmentCompleted:
        workload, rng = self._workload, self._rng
        learner, course, module, attempt, score, passed = self._step()
        gap = rng.expovariate(workload.events_per_second)
        self._clock += timedelta(milliseconds=round(gap * 1000))
        return AssessmentCompleted(
            event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            tenant_id=workload.tenant_id,
            engine_id=workload.engine_id,
            learner=Learner(
                id=f"{workload.learner_prefix}{learner:07d}",
                email=f"{workload.learner_prefix}{learner:07d}@example.org"
                if learner % 4 == 0
                else None,
            ),
            course_id=course.course_id,
            assessment_id=course.assessment_ids[module],
            score=score,
            max_score=course.max_score,
            passed=passed,
            attempt=attempt,
            occurred_at=self._clock,
            attributes=dict(workload.attributes),
        )

    def _step(self) -> tuple[int, CourseSpec, int, int, float, bool]:
        """One learner takes one assessment: (learner, course, module, attempt, score,
        passed), the learner's state moved on."""
        workload, rng = self._workload, self._rng
        learner = self._first_learner + rng.randrange(workload.learners)
        self._steps += 1
        if workload.turnover_events is not None:
            self._first_learner = self._steps // workload.turnover_events
        course_index = rng.choices(range(len(workload.courses)), self._weights)[0]
        course = workload.courses[course_index]
        state = self._progress.setdefault((learner, course_index), _Progress())
        if state.module >= len(course.assessment_ids):  # finished or dropped: enrols again
            state.module, state.attempt = 0, 1
        if learner not in self._abilities:
            ability = rng.gauss(workload.mean_ability, 0.15)
            self._abilities[learner] = min(0.99, max(0.15, ability))
        mean = self._abilities[learner] + 0.06 * (state.attempt - 1)  # retakes go better
        score = round(min(1.0, max(0.0, rng.gauss(mean, 0.12))) * course.max_score, 1)
        passed = score >= course.pass_mark * course.max_score
        module, attempt = state.module, state.attempt
        if passed:
            state.module, state.attempt = state.module + 1, 1
        elif state.attempt >= workload.max_attempts:
            state.module = len(course.assessment_ids)  # gives up on this course
        else:
            state.attempt += 1
        return learner, course, module, attempt, score, passed


def cohort_completion(
    workload: Workload, course_id: str, assessment_id: str
) -> Iterator[AssessmentCompleted]:
    """A burst: ``workload.events`` distinct learners each pass ``assessment_id`` once.

    A cohort finishing a course at the same moment: with a catalog whose achievement
    needs just this result, every event completes an award (the issuance peak).
    """
    rng = random.Random(workload.seed)  # noqa: S311 (a simulation, not a secret)
    max_score = next((c.max_score for c in workload.courses if c.course_id == course_id), 100.0)
    clock = workload.start
    for n in range(workload.events):
        clock += timedelta(milliseconds=round(rng.expovariate(workload.events_per_second) * 1000))
        learner = f"{workload.learner_prefix}{n:07d}"
        yield AssessmentCompleted(
            event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            tenant_id=workload.tenant_id,
            engine_id=workload.engine_id,
            learner=Learner(id=learner, email=f"{learner}@example.org" if n % 4 == 0 else None),
            course_id=course_id,
            assessment_id=assessment_id,
            score=round(rng.uniform(0.8, 1.0) * max_score, 1),
            max_score=max_score,
            passed=True,
            attempt=1,
            occurred_at=clock,
            attributes=dict(workload.attributes),
        )


def generate(workload: Workload) -> Iterator[AssessmentCompleted]:
    """Exactly ``workload.events`` events (duplicates included), the same for the same seed."""
    rng = random.Random(workload.seed)  # noqa: S311 (a simulation, not a secret)
    cohort = _Cohort(workload, rng)
    recent: deque[AssessmentCompleted] = deque(maxlen=500)
    held: list[tuple[int, AssessmentCompleted]] = []  # (release once n were emitted, event)
    emitted = 0
    while emitted < workload.events:
        # Release a held-back event when due, or when only held-back events remain.
        if held and (held[0][0] <= emitted or emitted + len(held) >= workload.events):
            yield held.pop(0)[1]
            emitted += 1
            continue
        if recent and rng.random() < workload.duplicate_rate:
            event = rng.choice(recent)  # a redelivery: the same event again
        else:
            event = cohort.next_event()
            recent.append(event)
            if rng.random() < workload.out_of_order_rate:
                held.append((emitted + rng.randint(1, 50), event))
                held.sort(key=lambda pair: pair[0])
                continue
        yield event
        emitted += 1
