"""``evaluate``: one event in, new progress and awards out. Pure: no I/O, no clock."""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from credstream.errors import InvalidInputError
from processors.catalog import (
    AssessmentLeaf,
    Catalog,
    CompiledAchievement,
    Group,
    Leaf,
    Node,
    PrerequisiteLeaf,
    TenantIndex,
    epoch_ms,
)
from processors.criteria._progress import (
    ASSESSMENT_ID,
    AT,
    ATTEMPT,
    AWARDED_AT,
    COURSE_ID,
    EMPTY_PROGRESS,
    EVENT_ID,
    EVIDENCE,
    MAX_SCORE,
    PASSED,
    PROOF_MAX_SCORE,
    PROOF_SCORE,
    SCORE,
    SOURCE_EVENT_ID,
    Progress,
    Record,
    credential_id,
)
from schemas.models import AssessmentCompleted, CredentialRequested, Evidence

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = -(2**62)
_FOREVER = 2**62

Results = dict[str, Mapping[str, Sequence[Record]]]
Awards = dict[str, Record]
Times = Callable[[Leaf], Sequence[int]]


def evaluate(
    progress: Progress | None, event: AssessmentCompleted, catalog: Catalog
) -> tuple[Progress, list[CredentialRequested]]:
    """Fold one event into a learner's progress; return the new progress and new awards.

    Raises :class:`UnknownTenantError` for a tenant without a catalog and
    :class:`InvalidInputError` for an event the engine cannot compare (naive time,
    non-finite score). Returns ``progress`` itself (same object; ``EMPTY_PROGRESS`` for
    None) when nothing changed: an event no rule reads, a duplicate, a result that meets
    no pending rule. So ``new is old`` means no write is needed, when a learner without
    progress is passed as ``EMPTY_PROGRESS``.
    """
    index = catalog.tenant(event.tenant_id)
    current = progress if progress is not None else EMPTY_PROGRESS
    course_id, assessment_id = target = (event.course_id, event.assessment_id)
    awards = current.awards
    pending = [a for a in index.affected(course_id, assessment_id) if a.award_key not in awards]
    if not pending:
        return current, []
    in_course = current.results.get(course_id, {})
    stored = in_course.get(assessment_id, ())
    event_id = event.event_id
    for record in stored:
        if record[EVENT_ID] == event_id:
            return current, []
    at = _checked_time(event)
    score, max_score, passed, attempt = event.score, event.max_score, event.passed, event.attempt
    moved: list[CompiledAchievement] = []  # in dependency order, as ``affected`` is
    for achievement in pending:
        for leaf in achievement.leaves_by_target[target]:
            if leaf.accepts(at, score, max_score, passed, attempt):
                moved.append(achievement)
                break
    if not moved:
        return current, []

    merged = list(stored)
    insort(merged, [at, event_id, score, max_score, passed, attempt])
    results: Results = {**current.results, course_id: {**in_course, assessment_id: merged}}
    new_awards: Awards = dict(awards)
    emitted: list[CredentialRequested] = []

    queue = moved
    position = 0
    while position < len(queue):
        achievement = queue[position]
        position += 1
        awarded = _award(achievement, index, event, results, new_awards)
        if awarded is None:
            continue
        emitted.append(awarded)
        # Cascade: dependents come later in dependency order, so they join the rest of
        # the queue, which stays sorted.
        for dependent in index.dependents_of(*achievement.pair):
            if dependent.award_key not in new_awards and dependent not in queue:
                insort(queue, dependent, lo=position, key=_order)
    if emitted:
        _forget(index, results, new_awards)
    return Progress(results, new_awards), emitted


def _order(achievement: CompiledAchievement) -> int:
    return achievement.order


def _checked_time(event: AssessmentCompleted) -> int:
    if event.occurred_at.tzinfo is None:
        raise InvalidInputError(f"occurred_at: needs a timezone (event {event.event_id})")
    if not (math.isfinite(event.score) and math.isfinite(event.max_score)):
        raise InvalidInputError(f"score: must be a finite number (event {event.event_id})")
    return epoch_ms(event.occurred_at)


def _accepts(leaf: AssessmentLeaf, record: Record) -> bool:
    return leaf.accepts(
        record[AT], record[SCORE], record[MAX_SCORE], record[PASSED], record[ATTEMPT]
    )


