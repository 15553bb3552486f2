"""Run assessment events through the whole pipeline and measure what comes out.

Shared by ``credstream demo`` and ``credstream bench e2e``: it starts the workers as
separate processes, feeds the events (a backlog produced up front, or open loop at a
rate), samples progress and CPU while the pipeline works, then checks exactness: the
credentials announced and stored against the awards ``credstream evaluate`` computes
from the same events (lost = 0, duplicates = 0).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from credstream.observability import OffsetWatch
from credstream.pipeline import (
    LocalPipeline,
    Worker,
    cpu_seconds_of_trees,
    read_all,
    running,
    wait_until,
)
from credstream.roots.processor import processor_group
from credstream.roots.renderer import renderer_group
from credstream.roots.signer import signer_group
from processors.catalog import Catalog
from processors.criteria import replay
from producers import AssessmentEventProducer, DeliveryReport, EngineRegistry, send_events
from schemas.codec import Codec
from schemas.models import AssessmentCompleted, CredentialIssued, CredentialRequested


@dataclass(frozen=True)
class Sample:
    """The pipeline at one moment (counts are cumulative)."""

    seconds: float
    events_consumed: int
    awards: int
    credentials_issued: int
    dead_letters: int
    cpu_seconds: dict[str, float]
    badges_baked: int = 0  # notifications the renderer has committed (baked PNG and SVG)


@dataclass
class RunResult:
    events: int
    expected_credentials: int
    issued_distinct: int = 0
    notifications: int = 0
    stored_objects: int = 0
    lost: int = 0
    duplicates: int = 0
    unexpected: int = 0
    seconds: float = 0.0
    # With badges: when the renderer had baked every credential (it pauses while the
    # signer has a backlog, so a burst's badges follow it), and the CPU up to then.
    badges_seconds: float | None = None
    cpu_seconds_with_badges: dict[str, float] = field(default_factory=dict)
    events_per_second: float = 0.0
    credentials_per_second: float = 0.0
    latencies: list[float] = field(default_factory=list)
    # The same credentials' latency up to credential.requested (the processor's share).
    to_requested: list[float] = field(default_factory=list)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    def percentile(self, q: float, latencies: Sequence[float] | None = None) -> float | None:
        values = self.latencies if latencies is None else latencies
        if not values:
            return None
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        del data["latencies"], data["to_requested"], data["samples"]
        data["p50_seconds"] = self.percentile(0.50)
        data["p95_seconds"] = self.percentile(0.95)
        data["p99_seconds"] = self.percentile(0.99)
        data["p50_to_requested_seconds"] = self.percentile(0.50, self.to_requested)
        data["p99_to_requested_seconds"] = self.percentile(0.99, self.to_requested)
        return data


def expected_awards(
    pipeline: LocalPipeline, events: Sequence[AssessmentCompleted]
) -> list[CredentialRequested]:
    """What ``credstream evaluate`` awards for these events, in this order."""
    lines = (event.model_dump_json() for event in events)
    return [
        a for a in replay(lines, Catalog([pipeline.catalog])) if isinstance(a, CredentialRequested)
    ]


def produce(pipeline: LocalPipeline, events: Sequence[AssessmentCompleted], rate: float) -> None:
    with _engine_producer(pipeline) as producer:
        send_events(events, producer, rate=rate)


def _engine_producer(pipeline: LocalPipeline) -> AssessmentEventProducer:
    registry = EngineRegistry(pipeline.engines_dir)
    return AssessmentEventProducer.connect(
        pipeline.kafka,
        registry.signer(pipeline.engine_id),
        topic=pipeline.topology.assessments.name,
    )


class _PresignedEvents:
    """Events encoded and signed up front, sent open loop by :meth:`send_all`.

    Engines sign their events on their own machines; signing them here as they are sent
    took ~0.2 ms of CPU per event from the two cores the measured pipeline runs on.
    """

    def __init__(self, pipeline: LocalPipeline, events: Sequence[AssessmentCompleted]) -> None:
        self._producer = _engine_producer(pipeline)
        self._events = events
        self._records = {event.event_id: self._producer.signed(event) for event in events}

    def send(self, event: AssessmentCompleted) -> int:
        return self._producer.send_signed(self._records[event.event_id])

    def flush(self, timeout: float | None = None) -> DeliveryReport:
        return self._producer.flush(timeout)

    def send_all(self, rate: float) -> None:
        with self._producer:
            send_events(self._events, self, rate=rate)


def _sample(
    pipeline: LocalPipeline,
    watch: OffsetWatch,
    start: float,
    workers: dict[str, Worker],
    extra: dict[str, int],
    generating: bool,
) -> Sample:
    topology = pipeline.topology
    consumed, _ = watch.progress(processor_group(pipeline.kafka), topology.assessments.name)
    _, awards = watch.progress(signer_group(pipeline.kafka), topology.requests.name)
    _, issued = watch.progress("credstream-e2e-observer", topology.issued.name)
    dead = sum(
        watch.progress("credstream-e2e-observer", topology.dead_letters(t).name)[1]
        for t in (topology.assessments, topology.requests)
    )
    baked = 0
    if "renderer" in workers:
        baked = watch.progress(renderer_group(pipeline.kafka), topology.issued.name)[0]
    roots: dict[str, list[int]] = {}
    for worker in workers.values():  # per stage: its replicas together
        roots.setdefault(worker.stage, []).append(worker.pid)
    roots.update({name: [pid] for name, pid in extra.items()})
    cpu = cpu_seconds_of_trees(roots)
    if generating:  # this process: signing and producing the events, and sampling
        cpu["load-generator"] = time.process_time()
    return Sample(time.monotonic() - start, consumed, awards, issued, dead, cpu, baked)


def run(
    pipeline: LocalPipeline,
    events: Sequence[AssessmentCompleted],
    expected: Sequence[CredentialRequested],
    stages: Sequence[str],
    *,
    replicas: Mapping[str, int] | None = None,
    rate: float = 0.0,
    backlog: bool = True,
    timeout: float = 1800.0,
    stall_seconds: float = 60.0,
    on_sample: Callable[[Sample], None] | None = None,
    service_pids: dict[str, int] | None = None,
    worker_env: dict[str, str] | None = None,
    badges: bool = False,
) -> RunResult:
    """Feed ``events`` and wait for ``expected`` to be announced, sampling as it goes.

    ``backlog``: produce every event before the workers start (measures draining);
    otherwise produce while they run, open loop at ``rate`` (0: as fast as possible),
    the events encoded and signed before the workers start. ``badges``: also wait until
    the renderer has baked every credential (figures up to issuance are kept apart).
    """
    result = RunResult(len(events), len(expected))
    if backlog:
        produce(pipeline, events, 0.0)
    presigned = None if backlog else _PresignedEvents(pipeline, events)
    producer: threading.Thread | None = None
    with (
        running(pipeline, stages, pipeline.home, replicas, **(worker_env or {})) as workers,
        OffsetWatch(pipeline.kafka) as watch,
    ):
        if not backlog:
            # Latency is measured from a warm pipeline: start-up is not queueing.
            _wait_stable(pipeline, workers)
        start = time.monotonic()
        if presigned is not None:
            producer = threading.Thread(target=presigned.send_all, args=(rate,), daemon=True)
            producer.start()
        deadline = start + timeout
        moved = start
        issued_at: int | None = None  # samples taken until every credential was announced
        while time.monotonic() < deadline:
            sample = _sample(pipeline, watch, start, workers, service_pids or {}, not backlog)
            previous = result.samples[-1] if result.samples else None
            result.samples.append(sample)
            if on_sample is not None:
                on_sample(sample)
            issued = sample.credentials_issued >= len(expected) and sample.events_consumed >= len(
                events
            )
            if issued and issued_at is None:
                issued_at = len(result.samples)
            if issued and (not badges or sample.badges_baked >= sample.credentials_issued):
                break
            if previous is None or _counts(sample) != _counts(previous):
                moved = time.monotonic()
            elif time.monotonic() - moved > stall_seconds:
                break  # nothing moves any more: measure what arrived (lost > 0 says why)
            for worker in workers.values():
                if not worker.alive():
                    raise RuntimeError(f"worker {worker.name} exited ({worker.process.returncode})")
            time.sleep(0.5)
        if producer is not None:
            producer.join()
    if badges and result.samples[-1].badges_baked >= result.samples[-1].credentials_issued:
        result.badges_seconds = result.samples[-1].seconds
        result.cpu_seconds_with_badges = _cpu_between(result.samples[0], result.samples[-1])
    if issued_at is not None:
        del result.samples[issued_at:]  # the issuance's figures end where it did
    _measure(pipeline, events, expected, result)
    return result


def _wait_stable(pipeline: LocalPipeline, workers: dict[str, Worker], seconds: float = 120) -> None:
    """Until the issuing stages' consumer groups are Stable, each with every process of
    its stage as a member (a replica joining later would move partitions mid-run)."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    processes = Counter(worker.stage for worker in workers.values())
    groups = {
        group(pipeline.kafka): processes[stage]
        for stage, group in (("processor", processor_group), ("signer", signer_group))
        if processes[stage]
    }
    admin = KafkaAdminClient(bootstrap_servers=pipeline.kafka.bootstrap_servers.split(","))

    def stable() -> bool:
        try:
            described = admin.describe_groups(list(groups))
        except KafkaError as error:
            if error.retriable:  # a broker just started: its group coordinator is loading
                return False
            raise
        return all(
            described[group]["group_state"] == "Stable"
            and len(described[group]["members"]) == members
            for group, members in groups.items()
        )

    try:
        wait_until(
            stable,
            seconds,
            "the processor and signer groups to be stable",
            list(workers.values()),
        )
    finally:
        admin.close()


