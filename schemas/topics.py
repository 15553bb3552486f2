"""The topics of the pipeline and how each is configured."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int = 6
    config: dict[str, str] = field(default_factory=dict)


ASSESSMENT_COMPLETED = Topic("assessment.completed.v1")
CREDENTIAL_REQUESTED = Topic("credential.requested.v1")
CREDENTIAL_ISSUED = Topic("credential.issued.v1")
CREDENTIAL_STATUS = Topic("credential.status.v1", partitions=3)
ACHIEVEMENT_CATALOG = Topic(
    "achievement.catalog.v1", partitions=1, config={"cleanup.policy": "compact"}
)


# A dead letter holds the refused record whole plus its envelope: its topic takes larger
# records than the brokers' default (1 MB), or a record near that size could never be
# dead-lettered and would block its partition.
DEAD_LETTER_MAX_BYTES = 4_194_304


def dead_letter(topic: Topic) -> Topic:
    """The dead-letter topic of the stage that consumes ``topic``."""
    return Topic(
        f"{topic.name}.dlq",
        partitions=1,
        config={"max.message.bytes": str(DEAD_LETTER_MAX_BYTES)},
    )


ALL_TOPICS: tuple[Topic, ...] = (
    ASSESSMENT_COMPLETED,
    CREDENTIAL_REQUESTED,
    CREDENTIAL_ISSUED,
    CREDENTIAL_STATUS,
    ACHIEVEMENT_CATALOG,
    dead_letter(ASSESSMENT_COMPLETED),
    dead_letter(CREDENTIAL_REQUESTED),
    dead_letter(CREDENTIAL_ISSUED),
    dead_letter(CREDENTIAL_STATUS),
)


@dataclass(frozen=True)
class Topology:
    """The topics one deployment uses, as a value every stage is given.

    A prefix lets several pipelines share one cluster (tests, staging): every name,
    dead-letter topics included, starts with it.
    """

    prefix: str = ""

    def _named(self, topic: Topic) -> Topic:
        return Topic(self.prefix + topic.name, topic.partitions, topic.config)

    @property
    def assessments(self) -> Topic:
        return self._named(ASSESSMENT_COMPLETED)

    @property
    def requests(self) -> Topic:
        return self._named(CREDENTIAL_REQUESTED)

    @property
    def issued(self) -> Topic:
        return self._named(CREDENTIAL_ISSUED)

    @property
    def status(self) -> Topic:
        return self._named(CREDENTIAL_STATUS)

    @property
    def catalog(self) -> Topic:
        return self._named(ACHIEVEMENT_CATALOG)

    def partition_label(self, partition: int) -> str:
        """A name for one partition of this topology's request topic, unique across
        topologies: status list ids and manifest chains are built from it."""
        return f"{self.prefix.replace('.', '-')}p{partition}"

    def dead_letters(self, source: Topic) -> Topic:
        return dead_letter(source)

    def all(self) -> tuple[Topic, ...]:
        return tuple(self._named(topic) for topic in ALL_TOPICS)
