"""Properties of the engine over random histories, checked against a brute-force oracle.

The oracle re-implements the documented semantics the slow, obvious way (over the
pydantic rules, scanning every candidate time and window start), independently of the
engine's compiled trees and earliest-completion recursion.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.catalog import (
    AchievementRule,
    AllOf,
    AnyOf,
    AssessmentRule,
    Catalog,
    NOf,
    Rule,
    TenantCatalog,
    epoch_ms,
    parse_catalog,
)
from processors.criteria import Progress, evaluate
from schemas.models import AssessmentCompleted, CredentialRequested

T0 = datetime(2026, 9, 1, tzinfo=UTC)
DAY = 86_400_000

CATALOG_YAML = """\
tenant: t
issuer: {id: "did:web:t", name: T, url: "https://t"}
achievements:
  - {key: a0, id: "urn:a0", name: a0, description: d, criteria: {narrative: n, rule:
      {n_of: 2, within_days: 5, of: [{assessment: c/m1, min_percent: 60},
        {assessment: c/m2, min_percent: 60}, {assessment: c/m3, min_percent: 60}]}}}
  - {key: a1, id: "urn:a1", name: a1, description: d, criteria: {narrative: n, rule:
      {all_of: [{assessment: c/m1, min_percent: 80, max_attempts: 2},
        {assessment: c/m4, passed: true}]}}}
  - {key: a2, id: "urn:a2", name: a2, description: d, criteria: {narrative: n, rule:
      {any_of: [{assessment: c/m2, min_score: 90},
        {assessment: c/m3, from: "2026-09-06T00:00:00Z", until: "2026-09-09T12:00:00Z"}]}}}
  - {key: a3, id: "urn:a3", name: a3, description: d, criteria: {narrative: n, rule:
      {all_of: [{achievement: a0}, {achievement: a1}]}}}
  - {key: a4, id: "urn:a4", name: a4, description: d, criteria: {narrative: n, rule:
      {any_of: [{achievement: a2},
        {within_days: 3, max_attempts: 1, all_of: [{assessment: c/m4},
          {assessment: c/m1, min_percent: 50}]}]}}}
  - {key: a5, id: "urn:a5", name: a5, description: d, criteria: {narrative: n, rule:
      {within_days: 10, all_of: [
        {within_days: 2, n_of: 2, of: [{assessment: c/m1, min_percent: 50},
          {assessment: c/m2, min_percent: 50}, {assessment: c/m3, min_percent: 50}]},
        {assessment: c/m4, min_percent: 70}]}}}
  - {key: a5, version: 2, id: "urn:a5", name: a5, description: d, criteria: {narrative: n,
      rule: {all_of: [{achievement: a5, version: 1}, {achievement: a3}]}}}
  - {key: a6, id: "urn:a6", name: a6, description: d, criteria: {narrative: n, rule:
      {within_days: 3, n_of: 2, of: [{achievement: a2}, {assessment: c/m4, min_percent: 40},
        {assessment: c/m2, until: "2026-09-15T00:00:00Z"}]}}}
