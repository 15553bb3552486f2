"""Scenario 4: a zombie. A signer is frozen (SIGSTOP) mid-batch past its session timeout,
its partitions move to the other signer, which re-reads the uncommitted batch and
finishes everything; then the frozen one is resumed (SIGCONT) and completes the batch it
was in. Its late writes must be refused (412) or byte-identical: no stored object
changes or appears, no second credential for any award; and before announcing anything
it finds that the group has moved its partitions on (its fence commit is refused), so it
abandons the batch: no forked manifest chain. (Notifications it had already queued when
frozen still go out: repeats, which consumers drop by credential id; reported.)

"Mid-batch" is made certain, not timed: the zombie reaches the store through a fault
proxy that holds its bytes (blackhole) until one of its credential PUTs is stuck in it,
and only then is it frozen. The held PUT reaches the store after the other signer has
finished: the latest write of all.
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
    metric_sum,
    scrape,
    sized,
    snapshot,
    stage_groups,
    topic_end,
    wait,
    wait_drained,
    wait_group_members,
    workload_events,
)
from tests.system._proxy import FaultProxy
from tests.system.conftest import Recorder

STORED = "credstream_credentials_stored_total"


def _store_outcomes(url: str) -> dict[str, float]:
    values = scrape(url)
    return {o: metric_sum(values, STORED, outcome=o) for o in ("created", "identical", "conflict")}


def _held_credential_puts(proxy: FaultProxy) -> list[bytes]:
    """The request lines of the credential PUTs the proxy has held."""
    return [
        line for line in proxy.stats.held if line.startswith(b"PUT ") and b"/credentials/" in line
    ]


def test_a_resumed_zombie_signer_writes_nothing_new(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = workload_events(pipeline, mixed=sized(300, 2000), burst=sized(2500, 20_000))
    expected = expected_awards(pipeline, events)
    produce_events(pipeline, events)
    issued = pipeline.topology.issued.name
    group = stage_groups(pipeline)["signer"][0]
    assert store.endpoint_url is not None
    with (
        FaultProxy(store.endpoint_url.removeprefix("http://")) as proxy,
        Crew(pipeline, CREDSTREAM_SIGNER_PROCESSES="1") as crew,
    ):
        crew.start("processor")
        zombie = crew.start("signer", CREDSTREAM_S3_ENDPOINT_URL=proxy.url)
        crew.start("signer")
        wait_group_members(pipeline, group, 2, 120)
        wait(lambda: topic_end(pipeline, issued) >= len(expected) // 5, 600, "issuance", crew)
        url = crew.metrics_url(zombie)
        assert url is not None
        proxy.set_mode("blackhole")
        wait(lambda: bool(_held_credential_puts(proxy)), 120, "a held PUT", crew)
        frozen_at = _store_outcomes(url)
        crew.freeze(zombie)
        started = time.monotonic()
        # Past its session timeout the group drops it, and the other signer takes over.
        wait_group_members(pipeline, group, 1, 180)
        evicted_after = time.monotonic() - started
        wait_drained(pipeline, crew, sized(600, 1800))
        before = snapshot(pipeline)
        notified = topic_end(pipeline, issued)

        proxy.set_mode("forward")
        crew.thaw(zombie)
        # The zombie finishes its batch (its commit is refused) and rejoins the group.
        wait_group_members(pipeline, group, 2, 180)
        wait_drained(pipeline, crew, 300)
        time.sleep(2)
        resumed = _store_outcomes(url)
        crew.check()
    after = snapshot(pipeline)
    changed = sorted(k for k in before if after.get(k) != before[k])
    added = sorted(set(after) - set(before))
    late = {o: resumed[o] - frozen_at[o] for o in resumed}
    abandoned = crew.log_lines("batch abandoned")
    result = audit(pipeline, expected)
    scenario(
        4,
        "SIGSTOP a signer past its session timeout, SIGCONT it",
        events=len(events),
        evicted_after_seconds=round(evicted_after, 1),
        zombie_requests_held=len(_held_credential_puts(proxy)),
        zombie_store_writes_since_freeze=late,
        zombie_batches_abandoned=abandoned,
        changed_objects=len(changed),
        added_objects=len(added),
        notifications_after_resume=topic_end(pipeline, issued) - notified,
        **result.figures(),
    )
    assert result.exact, result.explain()  # chains included: the zombie forked none
    assert changed == [] and added == [], (changed[:5], added[:5])
    assert abandoned >= 1  # frozen inside a credential PUT, it dropped that batch on waking
