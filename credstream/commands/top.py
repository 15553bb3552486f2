"""``credstream top``: a live terminal view of the workers' metrics."""

from __future__ import annotations

import sys
import time

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
def top(targets: tuple[str, ...], interval: float | None, once: bool) -> None:
    """Throughput per stage, lag, latency p50/p99 and dead letters, refreshed every second."""
    from credstream.observability import TopSettings, render, scrape, summarize

    settings = TopSettings()
    urls = list(targets) or settings.target_list()
    pause = interval if interval is not None else settings.interval_seconds
    previous = scrape(urls, settings.timeout_seconds)
    try:
        while True:
            time.sleep(pause)
            current = scrape(urls, settings.timeout_seconds)
            view = summarize(previous, current)
            if once:
                click.echo(render(view), nl=False)
                sys.exit(0 if view.answering else 1)
            click.clear()
            click.echo(render(view), nl=False)
            previous = current
    except KeyboardInterrupt:
        pass
