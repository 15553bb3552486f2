"""Scenario 13: soak. 30 minutes at half the pipeline's maximum rate.

The maximum is measured first, on this machine and pipeline: a backlog of the mixed MOOC
workload drained by the processor and signer. Then events arrive open loop at half that
rate for 30 minutes while the lag of every stage and the resident memory of every worker
(process tree) are sampled. Pass: the lag stays bounded (never more than a minute of
arrivals) and drains at the end; no worker's memory grows more than 10% between the end
of a 5-minute warm-up and the end of the run; and the usual exactness.

Only under ``make chaos``: a run of a minute or two inside ``make test`` cannot separate
memory growth from warm-up, so it would prove nothing.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from credstream.e2e import expected_awards
from credstream.pipeline import LocalPipeline, catalog_courses
from credstream.settings import KafkaSettings, S3Settings
from processors.catalog import Catalog
from processors.criteria import replay
from producers import AssessmentEventProducer, EngineRegistry, Workload, generate, send_events
from schemas.models import AssessmentCompleted, CredentialRequested
from tests.integration.workers import new_pipeline, produce_events
from tests.system._harness import (
    FULL,
    Crew,
    audit,
    committed,
    rss_bytes,
    wait_drained,
    workload_events,
)
from tests.system.conftest import Recorder

pytestmark = pytest.mark.skipif(not FULL, reason="a soak means 30 minutes: make chaos only")

DURATION, WARM_UP, SAMPLE_EVERY = 1800.0, 300.0, 15.0
STAGES = ("processor", "signer", "renderer")


def _soak_workload(pipeline: LocalPipeline, events: int) -> Workload:
    return Workload(
        courses=catalog_courses(pipeline.catalog), learners=max(1000, events // 12),
        events=events, seed=13, tenant_id=pipeline.tenant, engine_id=pipeline.engine_id,
        learner_prefix="soak-",
    )  # fmt: skip


def _oracle(
    pipeline: LocalPipeline, events: Iterator[AssessmentCompleted]
) -> list[CredentialRequested]:
    lines = (event.model_dump_json() for event in events)
    return [
        a for a in replay(lines, Catalog([pipeline.catalog])) if isinstance(a, CredentialRequested)
    ]


def _lag(pipeline: LocalPipeline, stage: str) -> int:
    done, end = committed(pipeline, stage)
    return end - done


def test_half_rate_for_thirty_minutes_keeps_lag_and_memory_bounded(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    calibration = workload_events(pipeline, mixed=30_000, prefix="calib")
    expected = expected_awards(pipeline, calibration)
    produce_events(pipeline, calibration)
    with Crew(pipeline, CREDSTREAM_SIGNER_PROCESSES="1") as crew:
        for stage in STAGES:
            crew.start(stage)
        # The maximum: how fast the processor and signer drain the backlog, together.
        started = time.monotonic()
        wait_drained(pipeline, crew, 1200)
        maximum = len(calibration) / (time.monotonic() - started)
        rate = maximum / 2
        workload = _soak_workload(pipeline, int(rate * DURATION))
        expected += _oracle(pipeline, generate(workload))
        sent: list[int] = []

        def produce() -> None:
            registry = EngineRegistry(pipeline.engines_dir)
            signer = registry.signer(pipeline.engine_id)
            topic = pipeline.topology.assessments.name
            with AssessmentEventProducer.connect(pipeline.kafka, signer, topic=topic) as sink:
                sent.append(send_events(generate(workload), sink, rate=rate).failed)

        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        soak_start = time.monotonic()
        samples: list[tuple[float, dict[str, int], dict[str, int]]] = []
        while producer.is_alive():
            time.sleep(SAMPLE_EVERY)
            crew.check()
            lag = {s: _lag(pipeline, s) for s in STAGES}
            memory = {name: rss_bytes(w.pid) for name, w in crew.workers.items() if w.alive()}
            samples.append((time.monotonic() - soak_start, lag, memory))
        drain_seconds = wait_drained(pipeline, crew, 600, STAGES)
    steady = [s for s in samples if s[0] >= WARM_UP]
    max_lag_seconds = max((lag["processor"] + lag["signer"]) / rate for _, lag, _ in steady)
    growth: dict[str, float] = {}
    for name in crew.workers:
        early = [m[name] for t, _, m in steady if t < WARM_UP + 120 and name in m]
        late = [m[name] for t, _, m in steady if t > steady[-1][0] - 120 and name in m]
        if early and late:
            growth[name] = round(statistics.mean(late) / statistics.mean(early) - 1, 4)
    result = audit(pipeline, expected, badges=True)
    scenario(
        13,
        "soak: 30 minutes at half the maximum rate",
        maximum_events_per_second=round(maximum, 1),
        rate=round(rate, 1),
        events=len(calibration) + workload.events,
        soak_seconds=round(samples[-1][0], 1) if samples else 0,
        max_lag_seconds=round(max_lag_seconds, 1),
        memory_growth_after_warm_up=growth,
        memory_mb_at_end={n: round(m / 1e6) for n, m in samples[-1][2].items()},
        producer_failed=sent[0] if sent else None,
        drain_seconds=round(drain_seconds, 1),
        **result.figures(),
    )
    assert sent == [0]
    assert max_lag_seconds < 60, max_lag_seconds
    assert all(g < 0.10 for g in growth.values()), growth
    assert result.exact, result.explain()
