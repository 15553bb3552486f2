"""The synthetic MOOC workload: reproducible, skewed, with retakes, duplicates and disorder."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from credstream.errors import InvalidInputError
from producers import CourseSpec, Workload, courses_from_description, generate, synthetic_courses
from schemas.models import AssessmentCompleted

CATALOG = {
    "courses": [
        {"id": "da-101", "assessments": [f"da-101/m{i}" for i in range(1, 7)], "pass_mark": 0.7},
        {"course_id": "ml-201", "assessment_ids": ["ml-201/m1", "ml-201/final"], "max_score": 20},
    ]
}


def _workload(**changes: object) -> Workload:
    options: dict[str, object] = {
        "courses": synthetic_courses(20), "learners": 2000, "events": 20_000, "seed": 7,
    } | changes  # fmt: skip
    return Workload(**options)  # type: ignore[arg-type]


def test_same_seed_same_events_other_seed_other_events() -> None:
    first = list(generate(_workload(events=500)))
    assert first == list(generate(_workload(events=500)))
    assert [e.event_id for e in first] != [
        e.event_id for e in generate(_workload(events=500, seed=8))
    ]


def test_exact_count_with_a_few_percent_duplicates_and_out_of_order() -> None:
    events = list(generate(_workload()))
    assert len(events) == 20_000
    counts = Counter(e.event_id for e in events)
    duplicates = sum(n - 1 for n in counts.values())
    assert 0.01 * len(events) < duplicates < 0.03 * len(events)
    first = {}
    for e in events:
        first.setdefault(e.event_id, e)
    unique = list(first.values())
    late = sum(1 for a, b in itertools.pairwise(unique) if b.occurred_at < a.occurred_at)
    assert 0.01 * len(unique) < late < 0.06 * len(unique)


def test_popularity_is_skewed_and_pass_rates_realistic() -> None:
    events = list({e.event_id: e for e in generate(_workload())}.values())
    per_course = Counter(e.course_id for e in events).most_common()
    assert per_course[0][1] > 5 * per_course[-1][1]
    pass_rate = sum(1 for e in events if e.passed) / len(events)
    assert 0.6 < pass_rate < 0.9
    retakes = [e for e in events if e.attempt > 1]
    assert 0.05 * len(events) < len(retakes) < 0.35 * len(events)
    assert max(e.attempt for e in events) == 3
    assert all(e.passed == (e.score >= 0.6 * e.max_score) for e in events)


def test_learners_progress_through_assessments_in_order() -> None:
    events = list({e.event_id: e for e in generate(_workload())}.values())
    events.sort(key=lambda e: e.occurred_at)
    courses = {c.course_id: c for c in synthetic_courses(20)}
    reached: dict[tuple[str, str], int] = {}
    for e in events:
        index = courses[e.course_id].assessment_ids.index(e.assessment_id)
        key = (e.learner.id, e.course_id)
        # A learner starts at m1, and moves on only after passing (or re-enrols at m1).
        assert index in (0, reached.get(key, 0))
        reached[key] = index + 1 if e.passed else index


def test_a_catalog_description_drives_the_workload() -> None:
    courses = courses_from_description(CATALOG)
    assert courses[0] == CourseSpec(
        "da-101", tuple(f"da-101/m{i}" for i in range(1, 7)), 100.0, 0.7
    )
    events = list(
        generate(Workload(courses, learners=50, events=2000, tenant_id="uni", engine_id="lms"))
    )
    assert {e.assessment_id for e in events} <= {
        *courses[0].assessment_ids,
        *courses[1].assessment_ids,
    }
    assert {e.max_score for e in events if e.course_id == "ml-201"} == {20.0}
    assert {(e.tenant_id, e.engine_id) for e in events} == {("uni", "lms")}
    completed = {e.learner.id for e in events if e.assessment_id == "da-101/m6" and e.passed}
    assert completed  # some learners finish the whole course


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ({"courses": []}, "courses: expected a non-empty list"),
        ({}, "courses: no assessments found"),
        ({"courses": ["da-101"]}, r"courses\[0\]: expected an object"),
        ({"courses": [{"assessments": ["a"]}]}, r"courses\[0\].id: expected a course id"),
        (
            {"courses": [{"id": "c", "assessments": "a"}]},
            r"courses\[0\].assessments: expected a list",
        ),
        ({"courses": [{"id": "c", "assessments": []}]}, "course c: needs at least one assessment"),
        ({"courses": [{"id": "c", "assessments": ["a"], "pass_mark": 2}]}, "pass_mark in"),
        ({"courses": [{"id": "c", "assessments": ["a"], "max_score": "x"}]}, "are numbers"),
    ],
)
def test_bad_descriptions_are_named(description: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        courses_from_description(description)


def test_bad_workloads_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="at least one course"):
        Workload(())
    with pytest.raises(InvalidInputError, match="duplicate_rate"):
        _workload(duplicate_rate=0.9)
    with pytest.raises(InvalidInputError, match="turnover_events"):
        _workload(turnover_events=0)


def test_a_turning_over_cohort_is_steady_along_the_stream() -> None:
    closed = list(generate(_workload(duplicate_rate=0, out_of_order_rate=0)))
    turning = list(generate(_workload(turnover_events=10, duplicate_rate=0, out_of_order_rate=0)))
    assert turning == list(
        generate(_workload(turnover_events=10, duplicate_rate=0, out_of_order_rate=0))
    )

    def first_modules(events: list[AssessmentCompleted]) -> tuple[float, float]:
        """The share of first modules taken, in the first and the last fifth of the stream."""
        fifth = len(events) // 5
        return tuple(  # type: ignore[return-value]
            sum(e.assessment_id.endswith("/m1") for e in part) / fifth
            for part in (events[:fifth], events[-fifth:])
        )

    # A closed cohort starts all at the first module and moves on; a turning one is the same
    # mix of learners at the start as at the end (new ones join, some are part-way through).
    early, late = first_modules(closed)
    assert early > 1.5 * late
    early, late = first_modules(turning)
    assert abs(early - late) < 0.1 * late

    # One learner joins (and one leaves) every turnover_events events: the cohort moves on.
    def median_learner(events: list[AssessmentCompleted]) -> int:
        return sorted(int(e.learner.id.removeprefix("learner-")) for e in events)[len(events) // 2]

    moved = median_learner(turning[-2000:]) - median_learner(turning[:2000])
    assert 1600 < moved < 2000  # (20,000 - 2,000) events / 10


def test_an_achievement_catalog_drives_the_workload_through_its_rules() -> None:
    catalog = {
        "tenant": "example-u",
        "achievements": [
            {"key": "first", "criteria": {"rule": {"assessment": "da-101/m1"}}},
            {
                "key": "da-101",
                "criteria": {
                    "rule": {
                        "n_of": 2,
                        "of": [
                            {"assessment": f"da-101/m{i}", "min_percent": 80} for i in (1, 2, 3)
                        ],
                    }
                },
            },
            {"key": "sql", "criteria": {"rule": {"all_of": [{"assessment": "sql-110/exam"}]}}},
        ],
    }
    courses = courses_from_description(catalog)
    assert [(c.course_id, c.assessment_ids) for c in courses] == [
        ("da-101", ("da-101/m1", "da-101/m2", "da-101/m3")),
        ("sql-110", ("sql-110/exam",)),
    ]
    with pytest.raises(InvalidInputError, match="no assessments found"):
        courses_from_description({"tenant": "x"})
    with pytest.raises(InvalidInputError, match="expected <course>/<assessment>"):
        courses_from_description({"rule": {"assessment": "m1"}})
