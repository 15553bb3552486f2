"""``credstream bench e2e``: the whole pipeline on the local stack, measured in one run.

One run measures, on the same machine and minute:
1. the local store's capacity for small conditional PUTs and the broker's for small
   records (what would cap the pipeline if the pipeline did nothing else);
2. the pipeline draining a backlog of N events (sustained credentials/s and events/s,
   CPU seconds per credential per stage, exactness against ``credstream evaluate``);
3. the pipeline offered half that sustained rate, open loop (latency percentiles);
4. the baseline: the same pipeline with reference canonicalization and plain boto3
   ``put_object``, on a smaller backlog.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from credstream.clients import delete_objects, delete_topics
from credstream.devstack import DevStack
from credstream.e2e import RunResult, Sample, expected_awards, produce, run
from credstream.errors import InvalidInputError
from credstream.pipeline import WORKERS, LocalPipeline, catalog_courses, prepare
from credstream.settings import KafkaSettings, S3Settings
from processors.catalog import TenantCatalog
from producers import Workload, cohort_completion, generate
from schemas.models import AssessmentCompleted

Workloads = Literal["burst", "mixed"]
# The whole pipeline; the renderer runs niced (off the critical path).
STAGES = WORKERS
# Signer processes in bench e2e, by workload. One signer left a quarter of the machine
# idle while it drained a burst (vmstat): a batch's steps take turns (signing on every
# core, then storing, announcing, committing), and a second signer fills the gaps, as
# KEDA's lag trigger adds signers to a deployment under a backlog. In the everyday stream
# the processor is the bound, and a second signer only takes CPU from it. Interleaved
# runs, 2026-12-01: 40,000-event bursts, median 2,561 credentials/s with two (2,427-2,727,
# 4 runs) against 2,244 with one (1,487-2,262, 5 runs); 60,000 mixed events, 10,804 and
# 11,123 events/s with one against 8,129 and 8,829 with two.
SIGNERS: dict[Workloads, int] = {"burst": 2, "mixed": 1}
# The burst: a cohort passes the first graded module, which the sample catalog's
# "first steps" badge needs, and nothing else: every event completes one award.
BURST_COURSE, BURST_ASSESSMENT = "da-101", "da-101/m1"


@dataclass(frozen=True)
class BenchPlan:
    workload: Workloads
    events: int
    baseline_events: int
    latency_seconds: float
    catalog: TenantCatalog
    home: Path
    passphrase: str
    rate: float = 0.0  # events/s offered open loop in the main phase; 0: a backlog
    latency_rate: float = 0.0  # events/s offered in the latency phase; 0: half sustained
    signers: int = 1  # signer processes in every phase of bench e2e


def _events(
    plan: BenchPlan, pipeline: LocalPipeline, count: int, seed: int
) -> list[AssessmentCompleted]:
    # The everyday stream is steady: its cohort turns over (about one award per 7 events
    # all along), so the latency phase is not a burst of first awards.
    workload = Workload(
        courses=catalog_courses(plan.catalog), learners=max(1000, count // 10), events=count,
        seed=seed, tenant_id=pipeline.tenant, engine_id=pipeline.engine_id,
        learner_prefix=f"s{seed}-", turnover_events=10,
    )  # fmt: skip
    if plan.workload == "burst":
        return list(cohort_completion(workload, BURST_COURSE, BURST_ASSESSMENT))
    return list(generate(workload))


def _pipeline(stack: DevStack, plan: BenchPlan, label: str, **env: str) -> LocalPipeline:
    run_id = f"{label}-{uuid.uuid4().hex[:6]}"
    pipeline = LocalPipeline(
        kafka=KafkaSettings(
            bootstrap_servers=stack.bootstrap_servers(), topic_prefix=f"bench-{run_id}."
        ),
        store=S3Settings(endpoint_url=stack.s3_endpoint(), bucket=stack.settings.s3_bucket),
        catalog=plan.catalog.model_copy(update={"tenant": f"bench-{run_id}"}),
        home=plan.home / run_id,
        passphrase=plan.passphrase,
        extra_env=env,
    )
    prepare(pipeline)
    return pipeline


def _phase(
    stack: DevStack,
    plan: BenchPlan,
    label: str,
    count: int,
    *,
    rate: float = 0.0,
    backlog: bool = True,
    on_sample: Callable[[Sample], None] | None = None,
    badges: bool = False,
    **env: str,
) -> RunResult:
    pipeline = _pipeline(stack, plan, label, **env)
    events = _events(plan, pipeline, count, seed=abs(hash(label)) % 10_000)
    expected = expected_awards(pipeline, events)
    services = {
        name: pid
        for name, pid in (("kafka", stack.process_pid("kafka-1")), ("s3", stack.process_pid("s3")))
        if pid is not None
    }
    try:
        return run(
            pipeline, events, expected, STAGES, replicas={"signer": plan.signers},
            rate=rate, backlog=backlog, on_sample=on_sample, service_pids=services,
            badges=badges,
        )  # fmt: skip
    finally:
        delete_topics(pipeline.kafka, pipeline.kafka.topic_prefix)
        delete_objects(pipeline.store, f"{pipeline.tenant}/")


def store_capacity(stack: DevStack, count: int = 4000) -> float:
    """Small (1.5 KB) conditional PUTs per second the local store takes from one client."""
    from signers.storage import pipelined_store
    from signers.storage.bench import measure_puts

    settings = S3Settings(endpoint_url=stack.s3_endpoint(), bucket=stack.settings.s3_bucket)
    store = pipelined_store(settings, connections=8)
    prefix = f"bench/store/{uuid.uuid4().hex}"
    try:
        return measure_puts("capacity", store, count, prefix=prefix).objects_per_second
    finally:
        store.close()
        delete_objects(settings, f"{prefix}/")


def broker_capacity(stack: DevStack, count: int = 100_000) -> float:
    """Small (200 B) records per second produced (acks=all) and consumed back."""
    from credstream.clients import ensure_topics, kafka_consumer, kafka_producer
    from schemas.topics import Topic

    kafka = KafkaSettings(bootstrap_servers=stack.bootstrap_servers())
    topic = Topic(f"bench-capacity-{uuid.uuid4().hex[:6]}", partitions=6)
    ensure_topics(kafka, [topic])
    value = os.urandom(200)
    start = time.monotonic()
    with kafka_producer(
        kafka, linger_ms=20, batch_size=256 * 1024, compression_type=None
    ) as producer:
        for i in range(count):
            producer.send(topic.name, key=str(i % 1000).encode(), value=value)
        producer.flush()
    consumer = kafka_consumer(kafka, None, topic.name, fetch_max_bytes=8 * 1024 * 1024)
    seen = 0
    while seen < count and time.monotonic() - start < 300:
        seen += sum(len(batch) for batch in consumer.poll(timeout_ms=500).values())
    consumer.close()
    seconds = time.monotonic() - start
    delete_topics(kafka, topic.name)
    return count / seconds


def bench_e2e(
    stack: DevStack, plan: BenchPlan, echo: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, RunResult]]:
    echo("measuring the local store's and broker's own capacity ...")
    store_cap = store_capacity(stack)
    broker_cap = broker_capacity(stack)
    echo(f"  store {store_cap:,.0f} conditional PUTs/s, broker {broker_cap:,.0f} records/s")

    def progress(sample: Sample) -> None:
        if int(sample.seconds * 2) % 20 == 0:
            echo(f"  {sample.seconds:6.1f}s events {sample.events_consumed:,} "
                 f"issued {sample.credentials_issued:,}")  # fmt: skip

    how = f"offered at {plan.rate:,.0f}/s" if plan.rate else "as a backlog"
    echo(f"throughput: {plan.events:,} {plan.workload} events {how} ...")
    main = _phase(
        stack, plan, "main", plan.events, rate=plan.rate, backlog=not plan.rate,
        on_sample=progress, badges=True,
    )  # fmt: skip
    rate = main.credentials_per_second if plan.workload == "burst" else main.events_per_second
    offered = plan.latency_rate or max(1.0, rate / 2)
    latency_events = max(100, int(offered * plan.latency_seconds))
    which = "as asked" if plan.latency_rate else "half the sustained rate"
    echo(f"latency: {latency_events:,} events offered at {offered:,.0f}/s ({which}) ...")
    latency = _phase(stack, plan, "latency", latency_events, rate=offered, backlog=False)
    echo(f"baseline: {plan.baseline_events:,} events, reference canonicalization + boto3 ...")
    baseline = _phase(
        stack, plan, "baseline", plan.baseline_events,
        CREDSTREAM_SIGNER_CANONICALIZATION="reference", CREDSTREAM_SIGNER_STORE="boto3",
    )  # fmt: skip
    summary = latency.summary()
    report: dict[str, Any] = {
        "workload": plan.workload,
        "events": main.events,
        "credentials": main.issued_distinct,
        "expected_credentials": main.expected_credentials,
        "events_per_second": round(main.events_per_second, 1),
        "credentials_per_second": round(main.credentials_per_second, 1),
        "seconds": round(main.seconds, 1),
        "offered_rate": plan.rate or None,
        "offered_rate_for_latency": round(offered, 1),
        "p50_seconds": summary["p50_seconds"],
        "p95_seconds": summary["p95_seconds"],
        "p99_seconds": summary["p99_seconds"],
        # The processor's share of that latency: event -> credential.requested.
        "p50_to_requested_seconds": summary["p50_to_requested_seconds"],
        "p99_to_requested_seconds": summary["p99_to_requested_seconds"],
        "backlog_p99_seconds": main.summary()["p99_seconds"],
        # Cores each process used while the latency was measured (badges included).
        "latency_phase_cores": {
            name: round(cpu / max(latency.seconds, 1e-9), 2)
            for name, cpu in latency.cpu_seconds.items()
        },
        "lost": main.lost + latency.lost,
        "duplicates": main.duplicates + latency.duplicates,
        "unexpected": main.unexpected + latency.unexpected,
        "baseline_credentials_per_second": round(baseline.credentials_per_second, 1),
        "baseline_lost": baseline.lost,
        "speedup_over_baseline": round(
            main.credentials_per_second / baseline.credentials_per_second, 2
        )
        if baseline.credentials_per_second
        else None,
        "cpu_seconds_per_credential": _per_credential(main.cpu_seconds, main),
        # The renderer pauses while the signer has a backlog: a burst's badges follow it.
        "badges_seconds": main.badges_seconds,
        "cpu_seconds_per_credential_with_badges": _per_credential(
            main.cpu_seconds_with_badges, main
        ),
        "cpu_ms_per_credential_baseline": _per_credential(
            baseline.cpu_seconds, baseline, scale=1000, digits=3
        ),
        "store_put_capacity_per_second": round(store_cap, 1),
        "broker_record_capacity_per_second": round(broker_cap, 1),
        "cores": os.cpu_count(),
        "signers": plan.signers,
    }
    return report, {"main": main, "latency": latency, "baseline": baseline}


def _per_credential(
    cpu_seconds: dict[str, float], run: RunResult, scale: float = 1.0, digits: int = 6
) -> dict[str, float]:
    """CPU per credential by stage, in seconds (``scale`` 1000: milliseconds)."""
    credentials = max(1, run.issued_distinct)
    return {name: round(cpu / credentials * scale, digits) for name, cpu in cpu_seconds.items()}


def write_results(report: dict[str, Any], runs: dict[str, RunResult], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"e2e-{report['workload']}-{time.strftime('%Y%m%d-%H%M%S')}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    _chart(runs["main"], runs["latency"], report, stem.with_suffix(".png"))
    return stem


def _rates(samples: Sequence[Sample], attribute: str) -> tuple[list[float], list[float]]:
    times, rates = [], []
    for before, after in itertools.pairwise(samples):
        span = after.seconds - before.seconds
        if span > 0:
            times.append(after.seconds)
            rates.append((getattr(after, attribute) - getattr(before, attribute)) / span)
    return times, rates


def _chart(main: RunResult, latency: RunResult, report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), constrained_layout=True)
    for attribute, label in (("events_consumed", "events/s consumed"),
                             ("credentials_issued", "credentials/s issued")):  # fmt: skip
        times, rates = _rates(main.samples, attribute)
        top.plot(times, rates, label=label)
    rate = report.get("offered_rate")
    offered = f"offered at {rate:,.0f}/s" if rate else "as a backlog"
    top.set_title(f"{report['workload']}: {report['events']:,} events {offered}")
    top.set_xlabel("seconds")
    top.set_ylabel("per second")
    top.legend()
    ordered = sorted(latency.latencies)
    if ordered:
        top_p = [i / max(1, len(ordered) - 1) * 100 for i in range(len(ordered))]
        bottom.plot(top_p, ordered)
    bottom.set_title(
        f"latency event -> credential.issued at {report['offered_rate_for_latency']:,.0f}/s offered"
    )
    bottom.set_xlabel("percentile")
    bottom.set_ylabel("seconds")
    figure.savefig(path, dpi=90)
    plt.close(figure)


def bench_processor(stack: DevStack, plan: BenchPlan, floor: bool = False) -> dict[str, Any]:
    """One processor process draining a backlog of ``plan.events`` assessment events.

    ``floor``: Faust's own ceiling instead, an agent that drops the same batches
    (``credstream.faust_floor``). Start-up is excluded: the clock and the CPU meter start
    when the first offsets are committed, and stop when every event is.
    """
    from credstream.observability import OffsetWatch
    from credstream.pipeline import Worker
    from credstream.roots.processor import processor_group

    pipeline = _pipeline(stack, plan, "processor")
    events = _events(plan, pipeline, plan.events, seed=11)
    produce(pipeline, events, 0.0)
    source = pipeline.topology.assessments
    log = pipeline.home / "processor.log"
    if floor:
        from credstream import faust_floor

        group = pipeline.kafka.topic_prefix + "faust-floor"
        module = faust_floor.command(
            group, pipeline.kafka.bootstrap_servers, source.name, source.partitions,
            pipeline.home / "faust-floor",
        )  # fmt: skip
        worker = Worker(pipeline, "faust-floor", log, module=module)
    else:
        group = processor_group(pipeline.kafka)
        worker = Worker(pipeline, "processor", log)
    watch = OffsetWatch(pipeline.kafka)
    try:
        first: tuple[float, float, int] | None = None
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            committed, end = watch.progress(group, source.name)
            if committed and first is None:
                first = (time.monotonic(), worker.cpu_seconds(), committed)
            if committed >= end:
                break
            if not worker.alive():
                raise RuntimeError(f"the {worker.name} exited ({worker.process.returncode})")
            time.sleep(0.2)
        assert first is not None
        seconds, cpu = time.monotonic() - first[0], worker.cpu_seconds() - first[1]
        counted = committed - first[2]
        if counted <= 0:  # all of it in the first commit the probe saw
            raise InvalidInputError(f"--events {plan.events} is too few to measure: use more")
    finally:
        watch.close()
        worker.stop()
        delete_topics(pipeline.kafka, pipeline.kafka.topic_prefix)
    return {
        "workload": plan.workload,
        "consumer": "faust-floor" if floor else "processor",
        "events": plan.events,
        "events_per_second": round(counted / seconds, 1),
        "cpu_ms_per_event": round(cpu / counted * 1000, 3),
        "cpu_cores_used": round(cpu / seconds, 2),
    }
