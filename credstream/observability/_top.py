"""``credstream top``'s pure core: parse scrapes, compute rates and quantiles, render text.

Nothing here does I/O or reads a clock: two snapshots of the workers' ``/metrics`` (with
the times they were taken) go in, a screenful of text comes out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from credstream.errors import InvalidInputError

LabelSet = tuple[tuple[str, str], ...]
SampleKey = tuple[str, LabelSet]


def parse_metrics(text: str, source: str = "scrape") -> dict[SampleKey, float]:
    """Samples of a Prometheus text exposition, keyed by (name, sorted labels)."""
    samples: dict[SampleKey, float] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    except (ValueError, IndexError, KeyError) as error:
        raise InvalidInputError(f"{source}: not Prometheus text format: {error}") from error
    return samples


@dataclass(frozen=True)
class TargetScrape:
    """One worker's scrape: its samples, or why it could not be read."""

    url: str
    samples: Mapping[SampleKey, float] | None
    error: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """Every target scraped at ``at`` (monotonic seconds) and ``wall`` (Unix seconds)."""

    at: float
    wall: float
    targets: tuple[TargetScrape, ...]

    def target(self, url: str) -> TargetScrape | None:
        return next((t for t in self.targets if t.url == url), None)


def _matches(key: SampleKey, name: str, labels: Mapping[str, str]) -> bool:
    if key[0] != name:
        return False
    have = dict(key[1])
    return all(have.get(k) == v for k, v in labels.items())


def _sum(samples: Mapping[SampleKey, float] | None, name: str, labels: Mapping[str, str]) -> float:
    if not samples:
        return 0.0
    return sum(v for k, v in samples.items() if _matches(k, name, labels))


def total(snapshot: Snapshot, name: str, **labels: str) -> float:
    """A sample summed over every answering target and every other label."""
    return sum(_sum(t.samples, name, labels) for t in snapshot.targets)


def increase(previous: Snapshot, current: Snapshot, name: str, **labels: str) -> float:
    """How much a counter grew between two snapshots, summed over targets.

    Per target, like Prometheus: a counter that went down was reset (the worker
    restarted), so its whole current value is the increase. A target missing from either
    snapshot adds nothing: its increase is unknown.
    """
    grown = 0.0
    for now in current.targets:
        before = previous.target(now.url)
        if before is None or before.samples is None or now.samples is None:
            continue
        for key, value in now.samples.items():
            if _matches(key, name, labels):
                old = before.samples.get(key, 0.0)
                grown += value - old if value >= old else value
    return grown


def rate(previous: Snapshot, current: Snapshot, name: str, **labels: str) -> float:
    elapsed = current.at - previous.at
    return increase(previous, current, name, **labels) / elapsed if elapsed > 0 else 0.0


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """Prometheus' ``histogram_quantile`` over (upper bound, cumulative count) pairs.

    Linear interpolation inside the bucket holding the q-th observation; the lowest
    bucket starts at 0; an observation in the +Inf bucket reports the highest finite
    bound. None when there are no observations.
    """
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    count = ordered[-1][1]
    rank = q * count
    lower, below = 0.0, 0.0
    for upper, cumulative in ordered:
        if cumulative >= rank:
            if math.isinf(upper):
                return lower
            if cumulative == below:
                return upper
            return lower + (upper - lower) * (rank - below) / (cumulative - below)
        lower, below = upper, cumulative
    return lower


def _buckets(samples: Mapping[SampleKey, float] | None, name: str) -> dict[float, float]:
    found: dict[float, float] = {}
    for (sample, labels), value in (samples or {}).items():
        if sample == name + "_bucket":
            le = float(dict(labels)["le"])
            found[le] = found.get(le, 0.0) + value
    return found


def window_buckets(previous: Snapshot, current: Snapshot, name: str) -> dict[float, float]:
    """A histogram's bucket counts observed between two snapshots, over all targets."""
    window: dict[float, float] = {}
    for now in current.targets:
        before = previous.target(now.url)
        cur = _buckets(now.samples, name)
        old = _buckets(before.samples if before else None, name)
        reset = any(cur.get(le, 0.0) < count for le, count in old.items())
        for le, count in cur.items():
            window[le] = window.get(le, 0.0) + (count if reset else count - old.get(le, 0.0))
    return window


@dataclass(frozen=True)
class Row:
    label: str
    per_second: float
    total: float


@dataclass(frozen=True)
class Quantiles:
    label: str
    p50: float | None
    p99: float | None
    observations: float  # in the window; 0 means the figures are since start


@dataclass(frozen=True)
class View:
    """What one screen of ``credstream top`` shows."""

    interval: float
    targets: tuple[tuple[str, str], ...]
    throughput: tuple[Row, ...]
    dead_letters: tuple[Row, ...]
    lag: tuple[tuple[str, str, float], ...]
    latency: tuple[Quantiles, ...]
    integrity_alarms: float
    status_list_age: float | None  # seconds since the oldest list was last published

    @property
    def answering(self) -> int:
        return sum(1 for _, state in self.targets if not state.startswith("down"))


