"""``credstream engines``: register assessment engines and their signing keys."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from producers import DEFAULT_DIRECTORY, EngineRegistry

_DIRECTORY = click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_DIRECTORY,
    show_default=True,
    envvar="CREDSTREAM_ENGINES_DIR",
    help="The engine registry (env CREDSTREAM_ENGINES_DIR).",
)


@click.group()
def engines() -> None:
    """Engines that may send assessment events, and their Ed25519 keys."""


@engines.command()
@click.argument("engine_id")
@_DIRECTORY
def add(engine_id: str, directory: Path) -> None:
    """Register ENGINE_ID with a new key pair; prints where the private key is."""
    record = EngineRegistry(directory).add(engine_id, datetime.now(UTC))
    click.echo(f"engine {record.engine_id} registered")
    click.echo(f"  public key   {record.public_key_multibase}")
    click.echo(f"  private key  {record.key_file} (mode 0600: give it to the engine only)")


@engines.command(name="list")
@_DIRECTORY
def list_engines(directory: Path) -> None:
    """The registered engines and their public keys."""
    records = EngineRegistry(directory).engines()
    if not records:
        click.echo(f"no engines registered in {directory}")
    for record in records:
        click.echo(f"{record.engine_id}\t{record.public_key_multibase}\t{record.created_at}")
