"""The criteria engine: ``evaluate(progress, event, catalog) -> (progress, awards)``.

Pure: no I/O, no clock, no Faust. The Faust app keeps one :class:`Progress` per
(tenant, learner) in a table (``to_bytes`` / ``from_bytes``) and produces the returned
``CredentialRequested`` records keyed by ``credential_id``.

Semantics, precisely:

- A result *meets* an assessment rule when it passes its thresholds, its ``attempt`` is
  within ``max_attempts`` and its ``occurred_at`` within ``from``/``until``. Every such
  result counts (so the best attempt counts); nothing is ever taken back.
- A rule is *met at time T* when the assessment results with ``occurred_at <= T`` and the
  prerequisites awarded by T (``awarded_at <= T``) meet it; a ``within_days`` rule needs
  one window of D days holding the assessment results it uses (prerequisites are
  timeless: no window or date range applies to them).
- After each event the engine awards every achievement not yet awarded whose rule is met
  by the results seen so far. ``awarded_at`` is the earliest T at which those results
  meet the rule (the ``occurred_at`` of the event that completed it in event time);
  ``source_event_id`` is that event (ties at the same millisecond: the smallest event
  id). Evidence: for every met leaf the best result (highest percentage, then score,
  then earliest, then event id) inside the earliest window that meets the rule and no
  later than ``awarded_at``; pathways carry their prerequisites' evidence.
- Pathways cascade: an award in this call is visible to the achievements that depend on
  it in the same call (evaluated in dependency order).
- Credential ids: :func:`credential_id`, UUIDv5 of ``"{tenant}/{key}/{version}/{learner}"``
  in :data:`CREDENTIAL_NAMESPACE` (``uuid5(NAMESPACE_URL,
  "urn:credstream:credential-id")``). The learner (id and email) is the evaluated
  event's: engines should send a stable email per learner.
- A catalog change applies from the next event on: results that met no rule of the
  catalog in force when they arrived were not kept, and an achievement is looked at
  only when a result it reads arrives.

Order independence. Whether an achievement is awarded, and so the set of credential
ids, depends only on the set of distinct events, never on their order or duplicates.
``awarded_at`` is a function of the events seen when the award is emitted, and an award
is emitted once. It is therefore the same for every delivery order in which no event
older than the award's ``awarded_at`` arrives after the award was emitted (in
particular, for delivery in time order). When such a late event would have completed
the rule earlier, the award keeps its emitted time: ``awarded_at`` never moves once
emitted, and it is never earlier than the time computed over all events.

Times are compared in whole milliseconds (the wire precision); ``occurred_at`` must be
timezone-aware.

:func:`replay` folds a whole history (JSON lines) through :func:`evaluate`: the oracle
behind ``credstream evaluate``.
"""

from processors.catalog import award_key
from processors.criteria._engine import evaluate
from processors.criteria._progress import (
    CREDENTIAL_NAMESPACE,
    EMPTY_PROGRESS,
    Progress,
    credential_id,
)
from processors.criteria._replay import Rejected, replay

__all__ = [
    "CREDENTIAL_NAMESPACE",
    "EMPTY_PROGRESS",
    "Progress",
    "Rejected",
    "award_key",
    "credential_id",
    "evaluate",
    "replay",
]
