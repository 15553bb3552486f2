"""The long-running workers: ``credstream signer`` (processor, renderer, status updater
follow the same pattern). Each builds its process in ``credstream.roots``."""

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
