"""The ``credstream`` command line. Each command builds its process in a composition root."""

from __future__ import annotations

import sys

import click

from credstream.errors import CredstreamError


class _Group(click.Group):
    """Turns a CredstreamError into a one-line message and exit code 2, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CredstreamError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="credstream")
def cli() -> None:
    """Issue Open Badges 3.0 verifiable credentials from assessment events."""


def main() -> None:
    from credstream.commands import register

    register(cli)
    cli()
