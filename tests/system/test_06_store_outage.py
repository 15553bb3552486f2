"""Scenario 6: the object store is unreachable for a while, mid-run.

Every worker reaches the store through a TCP fault proxy. For the first half of the
outage the proxy refuses connections and resets the open ones (the store is gone); for
the second half it accepts and never answers (a hung store, found only by timeouts).
The signer and renderer must pause consumption (their committed offsets stand still:
nothing skipped), stay in their groups, and issue everything once the store is back.
Short: 10 s; full: 60 s.
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
    group_members,
    sized,
    stage_groups,
    topic_end,
    wait,
    wait_drained,
    workload_events,
)
from tests.system._proxy import FaultProxy
from tests.system.conftest import Recorder

# A batch that was already past its writes when the store went away may still commit.
GRACE_SECONDS = 3.0


def test_a_store_outage_pauses_consumption_and_skips_nothing(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = workload_events(pipeline, mixed=sized(500, 10_000), burst=sized(2000, 30_000))
    expected = expected_awards(pipeline, events)
    produce_events(pipeline, events)
    outage = sized(10, 60)
    issued = pipeline.topology.issued.name
    assert store.endpoint_url is not None
    with (
        FaultProxy(store.endpoint_url.removeprefix("http://")) as proxy,
        Crew(pipeline, CREDSTREAM_S3_ENDPOINT_URL=proxy.url) as crew,
    ):
        for stage in ("processor", "signer", "renderer"):
            crew.start(stage)
        wait(lambda: topic_end(pipeline, issued) >= len(expected) // 5, 600, "issuance", crew)
        proxy.set_mode("refuse")
        started = time.monotonic()
        time.sleep(GRACE_SECONDS)
        paused_at = {s: committed(pipeline, s)[0] for s in ("signer", "renderer")}
        events_at = committed(pipeline, "processor")[0]
        time.sleep(outage / 2 - GRACE_SECONDS)
        proxy.set_mode("blackhole")
        time.sleep(outage / 2)
        moved = {s: committed(pipeline, s)[0] - paused_at[s] for s in paused_at}
        members = {s: group_members(pipeline, stage_groups(pipeline)[s][0]) for s in paused_at}
        events_during = committed(pipeline, "processor")[0] - events_at
        crew.check()  # nobody crashed
        proxy.set_mode("forward")
        back = time.monotonic()
        issued_back = topic_end(pipeline, issued)
        recovered = wait(lambda: topic_end(pipeline, issued) > issued_back, 300, "issuance", crew)
        drain_seconds = wait_drained(pipeline, crew, sized(600, 1800), ("processor", "signer"))
        wait_drained(pipeline, crew, 300, ("renderer",))
        pauses = crew.log_lines("object store unavailable, pausing")
    result = audit(pipeline, expected, badges=True)
    scenario(
        6,
        "object store unreachable (refused, then hung)",
        events=len(events),
        outage_seconds=round(back - started, 1),
        committed_during_outage=moved,
        group_members_during_outage=members,
        events_consumed_during_outage=events_during,
        pause_log_lines=pauses,
        first_issue_after_return_seconds=round(recovered, 1),
        drain_seconds=round(drain_seconds, 1),
        proxy_connections=proxy.stats.accepted,
        proxy_resets=proxy.stats.reset,
        **result.figures(),
    )
    assert moved == {"signer": 0, "renderer": 0}, moved  # paused: nothing committed
    assert members == {"signer": 1, "renderer": 1}, members  # still in their groups
    assert pauses > 0
    assert result.exact, result.explain()
