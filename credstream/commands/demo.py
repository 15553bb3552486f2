"""``credstream demo``: the whole issuance pipeline on the local stack, end to end."""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from credstream.devstack import DevStack, DevStackSettings
from credstream.devstack._stack import PROJECT_ROOT

if TYPE_CHECKING:
    from credstream.e2e import RunResult
    from credstream.pipeline import LocalPipeline
    from schemas.models import CredentialRequested

SAMPLE_CATALOG = PROJECT_ROOT / "deploy" / "catalogs" / "example-u.yaml"


def _passphrase(home: Path) -> str:
    """The key-file passphrase: CREDSTREAM_KEYS_PASSPHRASE, else one kept for this stack."""
    given = os.environ.get("CREDSTREAM_KEYS_PASSPHRASE")
    if given:
        return given
    path = home / "passphrase"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


@click.command()
@click.option("--events", default=20_000, show_default=True, type=click.IntRange(min=1))
@click.option("--learners", default=2_000, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--rate", default=500.0, show_default=True, help="Events/s sent (0: as fast as possible)."
)
@click.option("--catalog", "catalog_path", type=click.Path(exists=True, path_type=Path),
              default=SAMPLE_CATALOG, show_default=True)  # fmt: skip
def demo(events: int, learners: int, rate: float, catalog_path: Path) -> None:
    """Publish a catalog, start every worker, send synthetic events, watch credentials issue."""
    from credstream.e2e import Sample, expected_awards, run
    from credstream.pipeline import WORKERS, LocalPipeline, catalog_courses, prepare
    from credstream.settings import KafkaSettings, S3Settings
    from processors.catalog import load_catalog
    from producers import Workload, generate

    stack = DevStack(DevStackSettings())
    if not all(status.healthy for status in stack.status()):
        raise click.ClickException("the local stack is not healthy: run `credstream dev up`")
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    home = stack.settings.home / "demo"
    catalog = load_catalog(catalog_path)
    pipeline = LocalPipeline(
        kafka=KafkaSettings(
            bootstrap_servers=stack.bootstrap_servers(), topic_prefix=f"demo-{run_id}."
        ),
        store=S3Settings(endpoint_url=stack.s3_endpoint(), bucket=stack.settings.s3_bucket),
        catalog=catalog,
        home=home,
        passphrase=_passphrase(home),
        default_metrics_ports=True,
    )
    click.echo(f"run {run_id}: catalog {catalog.tenant} ({len(catalog.achievements)} achievements)")
    prepare(pipeline)
    workload = Workload(
        courses=catalog_courses(catalog), learners=learners, events=events, seed=int(run_id),
        tenant_id=catalog.tenant, engine_id=pipeline.engine_id, learner_prefix=f"r{run_id}-",
    )  # fmt: skip
    history = list(generate(workload))
    expected = expected_awards(pipeline, history)
    click.echo(f"{len(history):,} synthetic events, {len(expected):,} awards expected")

    live = sys.stdout.isatty()
    shown = [0.0]

    def show(sample: Sample) -> None:
        if not live and sample.seconds - shown[0] < 5:
            return  # a log, not a terminal: a line every 5 s
        shown[0] = sample.seconds
        click.echo(
            ("\r" if live else "") + f"  {sample.seconds:6.1f}s  "
            f"events in {sample.events_consumed:>7,}  awards {sample.awards:>6,}  "
            f"credentials issued {sample.credentials_issued:>6,}  "
            f"dead letters {sample.dead_letters:>3}",
            nl=not live,
        )

    result = run(
        pipeline,
        history,
        expected,
        WORKERS,
        rate=rate,
        backlog=False,
        on_sample=show,
    )
    click.echo()
    _summary(pipeline, result, expected)


def _summary(
    pipeline: LocalPipeline, result: RunResult, expected: Sequence[CredentialRequested]
) -> None:
    """Counts, latency, one credential and its verification, where things are."""
    from credstream.clients import s3_client
    from signers.keys import did_document, put_did_document, read_keyring
    from signers.proofs import controller_document_method, default_canonicalizer, verify_credential
    from signers.service import credential_key

    summary = result.summary()
    click.echo(
        f"events {result.events:,}  credentials expected {result.expected_credentials:,}  "
        f"issued {result.issued_distinct:,}  stored {result.stored_objects:,}  "
        f"lost {result.lost}  duplicates {result.duplicates}"
    )
    if summary["p50_seconds"] is not None:
        click.echo(
            f"latency event -> notification: p50 {summary['p50_seconds']:.3f}s  "
            f"p99 {summary['p99_seconds']:.3f}s"
        )
    client = s3_client(pipeline.store)
    ring = read_keyring(pipeline.keys, pipeline.tenant)
    document = did_document(ring)
    did_key = put_did_document(client, pipeline.store.bucket, pipeline.tenant, document)
    if expected:
        award = expected[0]
        key = credential_key(pipeline.tenant, award.credential_id)
        body = client.get_object(Bucket=pipeline.store.bucket, Key=key)["Body"].read()
        credential = json.loads(body)
        click.echo(f"\none issued credential (s3://{pipeline.store.bucket}/{key}):")
        click.echo(json.dumps(credential, indent=2, ensure_ascii=False))
        verdict = verify_credential(
            credential,
            lambda vm: controller_document_method(document, vm),
            datetime.now(UTC),
            default_canonicalizer(),
        )
        click.echo("verification: " + ("VALID" if verdict.verified else "INVALID"))
        for check in verdict.checks:
            click.echo(f"  {'ok ' if check.valid else 'BAD'} {check.id}: {check.message}")
    base = f"{pipeline.store.endpoint_url}/{pipeline.store.bucket}"
    click.echo(f"\nobjects:  {base}/{pipeline.tenant}/credentials/  (and manifests/, badges/)")
    click.echo(f"did.json: {base}/{did_key}")
    click.echo(
        "metrics:  http://127.0.0.1:9401/metrics (processor), :9402 (signer), "
        ":9403 (renderer), :9404 (status updater)"
    )