def _stored(results: Results, leaf: AssessmentLeaf) -> Sequence[Record]:
    course_id, assessment_id = leaf.target
    return results.get(course_id, {}).get(assessment_id, ())


def _award(
    achievement: CompiledAchievement,
    index: TenantIndex,
    event: AssessmentCompleted,
    results: Results,
    awards: Awards,
) -> CredentialRequested | None:
    """Award ``achievement`` if its rule is met; record it in ``awards``."""
    needed = achievement.min_targets
    if needed > 1:
        # Cheapest test first (most events complete nothing): enough assessments have
        # results at all.
        have = sum(
            1
            for course_id, assessment_id in achievement.targets
            if assessment_id in results.get(course_id, {})
        )
        if have < needed:
            return None
    cache: dict[int, Sequence[int]] = {}

    def times(leaf: Leaf) -> Sequence[int]:
        found = cache.get(id(leaf))
        if found is None:
            found = _leaf_times(leaf, results, awards)
            cache[id(leaf)] = found
        return found

    if not _possible(achievement.rule, times):
        return None
    completed = _earliest(achievement.rule, _NEVER, _FOREVER, times)
    if completed is None:
        return None

    proofs: dict[str, Record] = {}
    sources: list[tuple[int, str]] = []  # prerequisite awards used: (awarded_at, source)
    _collect(
        achievement.rule, _NEVER, completed, completed, times, results, awards, proofs, sources
    )
    evidence = sorted(proofs.values())
    sources.extend((p[AT], p[EVENT_ID]) for p in evidence)
    # Ties at the completing millisecond are broken by event id, so any order agrees.
    source = min(event_id for at, event_id in sources if at == completed)
    keep = any(d.award_key not in awards for d in index.dependents_of(*achievement.pair))
    awards[achievement.award_key] = [completed, source, evidence if keep else []]
    return CredentialRequested(
        credential_id=credential_id(
            event.tenant_id, achievement.key, achievement.version, event.learner.id
        ),
        tenant_id=event.tenant_id,
        achievement_key=achievement.key,
        achievement_version=achievement.version,
        learner=event.learner,  # validated and frozen: taken as it is
        awarded_at=_EPOCH + timedelta(milliseconds=completed),
        evidence=tuple(
            Evidence(
                event_id=p[EVENT_ID],
                course_id=p[COURSE_ID],
                assessment_id=p[ASSESSMENT_ID],
                score=p[PROOF_SCORE],
                max_score=p[PROOF_MAX_SCORE],
                occurred_at=_EPOCH + timedelta(milliseconds=p[AT]),
            )
            for p in evidence
        ),
        source_event_id=source,
    )


def _leaf_times(leaf: Leaf, results: Results, awards: Awards) -> Sequence[int]:
    """The sorted times at which ``leaf`` is met."""
    if isinstance(leaf, AssessmentLeaf):
        return [r[AT] for r in _stored(results, leaf) if _accepts(leaf, r)]
    return sorted(award[AWARDED_AT] for award in _prerequisite_awards(leaf, awards))


def _prerequisite_awards(leaf: PrerequisiteLeaf, awards: Awards) -> list[Record]:
    return [awards[key] for key in leaf.award_keys if key in awards]


def _possible(node: Node, times: Times) -> bool:
    """The rule ignoring windows: necessary for the rule itself."""
    if not isinstance(node, Group):
        return bool(times(node))
    needed, left = node.n, len(node.children)
    for child in node.children:
        if _possible(child, times):
            needed -= 1
            if not needed:
                return True
        left -= 1
        if left < needed:
            return False
    return False


def _earliest(node: Node, low: int, high: int, times: Times) -> int | None:
    """The earliest time t such that the assessment results in [low, min(t, high)] and the
    prerequisites awarded by t meet ``node``."""
    if isinstance(node, AssessmentLeaf):
        found = times(node)
        i = bisect_left(found, low)
        return found[i] if i < len(found) and found[i] <= high else None
    if isinstance(node, PrerequisiteLeaf):
        found = times(node)
        return found[0] if found else None  # timeless: the window does not apply
    window = node.window_ms
    if window is None:
        return _combine(node, low, high, times)
    best: int | None = None
    for start in _starts(node, low, high, times):
        # A window starting later cannot complete earlier: assessment results in it are
        # no earlier than its start, and prerequisites complete alike in every window.
        if best is not None and start >= best:
            break
        end = _combine(node, start, min(high, start + window), times)
        if end is not None and (best is None or end < best):
            best = end
    return best


