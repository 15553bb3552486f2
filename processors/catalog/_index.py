"""The hot-path index: catalogs compiled into flat rule trees and lookup maps.

Modifiers are pushed down at compile time: every leaf carries its effective
``max_attempts`` (the tightest on its path) and ``from``/``until`` (the intersection of its
path's windows) as integer epoch milliseconds, so the engine compares plain numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from credstream.errors import InvalidInputError
from processors.catalog._checks import prerequisites
from processors.catalog._models import (
    Achievement,
    AchievementRule,
    AllOf,
    AnyOf,
    AssessmentRule,
    NOf,
    Rule,
    TenantCatalog,
)

Target = tuple[str, str]
"""(course_id, assessment_id) as they appear on an event."""

NEVER = -(2**62)
FOREVER = 2**62
DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def award_key(key: str, version: int) -> str:
    """How progress names an award: ``"{key}@{version}"`` (keys cannot contain "@")."""
    return f"{key}@{version}"


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, exact (no float rounding); sub-millisecond truncated."""
    return (moment - _EPOCH) // _MS


class UnknownTenantError(InvalidInputError):
    """An event names a tenant that has no catalog."""


@dataclass(frozen=True, slots=True, eq=False)
class AssessmentLeaf:
    """Met by a result of ``target`` passing every threshold, within attempts and dates."""

    target: Target
    min_score: float | None
    min_percent: float | None
    passed: bool
    max_attempts: int | None
    from_ms: int
    until_ms: int

    def accepts(
        self, at: int, score: float, max_score: float, passed: bool | None, attempt: int
    ) -> bool:
        if at < self.from_ms or at > self.until_ms:
            return False
        if self.max_attempts is not None and attempt > self.max_attempts:
            return False
        if self.min_score is not None and score < self.min_score:
            return False
        # Multiplying instead of dividing: 4/5 of 100 is not always exactly 80.0 in floats.
        if self.min_percent is not None and (
            max_score <= 0 or score * 100 < self.min_percent * max_score
        ):
            return False
        return not self.passed or passed is True


@dataclass(frozen=True, slots=True, eq=False)
class PrerequisiteLeaf:
    """Met by an award of ``key`` (any version when ``version`` is None), from its
    ``awarded_at`` on. Timeless: windows and date ranges above it do not apply."""

    key: str
    version: int | None
    award_keys: tuple[str, ...]  # how progress names the awards that meet it


Leaf = AssessmentLeaf | PrerequisiteLeaf


@dataclass(frozen=True, slots=True, eq=False)
class Group:
    """``n`` of ``children`` (all_of: n = len, any_of: n = 1), optionally inside a window."""

    n: int
    children: tuple[Node, ...]
    window_ms: int | None
    leaves: tuple[AssessmentLeaf, ...]  # every assessment beneath: window start candidates


Node = Group | AssessmentLeaf | PrerequisiteLeaf


@dataclass(frozen=True, slots=True, eq=False)
class CompiledAchievement:
    definition: Achievement
    key: str
    version: int
    pair: tuple[str, int]
    award_key: str  # how progress names this achievement's award
    order: int  # position in a topological order: prerequisites come first
    rule: Node
    leaves_by_target: Mapping[Target, tuple[AssessmentLeaf, ...]]
    targets: frozenset[Target]
    min_targets: int  # a lower bound on the assessments with results when the rule is met


@dataclass(frozen=True, slots=True)
class _Scope:
    max_attempts: int | None = None
    from_ms: int = NEVER
    until_ms: int = FOREVER

    def narrow(self, rule: Rule) -> _Scope:
        if isinstance(rule, AchievementRule):
            return self
        attempts = getattr(rule, "max_attempts", None)
        if attempts is None or (self.max_attempts is not None and self.max_attempts < attempts):
            attempts = self.max_attempts
        return _Scope(
            attempts,
            max(self.from_ms, epoch_ms(rule.from_)) if rule.from_ else self.from_ms,
            min(self.until_ms, epoch_ms(rule.until)) if rule.until else self.until_ms,
        )


def _compile(rule: Rule, scope: _Scope, versions: Mapping[str, list[int]]) -> Node:
    scope = scope.narrow(rule)
    if isinstance(rule, AssessmentRule):
        return AssessmentLeaf(
            (rule.course, rule.assessment),
            rule.min_score,
            rule.min_percent,
            bool(rule.passed),
            scope.max_attempts,
            scope.from_ms,
            scope.until_ms,
        )
    if isinstance(rule, AchievementRule):
        matching = [v for v in versions[rule.achievement] if rule.version in (None, v)]
        keys = tuple(award_key(rule.achievement, v) for v in matching)
        return PrerequisiteLeaf(rule.achievement, rule.version, keys)
    if isinstance(rule, AllOf):
        children, n = rule.all_of, len(rule.all_of)
    elif isinstance(rule, AnyOf):
        children, n = rule.any_of, 1
    else:
        assert isinstance(rule, NOf)
        children, n = rule.of, rule.n_of
    compiled = tuple(_compile(child, scope, versions) for child in children)
    window = rule.within_days * DAY_MS if rule.within_days else None
    return Group(n, compiled, window, tuple(_leaves(compiled)))


def _leaves(nodes: Iterable[Node]) -> Iterable[AssessmentLeaf]:
    for node in nodes:
        if isinstance(node, Group):
            yield from node.leaves
        elif isinstance(node, AssessmentLeaf):
            yield node


