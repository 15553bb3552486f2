"""The send loop: pacing to a rate, progress, and the summary (with an injected fake sink);
events signed ahead of sending."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from producers import (
    AssessmentEventProducer,
    DeliveryError,
    DeliveryFailure,
    DeliveryReport,
    EventSigner,
    SignedEvent,
    Workload,
    generate,
    send_events,
    synthetic_courses,
    verify_events,
)
from producers._run import PACING_SLACK_SECONDS
from schemas.codec import Codec
from schemas.models import AssessmentCompleted

EVENTS = list(generate(Workload(synthetic_courses(2), learners=10, events=50)))


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


class Sink:
    def __init__(self, clock: FakeClock, cost: float, fail: int = 0) -> None:
        self.clock, self.cost, self.fail = clock, cost, fail
        self.sent: list[AssessmentCompleted] = []

    def send(self, event: AssessmentCompleted) -> int:
        self.clock.now += self.cost
        self.sent.append(event)
        return 100

    def flush(self, timeout: float | None = None) -> DeliveryReport:
        ok = len(self.sent) - self.fail
        failures = tuple(DeliveryFailure(e.event_id, "boom") for e in self.sent[: self.fail])
        report = DeliveryReport(ok, self.fail, 100 * ok, failures)
        if failures:
            raise DeliveryError(report)
        return report


def test_as_fast_as_possible_without_sleeping() -> None:
    clock = FakeClock()
    sink = Sink(clock, cost=0.001)
    summary = send_events(EVENTS, sink, clock=clock, sleep=clock.sleep, cpu_time=lambda: 0.0)
    assert sink.sent == EVENTS
    assert clock.slept == 0
    assert (summary.queued, summary.sent, summary.failed, summary.bytes) == (50, 50, 0, 5000)
    assert round(summary.rate) == 1000


def test_paced_to_the_target_rate_with_progress() -> None:
    clock = FakeClock()
    reports: list[tuple[int, float]] = []
    summary = send_events(
        EVENTS, Sink(clock, cost=0.0001), rate=20, clock=clock, sleep=clock.sleep,
        progress=lambda queued, elapsed: reports.append((queued, elapsed)), progress_every=1.0,
        cpu_time=iter([1.0, 1.5]).__next__,
    )  # fmt: skip
    assert 2.4 < summary.seconds < 2.6  # 50 events at 20/s
    assert 19 < summary.rate < 21
    assert [q for q, _ in reports][:2] == [21, 41]  # about once a second
    assert reports[-1][0] == 50
    assert summary.cpu_per_event_us == 0.5 / 50 * 1e6


def test_paced_sending_sleeps_per_slack_not_per_event_and_is_never_late() -> None:
    clock, rate = FakeClock(), 2000.0
    sent_at: list[float] = []
    sleeps: list[float] = []

    class TimedSink(Sink):
        def send(self, event: AssessmentCompleted) -> int:
            sent_at.append(clock.now)
            return super().send(event)

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.sleep(seconds)

    send_events(
        EVENTS, TimedSink(clock, cost=0.0), rate=rate, clock=clock, sleep=sleep,
        cpu_time=lambda: 0.0,
    )  # fmt: skip
    for i, at in enumerate(sent_at):  # the schedule starts at the clock's 100.0
        due = 100.0 + i / rate
        assert due - PACING_SLACK_SECONDS <= at <= due + 1e-9
    # 50 events over 25 ms: a sleep per 5 ms of schedule, not one per event.
    assert 1 <= len(sleeps) <= 6


def test_failed_deliveries_are_counted_not_raised() -> None:
    clock = FakeClock()
    summary = send_events(
        EVENTS, Sink(clock, 0.001, fail=3), clock=clock, sleep=clock.sleep, cpu_time=lambda: 0.0
    )
    assert (summary.sent, summary.failed) == (47, 3)


class _Future:
    def add_callback(self, *_: object) -> None: ...

    def add_errback(self, *_: object) -> None: ...


class _Client:
    """What the SDK hands kafka-python: (topic, key, value, headers) per send."""

    def __init__(self) -> None:
        self.records: list[tuple[object, ...]] = []

    def send(self, topic: str, **record: object) -> _Future:
        self.records.append((topic, record["key"], record["value"], record["headers"]))
        return _Future()


def test_an_event_signed_ahead_is_sent_as_it_was_signed_and_verifies() -> None:
    # The benchmark signs events before an open-loop phase and sends them later.
    engine = EVENTS[0].engine_id
    signer = EventSigner(engine, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    clock = FakeClock()
    client = _Client()
    producer = AssessmentEventProducer(client, signer, topic="t", clock=clock)  # type: ignore[arg-type]
    ahead = producer.signed(EVENTS[0])
    clock.now += 60.0  # sent a minute later: the signature keeps its signing time
    producer.send_signed(ahead)
    clock.now -= 60.0
    producer.send(EVENTS[0])
    (sent_ahead, sent_now) = client.records
    assert sent_ahead == sent_now == ("t", ahead.key, ahead.value, ahead.headers)
    fingerprint = Codec().contract(type(EVENTS[0])).current.fingerprint
    claim: Any = SignedEvent(
        EVENTS[0].event_id, engine, fingerprint, ahead.value, list(ahead.headers)
    )
    (verified,) = verify_events([claim], {engine: signer.public_key()})
    assert verified.signed_at_ms == 100_000  # type: ignore[union-attr]
