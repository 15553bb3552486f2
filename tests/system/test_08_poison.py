"""Scenario 8: poison input. Records with a bad magic byte, an unknown schema, truncated
Avro, 1.5 MB of payload, or an unknown tenant, sent to the processor's and the signer's
input topics among genuine traffic (on the same partitions). Each must reach its stage's
dead-letter topic exactly once, on first sight (no crash, no retry loop), with origin
headers and its original bytes; the genuine records around them are all processed.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from pathlib import Path

from credstream.e2e import expected_awards
from credstream.pipeline import LocalPipeline
from credstream.settings import KafkaSettings, S3Settings
from producers import EngineRegistry
from schemas.codec import SINGLE_OBJECT_MAGIC, Codec
from schemas.models import AssessmentCompleted, CredentialRequested
from tests.integration.workers import new_pipeline, produce_events
from tests.system._harness import Crew, audit, sized, wait, wait_drained, workload_events
from tests.system._records import Injected, check_dead_letters, event_key, inject, signed
from tests.system.conftest import Recorder

BIG = 1_500_000


def _event_poison(
    pipeline: LocalPipeline, events: Sequence[AssessmentCompleted], codec: Codec
) -> list[Injected]:
    topic = pipeline.topology.assessments.name
    signer = EngineRegistry(pipeline.engines_dir).signer(pipeline.engine_id)
    genuine = events[len(events) // 2]
    value, headers = signed(genuine, signer, codec)
    body = value[len(SINGLE_OBJECT_MAGIC) + 8 :]
    big = genuine.model_copy(update={"attributes": {"blob": secrets.token_hex(BIG // 2)}})
    big_value, big_headers = signed(big, signer, codec)
    stranger = genuine.model_copy(update={"tenant_id": "no-such-tenant"})
    stranger_value, stranger_headers = signed(stranger, signer, codec)
    key = event_key(genuine)  # the same partition as this learner's genuine events
    return [
        Injected("bad magic byte", topic, key, b"\x07" + body, headers, "UnknownSchemaError"),
        Injected(
            "unknown schema",
            topic,
            key,
            SINGLE_OBJECT_MAGIC + b"\x5a" * 8 + body,
            headers,
            "UnknownSchemaError",
        ),
        Injected("truncated Avro", topic, key, value[: len(value) // 2], headers, "DecodeError"),
        Injected("1.5 MB record", topic, key, big_value, big_headers, "RecordTooLargeError"),
        Injected(
            "unknown tenant",
            topic,
            event_key(stranger),
            stranger_value,
            stranger_headers,
            "UnknownTenantError",
        ),
    ]


def _request_poison(
    pipeline: LocalPipeline, expected: Sequence[CredentialRequested], codec: Codec
) -> list[Injected]:
    topic = pipeline.topology.requests.name
    request = expected[len(expected) // 2]
    value = codec.encode(request)
    body = value[len(SINGLE_OBJECT_MAGIC) + 8 :]
    big = request.model_copy(
        update={"learner": request.learner.model_copy(update={"id": secrets.token_hex(BIG // 2)})}
    )
    stranger = request.model_copy(
        update={"tenant_id": "no-such-tenant", "credential_id": str(uuid.uuid4())}
    )
    key = request.credential_id.encode()
    return [
        Injected("bad magic byte", topic, key, b"\x07" + body, [], "UnknownSchemaError"),
        Injected(
            "unknown schema",
            topic,
            key,
            SINGLE_OBJECT_MAGIC + b"\x5a" * 8 + body,
            [],
            "UnknownSchemaError",
        ),
        Injected("truncated Avro", topic, key, value[: len(value) // 2], [], "DecodeError"),
        Injected("1.5 MB record", topic, key, codec.encode(big), [], "RecordTooLargeError"),
        Injected(
            "unknown tenant",
            topic,
            stranger.credential_id.encode(),
            codec.encode(stranger),
            [],
            "UnknownAchievementError",
        ),
    ]


def test_poison_goes_to_the_dead_letter_topics_once_and_traffic_keeps_moving(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    codec = Codec()
    events = workload_events(pipeline, mixed=sized(1000, 20_000), burst=sized(300, 5000))
    expected = expected_awards(pipeline, events)
    topology = pipeline.topology
    produce_events(pipeline, events[: len(events) // 2])
    at_events = inject(pipeline, _event_poison(pipeline, events, codec))
    produce_events(pipeline, events[len(events) // 2 :])
    with Crew(pipeline, CREDSTREAM_SIGNER_PROCESSES="1") as crew:
        crew.start("processor")
        signer = crew.start("signer")
        wait(signer.alive, 5, "the signer")
        at_requests = inject(pipeline, _request_poison(pipeline, expected, codec))
        drain_seconds = wait_drained(pipeline, crew, sized(300, 1200))
        crew.check()
        restarts = len(crew.expected_exits)
    processor_letters = check_dead_letters(
        pipeline, topology.dead_letters(topology.assessments).name, at_events, "processor"
    )
    signer_letters = check_dead_letters(
        pipeline, topology.dead_letters(topology.requests).name, at_requests, "signer"
    )
    result = audit(pipeline, expected)
    scenario(
        8,
        "poison input (bad magic, unknown schema, truncated, 1.5 MB, unknown tenant)",
        events=len(events),
        poison=len(at_events) + len(at_requests),
        processor_dlq=processor_letters.figures(),
        signer_dlq=signer_letters.figures(),
        worker_restarts=restarts,
        drain_seconds=round(drain_seconds, 1),
        **result.figures(),
    )
    assert processor_letters.wrong == [] and processor_letters.letters == len(at_events)
    assert signer_letters.wrong == [] and signer_letters.letters == len(at_requests)
    assert restarts == 0
    assert result.exact, result.explain()
