"""Per-(tenant, learner) progress: what the engine remembers between events, and its bytes.

The layout is JSON-native (dicts of lists) so that ``orjson`` reads and writes it with
no per-record Python work: progress is decoded and encoded on every event.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from credstream.errors import InvalidInputError
from processors.catalog import award_key

CREDENTIAL_NAMESPACE = uuid.UUID("4d889a69-d8d8-59d4-a963-6ecdb3b66d98")
"""Namespace of credential ids: ``uuid5(NAMESPACE_URL, "urn:credstream:credential-id")``.

Fixed forever: changing it would give every learner a second credential."""

_FORMAT = 1

# A result: [at, event_id, score, max_score, passed, attempt]; ``at`` is occurred_at in
# epoch milliseconds. Lists compare by time, then event id: the order results are kept in.
AT, EVENT_ID, SCORE, MAX_SCORE, PASSED, ATTEMPT = range(6)
Record = list[Any]

# A proof (a result kept as evidence of an award, for the pathways that build on it):
# [at, event_id, course_id, assessment_id, score, max_score].
COURSE_ID, ASSESSMENT_ID = 2, 3
PROOF_SCORE, PROOF_MAX_SCORE = 4, 5

# An award: [awarded_at, source_event_id, [proof...]]; the proofs are emptied once no
# pending pathway can use them. The credential id is not stored: it is derived.
AWARDED_AT, SOURCE_EVENT_ID, EVIDENCE = range(3)


_NAMESPACE_BYTES = CREDENTIAL_NAMESPACE.bytes
# The variant bits (10) set in the top hex digit of the fourth group, as uuid.UUID sets them.
_VARIANT = {digit: format(0x8 | int(digit, 16) & 0x3, "x") for digit in "0123456789abcdef"}


def credential_id(tenant_id: str, key: str, version: int, learner_id: str) -> str:
    """UUIDv5 of ``"{tenant}/{key}/{version}/{learner}"`` in :data:`CREDENTIAL_NAMESPACE`:
    ``str(uuid.uuid5(...))``, written from the SHA-1 digest's hex digits (a third of the
    time: one per award, and every event of a cohort's burst awards).

    Tenant ids and keys cannot contain "/", so the name is unambiguous.
    """
    name = f"{tenant_id}/{key}/{version}/{learner_id}".encode()
    h = hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).hexdigest()
    # Version 5 in the third group's first digit, the variant in the fourth's.
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


@dataclass(frozen=True, slots=True)
class Progress:
    """What one learner of one tenant has done that the catalog still cares about.

    - ``results[course_id][assessment_id]``: the results that met at least one rule of
      a not yet awarded achievement when they arrived, sorted by (time, event id). They
      are the dedupe set too: an event id already there is a duplicate. A result that
      met no rule is not kept (seeing it again changes nothing either way), and a result
      no pending rule can use any more is dropped, so the state is bounded by the
      achievements in progress, not by the learner's history.
    - ``awards[award_key(key, version)]``: every award made, with its time, source event
      and (while a pathway may still need it) its evidence. Never dropped: this is what
      makes emission at most once.

    Treat as immutable: :func:`evaluate` returns a new instance (sharing what did not
    change), or this very one when nothing changed (``new is old``: no write needed).
    """

    results: Mapping[str, Mapping[str, Sequence[Record]]] = field(default_factory=dict)
    awards: Mapping[str, Record] = field(default_factory=dict)

    def awarded(self, key: str, version: int) -> bool:
        return award_key(key, version) in self.awards

    def to_bytes(self) -> bytes:
        """Compact JSON: ``{"v": 1, "r": results, "a": awards}``."""
        return orjson.dumps({"v": _FORMAT, "r": self.results, "a": self.awards})

    @classmethod
    def from_bytes(cls, data: bytes) -> Progress:
        """The inverse of :meth:`to_bytes` (the engine's own bytes: only the outer shape
        is checked, not every record)."""
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise InvalidInputError(f"progress: not a valid progress record ({error})") from None
        if not (
            isinstance(document, dict)
            and document.get("v") == _FORMAT
            and isinstance(document.get("r"), dict)
            and isinstance(document.get("a"), dict)
        ):
            raise InvalidInputError("progress: not a valid progress record (format 1 expected)")
        return cls(document["r"], document["a"])


EMPTY_PROGRESS = Progress()
"""The progress of a learner with none: what ``evaluate(None, ...)`` starts from and
returns (this very object) when the event changed nothing. Never mutated."""
