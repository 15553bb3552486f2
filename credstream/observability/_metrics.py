"""The Prometheus series of every credstream process, and the methods that move them.

One :class:`Metrics` per process, built in its composition root, with its own registry:
nothing is registered at import time, so tests and several workers in one process never
collide. Names follow Prometheus conventions: ``_total`` counters, base units (seconds),
and only low-cardinality labels (tenant, stage, outcome, reason, kind, purpose, suite,
group, topic). Label values that come from a fixed vocabulary are checked, so a typo
fails in the worker's tests instead of creating a stray series.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from typing import Final, Literal, get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder

ConsumedOutcome = Literal["accepted", "duplicate", "dead_lettered", "rejected_auth"]
StoredOutcome = Literal["created", "identical", "conflict"]
RenderOutcome = Literal["created", "identical", "conflict", "failed"]
StatusPurpose = Literal["revocation", "suspension"]
# A conflicting stored object (412 with other bytes), a manifest chain that does not link,
# or a stored credential that no longer verifies.
IntegrityKind = Literal["object_conflict", "manifest_chain", "verification_failed"]

CONSUMED_OUTCOMES: Final = frozenset(get_args(ConsumedOutcome))
STORED_OUTCOMES: Final = frozenset(get_args(StoredOutcome))
RENDER_OUTCOMES: Final = frozenset(get_args(RenderOutcome))
STATUS_PURPOSES: Final = frozenset(get_args(StatusPurpose))
INTEGRITY_KINDS: Final = frozenset(get_args(IntegrityKind))

# Event time to notification: 10 ms (a warm pipeline) to a minute (a backlog).
LATENCY_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# One batch signed or stored, one evaluation: 100 µs to 10 s.
DURATION_BUCKETS: Final = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
BATCH_BUCKETS: Final = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


def _check(label: str, value: str, allowed: frozenset[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{label}={value!r} is not one of {sorted(allowed)}")
    return value


def _version() -> str:
    try:
        return metadata.version("credstream")
    except metadata.PackageNotFoundError:
        return "unknown"


class Metrics:
    """The series of one process; ``stage`` names it (processor, signer, renderer, ...)."""

    def __init__(
        self,
        stage: str,
        *,
        registry: CollectorRegistry | None = None,
        process_collectors: bool = True,
    ) -> None:
        self.stage = stage
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        if process_collectors:
            # CPU seconds and memory per process: what "CPU per credential per stage" needs.
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)

        Info(
            "credstream_build", "The version of the running worker.", ["stage"], registry=r
        ).labels(stage=stage).info({"version": _version()})
        self._ready = Gauge(
            "credstream_ready",
            "1 while the process passes its readiness check (/readyz), else 0.",
            ["stage"],
            registry=r,
        ).labels(stage=stage)

        self._consumed = Counter(
            "credstream_events_consumed",
            "Assessment events consumed, by what became of them.",
            ["tenant", "outcome"],
            registry=r,
        )
        self._awards = Counter(
            "credstream_awards", "Awards the criteria engine made.", ["tenant"], registry=r
        )
        self._signed = Counter(
            "credstream_credentials_signed",
            "Credentials signed, by cryptosuite.",
            ["tenant", "suite"],
            registry=r,
        )
        self._stored = Counter(
            "credstream_credentials_stored",
            "Credential writes to the object store, by outcome of the conditional write.",
            ["tenant", "outcome"],
            registry=r,
        )
        self._notified = Counter(
            "credstream_credentials_notified",
            "credential.issued notifications produced (after the credential was stored).",
            ["tenant"],
            registry=r,
        )
        self._dead_letters = Counter(
            "credstream_dead_letters",
            "Records sent to a dead-letter topic, by stage and reason (an error class).",
            ["stage", "reason"],
            registry=r,
        )
        self._auth_failures = Counter(
            "credstream_authentication_failures",
            "Events whose engine signature did not verify, by reason.",
            ["reason"],
            registry=r,
        )
        self._issuance_latency = Histogram(
            "credstream_issuance_latency_seconds",
            "Time from an event's occurred_at to the notification of its credential.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._batch_size = Histogram(
            "credstream_batch_size",
            "Records per micro-batch, by stage.",
            ["stage"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self._sign_seconds = Histogram(
            "credstream_sign_seconds",
            "Time to build and sign one batch of credentials.",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self._store_seconds = Histogram(
            "credstream_store_seconds",
            "Time to store one batch of credentials in the object store.",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self._evaluation_seconds = Histogram(
            "credstream_evaluation_seconds",
            "Time the criteria engine takes for one event.",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self._lag = Gauge(
            "credstream_consumer_lag",
            "Records behind the end of the log, over this process's partitions.",
            ["group", "topic"],
            registry=r,
        )
        self._progress_keys = Gauge(
            "credstream_progress_table_keys",
            "Learners held in this process's progress table.",
            registry=r,
        )
        self._status_updates = Counter(
            "credstream_status_list_updates",
            "Status changes (revoke, suspend, reinstate) applied to a status list.",
            ["tenant", "purpose"],
            registry=r,
        )
        self._status_pending = Gauge(
            "credstream_status_list_pending_changes",
            "Status changes applied but not yet in a published status list.",
            ["tenant", "purpose"],
            registry=r,
        )
        self._status_published = Gauge(
            "credstream_status_list_published_timestamp_seconds",
            "When a status list credential was last published (Unix time).",
            ["tenant", "purpose"],
            registry=r,
        )
        self._integrity_alarms = Counter(
            "credstream_integrity_alarms",
            "Evidence that stored data differs from what was issued; never expected.",
            ["kind"],
            registry=r,
        )
        self._renders = Counter(
            "credstream_renders", "Baked badges written, by outcome.", ["outcome"], registry=r
        )
        # Series that must exist at 0 before their first event, so that increase() and the
        # alerts see the first one.
        for kind in INTEGRITY_KINDS:
            self._integrity_alarms.labels(kind=kind)
        for outcome in RENDER_OUTCOMES:
            self._renders.labels(outcome=outcome)
        self._lag_topics: dict[str, set[str]] = {}

    # -- processor ------------------------------------------------------------------------
    def consumed(self, tenant: str, outcome: ConsumedOutcome, count: int = 1) -> None:
        _check("outcome", outcome, CONSUMED_OUTCOMES)
        self._consumed.labels(tenant=tenant, outcome=outcome).inc(count)

    def awarded(self, tenant: str, count: int = 1) -> None:
        self._awards.labels(tenant=tenant).inc(count)

    def authentication_failed(self, reason: str, count: int = 1) -> None:
        self._auth_failures.labels(reason=reason).inc(count)

    @contextmanager
    def evaluating(self) -> Iterator[None]:
        """Times one evaluation of the criteria engine."""
        with self._evaluation_seconds.time():
            yield

    def set_progress_table_keys(self, keys: int) -> None:
        self._progress_keys.set(keys)

    # -- signer ---------------------------------------------------------------------------
    def signed(self, tenant: str, suite: str, count: int = 1) -> None:
        self._signed.labels(tenant=tenant, suite=suite).inc(count)

    def stored(self, tenant: str, outcome: StoredOutcome, count: int = 1) -> None:
        _check("outcome", outcome, STORED_OUTCOMES)
        self._stored.labels(tenant=tenant, outcome=outcome).inc(count)

    def notified(
        self, tenant: str, occurred_at: float | None = None, now: float | None = None
    ) -> None:
        """One notification produced; ``occurred_at`` (Unix seconds) of the event that
        triggered it feeds the end-to-end latency histogram."""
        self._notified.labels(tenant=tenant).inc()
        if occurred_at is not None:
            now = time.time() if now is None else now
            self._issuance_latency.observe(max(0.0, now - occurred_at))

    @contextmanager
    def signing(self) -> Iterator[None]:
        """Times building and signing one batch."""
        with self._sign_seconds.time():
            yield

    @contextmanager
    def storing(self) -> Iterator[None]:
        """Times storing one batch."""
        with self._store_seconds.time():
            yield

    # -- every consuming stage -------------------------------------------------------------
    def batch(self, stage: str, size: int) -> None:
        self._batch_size.labels(stage=stage).observe(size)

    def dead_lettered(self, stage: str, reason: str, count: int = 1) -> None:
        """``reason`` must be low-cardinality: an error class name, never a message."""
        self._dead_letters.labels(stage=stage, reason=reason).inc(count)

    def set_consumer_lag(self, group: str, lag_by_topic: Mapping[str, int]) -> None:
        """Sets this process's lag per topic; topics it no longer reads drop to 0, since
        their partitions' lag is now reported by the process that took them over."""
        seen = self._lag_topics.setdefault(group, set())
        for topic in seen - set(lag_by_topic):
            self._lag.labels(group=group, topic=topic).set(0)
        for topic, lag in lag_by_topic.items():
            self._lag.labels(group=group, topic=topic).set(lag)
        seen.update(lag_by_topic)

    def integrity_alarm(self, kind: IntegrityKind) -> None:
        _check("kind", kind, INTEGRITY_KINDS)
        self._integrity_alarms.labels(kind=kind).inc()

    # -- renderer and status-list updater ---------------------------------------------------
    def rendered(self, outcome: RenderOutcome, count: int = 1) -> None:
        _check("outcome", outcome, RENDER_OUTCOMES)
        self._renders.labels(outcome=outcome).inc(count)

    def status_list_updated(self, tenant: str, purpose: StatusPurpose, count: int = 1) -> None:
        """Changes applied to a list in memory, waiting for its next publication."""
        _check("purpose", purpose, STATUS_PURPOSES)
        self._status_updates.labels(tenant=tenant, purpose=purpose).inc(count)
        self._status_pending.labels(tenant=tenant, purpose=purpose).inc(count)

    def status_list_published(
        self, tenant: str, purpose: StatusPurpose, at: float, pending: int = 0
    ) -> None:
        """A list credential was published at ``at``; ``pending`` changes came in since."""
        _check("purpose", purpose, STATUS_PURPOSES)
        self._status_published.labels(tenant=tenant, purpose=purpose).set(at)
        self._status_pending.labels(tenant=tenant, purpose=purpose).set(pending)

    # -- exposition -------------------------------------------------------------------------
    def set_ready(self, ready: bool) -> None:
        self._ready.set(1 if ready else 0)

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The body and content type for a scrape (OpenMetrics when the scraper asks)."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type

    def series_names(self) -> frozenset[str]:
        """Every sample name this process can expose (``_total``, ``_bucket``, ...)."""
        suffixes = {
            "counter": ("_total", "_created"),
            "histogram": ("_bucket", "_count", "_sum", "_created"),
            "info": ("_info",),
            "gauge": ("",),
        }
        return frozenset(
            family.name + suffix
            for family in self.registry.collect()
            for suffix in suffixes.get(family.type, ("",))
        )
