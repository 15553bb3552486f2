"""``credstream dev up | down | status``: the local stack."""

from __future__ import annotations

import sys

import click

from credstream.devstack import DevStack, DevStackSettings


@click.group()
def dev() -> None:
    """The local stack: Apache Kafka (KRaft) and an S3-compatible store."""


@dev.command()
@click.option("--brokers", type=click.Choice(["1", "3"]), default=None,
              help="Kafka brokers to run (default: as formatted, else 1).")  # fmt: skip
def up(brokers: str | None) -> None:
    """Install (once), start and wait for every service; idempotent."""
    stack = DevStack(DevStackSettings(), brokers=int(brokers) if brokers else None)
    for status in stack.up(echo=click.echo):
        click.echo(status.line())
    click.echo(f"KAFKA_BOOTSTRAP={stack.bootstrap_servers()}")
    click.echo(f"S3_ENDPOINT={stack.s3_endpoint()}  bucket={stack.settings.s3_bucket}")


@dev.command()
@click.option("--purge", is_flag=True, help="Also delete the stack's data (topics, objects).")
def down(purge: bool) -> None:
    """Stop the processes `up` started (by PID), nothing else."""
    stopped = DevStack(DevStackSettings()).down(purge=purge)
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@dev.command()
def status() -> None:
    """Say which services are running and healthy; exit 1 if any is not."""
    statuses = DevStack(DevStackSettings()).status()
    for item in statuses:
        click.echo(item.line())
    sys.exit(0 if all(item.healthy for item in statuses) else 1)
