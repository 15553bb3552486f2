"""Benchmark of the criteria engine's hot path: ``python -m processors.criteria.bench``.

Measures, per event, what the processor does around the engine: read the learner's
progress bytes, ``evaluate``, write the bytes back when they changed. The history is a
synthetic MOOC over a catalog's own assessments (learners work through courses in order,
retake what they fail, a few deliveries are duplicated), so every event reaches the
engine's rule evaluation rather than an early exit.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from processors.catalog import Catalog, TenantCatalog, load_catalogs
from processors.criteria._engine import evaluate
from processors.criteria._progress import Progress
from schemas.models import AssessmentCompleted, Learner


def synthetic_history(
    catalog: TenantCatalog, learners: int, seed: int = 0, duplicate_rate: float = 0.02
) -> list[AssessmentCompleted]:
    """Events for ``learners`` learners over the catalog's assessments, in time order."""
    rng = random.Random(seed)  # noqa: S311 (a simulation, not a secret)
    courses: dict[str, list[str]] = {}
    index = Catalog([catalog]).tenant(catalog.tenant)
    for course, assessment in sorted(index.by_target):
        courses.setdefault(course, []).append(assessment)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    events: list[AssessmentCompleted] = []
    for number in range(learners):
        learner = Learner(id=f"learner-{number:07d}", email=f"l{number}@example.org")
        ability = rng.uniform(0.55, 1.0)
        for course in rng.sample(sorted(courses), rng.randint(1, len(courses))):
            moment = start + timedelta(hours=rng.uniform(0, 24 * 60))
            for assessment in courses[course]:
                for attempt in range(1, 4):
                    moment += timedelta(hours=rng.uniform(2, 24 * 6))
                    score = round(min(100.0, max(0.0, rng.gauss(ability * 100, 12))), 1)
                    events.append(
                        AssessmentCompleted(
                            event_id=f"{learner.id}-{len(events)}",
                            tenant_id=catalog.tenant,
                            engine_id="bench",
                            learner=learner,
                            course_id=course,
                            assessment_id=assessment,
                            score=score,
                            max_score=100.0,
                            passed=score >= 60,
                            attempt=attempt,
                            occurred_at=moment,
                        )
                    )
                    if score >= 80:
                        break
    events.sort(key=lambda e: e.occurred_at)
    for _ in range(int(len(events) * duplicate_rate)):
        events.insert(rng.randrange(len(events)), rng.choice(events))
    return events


@dataclass(frozen=True)
class BenchReport:
    events: int
    awards: int
    evaluate_us: float  # per event, progress kept as objects
    with_bytes_us: float  # per event, progress read from and written to bytes
    mean_progress_bytes: float
    max_progress_bytes: int

    def __str__(self) -> str:
        return (
            f"{self.events} events, {self.awards} awards\n"
            f"evaluate only:        {self.evaluate_us:6.2f} us/event "
            f"({1e6 / self.evaluate_us:,.0f} events/s)\n"
            f"evaluate + bytes:     {self.with_bytes_us:6.2f} us/event "
            f"({1e6 / self.with_bytes_us:,.0f} events/s)\n"
            f"progress size:        mean {self.mean_progress_bytes:,.0f} B, "
            f"max {self.max_progress_bytes:,} B"
        )


def benchmark(catalog: Catalog, events: list[AssessmentCompleted]) -> BenchReport:
    """Time the engine over ``events`` twice: objects only, then through bytes."""
    table: dict[tuple[str, str], Progress] = {}
    awards = 0
    started = time.process_time()
    for event in events:
        key = (event.tenant_id, event.learner.id)
        table[key], made = evaluate(table.get(key), event, catalog)
        awards += len(made)
    plain = time.process_time() - started

    stored: dict[tuple[str, str], bytes] = {}
    started = time.process_time()
    for event in events:
        key = (event.tenant_id, event.learner.id)
        data = stored.get(key)
        progress = Progress.from_bytes(data) if data is not None else None
        new, _ = evaluate(progress, event, catalog)
        if new is not progress:
            stored[key] = new.to_bytes()
    through_bytes = time.process_time() - started

    sizes = [len(value) for value in stored.values()] or [0]
    return BenchReport(
        events=len(events),
        awards=awards,
        evaluate_us=plain / len(events) * 1e6,
        with_bytes_us=through_bytes / len(events) * 1e6,
        mean_progress_bytes=sum(sizes) / len(sizes),
        max_progress_bytes=max(sizes),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=Path("deploy/catalogs"))
    parser.add_argument("--tenant", default="example-u")
    parser.add_argument("--learners", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jsonl", type=Path, help="Also write the history here as JSON lines.")
    args = parser.parse_args()
    tenant = load_catalogs(args.catalog)[args.tenant]
    events = synthetic_history(tenant, args.learners, args.seed)
    if args.jsonl:
        with args.jsonl.open("w") as out:
            out.writelines(event.model_dump_json() + "\n" for event in events)
    print(benchmark(Catalog([tenant]), events))


if __name__ == "__main__":
    main()
