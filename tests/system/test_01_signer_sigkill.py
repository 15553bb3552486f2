"""Scenario 1: SIGKILL the signer mid-batch, restart it: nothing lost, nothing twice.

The signer is killed while credentials flow (a batch is being signed, stored or announced
at that moment), then restarted. Its uncommitted batch is read again: the credentials it
had stored come back as identical conditional writes, and the ones it had not stored are
issued. Short: one kill, 3,000 events (2,000 of them awards); full: three kills, 40,000
events (30,000 awards).
"""

from __future__ import annotations

import time
from pathlib import Path

from credstream.e2e import expected_awards
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


def test_signer_killed_mid_batch_loses_and_duplicates_nothing(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = workload_events(pipeline, mixed=sized(1000, 10_000), burst=sized(2000, 30_000))
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
            crew.kill(signer)
            at_kill.append(
                {
                    "announced": topic_end(pipeline, issued),
                    "committed": committed(pipeline, "signer")[0],
                    "stored": len(list_keys(pipeline, f"{pipeline.tenant}/credentials/")),
                }
            )
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
    assert mid_batch >= 1, at_kill
