"""``evaluate``: one event in, new progress and awards out. Pure: no I/O, no clock."""

from __future__ import annotations

import heapq
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
    Target,
    TenantIndex,
    epoch_ms,
)
from processors.criteria._progress import (
    Awarded,
    Progress,
    Proof,
    Result,
    credential_id,
)
from schemas.models import AssessmentCompleted, CredentialRequested, Evidence, Learner

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Times = Callable[[Leaf], Sequence[int]]


def evaluate(
    progress: Progress | None, event: AssessmentCompleted, catalog: Catalog
) -> tuple[Progress, list[CredentialRequested]]:
    """Fold one event into a learner's progress; return the new progress and new awards.

    Raises :class:`UnknownTenantError` for a tenant without a catalog and
    :class:`InvalidInputError` for an event the engine cannot compare (naive time,
    non-finite score). Returns ``progress`` itself (same object) when nothing changed:
    an event no rule reads, a duplicate, a result that meets no pending rule.
    """
    index = catalog.tenant(event.tenant_id)
    current = progress if progress is not None else Progress()
    target = (event.course_id, event.assessment_id)
    awards = current.awards
    pending = [a for a in index.affected(*target) if (a.key, a.version) not in awards]
    if not pending:
        return current, []
    stored = current.results.get(target, ())
    event_id = event.event_id
    for result in stored:
        if result.event_id == event_id:
            return current, []
    result = _result(event)
    moved = [
        achievement
        for achievement in pending
        if any(leaf.accepts(*_leaf_args(result)) for leaf in achievement.leaves_by_target[target])
    ]
    if not moved:
        return current, []

    results = dict(current.results)
    merged = list(stored)
    insort(merged, result)
    results[target] = tuple(merged)
    new_awards = dict(awards)
    emitted: list[CredentialRequested] = []

    queue = [(a.order, a) for a in moved]  # orders are unique: the heap never compares a
    heapq.heapify(queue)
    queued = {a.order for a in moved}
    while queue:
        _, achievement = heapq.heappop(queue)
        awarded = _award(achievement, index, event, results, new_awards)
        if awarded is None:
            continue
        emitted.append(awarded)
        for dependent in index.dependents_of(achievement.key, achievement.version):
            pair = (dependent.key, dependent.version)
            if dependent.order not in queued and pair not in new_awards:
                queued.add(dependent.order)
                heapq.heappush(queue, (dependent.order, dependent))
    if emitted:
        _forget(index, results, new_awards)
    return Progress(results, new_awards), emitted


def _result(event: AssessmentCompleted) -> Result:
    if event.occurred_at.tzinfo is None:
        raise InvalidInputError(f"occurred_at: needs a timezone (event {event.event_id})")
    if not (math.isfinite(event.score) and math.isfinite(event.max_score)):
        raise InvalidInputError(f"score: must be a finite number (event {event.event_id})")
    return Result(
        epoch_ms(event.occurred_at),
        event.event_id,
        event.score,
        event.max_score,
        event.passed,
        event.attempt,
    )


def _leaf_args(result: Result) -> tuple[int, float, float, bool | None, int]:
    return result.at, result.score, result.max_score, result.passed, result.attempt


