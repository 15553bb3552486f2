"""Checks across achievements that a single field cannot see: duplicates, references, cycles."""

from __future__ import annotations

from collections.abc import Iterator

from processors.catalog._models import (
    AchievementRule,
    AllOf,
    AnyOf,
    AssessmentRule,
    NOf,
    Rule,
    TenantCatalog,
)


def walk(rule: Rule, path: str) -> Iterator[tuple[str, Rule]]:
    """Every rule of a tree with its path, parents first."""
    yield path, rule
    if isinstance(rule, AllOf):
        children, field = rule.all_of, "all_of"
    elif isinstance(rule, AnyOf):
        children, field = rule.any_of, "any_of"
    elif isinstance(rule, NOf):
        children, field = rule.of, "of"
    else:
        return
    for index, child in enumerate(children):
        yield from walk(child, f"{path}.{field}[{index}]")


def prerequisites(catalog: TenantCatalog, rule: Rule) -> list[tuple[str, int]]:
    """The (key, version) pairs an ``achievement`` rule anywhere in ``rule`` can be met by."""
    versions: dict[str, list[int]] = {}
    for achievement in catalog.achievements:
        versions.setdefault(achievement.key, []).append(achievement.version)
    found: list[tuple[str, int]] = []
    for _, node in walk(rule, ""):
        if isinstance(node, AchievementRule):
            for version in versions.get(node.achievement, []):
                if node.version in (None, version):
                    found.append((node.achievement, version))
    return found


def reference_problems(catalog: TenantCatalog) -> list[str]:
    """Problems as ``path: message`` lines; empty when the catalog is consistent."""
    if not catalog.achievements:
        return ["achievements: at least one achievement is needed"]
    problems: list[str] = []
    first_at: dict[tuple[str, int], int] = {}
    id_owner: dict[str, tuple[int, str]] = {}
    versions: dict[str, set[int]] = {}
    for index, achievement in enumerate(catalog.achievements):
        pair = (achievement.key, achievement.version)
        if pair in first_at:
            problems.append(
                f"achievements[{index}]: duplicate key '{achievement.key}' version "
                f"{achievement.version} (first at achievements[{first_at[pair]}])"
            )
        else:
            first_at[pair] = index
        owner = id_owner.setdefault(achievement.id, (index, achievement.key))
        if owner[1] != achievement.key:
            problems.append(
                f"achievements[{index}].id: '{achievement.id}' is already the id of "
                f"achievements[{owner[0]}] (key '{owner[1]}')"
            )
        versions.setdefault(achievement.key, set()).add(achievement.version)

    for index, achievement in enumerate(catalog.achievements):
        base = f"achievements[{index}].criteria.rule"
        for path, node in walk(achievement.criteria.rule, base):
            problems.extend(_timeless_modifiers(path, node))
            if not isinstance(node, AchievementRule):
                continue
            known = versions.get(node.achievement)
            if not known:
                problems.append(f"{path}.achievement: unknown achievement '{node.achievement}'")
            elif node.version is not None and node.version not in known:
                problems.append(
                    f"{path}.version: achievement '{node.achievement}' has no version "
                    f"{node.version} (has {', '.join(str(v) for v in sorted(known))})"
                )
    if not problems:
        problems.extend(_cycles(catalog))
    return problems


def _timeless_modifiers(path: str, node: Rule) -> list[str]:
    """Modifiers act on assessment results only: one with none beneath it does nothing."""
    if not isinstance(node, AllOf | AnyOf | NOf):
        return []
    if any(isinstance(child, AssessmentRule) for _, child in walk(node, path)):
        return []
    given = [
        name
        for name, value in (
            ("within_days", node.within_days),
            ("max_attempts", node.max_attempts),
            ("from", node.from_),
            ("until", node.until),
        )
        if value is not None
    ]
    return [
        f"{path}.{name}: needs an assessment rule beneath it (achievement rules are timeless)"
        for name in given
    ]


def _cycles(catalog: TenantCatalog) -> list[str]:
    edges = {
        (a.key, a.version): prerequisites(catalog, a.criteria.rule) for a in catalog.achievements
    }
    index_of = {(a.key, a.version): i for i, a in enumerate(catalog.achievements)}
    state: dict[tuple[str, int], int] = {}  # 1 = on the current path, 2 = done
    problems: list[str] = []

    def visit(node: tuple[str, int], path: list[tuple[str, int]]) -> None:
        state[node] = 1
        for target in edges[node]:
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                names = " -> ".join(f"{key} v{version}" for key, version in cycle)
                problems.append(
                    f"achievements[{index_of[target]}].criteria.rule: pathway cycle: {names}"
                )
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in edges:
        if node not in state:
            visit(node, [node])
    return problems
