"""Catalog validation (with its error messages), encoding, compilation and index."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from credstream.commands.catalog import catalog as catalog_command
from processors.catalog import (
    DAY_MS,
    AssessmentLeaf,
    AssessmentRule,
    Catalog,
    CatalogError,
    Group,
    PrerequisiteLeaf,
    TenantCatalog,
    UnknownTenantError,
    decode_catalog,
    encode_catalog,
    epoch_ms,
    load_catalogs,
    parse_catalog,
    validate_directory,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "deploy" / "catalogs"
DATA = ROOT / "tests" / "data" / "catalogs"

HEAD = """\
tenant: example-u
issuer: {id: "did:web:badges.example.edu", name: "Example U", url: "https://example.edu"}
achievements:
"""


def achievement(key: str, rule: str, extra: str = "", version: int = 1) -> str:
    return textwrap.indent(
        f"- key: {key}\n"
        f"  version: {version}\n"
        f'  id: "https://example.edu/a/{key}/{version}"\n'
        f"  name: {key}\n"
        f"  description: about {key}\n"
        f"{extra}"
        f"  criteria:\n"
        f"    narrative: earn {key}\n"
        f"    rule: {rule}\n",
        "  ",
    )


def problems(text: str) -> tuple[str, ...]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "example-u.yaml")
    assert caught.value.source == "example-u.yaml"
    return caught.value.problems


def one_problem(*achievements: str) -> str:
    found = problems(HEAD + "".join(achievements))
    assert len(found) == 1, found
    return found[0]


def test_the_sample_mooc_catalog_is_valid_and_covers_the_demo() -> None:
    catalogs = load_catalogs(SAMPLE)
    sample = catalogs["example-u"]
    courses = {
        course
        for a in Catalog([sample]).tenant("example-u").achievements
        for course, _ in a.targets
    }
    assert {"da-101", "da-102", "sql-110", "ml-201"} <= courses
    assert len(sample.achievements) >= 10
    assert any(a.valid_for_days for a in sample.achievements)
    index = Catalog([sample]).tenant("example-u")
    assert [a.key for a in index.dependents_of("da-101", 1)] == ["data-analyst-pathway"]
    assert [a.key for a in index.dependents_of("data-analyst-pathway", 1)] == [
        "data-scientist-pathway"
    ]


def test_shorthand_course_is_before_the_first_slash_and_explicit_is_verbatim() -> None:
    short = AssessmentRule.model_validate({"assessment": "da-101/m1"})
    assert (short.course, short.assessment) == ("da-101", "da-101/m1")
    nested = AssessmentRule.model_validate({"assessment": "da-101/unit/1"})
    assert (nested.course, nested.assessment) == ("da-101", "da-101/unit/1")
    explicit = AssessmentRule.model_validate({"course": "c", "assessment": "block/x/y"})
    assert (explicit.course, explicit.assessment) == ("c", "block/x/y")


def test_n_of_larger_than_of_names_file_path_and_count() -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalogs(DATA / "invalid")
    assert str(caught.value).endswith(
        "broken-u.yaml: achievements[0].criteria.rule.n_of: must be <= number of rules in 'of' (6)"
    )


@pytest.mark.parametrize(
    ("rule", "extra", "expected"),
    [
        (
            '{assessment: "c/m1", min_percent: 101}',
            "",
            "achievements[0].criteria.rule.min_percent: Input should be less than or equal to 100",
        ),
        (
            '{assessment: "m1"}',
            "",
            "achievements[0].criteria.rule: assessment: 'm1' names no course: write "
            "'COURSE/ID' (the course is the part before the first slash) or give 'course'",
        ),
        (
            '{assessment: "c/m1", passed: false}',
            "",
            "achievements[0].criteria.rule.passed: Input should be True",
        ),
        (
            '{assessment: "c/m1", within_days: 3}',
            "",
            "achievements[0].criteria.rule.within_days: unknown field",
        ),
        (
            '{all_of: [{assessment: "c/m1"}, {foo: 1}]}',
            "",
            "achievements[0].criteria.rule.all_of[1]: a rule is a mapping with exactly one "
            "of: assessment, all_of, any_of, n_of, achievement",
        ),
        (
            '{any_of: [{assessment: "c/m1"}], all_of: [{assessment: "c/m2"}]}',
            "",
            "achievements[0].criteria.rule: a rule is a mapping with exactly one of: "
            "assessment, all_of, any_of, n_of, achievement",
        ),
        (
            '{all_of: [{assessment: "c/m1"}], within_days: 0}',
            "",
            "achievements[0].criteria.rule.within_days: Input should be greater than or equal to 1",
        ),
        (
            '{any_of: [{assessment: "c/m1"}], max_attempts: 0}',
            "",
            "achievements[0].criteria.rule.max_attempts: "
            "Input should be greater than or equal to 1",
        ),
        (
            '{assessment: "c/m1", from: "2025-01-01T00:00:00"}',
            "",
            "achievements[0].criteria.rule.from: needs a timezone (e.g. 'Z') or a bare date",
        ),
        (
            '{assessment: "c/m1", from: 2025-02-01, until: 2025-01-01}',
            "",
            "achievements[0].criteria.rule: until: must not be before 'from'",
        ),
        (
            "{any_of: []}",
            "",
            "achievements[0].criteria.rule.any_of: "
            "Tuple should have at least 1 item after validation, not 0",
        ),
        (
            '{assessment: "c/m1"}',
            "  achievement_type: Trophy\n",
            "achievements[0].achievement_type: 'Trophy' is not an Open Badges AchievementType "
            "(e.g. Badge, Certificate, MicroCredential) nor an 'ext:Name' extension",
        ),
        (
            '{assessment: "c/m1"}',
            "  valid_for_days: 0\n",
            "achievements[0].valid_for_days: Input should be greater than or equal to 1",
        ),
        (
            '{assessment: "c/m1"}',
            "  critera: {}\n",
            "achievements[0].critera: unknown field",
        ),
    ],
)
def test_field_errors_name_the_path(rule: str, extra: str, expected: str) -> None:
    assert one_problem(achievement("a", rule, extra)) == expected


def test_missing_fields_are_named() -> None:
    found = problems(HEAD + '  - {key: a, id: "urn:x:a", name: A}\n')
    assert found == (
        "achievements[0].description: required field missing",
        "achievements[0].criteria: required field missing",
    )


def test_tenant_and_key_patterns() -> None:
    text = HEAD.replace("example-u", "Example U") + achievement("A/B", '{assessment: "c/m"}')
    found = problems(text)
    assert found[0].startswith("tenant: String should match pattern")
    assert found[1].startswith("achievements[0].key: String should match pattern")


def test_duplicate_key_and_version() -> None:
    problem = one_problem(
        achievement("a", '{assessment: "c/m1"}'),
        achievement("a", '{assessment: "c/m2"}').replace("/a/a/1", "/a/a/1b"),
    )
    assert problem == "achievements[1]: duplicate key 'a' version 1 (first at achievements[0])"


def test_an_achievement_id_belongs_to_one_key() -> None:
    problem = one_problem(
        achievement("a", '{assessment: "c/m1"}'),
        achievement("b", '{assessment: "c/m2"}').replace("/a/b/1", "/a/a/1"),
    )
    assert problem == (
        "achievements[1].id: 'https://example.edu/a/a/1' is already the id of "
        "achievements[0] (key 'a')"
    )


def test_unknown_prerequisites_and_versions() -> None:
    found = problems(
        HEAD
        + achievement("a", '{assessment: "c/m1"}')
        + achievement("p", "{all_of: [{achievement: nope}, {achievement: a, version: 2}]}")
    )
    assert found == (
        "achievements[1].criteria.rule.all_of[0].achievement: unknown achievement 'nope'",
        "achievements[1].criteria.rule.all_of[1].version: achievement 'a' has no version 2 (has 1)",
    )


def test_pathway_cycles_are_rejected() -> None:
    problem = one_problem(
        achievement("a", '{any_of: [{assessment: "c/m1"}, {achievement: b}]}'),
        achievement("b", "{all_of: [{achievement: a}]}"),
    )
    assert problem == "achievements[0].criteria.rule: pathway cycle: a v1 -> b v1 -> a v1"


def test_a_version_may_build_on_an_earlier_version_but_not_on_itself() -> None:
    upgrade = (
        HEAD
        + achievement("a", '{assessment: "c/m1"}')
        + achievement(
            "a", '{all_of: [{achievement: a, version: 1}, {assessment: "c/m2"}]}', version=2
        )
    )
    parsed = parse_catalog(upgrade, "x")
    index = Catalog([parsed]).tenant("example-u")
    assert [(a.key, a.version) for a in index.dependents_of("a", 1)] == [("a", 2)]
    # Any version of "a" includes version 2 itself.
    problem = one_problem(
        achievement("a", '{assessment: "c/m1"}'),
        achievement("a", '{all_of: [{achievement: a}, {assessment: "c/m2"}]}', version=2),
    )
    assert problem == "achievements[1].criteria.rule: pathway cycle: a v2 -> a v2"


def test_modifiers_need_an_assessment_beneath_them() -> None:
    found = problems(
        HEAD
        + achievement("a", '{assessment: "c/m1"}')
        + achievement("p", "{within_days: 3, from: 2026-01-01, all_of: [{achievement: a}]}")
    )
    assert found == (
        "achievements[1].criteria.rule.within_days: needs an assessment rule beneath it "
        "(achievement rules are timeless)",
        "achievements[1].criteria.rule.from: needs an assessment rule beneath it "
        "(achievement rules are timeless)",
    )
    assert (
        one_problem(
            achievement("a", '{assessment: "c/m1"}'),
            achievement("p", "{achievement: a, until: 2026-01-01}"),
        )
        == "achievements[1].criteria.rule.until: unknown field"
    )


def test_yaml_problems() -> None:
    assert problems("tenant: [unclosed\n")[0].startswith("not valid YAML: while parsing")
    duplicated = HEAD + achievement("a", '{assessment: "c/m1"}') + "tenant: again\n"
    assert problems(duplicated)[0].startswith("not valid YAML: duplicate key 'tenant' (line")
    assert problems("- just\n- a list\n") == (
        "a catalog is a mapping with tenant, issuer, achievements",
    )
    assert problems(HEAD + "  []\n") == ("achievements: at least one achievement is needed",)


def test_directory_reports_per_file_and_duplicate_tenants(tmp_path: Path) -> None:
    reports = validate_directory(DATA / "invalid")
    assert [(r.path.name, r.catalog is not None, len(r.problems)) for r in reports] == [
        ("broken-u.yaml", False, 1),
        ("fine-u.yaml", True, 0),
    ]
    text = (DATA / "valid" / "tiny-u.yaml").read_text()
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yml").write_text(text)
    second = validate_directory(tmp_path)[1]
    assert second.problems == (f"tenant: 'tiny-u' is already defined in {tmp_path / 'a.yaml'}",)
    with pytest.raises(CatalogError, match="no catalog files"):
        validate_directory(DATA)


def test_dates_are_whole_days_in_utc() -> None:
    rule = AssessmentRule.model_validate(
        {"assessment": "c/m", "from": "2025-01-01", "until": "2025-01-31"}
    )
    assert rule.from_ == datetime(2025, 1, 1, tzinfo=UTC)
    assert rule.until == datetime(2025, 1, 31, 23, 59, 59, 999000, tzinfo=UTC)


def test_encoding_round_trips_and_decoding_validates() -> None:
    sample = load_catalogs(SAMPLE)["example-u"]
    assert decode_catalog(encode_catalog(sample)) == sample
    with pytest.raises(CatalogError) as caught:
        decode_catalog(b'{"tenant": "x"}')
    assert caught.value.problems == (
        "issuer: required field missing",
        "achievements: required field missing",
    )


def sample_catalog() -> TenantCatalog:
    return load_catalogs(SAMPLE)["example-u"]


def test_modifiers_are_pushed_down_to_leaves() -> None:
    text = HEAD + achievement(
        "a",
        "{max_attempts: 3, from: 2025-01-01, all_of: ["
        '{assessment: "c/m1", max_attempts: 5, until: 2025-06-30},'
        '{max_attempts: 2, within_days: 10, any_of: [{assessment: "c/m2"}]},'
        "]}",
    )
    index = Catalog([parse_catalog(text, "x")]).tenant("example-u")
    rule = index.achievements[0].rule
    assert isinstance(rule, Group)
    first, group = rule.children
    assert isinstance(first, AssessmentLeaf)
    assert isinstance(group, Group)
    second = group.children[0]
    assert isinstance(second, AssessmentLeaf)
    assert (first.max_attempts, second.max_attempts) == (3, 2)
    start = epoch_ms(datetime(2025, 1, 1, tzinfo=UTC))
    assert (first.from_ms, second.from_ms) == (start, start)
    assert first.until_ms == epoch_ms(datetime(2025, 7, 1, tzinfo=UTC)) - 1
    assert (rule.window_ms, group.window_ms) == (None, 10 * DAY_MS)


def test_index_maps_events_to_achievements_in_dependency_order() -> None:
    catalog = Catalog([sample_catalog()])
    affected = [a.key for a in catalog.affected("example-u", "da-101", "da-101/m1")]
    assert affected == ["da-101-first-steps", "da-101", "da-101-honors", "autumn-2026-cohort"]
    assert catalog.affected("example-u", "da-101", "da-101/m9") == ()
    assert catalog.affected("example-u", "da-101", "m1") == ()
    orders = {a.key: a.order for a in catalog.tenant("example-u").achievements}
    assert orders["da-101"] < orders["data-analyst-pathway"] < orders["data-scientist-pathway"]
    pathway = catalog.dependents("example-u", "sql-110", 2)[0]
    assert isinstance(pathway.rule, Group)
    assert pathway.key == "data-analyst-pathway"
    children = pathway.rule.children
    assert [(c.key, c.version) for c in children if isinstance(c, PrerequisiteLeaf)] == [
        ("da-101", None),
        ("da-102", None),
        ("sql-110", None),
    ]
    assert pathway.targets == frozenset()


def test_catalog_reload_replaces_one_tenant() -> None:
    tiny = load_catalogs(DATA / "valid")["tiny-u"]
    catalog = Catalog([sample_catalog()]).with_tenant(tiny)
    assert catalog.tenants == ("example-u", "tiny-u")
    assert "tiny-u" in catalog
    assert catalog.without_tenant("tiny-u").tenants == ("example-u",)
    with pytest.raises(UnknownTenantError, match="no catalog for tenant 'nobody'"):
        catalog.tenant("nobody")


def test_validate_command_prints_per_file_and_exits_1_on_errors() -> None:
    runner = CliRunner()
    ok = runner.invoke(catalog_command, ["validate", str(SAMPLE)])
    assert ok.exit_code == 0, ok.output
    assert ok.output == (
        f"{SAMPLE / 'example-u.yaml'}: OK (tenant example-u, "
        f"{len(sample_catalog().achievements)} achievements)\n"
    )
    bad = runner.invoke(catalog_command, ["validate", str(DATA / "invalid")])
    assert bad.exit_code == 1
    lines = bad.output.splitlines()
    assert lines[0].endswith("broken-u.yaml: achievements[0].criteria.rule.n_of: "
                             "must be <= number of rules in 'of' (6)")  # fmt: skip
    assert lines[1].endswith("fine-u.yaml: OK (tenant fine-u, 1 achievements)")
