"""``credstream catalog``: validate achievement catalogs and publish them to Kafka."""

from __future__ import annotations

import sys
from pathlib import Path

import click

directory_argument = click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, path_type=Path)
)


@click.group()
def catalog() -> None:
    """Achievement catalogs: one YAML file per tenant (see deploy/catalogs/README.md)."""


@catalog.command()
@directory_argument
def validate(directory: Path) -> None:
    """Check every catalog in DIRECTORY; print OK or the problems of each file.

    Exit status 1 when any file has a problem.
    """
    from processors.catalog import validate_directory

    reports = validate_directory(directory)
    for report in reports:
        if report.catalog is not None:
            count = len(report.catalog.achievements)
            click.echo(f"{report.path}: OK (tenant {report.catalog.tenant}, {count} achievements)")
        for problem in report.problems:
            click.echo(f"{report.path}: {problem}")
    if any(report.problems for report in reports):
        sys.exit(1)


@catalog.command()
@directory_argument
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for acks.")
def publish(directory: Path, timeout: float) -> None:
    """Validate DIRECTORY, then produce each tenant's catalog to achievement.catalog.v1.

    Nothing is published unless every file is valid. Kafka from CREDSTREAM_KAFKA_*.
    """
    from credstream.clients import ensure_topics, kafka_producer
    from credstream.settings import KafkaSettings
    from processors.catalog import encode_catalog, load_catalogs
    from schemas.topics import ACHIEVEMENT_CATALOG

    catalogs = load_catalogs(directory)
    settings = KafkaSettings()
    ensure_topics(settings, [ACHIEVEMENT_CATALOG])
    producer = kafka_producer(settings)
    try:
        sent = [
            (tenant, producer.send(
                ACHIEVEMENT_CATALOG.name, key=tenant.encode(), value=encode_catalog(catalog)
            ))
            for tenant, catalog in sorted(catalogs.items())
        ]  # fmt: skip
        for tenant, future in sent:
            metadata = future.get(timeout=timeout)
            click.echo(
                f"published {tenant} to {ACHIEVEMENT_CATALOG.name} "
                f"(partition {metadata.partition}, offset {metadata.offset})"
            )
    finally:
        producer.close(timeout=timeout)
