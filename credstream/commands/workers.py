"""The long-running workers: ``credstream signer``, ``processor``, ``renderer`` and
``status-updater``. Each builds its process in ``credstream.roots``."""

from __future__ import annotations

import gc
import logging

import click

# A worker allocates per record (decoded dicts, models, futures) and frees nearly all of
# it by reference count. At Python's default (a collection every 700 net allocations)
# the cyclic collector ran ~280 times a second in the processor, its older generations
# walking Faust's, aiokafka's and the table's long-lived objects: ~18% of the process's
# time. Every 50,000 it runs a few times a minute (README, performance).
COLLECT_EVERY_ALLOCATIONS = 50_000


def _prepare(level: str) -> None:
    """Logging and the garbage collector, before the worker is built."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(COLLECT_EVERY_ALLOCATIONS, older, oldest)


@click.command()
@click.option("--log-level", default="info", show_default=True)
def signer(log_level: str) -> None:
    """Consume credential requests; sign, store and announce credentials."""
    from credstream.roots.signer import SignerSettings, run_signer

    _prepare(log_level)
    run_signer(SignerSettings())


@click.command()
@click.option("--log-level", default="info", show_default=True)
def processor(log_level: str) -> None:
    """Consume assessment events; evaluate criteria; request credentials (Faust)."""
    from credstream.roots.processor import ProcessorSettings, run_processor

    _prepare(log_level)
    run_processor(ProcessorSettings())


@click.command()
@click.option("--log-level", default="info", show_default=True)
def renderer(log_level: str) -> None:
    """Consume issued-credential notifications; write baked PNG and SVG badges."""
    from credstream.roots.renderer import RendererSettings, run_renderer

    _prepare(log_level)
    run_renderer(RendererSettings())


@click.command(name="status-updater")
@click.option("--log-level", default="info", show_default=True)
def status_updater(log_level: str) -> None:
    """Consume status changes; re-sign and republish the status lists they touch."""
    from credstream.roots.status_updater import StatusUpdaterSettings, run_status_updater

    _prepare(log_level)
    run_status_updater(StatusUpdaterSettings())
