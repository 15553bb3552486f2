"""Scenario 10: one achievement earned through three different event histories.

Each learner completes DA-101 (five of six modules at 80% within 90 days) three times
over, with different events: modules 1-5, then modules 2-6, then all six retaken at
100% through another event stream (new event ids, later times). Exactly one DA-101
credential per learner; and byte-identical on every retry: the histories sent again,
the signer re-reading every request, and each credential rebuilt and re-signed from its
request, all give the bytes in the store.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from credstream.e2e import expected_awards
from credstream.pipeline import LocalPipeline, read_all
from credstream.settings import KafkaSettings, S3Settings
from schemas.codec import Codec
from schemas.models import AssessmentCompleted, CredentialRequested, Learner
from signers.credential import BuildOptions
from signers.keys import open_key
from signers.service import CredentialFactory, Signed, SignJob, credential_key
from signers.status import allocate_slot
from tests.integration.workers import new_pipeline, produce_events
from tests.system._harness import (
    Crew,
    audit,
    fetch,
    rewind,
    sized,
    snapshot,
    topic_end,
    wait_drained,
)
from tests.system.conftest import Recorder

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HISTORIES = (
    ("m1", "m2", "m3", "m4", "m5"),
    ("m2", "m3", "m4", "m5", "m6"),
    ("m1", "m2", "m3", "m4", "m5", "m6"),
)


def _histories(pipeline: LocalPipeline, learners: int) -> list[AssessmentCompleted]:
    events = []
    for history, modules in enumerate(HISTORIES):
        for n in range(learners):
            for step, module in enumerate(modules):
                at = START + timedelta(days=history * 3, hours=n % 24, minutes=step * 5)
                events.append(
                    AssessmentCompleted(
                        event_id=str(uuid.uuid4()), tenant_id=pipeline.tenant,
                        engine_id=pipeline.engine_id, learner=Learner(id=f"thrice-{n:05d}"),
                        course_id="da-101", assessment_id=f"da-101/{module}",
                        score=100.0 if history == 2 else 85.0 + step, max_score=100.0,
                        passed=True, attempt=2 if history else 1, occurred_at=at,
                    )
                )  # fmt: skip
    return events


def _rebuilt(pipeline: LocalPipeline, stored: dict[str, bytes]) -> tuple[int, int]:
    """(credentials rebuilt and re-signed from their requests, byte-identical to stored)."""
    achievements = {(a.key, a.version): a for a in pipeline.catalog.achievements}
    base_url = pipeline.env()["CREDSTREAM_SIGNER_PUBLIC_BASE_URL"]
    factory = CredentialFactory(BuildOptions(base_url), lambda t: open_key(pipeline.keys, t))
    codec, topology = Codec(), pipeline.topology
    rebuilt = identical = 0
    for record in read_all(pipeline.kafka, topology.requests.name, seconds=30):
        request = codec.decode_as(record.value, CredentialRequested)
        body = stored.get(credential_key(request.tenant_id, request.credential_id))
        achievement = achievements[(request.achievement_key, request.achievement_version)]
        issuer = pipeline.catalog.issuer
        slot = allocate_slot(topology.partition_label(record.partition), record.offset)
        made = factory.make(SignJob(request, achievement, issuer, slot))
        assert isinstance(made, Signed), made
        rebuilt += 1
        identical += made.body == body
    return rebuilt, identical


def test_three_histories_one_credential_byte_identical_on_retries(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    learners = sized(30, 1000)
    events = _histories(pipeline, learners)
    expected = expected_awards(pipeline, events)
    da101 = [a for a in expected if a.achievement_key == "da-101"]
    assert len(da101) == learners  # the oracle: one DA-101 award per learner
    produce_events(pipeline, events)
    topology = pipeline.topology
    with Crew(pipeline, CREDSTREAM_SIGNER_PROCESSES="1") as crew:
        processor, signer = crew.start("processor"), crew.start("signer")
        wait_drained(pipeline, crew, sized(300, 1200))
        first = snapshot(pipeline)
        requests = topic_end(pipeline, topology.requests.name)
        notices = topic_end(pipeline, topology.issued.name)
        # Retry 1: the same three histories again (an engine resending everything).
        produce_events(pipeline, events)
        wait_drained(pipeline, crew, sized(300, 1200))
        resend_requests = topic_end(pipeline, topology.requests.name) - requests
        # Retry 2: the signer reads every request again.
        crew.stop(signer)
        rewind(pipeline, "signer")
        crew.start("signer", name="signer-1")
        wait_drained(pipeline, crew, sized(300, 1200))
        crew.stop(processor)
    after = snapshot(pipeline)
    changed = sorted(k for k in first if after.get(k) != first[k])
    added = sorted(set(after) - set(first))
    stored = fetch(pipeline, [k for k in after if "/credentials/" in k])
    rebuilt, identical = _rebuilt(pipeline, stored)
    result = audit(pipeline, expected)
    da101_stored = sum(1 for a in da101 if credential_key(a.tenant_id, a.credential_id) in stored)
    scenario(
        10,
        "one achievement through three histories, retried",
        learners=learners,
        events=len(events),
        da101_credentials=da101_stored,
        requests_from_resend=resend_requests,
        changed_objects=len(changed),
        added_objects=len(added),
        new_notifications=topic_end(pipeline, topology.issued.name) - notices,
        rebuilt=rebuilt,
        rebuilt_byte_identical=identical,
        **result.figures(),
    )
    assert result.exact, result.explain()
    assert da101_stored == learners
    assert resend_requests == 0
    assert changed == [] and added == [], (changed[:3], added[:3])
    assert topic_end(pipeline, topology.issued.name) == notices
    assert rebuilt == requests and identical == rebuilt