def _award(
    achievement: CompiledAchievement,
    index: TenantIndex,
    event: AssessmentCompleted,
    results: Mapping[Target, tuple[Result, ...]],
    awards: dict[tuple[str, int], Awarded],
) -> CredentialRequested | None:
    """Award ``achievement`` if its rule is met; record it in ``awards``."""
    cache: dict[int, Sequence[int]] = {}

    def times(leaf: Leaf) -> Sequence[int]:
        found = cache.get(id(leaf))
        if found is None:
            found = _leaf_times(leaf, results, awards)
            cache[id(leaf)] = found
        return found

    # Cheap necessary condition first: most events complete nothing.
    if not _possible(achievement.rule, times):
        return None
    completed = _earliest(achievement.rule, _NEVER, _FOREVER, times)
    if completed is None:
        return None

    proofs: dict[str, Proof] = {}
    sources: list[tuple[int, str]] = []  # prerequisite awards used: (awarded_at, source)
    _collect(
        achievement.rule, _NEVER, completed, completed, times, results, awards, proofs, sources
    )
    evidence = tuple(sorted(proofs.values()))
    sources.extend((p.at, p.event_id) for p in evidence)
    # Ties at the completing millisecond are broken by event id, so any order agrees.
    source = min(event_id for at, event_id in sources if at == completed)
    cid = credential_id(event.tenant_id, achievement.key, achievement.version, event.learner.id)
    keep = any(
        (d.key, d.version) not in awards
        for d in index.dependents_of(achievement.key, achievement.version)
    )
    awards[(achievement.key, achievement.version)] = Awarded(
        cid, completed, source, evidence if keep else ()
    )
    return CredentialRequested(
        credential_id=cid,
        tenant_id=event.tenant_id,
        achievement_key=achievement.key,
        achievement_version=achievement.version,
        learner=Learner(id=event.learner.id, email=event.learner.email),
        awarded_at=_EPOCH + timedelta(milliseconds=completed),
        evidence=tuple(
            Evidence(
                event_id=p.event_id,
                course_id=p.course_id,
                assessment_id=p.assessment_id,
                score=p.score,
                max_score=p.max_score,
                occurred_at=_EPOCH + timedelta(milliseconds=p.at),
            )
            for p in evidence
        ),
        source_event_id=source,
    )


_NEVER = -(2**62)
_FOREVER = 2**62


def _leaf_times(
    leaf: Leaf,
    results: Mapping[Target, tuple[Result, ...]],
    awards: Mapping[tuple[str, int], Awarded],
) -> Sequence[int]:
    """The sorted times at which ``leaf`` is met."""
    if isinstance(leaf, AssessmentLeaf):
        accepts = leaf.accepts
        return [r.at for r in results.get(leaf.target, ()) if accepts(*_leaf_args(r))]
    return sorted(award.awarded_at for _, _, award in _prerequisite_awards(leaf, awards))


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
    results: Mapping[Target, tuple[Result, ...]],
    awards: Mapping[tuple[str, int], Awarded],
    proofs: dict[str, Proof],
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
        course, assessment = node.target
        best = min(
            (
                r
                for r in results.get(node.target, ())
                if low <= r.at <= high and node.accepts(*_leaf_args(r))
            ),
            key=_rank,
        )
        proofs[best.event_id] = Proof(
            best.at, best.event_id, course, assessment, best.score, best.max_score
        )
    else:
        _, _, award = min(_prerequisite_awards(node, awards))
        proofs.update((p.event_id, p) for p in award.evidence)
        sources.append((award.awarded_at, award.source_event_id))


def _prerequisite_awards(
    leaf: PrerequisiteLeaf, awards: Mapping[tuple[str, int], Awarded]
) -> list[tuple[int, int, Awarded]]:
    return [
        (award.awarded_at, version, award)
        for (key, version), award in awards.items()
        if key == leaf.key and leaf.version in (None, version)
    ]


def _rank(result: Result) -> tuple[float, float, int, str]:
    """Best first: highest percentage, then score, then earliest, then event id."""
    percent = result.score / result.max_score if result.max_score > 0 else -math.inf
    return (-percent, -result.score, result.at, result.event_id)


def _forget(
    index: TenantIndex,
    results: dict[Target, tuple[Result, ...]],
    awards: dict[tuple[str, int], Awarded],
) -> None:
    """Drop what no pending achievement can use any more (bounds the state)."""
    for target, stored in list(results.items()):
        leaves = [
            leaf
            for a in index.affected(*target)
            if (a.key, a.version) not in awards
            for leaf in a.leaves_by_target[target]
        ]
        # Pending achievements only shrink, so a result no pending leaf accepts is dead.
        kept = tuple(r for r in stored if any(leaf.accepts(*_leaf_args(r)) for leaf in leaves))
        if not kept:
            del results[target]
        elif len(kept) < len(stored):
            results[target] = kept
    for pair, award in awards.items():
        if award.evidence and all((d.key, d.version) in awards for d in index.dependents_of(*pair)):
            awards[pair] = award._replace(evidence=())
