"""Scenario 9: forged events. Unsigned, tampered (signed, then altered), signed by an
engine nobody registered, signed by a stranger in a registered engine's name, and a
genuine failing exam result replayed with its score raised. Each would earn a credential
if it were believed; none may: zero credentials for the learners they name, every one
dead-lettered with its reason, and the authentication-failure counter (what the alert
watches) counts each.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credstream.e2e import expected_awards
from credstream.pipeline import LocalPipeline
from credstream.settings import KafkaSettings, S3Settings
from producers import EngineRegistry, EventSigner
from schemas.codec import Codec
from schemas.models import AssessmentCompleted, Learner
from tests.integration.workers import new_pipeline, produce_events
from tests.system._harness import (
    Crew,
    audit,
    metric_sum,
    scrape,
    sized,
    wait_drained,
    workload_events,
)
from tests.system._records import Injected, check_dead_letters, event_key, inject, signed
from tests.system.conftest import Recorder

COUNTER = "credstream_authentication_failures_total"
START = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def _result(
    pipeline: LocalPipeline, learner: str, assessment: str, score: float, engine: str = ""
) -> AssessmentCompleted:
    course = assessment.split("/", 1)[0]
    return AssessmentCompleted(
        event_id=str(uuid.uuid4()), tenant_id=pipeline.tenant,
        engine_id=engine or pipeline.engine_id, learner=Learner(id=learner), course_id=course,
        assessment_id=assessment, score=score, max_score=100.0, passed=score >= 50,
        occurred_at=START + timedelta(seconds=len(learner)),
    )  # fmt: skip


def _forgeries(
    pipeline: LocalPipeline, copies: int, codec: Codec
) -> tuple[list[AssessmentCompleted], list[Injected]]:
    """(genuine events the forgeries build on, the forgeries)."""
    topic = pipeline.topology.assessments.name
    engine = EngineRegistry(pipeline.engines_dir).signer(pipeline.engine_id)
    stranger = Ed25519PrivateKey.generate()
    rogue = EventSigner("rogue-engine", stranger)
    impostor = EventSigner(pipeline.engine_id, stranger)
    genuine: list[AssessmentCompleted] = []
    forged: list[Injected] = []
    for n in range(copies):
        # Each alone earns the first-steps badge (any first-module submission).
        unsigned = _result(pipeline, f"forged-unsigned-{n}", "da-101/m1", 90)
        forged.append(
            Injected(
                "unsigned", topic, event_key(unsigned), codec.encode(unsigned), [],
                "UnsignedEventError",
            )
        )  # fmt: skip
        low = _result(pipeline, f"forged-tampered-{n}", "ml-201/m1", 10)
        _, low_headers = signed(low, engine, codec)
        raised = low.model_copy(update={"assessment_id": "da-101/m1", "course_id": "da-101"})
        forged.append(
            Injected(
                "tampered", topic, event_key(raised), codec.encode(raised), low_headers,
                "TamperedEventError",
            )
        )  # fmt: skip
        foreign = _result(pipeline, f"forged-rogue-{n}", "da-101/m1", 90, engine="rogue-engine")
        value, headers = signed(foreign, rogue, codec)
        forged.append(
            Injected("unknown engine", topic, event_key(foreign), value, headers,
                     "UnknownEngineError")
        )  # fmt: skip
        faked = _result(pipeline, f"forged-impostor-{n}", "da-101/m1", 90)
        value, headers = signed(faked, impostor, codec)
        forged.append(
            Injected("impostor key", topic, event_key(faked), value, headers, "TamperedEventError")
        )
        # A genuine failed exam (no award), replayed with the ace badge's score.
        failed = _result(pipeline, f"forged-replay-{n}", "ml-201/exam", 40)
        genuine.append(failed)
        _, failed_headers = signed(failed, engine, codec)
        ace = failed.model_copy(update={"score": 100.0, "passed": True})
        forged.append(
            Injected(
                "replayed with a changed score", topic, event_key(ace), codec.encode(ace),
                failed_headers, "TamperedEventError",
            )
        )  # fmt: skip
    return genuine, forged


def test_forged_events_earn_nothing_and_are_counted(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    codec = Codec()
    copies = sized(3, 40)
    genuine, forged = _forgeries(pipeline, copies, codec)
    events = [*workload_events(pipeline, mixed=sized(1500, 15_000)), *genuine]
    expected = expected_awards(pipeline, events)
    produce_events(pipeline, events[: len(events) // 2])
    produce_events(pipeline, genuine)
    placed = inject(pipeline, forged)
    produce_events(pipeline, events[len(events) // 2 : -len(genuine)])
    with Crew(pipeline, CREDSTREAM_SIGNER_PROCESSES="1") as crew:
        processor = crew.start("processor")
        crew.start("signer")
        drain_seconds = wait_drained(pipeline, crew, sized(300, 1200))
        url = crew.metrics_url(processor)
        assert url is not None
        counted = scrape(url)
    reasons = sorted({f.expected_error for f in forged})
    counter = {r: metric_sum(counted, COUNTER, reason=r) for r in reasons}
    letters = check_dead_letters(
        pipeline, pipeline.topology.dead_letters(pipeline.topology.assessments).name, placed,
        "processor",
    )  # fmt: skip
    result = audit(pipeline, expected)
    forged_learners = {f.key.decode().split("/", 1)[1] for f in forged}
    earned = [a for a in expected if a.learner.id in forged_learners]
    scenario(
        9,
        "forged events (unsigned, tampered, unknown engine, impostor, replayed score)",
        events=len(events),
        forged=len(forged),
        dlq=letters.figures(),
        authentication_failures=counter,
        drain_seconds=round(drain_seconds, 1),
        **result.figures(),
    )
    assert earned == []  # the oracle (trusting only genuine events) awards them nothing
    assert result.exact, result.explain()  # so the pipeline issued nothing for them either
    assert letters.wrong == [] and letters.letters == len(forged), letters.figures()
    expected_counts = {r: sum(1 for f in forged if f.expected_error == r) for r in reasons}
    assert counter == expected_counts, counter
