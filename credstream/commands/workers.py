"""The long-running workers: ``credstream signer``, ``processor``, ``renderer`` and
``status-updater``. Each builds its process in ``credstream.roots``."""

from __future__ import annotations

import logging

import click


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@click.command()
@click.option("--log-level", default="info", show_default=True)
def signer(log_level: str) -> None:
    """Consume credential requests; sign, store and announce credentials."""
    from credstream.roots.signer import SignerSettings, run_signer

    _logging(log_level)
    run_signer(SignerSettings())


@click.command()
@click.option("--log-level", default="info", show_default=True)
def processor(log_level: str) -> None:
    """Consume assessment events; evaluate criteria; request credentials (Faust)."""
    from credstream.roots.processor import ProcessorSettings, run_processor

    _logging(log_level)
    run_processor(ProcessorSettings())


@click.command()
@click.option("--log-level", default="info", show_default=True)
def renderer(log_level: str) -> None:
    """Consume issued-credential notifications; write baked PNG and SVG badges."""
    from credstream.roots.renderer import RendererSettings, run_renderer

    _logging(log_level)
    run_renderer(RendererSettings())


@click.command(name="status-updater")
@click.option("--log-level", default="info", show_default=True)
def status_updater(log_level: str) -> None:
    """Consume status changes; re-sign and republish the status lists they touch."""
    from credstream.roots.status_updater import StatusUpdaterSettings, run_status_updater

    _logging(log_level)
    run_status_updater(StatusUpdaterSettings())
