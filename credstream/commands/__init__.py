"""Command groups of the ``credstream`` command line, one module per concern."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    from credstream.commands import demo, dev

    cli.add_command(dev.dev)
    cli.add_command(demo.demo)