_THROUGHPUT: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("events consumed", "credstream_events_consumed_total", {}),
    ("  accepted", "credstream_events_consumed_total", {"outcome": "accepted"}),
    ("  duplicate", "credstream_events_consumed_total", {"outcome": "duplicate"}),
    ("  dead-lettered", "credstream_events_consumed_total", {"outcome": "dead_lettered"}),
    ("  rejected (auth)", "credstream_events_consumed_total", {"outcome": "rejected_auth"}),
    ("awards", "credstream_awards_total", {}),
    ("credentials signed", "credstream_credentials_signed_total", {}),
    ("credentials stored", "credstream_credentials_stored_total", {"outcome": "created"}),
    ("  already stored", "credstream_credentials_stored_total", {"outcome": "identical"}),
    ("notifications", "credstream_credentials_notified_total", {}),
    ("badges rendered", "credstream_renders_total", {"outcome": "created"}),
    ("status list updates", "credstream_status_list_updates_total", {}),
)

_LATENCIES: tuple[tuple[str, str], ...] = (
    ("event -> notification", "credstream_issuance_latency_seconds"),
    ("sign one batch", "credstream_sign_seconds"),
    ("store one batch", "credstream_store_seconds"),
    ("evaluate one event", "credstream_evaluation_seconds"),
)


def _target_state(scrape: TargetScrape) -> str:
    if scrape.samples is None:
        return f"down: {scrape.error or 'no answer'}"
    ready = [v for (name, _), v in scrape.samples.items() if name == "credstream_ready"]
    stage = next(
        (
            dict(labels).get("stage", "")
            for (n, labels) in scrape.samples
            if n == "credstream_ready"
        ),
        "",
    )
    state = "ready" if ready and all(v == 1 for v in ready) else "NOT READY"
    return f"up {stage} {state}".replace("  ", " ")


def _labelled(samples: Iterable[SampleKey], name: str, keys: Sequence[str]) -> set[tuple[str, ...]]:
    return {
        tuple(dict(labels).get(k, "") for k in keys) for sample, labels in samples if sample == name
    }


def summarize(previous: Snapshot, current: Snapshot) -> View:
    """The view of what happened between two snapshots (rates) and where things stand."""
    every_key = [k for t in current.targets for k in (t.samples or {})]
    throughput = tuple(
        Row(label, rate(previous, current, name, **labels), total(current, name, **labels))
        for label, name, labels in _THROUGHPUT
    )
    dead_letters = tuple(
        Row(
            f"{stage}: {reason}",
            rate(previous, current, "credstream_dead_letters_total", stage=stage, reason=reason),
            total(current, "credstream_dead_letters_total", stage=stage, reason=reason),
        )
        for stage, reason in sorted(
            _labelled(every_key, "credstream_dead_letters_total", ("stage", "reason"))
        )
    )
    lag = tuple(
        (group, topic, total(current, "credstream_consumer_lag", group=group, topic=topic))
        for group, topic in sorted(
            _labelled(every_key, "credstream_consumer_lag", ("group", "topic"))
        )
    )
    latency = []
    for label, name in _LATENCIES:
        window = window_buckets(previous, current, name)
        observed = max(window.values(), default=0.0)
        if observed <= 0:  # nothing in the window: show the figures since start
            window = {}
            for t in current.targets:
                for le, count in _buckets(t.samples, name).items():
                    window[le] = window.get(le, 0.0) + count
        pairs = list(window.items())
        latency.append(
            Quantiles(
                label,
                histogram_quantile(0.5, pairs),
                histogram_quantile(0.99, pairs),
                observed,
            )
        )
    published = [
        v
        for (name, _), v in ((k, v) for t in current.targets for k, v in (t.samples or {}).items())
        if name == "credstream_status_list_published_timestamp_seconds" and v > 0
    ]
    return View(
        interval=current.at - previous.at,
        targets=tuple((t.url, _target_state(t)) for t in current.targets),
        throughput=throughput,
        dead_letters=dead_letters,
        lag=lag,
        latency=tuple(latency),
        integrity_alarms=total(current, "credstream_integrity_alarms_total"),
        status_list_age=current.wall - min(published) if published else None,
    )


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def render(view: View) -> str:
    """The screen, as plain text lines (no colours: it also goes to logs and files)."""
    lines = [f"credstream top  (rates over the last {view.interval:.1f} s)", ""]
    lines.append("workers")
    lines += [f"  {url:<40} {state}" for url, state in view.targets]
    lines += ["", f"{'throughput':<24}{'per second':>14}{'total':>16}"]
    lines += [
        f"  {r.label:<22}{r.per_second:>14,.1f}{_count(r.total):>16}" for r in view.throughput
    ]
    lines += ["", f"{'latency':<24}{'p50':>14}{'p99':>16}"]
    for q in view.latency:
        since = "" if q.observations > 0 else "  (since start)"
        lines.append(f"  {q.label:<22}{_seconds(q.p50):>14}{_seconds(q.p99):>16}{since}")
    lines += ["", "consumer lag (records)"]
    lines += [f"  {group} / {topic:<34}{_count(value):>14}" for group, topic, value in view.lag]
    if not view.lag:
        lines.append("  (none reported)")
    lines += ["", f"{'dead letters':<24}{'per second':>14}{'total':>16}"]
    lines += [
        f"  {r.label:<22}{r.per_second:>14,.1f}{_count(r.total):>16}" for r in view.dead_letters
    ]
    if not view.dead_letters:
        lines.append("  (none)")
    lines.append("")
    alarms = _count(view.integrity_alarms)
    lines.append(
        f"integrity alarms: {alarms}" + ("  <-- INVESTIGATE" if view.integrity_alarms else "")
    )
    age = view.status_list_age
    lines.append(
        "status lists: " + ("never published" if age is None else f"published {age:,.0f} s ago")
    )
    return "\n".join(lines) + "\n"
