"""``credstream bench``: throughput measurements of the hot paths, on one core."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import click


@click.group()
def bench() -> None:
    """Measure throughput on one core (the process pins itself to one CPU)."""


@bench.command("sign")
@click.option("--count", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--cli",
    is_flag=True,
    help="Also sign through `credstream sign -` (JSON lines in and out, one core, start-up "
    "excluded), on catalog-like and on builder-like credentials.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def sign(count: int, cli: bool, as_json: bool) -> None:
    """Signed credentials/s per cryptosuite on catalog-like Open Badges credentials.

    JSON: a list with one object per suite, with the keys suite, signed_per_second (the
    signing path credstream uses), reference_per_second (pyld; null for eddsa-jcs-2022,
    which has no separate reference path) and raw_ed25519_per_second (bare signatures,
    same run); with --cli also cli_per_second (the same credentials through `credstream
    sign -`) and cli_builder_like_per_second (credentials as the signer service builds
    them: hashed identity, results, evidence, status entries; about 2 KB each).
    """
    from signers.bench import bench_sign
    from signers.proofs import default_canonicalizer

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if cli and count < _CLI_MIN_COUNT:
        raise click.UsageError(
            f"--cli needs --count {_CLI_MIN_COUNT} or more to tell signing from start-up"
        )
    rates = [rate.as_dict() for rate in bench_sign(count, default_canonicalizer())]
    if cli:
        for rate in rates:
            rate.update(_cli_rates(count, rate["suite"]))
    if as_json:
        click.echo(json.dumps(rates, indent=2))
        return
    for rate in rates:
        reference = (
            f", reference {rate['reference_per_second']:,.0f}/s"
            if rate["reference_per_second"]
            else ""
        )
        through_cli = (
            f"; through the CLI {rate['cli_per_second']:,.0f}/s "
            f"(builder-like {rate['cli_builder_like_per_second']:,.0f}/s)"
            if cli
            else ""
        )
        click.echo(
            f"{rate['suite']}: {rate['signed_per_second']:,.0f} signed/s{reference}; "
            f"bare Ed25519 {rate['raw_ed25519_per_second']:,.0f}/s{through_cli}"
        )


_CLI_MIN_COUNT = 500


def _cli_rates(count: int, suite: str) -> dict[str, float]:
    """Credentials/s through ``credstream sign -`` in a child process (which inherits this
    process's one-CPU affinity), the median of three runs over ``count`` credentials.

    The rate is the steady state: timed over the second half of the output, after start-up
    and after the first half has taught the canonicalizer its templates.
    """
    import statistics
    import subprocess
    import sys
    import tempfile

    import orjson

    from signers.bench import BENCH_SEED, catalog_credentials
    from signers.fastcanon import sample_credentials
    from signers.multikey import public_key_multibase
    from signers.proofs import ed25519_public_key

    did = "did:key:" + public_key_multibase(ed25519_public_key(BENCH_SEED))
    command = [
        *(sys.executable, "-m", "credstream", "sign", "-", "--seed-hex", BENCH_SEED.hex()),
        *("--verification-method", f"{did}#{did.removeprefix('did:key:')}"),
        *("--created", "2024-05-01T10:00:00Z", "--suite", suite),
    ]

    def one_run(source: IO[bytes]) -> float:
        source.seek(0)
        # The child inherits the one CPU; this process reads its output on the others.
        with subprocess.Popen(command, stdin=source, stdout=subprocess.PIPE) as child:
            if hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, readers)
            assert child.stdout is not None
            output, signed, started = child.stdout.fileno(), 0, 0.0
            while chunk := os.read(output, 1 << 16):
                signed += chunk.count(b"\n")
                if not started and signed >= count // 2:
                    started, timed_from = time.perf_counter(), signed
            elapsed = time.perf_counter() - started
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, pinned)
        if child.returncode != 0 or signed != count:
            raise click.ClickException(f"credstream sign failed (exit {child.returncode})")
        return (count - timed_from) / elapsed

    def rate(credentials: Iterable[dict[str, Any]]) -> float:
        with tempfile.TemporaryFile() as source:
            source.writelines(orjson.dumps(credential) + b"\n" for credential in credentials)
            return float(statistics.median(one_run(source) for _ in range(3)))

    pinned = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    readers = (set(range(os.cpu_count() or 1)) - pinned) or pinned
    return {
        "cli_per_second": rate(catalog_credentials(count)),
        "cli_builder_like_per_second": rate(sample_credentials(count, seed=1)),
    }


@bench.command("e2e")
@click.option("--events", default=200_000, show_default=True, type=click.IntRange(min=100))
@click.option(
    "--workload", type=click.Choice(["burst", "mixed"]), default="burst", show_default=True
)
@click.option(
    "--rate",
    default=0.0,
    type=click.FloatRange(min=0),
    help="Offer the events open loop at this many per second (default: as a backlog).",
)
@click.option("--baseline-events", default=3000, show_default=True, type=click.IntRange(min=100))
@click.option("--latency-seconds", default=30.0, show_default=True,
              help="How long the half-rate latency phase offers events.")  # fmt: skip
@click.option(
    "--latency-rate",
    default=0.0,
    type=click.FloatRange(min=0),
    help="Offer the latency phase at this many events/s (default: half the sustained rate).",
)
@click.option(
    "--signers",
    type=click.IntRange(min=1),
    help="Signer processes, each with its signing processes (default: burst 2, mixed 1).",
)
@click.option(
    "--results", type=click.Path(path_type=Path), default=Path("results"), show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def e2e(
    events: int,
    workload: str,
    rate: float,
    baseline_events: int,
    latency_seconds: float,
    latency_rate: float,
    signers: int | None,
    results: Path,
    as_json: bool,
) -> None:
    """The whole pipeline on the local stack as separate processes: throughput, latency,
    CPU per credential per stage, exactness, and the baseline, in one run."""
    import secrets

    from credstream.benchmarks import SIGNERS, BenchPlan, bench_e2e, write_results
    from credstream.devstack import DevStack, DevStackSettings
    from credstream.devstack._stack import PROJECT_ROOT
    from processors.catalog import load_catalog

    stack = DevStack(DevStackSettings())
    if not all(status.healthy for status in stack.status()):
        raise click.ClickException("the local stack is not healthy: run `credstream dev up`")
    plan = BenchPlan(
        workload=workload,  # type: ignore[arg-type]
        events=events,
        rate=rate,
        baseline_events=baseline_events,
        latency_seconds=latency_seconds,
        latency_rate=latency_rate,
        catalog=load_catalog(PROJECT_ROOT / "deploy" / "catalogs" / "example-u.yaml"),
        home=stack.settings.home / "bench",
        passphrase=secrets.token_urlsafe(16),
        signers=signers or SIGNERS[workload],  # type: ignore[index]
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
@click.option(
    "--floor",
    is_flag=True,
    help="Measure Faust's own ceiling instead: an agent that drops the same batches.",
)
def processor(events: int, workload: str, floor: bool) -> None:
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
    click.echo(json.dumps(bench_processor(stack, plan, floor), indent=2))


def _table(report: dict[str, object]) -> str:
    return "\n".join(f"{key:36} {value}" for key, value in report.items())