"""
TENANT: TenantCatalog = parse_catalog(CATALOG_YAML, "props.yaml")
CATALOG = Catalog([TENANT])


def make_event(index: int, target: str, half_days: int, score: int, attempt: int, passed: bool | None) -> AssessmentCompleted:  # fmt: skip  # noqa: E501
    return AssessmentCompleted(
        event_id=f"e{index:02d}",
        tenant_id="t",
        engine_id="engine",
        learner={"id": "learner"},
        course_id="c",
        assessment_id=f"c/{target}",
        score=score,
        max_score=100,
        passed=passed,
        attempt=attempt,
        occurred_at=T0 + timedelta(hours=12 * half_days),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[AssessmentCompleted]:
    count = draw(st.integers(1, 16))
    return [
        make_event(
            index,
            draw(st.sampled_from(["m1", "m2", "m3", "m4", "other"])),
            draw(st.integers(0, 40)),  # half days: ties are frequent
            draw(st.sampled_from([0, 40, 50, 60, 70, 80, 90, 100])),
            draw(st.integers(1, 3)),
            draw(st.sampled_from([None, True, False])),
        )
        for index in range(count)
    ]


def run(
    events: list[AssessmentCompleted], through_bytes: bool = False
) -> list[tuple[int, CredentialRequested]]:
    """Awards with the index of the event whose evaluation emitted them."""
    progress = Progress()
    out: list[tuple[int, CredentialRequested]] = []
    for position, event in enumerate(events):
        if through_bytes:
            progress = Progress.from_bytes(progress.to_bytes())
        progress, awards = evaluate(progress, event, CATALOG)
        out.extend((position, award) for award in awards)
    return out


# -- the oracle --------------------------------------------------------------------------

Scope = tuple[int | None, int, int]  # max_attempts, from, until
WIDE: Scope = (None, -(2**62), 2**62)


def _narrow(rule: Rule, scope: Scope) -> Scope:
    attempts, low, high = scope
    own = getattr(rule, "max_attempts", None)
    if own is not None:
        attempts = own if attempts is None else min(attempts, own)
    if rule.from_ is not None:
        low = max(low, epoch_ms(rule.from_))
    if rule.until is not None:
        high = min(high, epoch_ms(rule.until))
    return attempts, low, high


def _meets(rule: AssessmentRule, event: AssessmentCompleted, scope: Scope) -> bool:
    attempts, low, high = scope
    at = epoch_ms(event.occurred_at)
    return (
        (event.course_id, event.assessment_id) == (rule.course, rule.assessment)
        and low <= at <= high
        and (attempts is None or event.attempt <= attempts)
        and (rule.min_score is None or event.score >= rule.min_score)
        and (rule.min_percent is None or event.score >= rule.min_percent)  # max_score 100
        and (not rule.passed or event.passed is True)
    )


def sat(
    rule: Rule,
    events: list[AssessmentCompleted],
    awarded: dict[tuple[str, int], int],
    scope: Scope,
    low: int,
    high: int,
    cap: int,
) -> bool:
    """Assessment results in [low, high] and prerequisites awarded by ``cap`` meet it."""
    if isinstance(rule, AchievementRule):  # timeless: no window, no dates
        return any(
            key == rule.achievement and rule.version in (None, version) and at <= cap
            for (key, version), at in awarded.items()
        )
    scope = _narrow(rule, scope)
    if isinstance(rule, AssessmentRule):
        return any(
            _meets(rule, e, scope) and low <= epoch_ms(e.occurred_at) <= high for e in events
        )
    if isinstance(rule, AllOf):
        children, n = rule.all_of, len(rule.all_of)
    elif isinstance(rule, AnyOf):
        children, n = rule.any_of, 1
    else:
        assert isinstance(rule, NOf)
        children, n = rule.of, rule.n_of
    windows = [(low, high)]
    if rule.within_days:
        starts = [low, *(epoch_ms(e.occurred_at) for e in events)]
        windows = [(s, min(high, s + rule.within_days * DAY)) for s in starts if s >= low]
    return any(
        sum(sat(c, events, awarded, scope, lo, hi, cap) for c in children) >= n
        for lo, hi in windows
    )


def completion(
    rule: Rule, events: list[AssessmentCompleted], awarded: dict[tuple[str, int], int]
) -> int | None:
    """The earliest time at which ``events`` and ``awarded`` meet ``rule``, by brute force."""
    times = sorted({epoch_ms(e.occurred_at) for e in events} | set(awarded.values()))
    for t in times:
        if sat(rule, events, awarded, WIDE, -(2**62), t, t):
            return t
    return None


def oracle(events: list[AssessmentCompleted]) -> dict[tuple[str, int], int]:
    """Every award the whole history earns, with its time (catalog order is topological)."""
    awarded: dict[tuple[str, int], int] = {}
    for achievement in TENANT.achievements:
        at = completion(achievement.criteria.rule, events, awarded)
        if at is not None:
            awarded[(achievement.key, achievement.version)] = at
    return awarded


def in_time_order(events: list[AssessmentCompleted]) -> list[AssessmentCompleted]:
    return sorted(events, key=lambda e: (e.occurred_at, e.event_id))


def ms(award: CredentialRequested) -> int:
    return epoch_ms(award.awarded_at)


# -- properties --------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(histories())
def test_time_ordered_delivery_awards_exactly_what_the_oracle_awards(
    events: list[AssessmentCompleted],
) -> None:
    awards = [award for _, award in run(in_time_order(events))]
    found = {(a.achievement_key, a.achievement_version): ms(a) for a in awards}
    assert found == oracle(events)
    for award in awards:
        sources = {e.event_id for e in events if epoch_ms(e.occurred_at) == ms(award)}
        assert award.source_event_id in sources
        assert all(epoch_ms(e.occurred_at) <= ms(award) for e in award.evidence)


@settings(max_examples=300, deadline=None)
@given(histories(), st.data())
def test_any_order_gives_the_same_credentials_and_times_fixed_at_emission(
    events: list[AssessmentCompleted], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(events))
    reference = {a.credential_id: a for _, a in run(in_time_order(events))}
    emitted = run(shuffled)
    assert {a.credential_id for _, a in emitted} == set(reference)
    assert len(emitted) == len(reference)  # each at most once
    # Each award's time is the earliest completion over the events seen when it was
    # emitted (pathways: over the prerequisites' emitted times), never earlier than the
    # time over the whole history.
    awarded: dict[tuple[str, int], int] = {}
    definitions = {(a.key, a.version): a for a in TENANT.achievements}
    for position, award in emitted:
        pair = (award.achievement_key, award.achievement_version)
        seen = shuffled[: position + 1]
        rule = definitions[pair].criteria.rule
        assert ms(award) == completion(rule, seen, awarded)
        assert ms(award) >= ms(reference[award.credential_id])
        awarded[pair] = ms(award)


@settings(max_examples=200, deadline=None)
@given(histories(), st.data())
def test_non_crossing_orders_agree_on_every_field(
    events: list[AssessmentCompleted], data: st.DataObject
) -> None:
    """Events shuffled only within the same millisecond cannot cross an award's time."""
    shuffled = sorted(
        data.draw(st.permutations(events)), key=lambda e: e.occurred_at
    )  # stable: ties stay shuffled
    first = {a.credential_id: (ms(a), a.achievement_key) for _, a in run(in_time_order(events))}
    second = {a.credential_id: (ms(a), a.achievement_key) for _, a in run(shuffled)}
    assert first == second


