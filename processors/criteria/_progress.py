"""Per-(tenant, learner) progress: what the engine remembers between events, and its bytes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from credstream.errors import InvalidInputError
from processors.catalog import Target

CREDENTIAL_NAMESPACE = uuid.UUID("4d889a69-d8d8-59d4-a963-6ecdb3b66d98")
"""Namespace of credential ids: ``uuid5(NAMESPACE_URL, "urn:credstream:credential-id")``.

Fixed forever: changing it would give every learner a second credential."""

_FORMAT = 1


def credential_id(tenant_id: str, key: str, version: int, learner_id: str) -> str:
    """UUIDv5 of ``"{tenant}/{key}/{version}/{learner}"`` in :data:`CREDENTIAL_NAMESPACE`.

    Tenant ids and keys cannot contain "/", so the name is unambiguous.
    """
    return str(uuid.uuid5(CREDENTIAL_NAMESPACE, f"{tenant_id}/{key}/{version}/{learner_id}"))


class Result(NamedTuple):
    """One assessment result. Field order makes tuples sort by time, then event id."""

    at: int  # occurred_at, epoch milliseconds
    event_id: str
    score: float
    max_score: float
    passed: bool | None
    attempt: int


class Proof(NamedTuple):
    """A result kept as evidence of an award (for the pathways that build on it)."""

    at: int
    event_id: str
    course_id: str
    assessment_id: str
    score: float
    max_score: float


class Awarded(NamedTuple):
    credential_id: str
    awarded_at: int  # epoch milliseconds
    source_event_id: str
    evidence: tuple[Proof, ...]  # emptied once no pending pathway can use it


@dataclass(frozen=True, slots=True)
class Progress:
    """What one learner of one tenant has done that the catalog still cares about.

    - ``results``: per assessment, the results that met at least one rule of a not yet
      awarded achievement when they arrived, sorted by (time, event id). They are the
      dedupe set too: an event id already there is a duplicate. A result that met no rule
      is not kept: seeing it again changes nothing either way. Once every achievement
      that reads an assessment is awarded, its results are dropped, so the state is
      bounded by the achievements in progress, not by the learner's history.
    - ``awards``: every (key, version) awarded, with its credential id, time, source
      event and (while a pathway may still need it) its evidence. Never dropped: this is
      what makes emission at most once.

    Immutable: :func:`evaluate` returns a new instance, or this very one when nothing
    changed (``new is old`` tells a table it need not write).
    """

    results: Mapping[Target, tuple[Result, ...]] = field(default_factory=dict)
    awards: Mapping[tuple[str, int], Awarded] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """Compact JSON: ``[format, [[course, assessment, [result...]]...], [award...]]``."""
        return json.dumps(
            [
                _FORMAT,
                [[course, assessment, rs] for (course, assessment), rs in self.results.items()],
                [[key, version, *award] for (key, version), award in self.awards.items()],
            ],
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Progress:
        try:
            document: Any = json.loads(data)
            if document[0] != _FORMAT:
                raise ValueError(f"unknown format {document[0]!r}")
            results = {
                (course, assessment): tuple(Result(*r) for r in rs)
                for course, assessment, rs in document[1]
            }
            awards = {
                (key, version): Awarded(cid, at, source, tuple(Proof(*p) for p in evidence))
                for key, version, cid, at, source, evidence in document[2]
            }
        except (ValueError, TypeError, IndexError, KeyError) as error:
            raise InvalidInputError(f"progress: not a valid progress record ({error})") from None
        return cls(results, awards)
