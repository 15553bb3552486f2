"""Achievement catalogs: what each tenant awards, and for what.

One YAML file per tenant (``deploy/catalogs/README.md`` has the same reference with a
worked example)::

    tenant: example-u                  # [a-z0-9-], the events' tenant_id
    issuer: {id: "did:web:badges.example.edu", name: "Example University",
             url: "https://example.edu", email: ..., image: ..., description: ...}
    achievements:
      - key: da-101                    # [a-z0-9._-]; stable: it is in credential ids
        version: 1                     # default 1; a new version is a new achievement
        id: "https://badges.example.edu/achievements/da-101"
        name: "Data Analytics Fundamentals"
        description: "..."
        image: "https://..."           # optional
        achievement_type: Certificate  # Open Badges AchievementType or ext:Name; Badge
        valid_for_days: 730            # optional: the credential's validUntil
        tags: [data]                   # optional
        alignments: [{target_name: ..., target_url: ..., target_framework: ...}]
        criteria:
          narrative: "Pass five of the six graded modules with 80%, within 90 days."
          rule: {n_of: 5, within_days: 90, of: [{assessment: "da-101/m1", min_percent: 80}]}

Rules (a rule is a mapping with exactly one of these keys):

- ``assessment: "da-101/m1"``: met by a result of that assessment, i.e. an event whose
  ``course_id`` is the part before the first slash (``da-101``) and whose
  ``assessment_id`` is the whole string (``da-101/m1``). For other id schemes write
  ``{course: C, assessment: A}``: both taken verbatim. Thresholds, all optional, all hold:
  ``min_score`` (score >= it), ``min_percent`` (score / max_score >= it %, never met when
  max_score <= 0), ``passed: true`` (the engine said passed). No threshold: any result.
- ``all_of: [rules]``, ``any_of: [rules]``, ``n_of: N`` + ``of: [rules]`` (1 <= N <= len).
- ``achievement: KEY`` (+ optional ``version: V``): met once this learner was awarded
  that achievement (any version unless ``version`` is given), from its ``awarded_at``
  on. This is how stackable pathways are written. Achievement rules are timeless: no
  modifier applies to them (a prerequisite's ``awarded_at`` depends on the order its
  events arrived in, so a window over it would make awards depend on delivery order).

Modifiers (on assessment rules and composites; on a composite they apply to every
assessment rule beneath it, and a composite with none beneath it may not carry them):

- ``max_attempts: K``: a result whose ``attempt`` number is above K does not count. The
  tightest limit on a path wins.
- ``from`` / ``until``: a date (``2025-01-01``: from the start of that day / until the
  end of that day, UTC) or a datetime with a timezone. Only results whose
  ``occurred_at`` falls inside count; both ends inclusive; nested ranges intersect.
- ``within_days: D`` (composites only): every assessment result used to meet the rule
  lies in one window of D days: the latest is at most D x 24 h after the earliest.
  Nested windows are each respected.

Semantics: every qualifying result counts, so the best attempt counts and a later lower
score never takes anything back. An achievement is awarded once per (tenant, key,
version, learner); its ``awarded_at`` is the earliest time at which the results seen so
far meet the rule (see ``processors.criteria``).

Validation (errors name the file and the path, e.g.
``example-u.yaml: achievements[2].criteria.rule.n_of: must be <= number of rules in 'of'
(6)``): unknown fields, bounds, unique (key, version), an achievement id used by one key
only, prerequisites that exist, no pathway cycles, modifiers with an assessment beneath
them, a key given twice in a YAML mapping, one file per tenant.

:class:`Catalog` is the hot-path index over every tenant: which achievements an
assessment can move (``affected``, in dependency order), which pathways an award can
complete (``dependents``); immutable, replaced whole on reload (``with_tenant``).
:func:`encode_catalog` / :func:`decode_catalog` are the ``achievement.catalog.v1``
record value (JSON for now).
"""

from processors.catalog._index import (
    DAY_MS,
    AssessmentLeaf,
    Catalog,
    CompiledAchievement,
    Group,
    Leaf,
    Node,
    PrerequisiteLeaf,
    Target,
    TenantIndex,
    UnknownTenantError,
    award_key,
    epoch_ms,
)
from processors.catalog._load import (
    CatalogError,
    FileReport,
    decode_catalog,
    encode_catalog,
    load_catalog,
    load_catalogs,
    parse_catalog,
    validate_directory,
)
from processors.catalog._models import (
    Achievement,
    AchievementRule,
    Alignment,
    AllOf,
    AnyOf,
    AssessmentRule,
    Criteria,
    Issuer,
    NOf,
    Rule,
    TenantCatalog,
)

__all__ = [
    "DAY_MS",
    "Achievement",
    "AchievementRule",
    "Alignment",
    "AllOf",
    "AnyOf",
    "AssessmentLeaf",
    "AssessmentRule",
    "Catalog",
    "CatalogError",
    "CompiledAchievement",
    "Criteria",
    "FileReport",
    "Group",
    "Issuer",
    "Leaf",
    "NOf",
    "Node",
    "PrerequisiteLeaf",
    "Rule",
    "Target",
    "TenantCatalog",
    "TenantIndex",
    "UnknownTenantError",
    "award_key",
    "decode_catalog",
    "encode_catalog",
    "epoch_ms",
    "load_catalog",
    "load_catalogs",
    "parse_catalog",
    "validate_directory",
]