def _counts(sample: Sample) -> tuple[int, ...]:
    return (
        sample.events_consumed, sample.awards, sample.credentials_issued, sample.dead_letters,
        sample.badges_baked,
    )  # fmt: skip


def _measure(
    pipeline: LocalPipeline,
    events: Sequence[AssessmentCompleted],
    expected: Sequence[CredentialRequested],
    result: RunResult,
) -> None:
    samples = result.samples
    first, last = samples[0], samples[-1]
    result.seconds = last.seconds
    result.cpu_seconds = _cpu_between(first, last)
    result.events_per_second = _sustained(samples, "events_consumed", len(events))
    result.credentials_per_second = _sustained(samples, "credentials_issued", len(expected))

    codec = Codec()
    topology = pipeline.topology
    issued = read_all(pipeline.kafka, topology.issued.name, want=len(expected), seconds=30)
    announced = [codec.decode_as(r.value, CredentialIssued) for r in issued]
    ids = [a.credential_id for a in announced]
    wanted = {a.credential_id for a in expected}
    result.notifications = len(ids)
    result.issued_distinct = len(set(ids))
    result.duplicates = len(ids) - len(set(ids))
    result.lost = len(wanted - set(ids))
    result.unexpected = len(set(ids) - wanted)
    # The tenant's prefix may hold earlier runs' credentials: count this run's.
    stored = _stored_credentials(pipeline) & wanted
    result.stored_objects = len(stored)
    result.lost = max(result.lost, len(wanted - stored))

    sent_at: dict[str, float] = {}
    for record in read_all(pipeline.kafka, topology.assessments.name, want=len(events), seconds=30):
        sent_at[codec.decode_dict(record.value).record["event_id"]] = record.timestamp / 1000
    requested_at: dict[str, float] = {}
    for record in read_all(pipeline.kafka, topology.requests.name, want=len(expected), seconds=30):
        requested_at.setdefault(record.key.decode(), record.timestamp / 1000)
    source = {a.credential_id: a.source_event_id for a in expected}
    for record, notice in zip(issued, announced, strict=True):
        event = source.get(notice.credential_id)
        if event in sent_at:
            result.latencies.append(max(0.0, record.timestamp / 1000 - sent_at[event]))
            if notice.credential_id in requested_at:
                requested = requested_at[notice.credential_id] - sent_at[event]
                result.to_requested.append(max(0.0, requested))


def _cpu_between(first: Sample, last: Sample) -> dict[str, float]:
    return {
        name: round(last.cpu_seconds[name] - first.cpu_seconds.get(name, 0.0), 3)
        for name in last.cpu_seconds
    }


def _sustained(samples: Sequence[Sample], counter: str, total: int) -> float:
    """Rate between 10% and 90% of the total: start-up and tail excluded."""
    if total == 0:
        return 0.0
    values: list[tuple[float, int]] = [(s.seconds, int(getattr(s, counter))) for s in samples]
    low = next(((t, v) for t, v in values if v >= 0.1 * total), None)
    high = next(((t, v) for t, v in values if v >= 0.9 * total), None)
    if low is None or high is None or high[0] <= low[0]:
        return 0.0
    return (high[1] - low[1]) / (high[0] - low[0])


def _stored_credentials(pipeline: LocalPipeline) -> set[str]:
    from credstream.clients import s3_client

    client = s3_client(pipeline.store)
    prefix = f"{pipeline.tenant}/credentials/"
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=pipeline.store.bucket, Prefix=prefix
    )
    return {
        item["Key"].removeprefix(prefix).removesuffix(".json")
        for page in pages
        for item in page.get("Contents", [])
    }
