"""pydantic models of a tenant's achievement catalog (the YAML an issuer writes)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

# Keys and tenant ids appear in credential ids and storage paths: no slash, no spaces.
TENANT_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
KEY_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"

# Open Badges 3.0 AchievementType vocabulary; "ext:Name" extends it, as the spec allows.
ACHIEVEMENT_TYPES = frozenset(
    {
        "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment",
        "AssociateDegree", "Award", "Badge", "BachelorDegree", "Certificate",
        "CertificateOfCompletion", "Certification", "CommunityService", "Competency",
        "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree", "Fieldwork",
        "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram", "License",
        "Membership", "ProfessionalDoctorate", "QualityAssuranceCredential",
        "MasterCertificate", "MasterDegree", "MicroCredential", "ResearchDoctorate",
        "SecondarySchoolDiploma",
    }
)  # fmt: skip
_EXT_TYPE = re.compile(r"^ext:[A-Za-z0-9._-]+$")

RULE_KINDS = ("assessment", "all_of", "any_of", "n_of", "achievement")
_TAG_PREFIX = "rule:"  # union tags show up in error locations; the formatter drops them


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _bound_input(value: Any, info: ValidationInfo) -> Any:
    """A bare date means the start of that day (``from``) or its end (``until``), in UTC."""
    if isinstance(value, str) and len(value) == 10:
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value  # pydantic reports it as a bad datetime
    if isinstance(value, date) and not isinstance(value, datetime):
        start = datetime.combine(value, time(), tzinfo=UTC)
        if info.field_name == "until":
            return start + timedelta(days=1, milliseconds=-1)
        return start
    return value


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise PydanticCustomError("naive_datetime", "needs a timezone (e.g. 'Z') or a bare date")
    return value.astimezone(UTC)


Bound = Annotated[datetime, BeforeValidator(_bound_input), AfterValidator(_aware_utc)]


class _Dated(_Frozen):
    """``from`` / ``until``: only results (or awards) whose time falls inside count."""

    from_: Bound | None = Field(default=None, alias="from")
    until: Bound | None = None

    @model_validator(mode="after")
    def _ordered(self) -> _Dated:
        if self.from_ is not None and self.until is not None and self.until < self.from_:
            raise PydanticCustomError("bad_range", "until: must not be before 'from'")
        return self


class AssessmentRule(_Dated):
    """A result of one assessment, optionally with a threshold.

    ``assessment: "da-101/m1"`` is shorthand for ``course: da-101`` + ``assessment:
    da-101/m1``: the course is the part before the first slash and the assessment id is
    the whole string, as events carry them (course_id "da-101", assessment_id
    "da-101/m1"). Give ``course`` explicitly for any other id scheme; then both are
    taken verbatim.
    """

    course: str = Field(min_length=1)
    assessment: str = Field(min_length=1)
    min_score: float | None = Field(default=None, allow_inf_nan=False)
    min_percent: float | None = Field(default=None, ge=0, le=100)
    passed: Literal[True] | None = None
    max_attempts: int | None = Field(default=None, ge=1, le=1000)

    @model_validator(mode="before")
    @classmethod
    def _split_shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and "course" not in data:
            target = data.get("assessment")
            if isinstance(target, str):
                course, slash, rest = target.partition("/")
                if not slash or not course or not rest:
                    raise PydanticCustomError(
                        "assessment_ref",
                        "assessment: '{value}' names no course: write 'COURSE/ID' (the "
                        "course is the part before the first slash) or give 'course'",
                        {"value": target},
                    )
                return {**data, "course": course}
        return data


class AchievementRule(_Frozen):
    """A prerequisite achievement this learner was awarded (stackable pathways).

    Timeless: no modifier applies to it. A prerequisite's ``awarded_at`` depends on the
    order its events arrived in, so a window or date range over it would make the set of
    awards depend on delivery order.
    """

    achievement: str = Field(pattern=KEY_PATTERN)
    version: int | None = Field(default=None, ge=1)


class _Composite(_Dated):
    """Modifiers on a composite apply to every rule beneath it."""

    within_days: int | None = Field(default=None, ge=1, le=3650)
    max_attempts: int | None = Field(default=None, ge=1, le=1000)


class AllOf(_Composite):
    all_of: tuple[Rule, ...] = Field(min_length=1, max_length=100)


class AnyOf(_Composite):
    any_of: tuple[Rule, ...] = Field(min_length=1, max_length=100)


class NOf(_Composite):
    of: tuple[Rule, ...] = Field(min_length=1, max_length=100)
    n_of: int = Field(ge=1)

    @field_validator("n_of")
    @classmethod
    def _at_most_of(cls, value: int, info: ValidationInfo) -> int:
        rules = info.data.get("of")
        if rules is not None and value > len(rules):
            raise PydanticCustomError(
                "n_of_too_large",
                "must be <= number of rules in 'of' ({count})",
                {"count": len(rules)},
            )
        return value


def _rule_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        value = value.__dict__
    if not isinstance(value, dict):
        return None
    kinds = [kind for kind in RULE_KINDS if kind in value]
    if kinds == ["assessment", "achievement"] or len(kinds) != 1:
        return None
    return _TAG_PREFIX + kinds[0]


Rule = Annotated[
    Annotated[AssessmentRule, Tag(_TAG_PREFIX + "assessment")]
    | Annotated[AllOf, Tag(_TAG_PREFIX + "all_of")]
    | Annotated[AnyOf, Tag(_TAG_PREFIX + "any_of")]
    | Annotated[NOf, Tag(_TAG_PREFIX + "n_of")]
    | Annotated[AchievementRule, Tag(_TAG_PREFIX + "achievement")],
    Discriminator(
        _rule_kind,
        custom_error_type="rule_kind",
        custom_error_message=(
            "a rule is a mapping with exactly one of: assessment, all_of, any_of, n_of, achievement"
        ),
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
NOf.model_rebuild()


class Issuer(_Frozen):
    """The issuer profile (Open Badges ``Profile``) that signs this tenant's credentials."""

    id: str = Field(min_length=1, description="A DID or URL, e.g. did:web:badges.example.edu")
    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://\S+$")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    image: str | None = Field(default=None, pattern=r"^(https?|data):\S+$")
    description: str | None = None


