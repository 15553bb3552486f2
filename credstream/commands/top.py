"""``credstream top``: a live terminal view of the workers' metrics."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click


@click.command()
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="URL",
    help="A worker's /metrics URL (repeatable). Default: CREDSTREAM_TOP_TARGETS, "
    "else the local workers' default ports 9401-9404.",
)
@click.option(
    "--targets-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also watch every worker announced in this folder (their CREDSTREAM_METRICS_TARGETS_DIR).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=None,
    help="Seconds between refreshes (default 1).",
)
@click.option(
    "--once",
    is_flag=True,
    help="Print one frame (rates over one interval) and exit; 1 if no worker answers.",
)
def top(
    targets: tuple[str, ...], targets_dir: Path | None, interval: float | None, once: bool
) -> None:
    """Throughput per stage, lag, latency p50/p99 and dead letters, refreshed every second."""
    from credstream.observability import TopSettings, render, scrape, summarize

    settings = TopSettings()
    if targets_dir is not None:
        settings = settings.model_copy(update={"targets_dir": targets_dir})
    pause = interval if interval is not None else settings.interval_seconds
    previous = scrape(settings.urls(targets), settings.timeout_seconds)
    try:
        while True:
            time.sleep(pause)
            current = scrape(settings.urls(targets), settings.timeout_seconds)
            view = summarize(previous, current)
            if once:
                click.echo(render(view), nl=False)
                sys.exit(0 if view.answering else 1)
            click.clear()
            click.echo(render(view), nl=False)
            previous = current
    except KeyboardInterrupt:
        pass