def _min_targets(node: Node) -> int:
    """How many distinct assessments at least must have results for ``node`` to be met:
    the engine's first, cheapest test (most events complete nothing)."""
    if isinstance(node, AssessmentLeaf):
        return 1
    if isinstance(node, PrerequisiteLeaf):
        return 0
    bounds = sorted(_min_targets(child) for child in node.children)
    targets = [{leaf.target for leaf in _leaves([child])} for child in node.children]
    if sum(map(len, targets)) == len(set().union(*targets)):  # children share none
        return sum(bounds[: node.n])
    return bounds[-1] if node.n == len(node.children) else 0


def _topological(catalog: TenantCatalog) -> list[Achievement]:
    """Prerequisites before dependents; catalog order among independent achievements."""
    by_pair = {(a.key, a.version): a for a in catalog.achievements}
    done: set[tuple[str, int]] = set()
    ordered: list[Achievement] = []

    def place(achievement: Achievement) -> None:
        pair = (achievement.key, achievement.version)
        if pair in done:
            return
        done.add(pair)  # the catalog was checked for cycles
        for prerequisite in prerequisites(catalog, achievement.criteria.rule):
            place(by_pair[prerequisite])
        ordered.append(achievement)

    for achievement in catalog.achievements:
        place(achievement)
    return ordered


class TenantIndex:
    """One tenant's compiled catalog and the maps the engine looks events up in."""

    __slots__ = ("achievements", "by_target", "catalog", "dependents")

    def __init__(self, catalog: TenantCatalog) -> None:
        self.catalog = catalog
        compiled: list[CompiledAchievement] = []
        versions: dict[str, list[int]] = {}
        for achievement in catalog.achievements:
            versions.setdefault(achievement.key, []).append(achievement.version)
        for order, achievement in enumerate(_topological(catalog)):
            rule = _compile(achievement.criteria.rule, _Scope(), versions)
            by_target: dict[Target, list[AssessmentLeaf]] = {}
            for leaf in _leaves([rule]):
                by_target.setdefault(leaf.target, []).append(leaf)
            compiled.append(
                CompiledAchievement(
                    achievement,
                    achievement.key,
                    achievement.version,
                    (achievement.key, achievement.version),
                    award_key(achievement.key, achievement.version),
                    order,
                    rule,
                    {target: tuple(leaves) for target, leaves in by_target.items()},
                    frozenset(by_target),
                    _min_targets(rule),
                )
            )
        self.achievements: tuple[CompiledAchievement, ...] = tuple(compiled)
        targets: dict[Target, list[CompiledAchievement]] = {}
        dependents: dict[tuple[str, int], list[CompiledAchievement]] = {}
        for item in compiled:
            for target in item.leaves_by_target:
                targets.setdefault(target, []).append(item)
            for prerequisite in set(prerequisites(catalog, item.definition.criteria.rule)):
                dependents.setdefault(prerequisite, []).append(item)
        self.by_target: Mapping[Target, tuple[CompiledAchievement, ...]] = {
            target: tuple(items) for target, items in targets.items()
        }
        self.dependents: Mapping[tuple[str, int], tuple[CompiledAchievement, ...]] = {
            pair: tuple(items) for pair, items in dependents.items()
        }

    @property
    def tenant(self) -> str:
        return self.catalog.tenant

    def affected(self, course_id: str, assessment_id: str) -> tuple[CompiledAchievement, ...]:
        """The achievements a result of this assessment can move, prerequisites first."""
        return self.by_target.get((course_id, assessment_id), ())

    def dependents_of(self, key: str, version: int) -> tuple[CompiledAchievement, ...]:
        """The pathway achievements that an award of (key, version) can complete."""
        return self.dependents.get((key, version), ())


class Catalog:
    """Every tenant's compiled catalog: immutable; a reload builds a new one."""

    __slots__ = ("_tenants",)

    def __init__(self, tenants: Iterable[TenantCatalog | TenantIndex] = ()) -> None:
        self._tenants: dict[str, TenantIndex] = {}
        for tenant in tenants:
            index = tenant if isinstance(tenant, TenantIndex) else TenantIndex(tenant)
            self._tenants[index.tenant] = index

    @property
    def tenants(self) -> tuple[str, ...]:
        return tuple(sorted(self._tenants))

    def __contains__(self, tenant_id: object) -> bool:
        return tenant_id in self._tenants

    def tenant(self, tenant_id: str) -> TenantIndex:
        index = self._tenants.get(tenant_id)
        if index is None:
            raise UnknownTenantError(f"tenant_id: no catalog for tenant '{tenant_id}'")
        return index

    def affected(
        self, tenant_id: str, course_id: str, assessment_id: str
    ) -> tuple[CompiledAchievement, ...]:
        return self.tenant(tenant_id).affected(course_id, assessment_id)

    def dependents(self, tenant_id: str, key: str, version: int) -> tuple[CompiledAchievement, ...]:
        return self.tenant(tenant_id).dependents_of(key, version)

    def with_tenant(self, catalog: TenantCatalog) -> Catalog:
        """A catalog with ``catalog`` added or replacing that tenant's (hot reload)."""
        return Catalog([*self._tenants.values(), TenantIndex(catalog)])

    def without_tenant(self, tenant_id: str) -> Catalog:
        """A catalog without that tenant (a tombstone on the catalog topic)."""
        return Catalog(index for tenant, index in self._tenants.items() if tenant != tenant_id)