class Criteria(_Frozen):
    narrative: str = Field(min_length=1)
    rule: Rule


class Alignment(_Frozen):
    """Open Badges ``Alignment``: a skill, competency or framework item the badge maps to."""

    target_name: str = Field(min_length=1)
    target_url: str = Field(pattern=r"^https?://\S+$")
    target_description: str | None = None
    target_framework: str | None = None
    target_code: str | None = None
    target_type: str | None = None


def _achievement_type(value: str) -> str:
    if value not in ACHIEVEMENT_TYPES and not _EXT_TYPE.match(value):
        raise PydanticCustomError(
            "achievement_type",
            "'{value}' is not an Open Badges AchievementType (e.g. Badge, Certificate, "
            "MicroCredential) nor an 'ext:Name' extension",
            {"value": value},
        )
    return value


class Achievement(_Frozen):
    key: str = Field(pattern=KEY_PATTERN)
    id: str = Field(pattern=r"^\S+:\S+$", description="The achievement's URI")
    version: int = Field(default=1, ge=1, le=100_000)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    image: str | None = Field(default=None, pattern=r"^(https?|data):\S+$")
    achievement_type: Annotated[str, AfterValidator(_achievement_type)] = "Badge"
    criteria: Criteria
    valid_for_days: int | None = Field(default=None, ge=1, le=36_500)
    tags: tuple[str, ...] = ()
    alignments: tuple[Alignment, ...] = ()


class TenantCatalog(_Frozen):
    """One tenant's catalog: its issuer and the achievements it awards."""

    tenant: str = Field(pattern=TENANT_PATTERN)
    issuer: Issuer
    achievements: tuple[Achievement, ...]

    @model_validator(mode="after")
    def _consistent(self) -> TenantCatalog:
        from processors.catalog._checks import reference_problems

        problems = reference_problems(self)
        if problems:
            raise PydanticCustomError("catalog", "{problems}", {"problems": "\n".join(problems)})
        return self
