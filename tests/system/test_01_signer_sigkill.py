"""Scenario 1: SIGKILL the signer mid-batch, restart it: nothing lost, nothing twice.

The signer is frozen at busy moments until one shows a batch whose credentials are
stored but whose offsets are not committed, and killed there (SIGKILL), then restarted.
Its uncommitted batch is read again: the credentials it had stored come back as
identical conditional writes, and the ones it had not stored are issued. Short: one
kill, 3,500 events (3,000 of them awards); full: three kills, 40,000 events (30,000
awards).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from credstream.e2e import expected_awards
from credstream.pipeline import LocalPipeline, Worker
from credstream.settings import KafkaSettings, S3Settings
from tests.integration.workers import new_pipeline, produce_events
from tests.system._harness import (
    Crew,
    audit,
    committed,
    list_keys,
    metric_sum,
    scrape,
    sized,
    topic_end,
    wait,
    wait_drained,
    workload_events,
)
from tests.system.conftest import Recorder


def _catch_mid_batch(crew: Crew, signer: Worker, pipeline: LocalPipeline) -> dict[str, int]:
    """Freeze the signer at busy moments until one shows a batch stored but not committed
    (inspected while it is frozen, so without a race); leave it frozen there."""
    prefix = f"{pipeline.tenant}/credentials/"
    for _ in range(300):
        crew.wait_busy(signer)
        crew.freeze(signer)
        state = {
            "stored": len(list_keys(pipeline, prefix)),
            "committed": committed(pipeline, "signer")[0],
            "announced": topic_end(pipeline, pipeline.topology.issued.name),
        }
        if state["stored"] > state["committed"]:
            return state
        crew.thaw(signer)
        time.sleep(random.random() / 4)
    raise AssertionError("the signer was never caught with a batch stored but uncommitted")


def test_signer_killed_mid_batch_loses_and_duplicates_nothing(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = workload_events(pipeline, mixed=sized(500, 10_000), burst=sized(3000, 30_000))
    expected = expected_awards(pipeline, events)
    produce_events(pipeline, events)
    kills = sized(1, 3)
    issued = pipeline.topology.issued.name
    at_kill = []
    redone = 0.0
    with Crew(pipeline, CREDSTREAM_SIGNER_PROCESSES=str(sized(1, 2))) as crew:
        crew.start("processor")
        signer = crew.start("signer")
        for number in range(1, kills + 1):
            target = len(expected) * number // (kills + 1)
            wait(lambda t=target: topic_end(pipeline, issued) >= t, 600, "issuance", crew)
            at_kill.append(_catch_mid_batch(crew, signer, pipeline))
            crew.kill(signer)
            time.sleep(1)
            signer = crew.start("signer", name="signer-1")
        drain_seconds = wait_drained(pipeline, crew, sized(300, 1200))
        url = crew.metrics_url(signer)
        if url is not None:  # the last restart's redone work: identical conditional writes
            redone = metric_sum(
                scrape(url), "credstream_credentials_stored_total", outcome="identical"
            )
    result = audit(pipeline, expected)
    # Mid-batch: at a kill, the store held credentials that were not yet committed.
    mid_batch = sum(1 for k in at_kill if k["stored"] > k["committed"])
    scenario(
        1,
        "SIGKILL the signer mid-batch",
        events=len(events),
        kills=kills,
        kills_mid_batch=mid_batch,
        identical_rewrites_after_last_restart=redone,
        drain_seconds=round(drain_seconds, 1),
        **result.figures(),
    )
    assert result.exact, result.explain()
    assert mid_batch == kills, at_kill  # every kill hit a stored but uncommitted batch