@settings(max_examples=200, deadline=None)
@given(histories(), st.data())
def test_duplicates_change_nothing_and_awards_are_made_at_most_once(
    events: list[AssessmentCompleted], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(events))
    duplicated = list(shuffled)
    for _ in range(data.draw(st.integers(1, 10))):
        copy = data.draw(st.sampled_from(shuffled))
        first_at = duplicated.index(copy)
        duplicated.insert(data.draw(st.integers(first_at + 1, len(duplicated))), copy)
    plain = [award for _, award in run(shuffled)]
    with_duplicates = [award for _, award in run(duplicated)]
    assert with_duplicates == plain
    ids = [a.credential_id for a in with_duplicates]
    assert len(ids) == len(set(ids))


@settings(max_examples=200, deadline=None)
@given(histories(), histories())
def test_later_events_never_take_an_award_back(
    events: list[AssessmentCompleted], later: list[AssessmentCompleted]
) -> None:
    renamed = [e.model_copy(update={"event_id": f"later-{e.event_id}"}) for e in later]
    before = run(events)
    after = run(events + renamed)
    assert after[: len(before)] == before


@settings(max_examples=100, deadline=None)
@given(histories())
def test_progress_bytes_are_transparent(events: list[AssessmentCompleted]) -> None:
    assert run(events, through_bytes=True) == run(events)