def _combine(node: Group, low: int, high: int, times: Times) -> int | None:
    """The n-th earliest completion among the children, all inside [low, high]."""
    ends: list[int] = []
    left = len(node.children)
    for child in node.children:
        end = _earliest(child, low, high, times)
        left -= 1
        if end is not None:
            ends.append(end)
        elif len(ends) + left < node.n:
            return None
    if len(ends) < node.n:
        return None
    ends.sort()
    return ends[node.n - 1]


def _starts(node: Group, low: int, high: int, times: Times) -> list[int]:
    """Candidate window starts: a window can always slide to its earliest result. With no
    result in range, one (empty) window still lets prerequisites meet the rule."""
    starts = {t for leaf in node.leaves for t in times(leaf) if low <= t <= high}
    return sorted(starts) if starts else [low]


def _collect(
    node: Node,
    low: int,
    high: int,
    completed: int,
    times: Times,
    results: Results,
    awards: Awards,
    proofs: dict[str, Record],
    sources: list[tuple[int, str]],
) -> None:
    """Gather the evidence of a rule met by ``completed`` within [low, high]: for every
    met leaf its best result inside the chosen window (the earliest window start that
    meets each ``within_days`` group) or its earliest prerequisite award."""
    if isinstance(node, Group):
        if node.window_ms is not None:
            for start in _starts(node, low, high, times):
                end = min(high, start + node.window_ms)
                met = _combine(node, start, end, times)
                if met is not None and met <= completed:
                    low, high = start, end
                    break
        for child in node.children:
            met = _earliest(child, low, high, times)
            if met is not None and met <= completed:
                args = (low, high, completed, times, results, awards, proofs, sources)
                _collect(child, *args)
    elif isinstance(node, AssessmentLeaf):
        course_id, assessment_id = node.target
        best = min(
            (r for r in _stored(results, node) if low <= r[AT] <= high and _accepts(node, r)),
            key=_rank,
        )
        proofs[best[EVENT_ID]] = [
            best[AT], best[EVENT_ID], course_id, assessment_id, best[SCORE], best[MAX_SCORE]
        ]  # fmt: skip
    else:
        award = min(_prerequisite_awards(node, awards), key=lambda a: a[AWARDED_AT])
        proofs.update((p[EVENT_ID], p) for p in award[EVIDENCE])
        sources.append((award[AWARDED_AT], award[SOURCE_EVENT_ID]))


def _rank(record: Record) -> tuple[float, float, int, str]:
    """Best first: highest percentage, then score, then earliest, then event id."""
    score, max_score = record[SCORE], record[MAX_SCORE]
    percent = score / max_score if max_score > 0 else -math.inf
    return (-percent, -score, record[AT], record[EVENT_ID])


def _forget(index: TenantIndex, results: Results, awards: Awards) -> None:
    """Drop what no pending achievement can use any more (bounds the state)."""
    for course_id, assessments in list(results.items()):
        kept_course: dict[str, Sequence[Record]] = {}
        for assessment_id, stored in assessments.items():
            target = (course_id, assessment_id)
            leaves = [
                leaf
                for a in index.affected(course_id, assessment_id)
                if a.award_key not in awards
                for leaf in a.leaves_by_target[target]
            ]
            # Pending achievements only shrink: a result no pending leaf accepts is dead.
            kept = [r for r in stored if any(_accepts(leaf, r) for leaf in leaves)]
            if kept:
                kept_course[assessment_id] = kept
        if kept_course:
            results[course_id] = kept_course
        else:
            del results[course_id]
    for key, award in awards.items():
        if not award[EVIDENCE]:
            continue
        dependents = index.dependents_of(*_pair(key))
        if all(d.award_key in awards for d in dependents):
            awards[key] = [award[AWARDED_AT], award[SOURCE_EVENT_ID], []]


def _pair(award_key: str) -> tuple[str, int]:
    key, _, version = award_key.rpartition("@")
    return key, int(version)
