"""Command groups of the ``credstream`` command line, one module per concern."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    from credstream.commands import (
        bench,
        catalog,
        demo,
        dev,
        engines,
        evaluate,
        images,
        keys,
        produce,
        sign,
        status,
        top,
        workers,
    )

    cli.add_command(dev.dev)
    cli.add_command(demo.demo)
    cli.add_command(keys.keys)
    cli.add_command(catalog.catalog)
    cli.add_command(evaluate.evaluate)
    cli.add_command(top.top)
    cli.add_command(workers.signer)
    cli.add_command(engines.engines)
    cli.add_command(produce.produce)
    cli.add_command(sign.sign)
    cli.add_command(sign.verify)
    cli.add_command(bench.bench)
    cli.add_command(workers.processor)
    cli.add_command(workers.renderer)
    cli.add_command(workers.status_updater)
    cli.add_command(status.revoke)
    cli.add_command(status.suspend)
    cli.add_command(status.reinstate)
    cli.add_command(images.images)
