"""Metrics: the series exist with the documented names, labels and units, and move."""

from __future__ import annotations

import pytest

from credstream.observability import Metrics, Readiness, lag_by_topic, parse_metrics

REQUIRED = {
    "credstream_events_consumed_total",
    "credstream_awards_total",
    "credstream_credentials_signed_total",
    "credstream_credentials_stored_total",
    "credstream_credentials_notified_total",
    "credstream_dead_letters_total",
    "credstream_authentication_failures_total",
    "credstream_issuance_latency_seconds_bucket",
    "credstream_batch_size_bucket",
    "credstream_sign_seconds_bucket",
    "credstream_store_seconds_bucket",
    "credstream_evaluation_seconds_bucket",
    "credstream_consumer_lag",
    "credstream_progress_table_keys",
    "credstream_status_list_updates_total",
    "credstream_status_list_published_timestamp_seconds",
    "credstream_status_list_pending_changes",
    "credstream_integrity_alarms_total",
    "credstream_renders_total",
    "credstream_ready",
    "credstream_build_info",
    "process_cpu_seconds_total",
}


def scrape(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    return parse_metrics(body.decode())


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return scrape(metrics)[(name, tuple(sorted(labels.items())))]


def test_every_documented_series_is_defined() -> None:
    names = Metrics("signer").series_names()
    assert names >= REQUIRED, REQUIRED - names


def test_two_instances_do_not_share_state() -> None:
    first, second = Metrics("processor"), Metrics("processor")
    first.awarded("t1", 3)
    assert value(first, "credstream_awards_total", tenant="t1") == 3
    assert ("credstream_awards_total", (("tenant", "t1"),)) not in scrape(second)


def test_counters_move_by_label() -> None:
    m = Metrics("processor")
    m.consumed("example-u", "accepted", 5)
    m.consumed("example-u", "duplicate")
    m.dead_lettered("processor", "InvalidInputError", 2)
    m.authentication_failed("bad_signature")
    m.signed("example-u", "eddsa-rdfc-2022", 4)
    m.stored("example-u", "created", 4)
    m.stored("example-u", "identical")
    assert value(m, "credstream_events_consumed_total", tenant="example-u", outcome="accepted") == 5
    assert (
        value(m, "credstream_events_consumed_total", tenant="example-u", outcome="duplicate") == 1
    )
    assert (
        value(m, "credstream_dead_letters_total", stage="processor", reason="InvalidInputError")
        == 2
    )
    assert value(m, "credstream_authentication_failures_total", reason="bad_signature") == 1
    assert (
        value(m, "credstream_credentials_signed_total", tenant="example-u", suite="eddsa-rdfc-2022")
        == 4
    )
    assert (
        value(m, "credstream_credentials_stored_total", tenant="example-u", outcome="identical")
        == 1
    )


@pytest.mark.parametrize(
    ("call", "label"),
    [
        (lambda m: m.consumed("t", "acepted"), "outcome='acepted'"),
        (lambda m: m.stored("t", "overwritten"), "outcome='overwritten'"),
        (lambda m: m.integrity_alarm("oops"), "kind='oops'"),
        (lambda m: m.rendered("ok"), "outcome='ok'"),
        (lambda m: m.status_list_updated("t", "expiry"), "purpose='expiry'"),
    ],
)
def test_a_label_outside_its_vocabulary_is_refused_by_name(call, label: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=label):
        call(Metrics("x", process_collectors=False))


def test_alarm_and_render_series_exist_at_zero_before_the_first_event() -> None:
    samples = scrape(Metrics("signer"))
    assert samples[("credstream_integrity_alarms_total", (("kind", "object_conflict"),))] == 0
    assert samples[("credstream_renders_total", (("outcome", "failed"),))] == 0


def test_notification_latency_is_event_time_to_now() -> None:
    m = Metrics("signer")
    m.notified("t", occurred_at=1000.0, now=1000.3)
    m.notified("t", occurred_at=1000.0, now=1007.0)
    m.notified("t", occurred_at=2000.0, now=1999.0)  # clock skew: counted as 0, not negative
    samples = scrape(m)
    assert samples[("credstream_credentials_notified_total", (("tenant", "t"),))] == 3
    assert samples[("credstream_issuance_latency_seconds_count", ())] == 3
    assert samples[("credstream_issuance_latency_seconds_sum", ())] == pytest.approx(7.3)
    assert samples[("credstream_issuance_latency_seconds_bucket", (("le", "0.01"),))] == 1
    assert samples[("credstream_issuance_latency_seconds_bucket", (("le", "0.5"),))] == 2
    assert samples[("credstream_issuance_latency_seconds_bucket", (("le", "10.0"),))] == 3


def test_timers_and_batches_observe() -> None:
    m = Metrics("signer")
    with m.signing():
        pass
    with m.storing():
        pass
    with m.evaluating():
        pass
    m.batch("signer", 250)
    samples = scrape(m)
    for name in ("sign", "store", "evaluation"):
        assert samples[(f"credstream_{name}_seconds_count", ())] == 1
    assert samples[("credstream_batch_size_sum", (("stage", "signer"),))] == 250


def test_lag_of_topics_no_longer_read_drops_to_zero() -> None:
    m = Metrics("processor")
    m.set_consumer_lag("g", {"a": 10, "b": 5})
    m.set_consumer_lag("g", {"a": 3})
    assert value(m, "credstream_consumer_lag", group="g", topic="a") == 3
    assert value(m, "credstream_consumer_lag", group="g", topic="b") == 0


def test_status_list_pending_rises_with_updates_and_falls_on_publication() -> None:
    m = Metrics("status-updater")
    m.status_list_updated("t", "revocation", 4)
    labels = {"tenant": "t", "purpose": "revocation"}
    assert value(m, "credstream_status_list_pending_changes", **labels) == 4
    m.status_list_published("t", "revocation", at=1_800_000_000.0, pending=1)
    assert value(m, "credstream_status_list_pending_changes", **labels) == 1
    assert value(m, "credstream_status_list_updates_total", **labels) == 4
    assert value(m, "credstream_status_list_published_timestamp_seconds", **labels) == 1.8e9


def test_build_info_names_the_stage() -> None:
    samples = scrape(Metrics("renderer"))
    build = [labels for (name, labels) in samples if name == "credstream_build_info"]
    assert len(build) == 1 and dict(build[0])["stage"] == "renderer"


def test_openmetrics_when_the_scraper_asks() -> None:
    body, content_type = Metrics("x").exposition("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith(b"# EOF")


def test_lag_sums_partitions_per_topic_and_counts_unread_ones_in_full() -> None:
    ends = {("a", 0): 100, ("a", 1): 50, ("b", 0): 7}
    consumed = {("a", 0): 90, ("a", 1): None, ("b", 0): 7}
    assert lag_by_topic(ends, consumed) == {"a": 60, "b": 0}


def test_lag_is_never_negative() -> None:
    # A committed offset can pass a stale end offset read a moment earlier.
    assert lag_by_topic({("a", 0): 10}, {("a", 0): 12}) == {"a": 0}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_readiness_is_cached_and_reported_as_a_gauge() -> None:
    m = Metrics("signer")
    answers = iter(["key not loaded", None])
    calls = []

    def check() -> str | None:
        calls.append(1)
        return next(answers)

    clock = FakeClock()
    readiness = Readiness(m, check, ttl=2.0, clock=clock)
    assert readiness.reason() == "key not loaded"
    assert value(m, "credstream_ready", stage="signer") == 0
    clock.now = 1.0
    assert readiness.reason() == "key not loaded"  # cached
    assert len(calls) == 1
    clock.now = 2.5
    assert readiness.reason() is None
    assert value(m, "credstream_ready", stage="signer") == 1


def test_a_readiness_check_that_raises_is_not_ready_and_says_why() -> None:
    def check() -> str | None:
        raise RuntimeError("verification failed")

    readiness = Readiness(Metrics("signer"), check, ttl=0)
    assert readiness.reason() == "RuntimeError: verification failed"
