"""``credstream evaluate``: run the criteria engine over a history of events (a dry run)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import click


@click.command()
@click.option(
    "--catalog",
    "catalog_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of catalog YAML files.",
)
@click.option(
    "--events",
    required=True,
    type=click.File("rb"),
    help="AssessmentCompleted events as JSON lines ('-' for stdin).",
)
@click.option("--strict", is_flag=True, help="Stop at the first line the processor would reject.")
@click.option("--stats", is_flag=True, help="Print counts and throughput to stderr.")
def evaluate(catalog_dir: Path, events: IO[bytes], strict: bool, stats: bool) -> None:
    """Print the awards the processor would make from EVENTS, as CredentialRequested JSON lines.

    Lines the processor would dead-letter are reported on stderr (exit status 1 with
    --strict). Use it to preview a catalog or a backfill before publishing either.
    """
    from processors.catalog import Catalog, load_catalogs
    from processors.criteria import Rejected, replay

    catalog = Catalog(load_catalogs(catalog_dir).values())
    out = sys.stdout
    awards = rejected = lines = 0

    def counted() -> Iterator[bytes]:
        nonlocal lines
        for line in events:
            lines += 1
            yield line

    started = time.perf_counter()
    for item in replay(counted(), catalog):
        if isinstance(item, Rejected):
            rejected += 1
            click.echo(f"line {item.line}: {item.reason}", err=True)
            if strict:
                sys.exit(1)
        else:
            awards += 1
            out.write(item.model_dump_json())
            out.write("\n")
    elapsed = time.perf_counter() - started
    if stats:
        rate = lines / elapsed if elapsed else 0.0
        click.echo(
            f"{lines} lines, {awards} awards, {rejected} rejected in {elapsed:.2f} s "
            f"({rate:,.0f} lines/s)",
            err=True,
        )
