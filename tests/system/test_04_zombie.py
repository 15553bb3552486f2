"""Scenario 4: a zombie. A signer is frozen (SIGSTOP) mid-batch past its session timeout,
its partitions move to the other signer, which re-reads the uncommitted batch and
finishes everything; then the frozen one is resumed (SIGCONT) and completes the batch it
was in. Its late writes must be refused (412) or byte-identical: no stored object
changes or appears, no second credential for any award, no forked manifest chain.

It is frozen at the two points that matter, made certain, not timed: half the events are
issued first; then the fault proxy between the zombie and the store starts holding its
requests of one kind (blackhole), the other half is produced, and the zombie is frozen
once one of them is stuck. The held request reaches the store after the other signer
has finished: the latest write of all.

- In a credential PUT: before announcing anything it finds that the group has moved its
  partitions on (its fence commit is refused), so it abandons the batch. (Notifications
  it had already queued when frozen still go out: repeats, which consumers drop by
  credential id; reported.)
- In a manifest PUT, past both its fences: its manifests are stored at the chain
  positions the new owner's took (the first offsets of the same uncommitted batch), so
  the store refuses them and it continues from the new owner's chain. (CI found this
  one forking chains when manifests were keyed by offset range.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credstream.e2e import expected_awards
from credstream.settings import KafkaSettings, S3Settings
from tests.integration.workers import new_pipeline, produce_events
from tests.system._harness import (
    Audit,
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


def _held(proxy: FaultProxy, request: bytes) -> list[bytes]:
    """The request lines starting with ``request`` that the proxy has held."""
    return [line for line in proxy.stats.held if line.startswith(request)]


@dataclass(frozen=True)
class _Resumed:
    """What a zombie frozen in one kind of request did, and what the store holds after."""

    figures: dict[str, Any]
    audit: Audit
    changed: list[str]
    added: list[str]
    abandoned: int
    continued: int


def _freeze_and_resume(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, held: str, **owner: str
) -> _Resumed:
    """Run the pipeline with two signers and freeze one inside a PUT under ``held``
    (``credentials`` or ``manifests``) of its tenant, past its session; resume it.
    ``owner``: settings of the signer that takes over."""
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = workload_events(pipeline, mixed=sized(300, 2000), burst=sized(2500, 20_000))
    expected = expected_awards(pipeline, events)
    # Half the events first, all issued before the fault: the zombie has written chains,
    # and is idle when its requests start being held, so the next batch is caught in it.
    half = len(events) // 2
    first_awards = len(expected_awards(pipeline, events[:half]))
    produce_events(pipeline, events[:half])
    issued = pipeline.topology.issued.name
    group = stage_groups(pipeline)["signer"][0]
    # PUTs only (a replay's lookups GET manifests too), named with the tenant's prefix
    # (the bucket is called "credentials" too).
    request = f"PUT /{store.bucket}/{pipeline.tenant}/{held}/".encode()
    assert store.endpoint_url is not None
    with (
        FaultProxy(store.endpoint_url.removeprefix("http://")) as proxy,
        Crew(pipeline, CREDSTREAM_SIGNER_PROCESSES="1") as crew,
    ):
        crew.start("processor")
        zombie = crew.start("signer", CREDSTREAM_S3_ENDPOINT_URL=proxy.url)
        crew.start("signer", **owner)
        wait_group_members(pipeline, group, 2, 120)
        wait(lambda: topic_end(pipeline, issued) >= first_awards, 600, "issuance", crew)
        url = crew.metrics_url(zombie)
        assert url is not None
        proxy.set_mode("blackhole", hold_only=request)
        produce_events(pipeline, events[half:])
        wait(lambda: bool(_held(proxy, request)), 120, f"a held PUT of {held}", crew)
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
        # What it does from here on is the test; a batch abandoned in a rebalance at
        # start-up (a second signer joining) is not.
        woke_at = crew.log_size(zombie)
        crew.thaw(zombie)
        # The zombie finishes its batch (its commit is refused) and rejoins the group.
        wait_group_members(pipeline, group, 2, 180)
        wait_drained(pipeline, crew, 300)
        time.sleep(2)
        resumed = _store_outcomes(url)
        abandoned = crew.log_lines("batch abandoned", zombie, after=woke_at)
        continued = crew.log_lines("already stored by another signer", zombie, after=woke_at)
        crew.check()
    after = snapshot(pipeline)
    changed = sorted(k for k in before if after.get(k) != before[k])
    added = sorted(set(after) - set(before))
    result = audit(pipeline, expected)
    figures = {
        "events": len(events),
        "evicted_after_seconds": round(evicted_after, 1),
        "zombie_requests_held": len(_held(proxy, request)),
        "zombie_store_writes_since_freeze": {o: resumed[o] - frozen_at[o] for o in resumed},
        "zombie_batches_abandoned": abandoned,
        "manifests_refused_then_continued": continued,
        "changed_objects": len(changed),
        "added_objects": len(added),
        "notifications_after_resume": topic_end(pipeline, issued) - notified,
        **result.figures(),
    }
    return _Resumed(figures, result, changed, added, abandoned, continued)


NAME = "SIGSTOP a signer past its session timeout, SIGCONT it"


def test_a_zombie_resumed_in_a_credential_put_writes_nothing_new(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    run = _freeze_and_resume(kafka, store, tmp_path, "credentials")
    scenario(4, NAME, **run.figures)
    assert run.audit.exact, run.audit.explain()  # chains included: the zombie forked none
    assert run.changed == [] and run.added == [], (run.changed[:5], run.added[:5])
    assert run.abandoned >= 1  # frozen inside a credential PUT, it dropped that batch on waking


def test_a_zombie_resumed_in_a_manifest_put_forks_no_chain(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    # Batches of another size than the zombie's (500): the new owner's manifest from the
    # same first offset lists fewer credentials, so the zombie's is not byte-identical.
    run = _freeze_and_resume(kafka, store, tmp_path, "manifests", CREDSTREAM_SIGNER_MAX_BATCH="97")
    scenario(4, NAME, frozen_in_a_manifest_put=run.figures)
    assert run.audit.exact, run.audit.explain()  # every chain linear, every credential listed
    assert run.changed == [] and run.added == [], (run.changed[:5], run.added[:5])
    assert run.abandoned == 0  # it was past its fences: it completed the batch...
    assert run.continued >= 1  # ...and the store refused its manifests at their positions
