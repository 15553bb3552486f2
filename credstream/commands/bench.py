"""``credstream bench``: throughput measurements of the hot paths, on one core."""

from __future__ import annotations

import json
import os

import click


@click.group()
def bench() -> None:
    """Measure throughput on one core (the process pins itself to one CPU)."""


@bench.command("sign")
@click.option("--count", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def sign(count: int, as_json: bool) -> None:
    """Signed credentials/s per cryptosuite on catalog-like Open Badges credentials.

    JSON: a list with one object per suite, with the keys suite, signed_per_second (the
    signing path credstream uses), reference_per_second (pyld; null for eddsa-jcs-2022,
    which has no separate reference path) and raw_ed25519_per_second (bare signatures,
    same run).
    """
    from signers.bench import bench_sign
    from signers.proofs import default_canonicalizer

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rates = bench_sign(count, default_canonicalizer())
    if as_json:
        click.echo(json.dumps([rate.as_dict() for rate in rates], indent=2))
        return
    for rate in rates:
        reference = (
            f", reference {rate.reference_per_second:,.0f}/s" if rate.reference_per_second else ""
        )
        click.echo(
            f"{rate.suite}: {rate.signed_per_second:,.0f} signed/s{reference}; "
            f"bare Ed25519 {rate.raw_ed25519_per_second:,.0f}/s"
        )
