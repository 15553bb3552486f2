"""xAPI 1.0.3 statements to ``AssessmentCompleted``.

- Verbs: ADL completed, passed, failed, scored, attempted, with a ``result.score``; other
  verbs, or one of these without a score, are skipped (not an assessment result).
- Score: ``raw`` with ``max`` (and ``min``, default 0) is kept as raw - min out of
  max - min; ``scaled`` alone (-1..1) becomes ``scaled`` out of 1.
- Learner: an Agent identified by ``mbox`` or ``mbox_sha1sum`` (both map to the same id,
  the SHA-1 of the mailto IRI, so a learner is one learner whichever the LRS sent),
  ``openid`` or ``account`` (homePage + name). A Group is rejected: it is not a learner.
- Course: the first ``context.contextActivities.parent`` (or ``grouping``) activity, else the
  object itself (a statement about a whole course).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

from producers.adapters._common import (
    AdapterContext,
    Skipped,
    derived_event_id,
    fail,
    get,
    number,
    text,
    timestamp,
)
from schemas.models import AssessmentCompleted, Learner

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
ASSESSMENT_VERBS = frozenset(
    ADL_VERBS + v for v in ("completed", "passed", "failed", "scored", "attempted")
)


def learner_of(actor: Any) -> Learner:
    """The learner an xAPI actor identifies (exactly one inverse functional identifier)."""
    if not isinstance(actor, Mapping):
        raise fail("actor", "required object")
    if actor.get("objectType") == "Group" or "member" in actor:
        raise fail("actor", "a Group is not a learner: send one statement per member")
    identifiers = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in actor]
    if len(identifiers) != 1:
        raise fail(
            "actor",
            "needs exactly one of mbox, mbox_sha1sum, openid, account"
            + (f" (has {', '.join(identifiers)})" if identifiers else ""),
        )
    kind = identifiers[0]
    if kind == "mbox":
        mbox = text(actor, "mbox", "actor.")
        if not mbox.startswith("mailto:") or "@" not in mbox:
            raise fail("actor.mbox", f"must be a mailto: IRI (got {mbox!r})")
        return Learner(
            id="mbox_sha1sum:" + hashlib.sha1(mbox.encode()).hexdigest(),  # noqa: S324 (xAPI's own)
            email=mbox.removeprefix("mailto:"),
        )
    if kind == "mbox_sha1sum":
        digest = text(actor, "mbox_sha1sum", "actor.").lower()
        if len(digest) != 40 or any(c not in "0123456789abcdef" for c in digest):
            raise fail("actor.mbox_sha1sum", "must be 40 hex digits")
        return Learner(id="mbox_sha1sum:" + digest)
    if kind == "openid":
        return Learner(id="openid:" + text(actor, "openid", "actor."))
    home = text(actor, "account.homePage", "actor.")
    name = text(actor, "account.name", "actor.")
    return Learner(id=f"account:{home}|{name}")


def _score(result: Any) -> tuple[float, float] | None:
    score = get(result, "score")
    if score is None:
        return None
    if not isinstance(score, Mapping):
        raise fail("result.score", "must be an object")
    if "raw" in score:
        raw = number(score, "raw", "result.score.")
        if "max" not in score:
            raise fail("result.score.max", "required with result.score.raw")
        low = number(score, "min", "result.score.") if "min" in score else 0.0
        high = number(score, "max", "result.score.")
        if high <= low:
            raise fail("result.score.max", f"must be greater than min ({high} <= {low})")
        if not low <= raw <= high:
            raise fail("result.score.raw", f"{raw} is outside {low}..{high}")
        return raw - low, high - low
    if "scaled" in score:
        scaled = number(score, "scaled", "result.score.")
        if not -1 <= scaled <= 1:
            raise fail("result.score.scaled", f"{scaled} is outside -1..1")
        return scaled, 1.0
    raise fail("result.score", "needs raw with max, or scaled")


def _course(statement: Mapping[str, Any], activity: str) -> str:
    for kind in ("parent", "grouping"):
        activities = get(statement, f"context.contextActivities.{kind}")
        if isinstance(activities, Mapping):
            activities = [activities]
        if isinstance(activities, list) and activities:
            return text(activities[0], "id", f"context.contextActivities.{kind}[0].")
    return activity


def from_xapi(statement: Any, context: AdapterContext) -> AssessmentCompleted | Skipped:
    if not isinstance(statement, Mapping):
        raise fail("statement", "must be a JSON object")
    learner = learner_of(statement.get("actor"))
    verb = text(statement, "verb.id")
    occurred = statement.get("timestamp", statement.get("stored"))
    occurred_at = timestamp(occurred, "timestamp")
    if verb not in ASSESSMENT_VERBS:
        return Skipped("", f"verb {verb} is not an assessment result")
    activity = text(statement, "object.id")
    if get(statement, "object.objectType") not in (None, "Activity"):
        raise fail("object.objectType", "must be an Activity")
    result = statement.get("result")
    scored = _score(result)
    if scored is None:
        if verb == ADL_VERBS + "scored":
            raise fail("result.score", "required with verb scored")
        return Skipped("", f"verb {verb.removeprefix(ADL_VERBS)} without result.score")
    success = get(result, "success")
    if success is not None and not isinstance(success, bool):
        raise fail("result.success", "must be true or false")
    implied = {ADL_VERBS + "passed": True, ADL_VERBS + "failed": False}.get(verb)
    if implied is not None and success is not None and success != implied:
        raise fail("result.success", f"{success} contradicts verb {verb.removeprefix(ADL_VERBS)}")
    statement_id = statement.get("id")
    if statement_id is not None:
        try:
            event_id = str(uuid.UUID(str(statement_id)))
        except ValueError:
            raise fail("id", f"must be a UUID (got {statement_id!r})") from None
    else:
        event_id = derived_event_id("xapi", learner.id, verb, activity, occurred)
    attributes = {"source": "xapi", "verb": verb}
    registration = get(statement, "context.registration")
    if isinstance(registration, str):
        attributes["registration"] = registration
    return AssessmentCompleted(
        event_id=event_id,
        tenant_id=context.tenant_id,
        engine_id=context.engine_id,
        learner=learner,
        course_id=_course(statement, activity),
        assessment_id=activity,
        score=scored[0],
        max_score=scored[1],
        passed=success if success is not None else implied,
        occurred_at=occurred_at,
        attributes=attributes,
    )
