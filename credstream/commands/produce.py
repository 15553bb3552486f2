"""``credstream produce``: send a file of real-format events, or a synthetic workload."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
import yaml

from producers import DEFAULT_DIRECTORY
from producers.adapters import FORMATS
from schemas.topics import ASSESSMENT_COMPLETED


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "format_", type=click.Choice(FORMATS), help="The FILE's format.")
@click.option("--synthetic", is_flag=True, help="Send a synthetic MOOC workload instead.")
@click.option("--learners", default=10_000, show_default=True)
@click.option("--courses", default=20, show_default=True)
@click.option(
    "--courses-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help='Courses (overrides --courses): YAML or JSON {"courses": [{"id", "assessments"}]}, '
    "or an achievement catalog (its rules' assessments).",
)
@click.option("--events", default=10_000, show_default=True)
@click.option("--rate", default=0.0, show_default=True, help="Events per second; 0: no limit.")
@click.option("--seed", default=0, show_default=True)
@click.option("--tenant", default="mooc", show_default=True, envvar="CREDSTREAM_TENANT")
@click.option("--engine", default="synthetic", show_default=True, help="The sending engine.")
@click.option(
    "--engines-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_DIRECTORY,
    show_default=True,
    envvar="CREDSTREAM_ENGINES_DIR",
)
@click.option("--key-file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--topic", default=ASSESSMENT_COMPLETED.name, show_default=True)
@click.option("--dry-run", is_flag=True, help="Print the events as JSON lines; send nothing.")
@click.option(
    "--compression", type=click.Choice(["lz4", "gzip", "none"]), help="Producer override."
)
@click.option("--linger-ms", type=int, help="Producer override.")
@click.option("--batch-size", type=int, help="Producer override (bytes).")
def produce(
    file: Path | None,
    format_: str | None,
    synthetic: bool,
    learners: int,
    courses: int,
    courses_file: Path | None,
    events: int,
    rate: float,
    seed: int,
    tenant: str,
    engine: str,
    engines_dir: Path,
    key_file: Path | None,
    topic: str,
    dry_run: bool,
    compression: str | None,
    linger_ms: int | None,
    batch_size: int | None,
) -> None:
    """Send FILE (--format ...) or --synthetic events to Kafka, signed by --engine."""
    from producers import Workload, courses_from_description, generate, synthetic_courses
    from producers.adapters import AdapterContext, convert_file
    from schemas.models import AssessmentCompleted

    stream: Iterable[AssessmentCompleted]
    if synthetic == (file is not None):
        raise click.UsageError("give either FILE with --format, or --synthetic")
    if file is not None:
        if format_ is None:
            raise click.UsageError("--format is required with FILE")
        conversion = convert_file(file, format_, AdapterContext(tenant, engine))
        for skipped in conversion.skipped:
            click.echo(f"skipped {skipped.location}: {skipped.reason}", err=True)
        stream, total = conversion.events, len(conversion.events)
        click.echo(f"{file}: {total} events valid, {len(conversion.skipped)} skipped", err=True)
    else:
        catalog = (
            courses_from_description(yaml.safe_load(courses_file.read_text()))
            if courses_file
            else synthetic_courses(courses, seed)
        )
        workload = Workload(
            catalog, learners=learners, events=events, seed=seed, tenant_id=tenant, engine_id=engine
        )
        stream, total = generate(workload), events
    if dry_run:
        for event in stream:
            click.echo(event.model_dump_json())
        return
    overrides: dict[str, Any] = {}
    if compression:
        overrides["compression_type"] = None if compression == "none" else compression
    if linger_ms is not None:
        overrides["linger_ms"] = linger_ms
    if batch_size is not None:
        overrides["batch_size"] = batch_size
    _send(stream, total, engine, engines_dir, key_file, topic, rate, overrides)


def _send(
    stream: Iterable[Any],
    total: int,
    engine: str,
    engines_dir: Path,
    key_file: Path | None,
    topic: str,
    rate: float,
    overrides: dict[str, Any],
) -> None:
    from credstream.clients import ensure_topics
    from credstream.settings import KafkaSettings
    from producers import AssessmentEventProducer, EngineRegistry, send_events
    from schemas.topics import ALL_TOPICS, Topic

    signer = EngineRegistry(engines_dir).signer(engine, key_file)
    kafka = KafkaSettings()
    known = {t.name: t for t in ALL_TOPICS}
    ensure_topics(kafka, [known.get(topic, Topic(topic))])
    with click.progressbar(
        length=total, label="sending", file=click.get_text_stream("stderr")
    ) as bar:
        done = 0

        def progress(queued: int, elapsed: float) -> None:
            nonlocal done
            bar.label = f"sending {queued / elapsed:,.0f} ev/s" if elapsed else "sending"
            bar.update(queued - done)
            done = queued

        with AssessmentEventProducer.connect(kafka, signer, topic=topic, **overrides) as producer:
            summary = send_events(stream, producer, rate=rate, progress=progress)
    click.echo(
        f"sent {summary.sent} events to {topic} ({summary.failed} failed, "
        f"{summary.bytes / 1e6:.1f} MB) in {summary.seconds:.2f} s: "
        f"{summary.rate:,.0f} events/s; client CPU {summary.cpu_per_event_us:.1f} µs/event"
    )
    if summary.failed:
        raise click.ClickException(f"{summary.failed} events were not delivered")
