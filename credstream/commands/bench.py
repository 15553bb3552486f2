"""``credstream bench``: throughput measurements of the hot paths, on one core."""

from __future__ import annotations

import json
import os
from pathlib import Path

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


@bench.command("e2e")
@click.option("--events", default=200_000, show_default=True, type=click.IntRange(min=100))
@click.option(
    "--workload", type=click.Choice(["burst", "mixed"]), default="burst", show_default=True
)
@click.option("--baseline-events", default=3000, show_default=True, type=click.IntRange(min=100))
@click.option("--latency-seconds", default=30.0, show_default=True,
              help="How long the half-rate latency phase offers events.")  # fmt: skip
@click.option(
    "--results", type=click.Path(path_type=Path), default=Path("results"), show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def e2e(
    events: int,
    workload: str,
    baseline_events: int,
    latency_seconds: float,
    results: Path,
    as_json: bool,
) -> None:
    """The whole pipeline on the local stack as separate processes: throughput, latency,
    CPU per credential per stage, exactness, and the baseline, in one run."""
    import secrets

    from credstream.benchmarks import BenchPlan, bench_e2e, write_results
    from credstream.devstack import DevStack, DevStackSettings
    from credstream.devstack._stack import PROJECT_ROOT
    from processors.catalog import load_catalog

    stack = DevStack(DevStackSettings())
    if not all(status.healthy for status in stack.status()):
        raise click.ClickException("the local stack is not healthy: run `credstream dev up`")
    plan = BenchPlan(
        workload=workload,  # type: ignore[arg-type]
        events=events,
        baseline_events=baseline_events,
        latency_seconds=latency_seconds,
        catalog=load_catalog(PROJECT_ROOT / "deploy" / "catalogs" / "example-u.yaml"),
        home=stack.settings.home / "bench",
        passphrase=secrets.token_urlsafe(16),
    )
    report, runs = bench_e2e(stack, plan, echo=lambda line: click.echo(line, err=True))
    stem = write_results(report, runs, results)
    click.echo(f"results: {stem}.json, {stem}.png", err=True)
    click.echo(json.dumps(report, indent=2) if as_json else _table(report))


@bench.command("processor")
@click.option("--events", default=50_000, show_default=True, type=click.IntRange(min=100))
@click.option(
    "--workload", type=click.Choice(["burst", "mixed"]), default="mixed", show_default=True
)
def processor(events: int, workload: str) -> None:
    """One processor process against the real broker: events/s and CPU per event."""
    import secrets

    from credstream.benchmarks import BenchPlan, bench_processor
    from credstream.devstack import DevStack, DevStackSettings
    from credstream.devstack._stack import PROJECT_ROOT
    from processors.catalog import load_catalog

    stack = DevStack(DevStackSettings())
    plan = BenchPlan(
        workload=workload,  # type: ignore[arg-type]
        events=events,
        baseline_events=0,
        latency_seconds=0,
        catalog=load_catalog(PROJECT_ROOT / "deploy" / "catalogs" / "example-u.yaml"),
        home=stack.settings.home / "bench",
        passphrase=secrets.token_urlsafe(16),
    )
    click.echo(json.dumps(bench_processor(stack, plan), indent=2))


def _table(report: dict[str, object]) -> str:
    return "\n".join(f"{key:36} {value}" for key, value in report.items())
