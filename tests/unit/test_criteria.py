"""The criteria engine, rule by rule and modifier by modifier."""

from __future__ import annotations

import itertools
import json
import math
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from credstream.commands.evaluate import evaluate as evaluate_command
from credstream.errors import InvalidInputError
from processors.catalog import Catalog, UnknownTenantError, load_catalogs, parse_catalog
from processors.criteria import (
    CREDENTIAL_NAMESPACE,
    EMPTY_PROGRESS,
    Progress,
    Rejected,
    credential_id,
    evaluate,
    replay,
)
from processors.criteria.bench import benchmark, synthetic_history
from schemas.models import AssessmentCompleted, CredentialRequested

T0 = datetime(2026, 9, 1, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "catalogs"


def catalog(*rules: str) -> Catalog:
    """A tenant "t" whose achievements a0, a1... have these rules (YAML flow mappings)."""
    body = "".join(
        f'  - {{key: a{i}, id: "urn:a:{i}", name: a{i}, description: d, '
        f"criteria: {{narrative: n, rule: {rule}}}}}\n"
        for i, rule in enumerate(rules)
    )
    text = 'tenant: t\nissuer: {id: "did:web:t", name: T, url: "https://t"}\nachievements:\n'
    return Catalog([parse_catalog(text + body, "t.yaml")])


_ids = itertools.count()


def event(
    target: str,
    score: float = 100,
    day: float = 0,
    *,
    max_score: float = 100,
    passed: bool | None = None,
    attempt: int = 1,
    learner: str = "l1",
    event_id: str | None = None,
    tenant: str = "t",
) -> AssessmentCompleted:
    course = target.partition("/")[0]
    return AssessmentCompleted(
        event_id=event_id or f"e{next(_ids):06d}",
        tenant_id=tenant,
        engine_id="engine",
        learner={"id": learner, "email": f"{learner}@example.edu"},
        course_id=course,
        assessment_id=target,
        score=score,
        max_score=max_score,
        passed=passed,
        attempt=attempt,
        occurred_at=T0 + timedelta(days=day),
    )


def run(
    cat: Catalog, events: Iterable[AssessmentCompleted], progress: Progress | None = None
) -> tuple[Progress, list[CredentialRequested]]:
    out: list[CredentialRequested] = []
    current = progress or Progress()
    for item in events:
        current, awards = evaluate(current, item, cat)
        out.extend(awards)
    return current, out


def keys(awards: list[CredentialRequested]) -> list[str]:
    return [a.achievement_key for a in awards]


# -- assessment thresholds ---------------------------------------------------------------


def test_no_threshold_means_any_result() -> None:
    _, awards = run(catalog('{assessment: "c/m1"}'), [event("c/m1", score=0)])
    assert keys(awards) == ["a0"]


def test_min_percent_is_inclusive_and_exact() -> None:
    cat = catalog('{assessment: "c/m1", min_percent: 80}')
    assert run(cat, [event("c/m1", score=3.99, max_score=5)])[1] == []
    # 4 / 5 * 100 is 80.00000000000001 in floats; the engine multiplies instead.
    assert keys(run(cat, [event("c/m1", score=4, max_score=5)])[1]) == ["a0"]
    assert run(cat, [event("c/m1", score=0, max_score=0)])[1] == []


def test_min_score() -> None:
    cat = catalog('{assessment: "c/m1", min_score: 7.5}')
    assert run(cat, [event("c/m1", score=7.4, max_score=10)])[1] == []
    assert keys(run(cat, [event("c/m1", score=7.5, max_score=10)])[1]) == ["a0"]


def test_passed_needs_the_engine_to_say_so() -> None:
    cat = catalog('{assessment: "c/m1", passed: true}')
    assert run(cat, [event("c/m1", passed=None), event("c/m1", passed=False)])[1] == []
    assert keys(run(cat, [event("c/m1", score=1, passed=True)])[1]) == ["a0"]


def test_thresholds_combine() -> None:
    cat = catalog('{assessment: "c/m1", passed: true, min_percent: 50}')
    assert run(cat, [event("c/m1", score=40, passed=True)])[1] == []
    assert keys(run(cat, [event("c/m1", score=60, passed=True)])[1]) == ["a0"]


def test_course_and_assessment_must_both_match() -> None:
    cat = catalog('{assessment: "c/m1"}')
    elsewhere = event("c/m1").model_copy(update={"course_id": "d"})
    assert run(cat, [event("d/m1"), event("c/m2"), elsewhere])[1] == []


# -- composites --------------------------------------------------------------------------


def test_all_of_any_of_n_of() -> None:
    cat = catalog(
        '{all_of: [{assessment: "c/m1"}, {assessment: "c/m2"}]}',
        '{any_of: [{assessment: "c/m1"}, {assessment: "c/m2"}]}',
        '{n_of: 2, of: [{assessment: "c/m1"}, {assessment: "c/m2"}, {assessment: "c/m3"}]}',
    )
    progress, first = run(cat, [event("c/m3")])
    assert first == []
    progress, second = run(cat, [event("c/m1", day=1)], progress)
    assert keys(second) == ["a1", "a2"]
    _, third = run(cat, [event("c/m2", day=2)], progress)
    assert keys(third) == ["a0"]


def test_the_same_assessment_twice_in_n_of_needs_distinct_thresholds_not_results() -> None:
    cat = catalog(
        '{n_of: 2, of: [{assessment: "c/m1", min_percent: 50}, '
        '{assessment: "c/m1", min_percent: 90}]}'
    )
    assert run(cat, [event("c/m1", score=60)])[1] == []
    _, awards = run(cat, [event("c/m1", score=95)])
    assert keys(awards) == ["a0"]
    assert len(awards[0].evidence) == 1  # one result meets both leaves


# -- max_attempts ------------------------------------------------------------------------


def test_attempts_beyond_the_limit_do_not_count() -> None:
    cat = catalog('{assessment: "c/m1", min_percent: 80, max_attempts: 2}')
    progress, awards = run(cat, [event("c/m1", score=50, attempt=1), event("c/m1", attempt=3)])
    assert awards == []
    _, awards = run(cat, [event("c/m1", score=85, attempt=2)], progress)
    assert keys(awards) == ["a0"]


def test_max_attempts_on_a_composite_applies_beneath_and_the_tightest_wins() -> None:
    cat = catalog(
        '{max_attempts: 1, all_of: [{assessment: "c/m1"}, {assessment: "c/m2", max_attempts: 3}]}'
    )
    assert run(cat, [event("c/m1"), event("c/m2", attempt=2)])[1] == []
    assert keys(run(cat, [event("c/m1"), event("c/m2", attempt=1)])[1]) == ["a0"]


# -- from / until ------------------------------------------------------------------------


def test_from_and_until_are_inclusive_whole_days() -> None:
    cat = catalog('{assessment: "c/m1", from: 2026-09-01, until: 2026-09-30}')
    start = (datetime(2026, 9, 1, tzinfo=UTC) - T0).days
    assert run(cat, [event("c/m1", day=start - 0.001 / 86400)])[1] == []  # 1 ms before
    assert keys(run(cat, [event("c/m1", day=start)])[1]) == ["a0"]
    last_ms = 30 - 0.001 / 86400
    assert keys(run(cat, [event("c/m1", day=last_ms)])[1]) == ["a0"]
    assert run(cat, [event("c/m1", day=30)])[1] == []


def test_dates_on_a_composite_apply_beneath() -> None:
    cat = catalog(
        '{until: "2026-09-10T12:00:00Z", all_of: [{assessment: "c/m1"}, {assessment: "c/m2"}]}'
    )
    assert run(cat, [event("c/m1", day=1), event("c/m2", day=10)])[1] == []
    assert keys(run(cat, [event("c/m1", day=1), event("c/m2", day=9.5)])[1]) == ["a0"]


# -- within_days -------------------------------------------------------------------------

WINDOWED = '{n_of: 2, within_days: 10, of: [{assessment: "c/m1"}, {assessment: "c/m2"}, {assessment: "c/m3"}]}'  # noqa: E501


def test_within_days_needs_one_window_holding_enough_results() -> None:
    cat = catalog(WINDOWED)
    progress, awards = run(cat, [event("c/m1", day=0), event("c/m2", day=11)])
    assert awards == []
    _, awards = run(cat, [event("c/m3", day=20)], progress)
    assert keys(awards) == ["a0"]
    assert awards[0].awarded_at == T0 + timedelta(days=20)
    assert [e.assessment_id for e in awards[0].evidence] == ["c/m2", "c/m3"]


def test_a_window_of_exactly_d_days_counts() -> None:
    cat = catalog(WINDOWED)
    assert keys(run(cat, [event("c/m1", day=0), event("c/m2", day=10)])[1]) == ["a0"]


def test_nested_windows_are_each_respected() -> None:
    cat = catalog(
        "{within_days: 30, all_of: ["
        '{within_days: 2, all_of: [{assessment: "c/m1"}, {assessment: "c/m2"}]},'
        '{assessment: "c/exam"}]}'
    )
    # m1 and m2 are 5 days apart: the inner window fails whatever the exam.
    assert run(cat, [event("c/m1", day=0), event("c/m2", day=5), event("c/exam", day=6)])[1] == []
    events = [
        event("c/m1", day=0),
        event("c/m2", day=40),
        event("c/m1", day=41),
        event("c/exam", day=45),
    ]
    _, awards = run(cat, events)
    assert keys(awards) == ["a0"]
    assert [e.occurred_at for e in awards[0].evidence] == [
        T0 + timedelta(days=d) for d in (40, 41, 45)
    ]


# -- awards: ids, time, evidence, once ---------------------------------------------------


def test_credential_id_is_uuid5_of_tenant_key_version_learner() -> None:
    assert uuid.uuid5(uuid.NAMESPACE_URL, "urn:credstream:credential-id") == CREDENTIAL_NAMESPACE
    expected = str(uuid.uuid5(CREDENTIAL_NAMESPACE, "t/a0/1/l1"))
    assert credential_id("t", "a0", 1, "l1") == expected
    _, awards = run(catalog('{assessment: "c/m1"}'), [event("c/m1")])
    assert awards[0].credential_id == expected
    assert awards[0].learner.email == "l1@example.edu"


@settings(max_examples=300, deadline=None)
@given(
    tenant=st.text(min_size=1), key=st.text(min_size=1), version=st.integers(1, 10**6),
    learner=st.text(min_size=1),
)  # fmt: skip
def test_credential_id_is_exactly_uuid5s_text(
    tenant: str, key: str, version: int, learner: str
) -> None:
    expected = str(uuid.uuid5(CREDENTIAL_NAMESPACE, f"{tenant}/{key}/{version}/{learner}"))
    assert credential_id(tenant, key, version, learner) == expected


def test_award_time_source_and_evidence_of_the_completing_event() -> None:
    cat = catalog('{all_of: [{assessment: "c/m1", min_percent: 60}, {assessment: "c/m2"}]}')
    first = event("c/m1", score=70, day=1)
    better = event("c/m1", score=90, day=2)
    last = event("c/m2", score=50, day=3)
    _, awards = run(cat, [first, better, last])
    (award,) = awards
    assert award.awarded_at == T0 + timedelta(days=3)
    assert award.source_event_id == last.event_id
    # The best result of each leaf up to the award is its evidence.
    assert [(e.event_id, e.score) for e in award.evidence] == [
        (better.event_id, 90.0),
        (last.event_id, 50.0),
    ]


def test_out_of_order_events_get_the_event_time_of_completion() -> None:
    cat = catalog('{all_of: [{assessment: "c/m1"}, {assessment: "c/m2"}]}')
    late = event("c/m2", day=5)
    early = event("c/m1", day=1)
    _, awards = run(cat, [late, early])
    assert awards[0].awarded_at == T0 + timedelta(days=5)
    assert awards[0].source_event_id == late.event_id


def test_an_emitted_award_keeps_its_time_when_an_earlier_event_arrives_late() -> None:
    cat = catalog('{any_of: [{assessment: "c/m1"}, {assessment: "c/m2"}]}')
    progress, awards = run(cat, [event("c/m2", day=5)])
    assert awards[0].awarded_at == T0 + timedelta(days=5)
    after, more = run(cat, [event("c/m1", day=1)], progress)
    assert more == []
    assert after is progress


def test_ties_at_the_same_millisecond_pick_the_smallest_event_id() -> None:
    cat = catalog('{all_of: [{assessment: "c/m1"}, {assessment: "c/m2"}]}')
    a = event("c/m1", day=1, event_id="b-event")
    b = event("c/m2", day=1, event_id="a-event")
    assert run(cat, [a, b])[1][0].source_event_id == "a-event"
    assert run(cat, [b, a])[1][0].source_event_id == "a-event"


def test_an_award_is_made_once_and_a_lower_later_score_takes_nothing_back() -> None:
    cat = catalog('{assessment: "c/m1", min_percent: 80}')
    progress, awards = run(cat, [event("c/m1", score=90)])
    assert len(awards) == 1
    progress, more = run(cat, [event("c/m1", score=95, day=1), event("c/m1", score=10)], progress)
    assert more == []
    assert progress.awarded("a0", 1)


def test_duplicates_and_unrelated_events_return_the_same_progress() -> None:
    cat = catalog('{all_of: [{assessment: "c/m1"}, {assessment: "c/m2"}]}')
    once = event("c/m1")
    progress, _ = run(cat, [once])
    assert evaluate(progress, once, cat) == (progress, [])
    assert evaluate(progress, once, cat)[0] is progress
    assert evaluate(progress, event("x/y"), cat)[0] is progress
    # A learner without progress: the shared empty progress comes back, not a new one.
    assert evaluate(None, event("x/y"), cat)[0] is EMPTY_PROGRESS
    assert evaluate(EMPTY_PROGRESS, event("c/m1", score=5), cat)[0] is not EMPTY_PROGRESS
    assert Progress() == EMPTY_PROGRESS


def test_the_benchmark_runs_over_a_synthetic_history_of_the_sample_catalog() -> None:
    tenant = load_catalogs(SAMPLE)["example-u"]
    events = synthetic_history(tenant, learners=30, seed=1)
    known = Catalog([tenant]).tenant("example-u").by_target
    assert all((e.course_id, e.assessment_id) in known for e in events)
    report = benchmark(Catalog([tenant]), events)
    assert report.events == len(events)
    assert report.awards > 0
    assert report.max_progress_bytes >= report.mean_progress_bytes > 0
    assert "events/s" in str(report)


def test_learners_are_independent_progress() -> None:
    cat = catalog('{all_of: [{assessment: "c/m1"}, {assessment: "c/m2"}]}')
    one, _ = run(cat, [event("c/m1", learner="l1")])
    _, awards = run(cat, [event("c/m2", learner="l2")], Progress())
    assert awards == []
    assert keys(run(cat, [event("c/m2", learner="l1")], one)[1]) == ["a0"]


# -- pathways ----------------------------------------------------------------------------

PATHWAY = (
    '{assessment: "c/m1"}',
    '{assessment: "c/m2"}',
    "{all_of: [{achievement: a0}, {achievement: a1}]}",
    "{all_of: [{achievement: a2}, {assessment: c/m3}]}",
)


def test_pathways_cascade_within_one_call() -> None:
    cat = catalog(*PATHWAY)
    progress, awards = run(cat, [event("c/m3", day=0), event("c/m1", day=1)])
    assert keys(awards) == ["a0"]
    final = event("c/m2", day=2)
    _, awards = run(cat, [final], progress)
    assert keys(awards) == ["a1", "a2", "a3"]
    assert {a.awarded_at for a in awards} == {T0 + timedelta(days=2)}
    assert {a.source_event_id for a in awards} == {final.event_id}
    # Pathways carry their prerequisites' evidence.
    assert [e.assessment_id for e in awards[1].evidence] == ["c/m1", "c/m2"]
    assert [e.assessment_id for e in awards[2].evidence] == ["c/m3", "c/m1", "c/m2"]


def test_a_pathway_is_dated_by_its_last_prerequisite_even_out_of_order() -> None:
    cat = catalog(*PATHWAY[:3])
    m2 = event("c/m2", day=7)
    _, awards = run(cat, [m2, event("c/m1", day=3)])
    assert keys(awards) == ["a1", "a0", "a2"]
    assert awards[2].awarded_at == T0 + timedelta(days=7)
    assert awards[2].source_event_id == m2.event_id


def test_pathway_versions() -> None:
    text = """\
tenant: t
issuer: {id: "did:web:t", name: T, url: "https://t"}
achievements:
  - {key: b, version: 1, id: "urn:b:1", name: b, description: d,
     criteria: {narrative: n, rule: {assessment: "c/v1", until: 2026-09-10}}}
  - {key: b, version: 2, id: "urn:b:2", name: b, description: d,
     criteria: {narrative: n, rule: {assessment: "c/v2", from: 2026-09-11}}}
  - {key: any, id: "urn:any", name: any, description: d,
     criteria: {narrative: n, rule: {achievement: b}}}
  - {key: only2, id: "urn:only2", name: only2, description: d,
     criteria: {narrative: n, rule: {achievement: b, version: 2}}}
"""
    cat = Catalog([parse_catalog(text, "t.yaml")])
    progress, awards = run(cat, [event("c/v1", day=2)])
    assert [(a.achievement_key, a.achievement_version) for a in awards] == [("b", 1), ("any", 1)]
    _, awards = run(cat, [event("c/v2", day=12)], progress)
    assert [(a.achievement_key, a.achievement_version) for a in awards] == [
        ("b", 2),
        ("only2", 1),
    ]


def test_prerequisites_are_timeless_inside_windows() -> None:
    cat = catalog(
        '{assessment: "c/m1"}',
        '{within_days: 2, all_of: [{achievement: a0}, {assessment: "c/m2"}, {assessment: "c/m3"}]}',
    )
    m3 = event("c/m3", day=30)
    _, awards = run(cat, [event("c/m1", day=0), event("c/m2", day=29), m3])
    assert keys(awards) == ["a0", "a1"]
    assert awards[1].awarded_at == T0 + timedelta(days=30)
    assert awards[1].source_event_id == m3.event_id
    assert [e.assessment_id for e in awards[1].evidence] == ["c/m1", "c/m2", "c/m3"]
    # The prerequisite, not the window, is what completes it here.
    late = catalog(
        '{assessment: "c/m1"}',
        '{within_days: 2, any_of: [{achievement: a0}, {assessment: "c/m2"}]}',
    )
    _, awards = run(late, [event("c/m1", day=9)])
    assert keys(awards) == ["a0", "a1"]
    assert awards[1].awarded_at == T0 + timedelta(days=9)


# -- input errors, state, serialization --------------------------------------------------


def test_unknown_tenant_and_incomparable_events_are_typed_errors() -> None:
    cat = catalog('{assessment: "c/m1"}')
    with pytest.raises(UnknownTenantError, match="tenant_id: no catalog for tenant 'other'"):
        evaluate(None, event("c/m1", tenant="other"), cat)
    naive = event("c/m1").model_copy(update={"occurred_at": datetime(2026, 1, 1)})
    with pytest.raises(InvalidInputError, match="occurred_at: needs a timezone"):
        evaluate(None, naive, cat)
    with pytest.raises(InvalidInputError, match="score: must be a finite number"):
        evaluate(None, event("c/m1", score=math.nan), cat)


def test_state_keeps_only_what_pending_achievements_can_use() -> None:
    cat = catalog(
        '{assessment: "c/m1", min_percent: 50}',
        '{all_of: [{assessment: "c/m1", min_percent: 90}, {assessment: "c/m2"}]}',
    )
    progress, _ = run(cat, [event("c/m1", score=10)])
    assert progress.results == {}  # meets no rule: not kept
    progress, _ = run(cat, [event("c/m1", score=60), event("c/m1", score=95)], progress)
    assert [r[2] for r in progress.results["c"]["c/m1"]] == [95.0]  # 60 only served a0
    progress, awards = run(cat, [event("c/m2")], progress)
    assert keys(awards) == ["a1"]
    assert progress.results == {}


def test_progress_bytes_round_trip_and_bad_bytes_are_rejected() -> None:
    cat = catalog(*PATHWAY, '{n_of: 2, of: [{assessment: "c/m4"}, {assessment: "c/m5"}]}')
    progress, _ = run(cat, [event("c/m1", score=12.5, passed=True), event("c/m4", attempt=2)])
    data = progress.to_bytes()
    assert Progress.from_bytes(data) == progress
    assert Progress.from_bytes(data).to_bytes() == data
    assert Progress.from_bytes(Progress().to_bytes()) == Progress()
    for bad in (b"", b'{"v":2,"r":{},"a":{}}', b"[]", b'{"v":1,"r":[],"a":{}}'):
        with pytest.raises(InvalidInputError, match="progress: not a valid progress record"):
            Progress.from_bytes(bad)


# -- replay and the evaluate command -----------------------------------------------------


def test_replay_reports_lines_the_processor_would_reject() -> None:
    cat = catalog('{assessment: "c/m1"}')
    good = event("c/m1").model_dump_json()
    lines = [good, "", "{not json", event("c/m1", tenant="zz").model_dump_json(), good]
    items = list(replay(lines, cat))
    assert isinstance(items[0], CredentialRequested)
    assert [(r.line, r.reason.split(":")[0]) for r in items[1:] if isinstance(r, Rejected)] == [
        (3, "Invalid JSON"),
        (4, "tenant_id"),
    ]
    assert len(items) == 3


def test_evaluate_command_prints_awards_as_json_lines(tmp_path: Path) -> None:
    events = [
        event(f"da-101/m{k}", score=85, day=k, learner="ada", tenant="example-u")
        for k in range(1, 6)
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(e.model_dump_json() + "\n" for e in events) + "garbage\n")
    runner = CliRunner()
    result = runner.invoke(
        evaluate_command, ["--catalog", str(SAMPLE), "--events", str(path), "--stats"]
    )
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["achievement_key"] for p in printed] == [
        "da-101-first-steps",
        "autumn-2026-cohort",
        "da-101",
    ]
    assert CredentialRequested.model_validate(printed[2]).credential_id == credential_id(
        "example-u", "da-101", 1, "ada"
    )
    assert "line 6: " in result.stderr
    assert "6 lines, 3 awards, 1 rejected" in result.stderr
    strict = runner.invoke(
        evaluate_command, ["--catalog", str(SAMPLE), "--events", str(path), "--strict"]
    )
    assert strict.exit_code == 1
