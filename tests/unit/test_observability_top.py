"""credstream top's pure core: parsing, rates across restarts, quantiles, the rendered frame."""

from __future__ import annotations

import math

import pytest

from credstream.errors import InvalidInputError
from credstream.observability import (
    Metrics,
    Snapshot,
    TargetScrape,
    histogram_quantile,
    parse_metrics,
    render,
    summarize,
)
from credstream.observability._top import increase, window_buckets


def target(url: str, metrics: Metrics) -> TargetScrape:
    return TargetScrape(url, parse_metrics(metrics.exposition()[0].decode()))


def test_quantile_interpolates_inside_the_bucket_like_prometheus() -> None:
    buckets = [(0.1, 10.0), (0.5, 20.0), (1.0, 40.0), (math.inf, 40.0)]
    # rank 20 is the top of (0.1, 0.5]; rank 39.6 is 98% of the way through (0.5, 1].
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.5)
    assert histogram_quantile(0.99, buckets) == pytest.approx(0.5 + 0.5 * 19.6 / 20)
    assert histogram_quantile(0.25, buckets) == pytest.approx(0.1)
    # The lowest bucket starts at 0.
    assert histogram_quantile(0.1, buckets) == pytest.approx(0.04)


def test_quantile_in_the_inf_bucket_is_the_highest_finite_bound() -> None:
    assert histogram_quantile(0.99, [(1.0, 1.0), (math.inf, 10.0)]) == 1.0


def test_quantile_of_nothing_is_none() -> None:
    assert histogram_quantile(0.5, [(1.0, 0.0), (math.inf, 0.0)]) is None
    assert histogram_quantile(0.5, []) is None


def test_bad_exposition_is_a_typed_error_naming_the_source() -> None:
    with pytest.raises(InvalidInputError, match="http://w:1/metrics"):
        parse_metrics("credstream_x_total{a=1} one\n", "http://w:1/metrics")


def test_increase_treats_a_lower_counter_as_a_restart() -> None:
    before, after = Metrics("processor"), Metrics("processor")
    before.awarded("t", 100)
    after.awarded("t", 7)  # the worker restarted and has awarded 7 since
    previous = Snapshot(0.0, 0.0, (target("w", before),))
    current = Snapshot(2.0, 2.0, (target("w", after),))
    assert increase(previous, current, "credstream_awards_total") == 7


def test_a_target_that_was_down_before_adds_no_rate() -> None:
    m = Metrics("processor")
    m.awarded("t", 50)
    previous = Snapshot(0.0, 0.0, (TargetScrape("w", None, "refused"),))
    current = Snapshot(1.0, 1.0, (target("w", m),))
    assert increase(previous, current, "credstream_awards_total") == 0


def test_window_buckets_are_the_observations_between_snapshots() -> None:
    m = Metrics("signer")
    m.notified("t", occurred_at=0.0, now=0.02)
    first = Snapshot(0.0, 0.0, (target("w", m),))
    m.notified("t", occurred_at=0.0, now=3.0)
    second = Snapshot(1.0, 1.0, (target("w", m),))
    window = window_buckets(first, second, "credstream_issuance_latency_seconds")
    assert window[0.025] == 0 and window[5.0] == 1 and window[math.inf] == 1


def two_workers() -> tuple[Snapshot, Snapshot]:
    processor, signer = Metrics("processor"), Metrics("signer")
    processor.consumed("u", "accepted", 1000)
    signer.signed("u", "eddsa-rdfc-2022", 100)
    previous = Snapshot(10.0, 1_000.0, (target("p", processor), target("s", signer)))
    processor.consumed("u", "accepted", 2000)
    processor.consumed("u", "duplicate", 10)
    processor.awarded("u", 400)
    processor.dead_lettered("processor", "InvalidInputError", 3)
    processor.set_consumer_lag("processor", {"assessment.completed.v1": 1234})
    signer.signed("u", "eddsa-rdfc-2022", 400)
    signer.stored("u", "created", 400)
    signer.set_ready(True)
    processor.set_ready(False)
    for _ in range(99):
        signer.notified("u", occurred_at=0.0, now=0.2)
    signer.notified("u", occurred_at=0.0, now=8.0)
    signer.status_list_published("u", "revocation", at=940.0)
    current = Snapshot(12.0, 1_002.0, (target("p", processor), target("s", signer)))
    return previous, current


def test_summary_rates_lag_latency_and_targets() -> None:
    view = summarize(*two_workers())
    rows = {row.label.strip(): row for row in view.throughput}
    assert rows["events consumed"].per_second == pytest.approx(1005.0)
    assert rows["accepted"].total == 3000
    assert rows["awards"].per_second == pytest.approx(200.0)
    assert rows["credentials signed"].per_second == pytest.approx(200.0)
    assert rows["notifications"].total == 100
    assert view.lag == (("processor", "assessment.completed.v1", 1234.0),)
    assert [(r.label, r.total) for r in view.dead_letters] == [
        ("processor: InvalidInputError", 3.0)
    ]
    latency = {q.label: q for q in view.latency}["event -> notification"]
    assert latency.observations == 100
    assert latency.p50 is not None and 0.1 < latency.p50 <= 0.25
    assert latency.p99 is not None and 0.1 < latency.p99 <= 0.25
    assert dict(view.targets) == {"p": "up processor NOT READY", "s": "up signer ready"}
    assert view.status_list_age == pytest.approx(62.0)
    assert view.answering == 2


def test_render_shows_the_figures() -> None:
    text = render(summarize(*two_workers()))
    assert "rates over the last 2.0 s" in text
    assert "assessment.completed.v1" in text and "1,234" in text
    assert "processor: InvalidInputError" in text
    assert "published 62 s ago" in text
    line = next(line for line in text.splitlines() if "events consumed" in line)
    assert line.split()[-2:] == ["1,005.0", "3,010"]


def test_render_says_when_a_worker_is_down() -> None:
    down = Snapshot(0.0, 0.0, (TargetScrape("http://w:1/metrics", None, "Connection refused"),))
    view = summarize(down, down)
    assert view.answering == 0
    assert "down: Connection refused" in render(view)
