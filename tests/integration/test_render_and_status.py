"""Signer, renderer and status updater as real processes on the real broker and store.

A batch of credentials lands (JSON and manifest), the renderer adds a baked PNG and SVG
for each, replaying the notifications writes nothing, and revoke / suspend / reinstate
show up in the republished lists that ``credstream verify --store`` checks.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from click.testing import CliRunner, Result
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from credstream.cli import cli
from credstream.clients import kafka_producer
from credstream.commands import register
from credstream.pipeline import LocalPipeline, read_all, running, wait_until
from credstream.roots.renderer import renderer_group
from credstream.roots.signer import signer_group
from credstream.roots.status_updater import status_updater_group
from credstream.settings import KafkaSettings, S3Settings
from schemas.codec import Codec
from schemas.models import CredentialRequested, DeadLetter, Learner
from signers.keys import did_document, open_key, read_keyring
from signers.proofs import RdfcReferenceCanonicalizer, verify_proof
from signers.render import extract_png, extract_svg
from signers.service import badge_key, credential_key
from signers.status import parse_status_list_url, read_status
from tests.integration.workers import committed_everything, new_pipeline

CREDENTIALS = 12


def _requests(tenant: str) -> list[CredentialRequested]:
    start = datetime(2026, 5, 1, 9, tzinfo=UTC)
    return [
        CredentialRequested(
            credential_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/render/{i}")),
            tenant_id=tenant,
            achievement_key="da-101" if i % 2 else "da-101-first-steps",
            achievement_version=1,
            learner=Learner(id=f"learner-{i}"),
            awarded_at=start + timedelta(minutes=i),
            source_event_id=f"e-{i}",
        )
        for i in range(CREDENTIALS)
    ]


def _objects(s3, bucket: str, prefix: str) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def _rewind(kafka: KafkaSettings, group: str, topic: str) -> None:
    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=group)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.commit({tp: OffsetAndMetadata(0, "", -1) for tp in partitions})
    consumer.close()


class Cli:
    """``credstream`` commands in this process, with the pipeline's environment."""

    def __init__(self, pipeline: LocalPipeline) -> None:
        register(cli)
        self.root: click.Group = cli
        self.env = {k: v for k, v in pipeline.env().items() if k.startswith("CREDSTREAM_")}

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(self.root, list(args), env=self.env)


def test_render_replay_revoke_suspend_reinstate(
    kafka: KafkaSettings,
    store: S3Settings,
    s3,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    topology, codec, tenant = pipeline.topology, Codec(), pipeline.tenant
    requests = _requests(tenant)
    with kafka_producer(pipeline.kafka) as producer:
        for request in requests:
            producer.send(
                topology.requests.name,
                key=request.credential_id.encode(),
                value=codec.encode(request),
            )
        producer.send(topology.issued.name, key=b"poison", value=b"\x00 not a notification")
        producer.flush()

    # -- issuance and rendering ---------------------------------------------------------
    rendering = renderer_group(pipeline.kafka)
    with running(pipeline, ["signer", "renderer"], CREDSTREAM_SIGNER_PROCESSES="0") as workers:
        wait_until(
            lambda: committed_everything(
                pipeline.kafka, signer_group(pipeline.kafka), topology.requests.name
            ),
            what="the signer to commit every request",
            alive=list(workers.values()),
        )
        wait_until(
            lambda: committed_everything(pipeline.kafka, rendering, topology.issued.name),
            what="the renderer to commit every notification",
            alive=[workers["renderer"]],
        )
    objects = _objects(s3, store.bucket, f"{tenant}/")
    key = open_key(pipeline.keys, tenant)
    canon = RdfcReferenceCanonicalizer()
    for request in requests:
        stored = objects[credential_key(tenant, request.credential_id)]
        credential = json.loads(stored)
        for extension, extract in (("png", extract_png), ("svg", extract_svg)):
            baked = objects[badge_key(tenant, request.credential_id, extension)]
            carried = json.loads(extract(baked))
            assert carried == credential
            assert verify_proof(carried, key.public_key, canon).verified
        assert extract_png(objects[badge_key(tenant, request.credential_id, "png")]) == (
            stored.decode()
        )
    manifests = [json.loads(v) for k, v in objects.items() if "/manifests/" in k]
    listed = {entry["id"] for manifest in manifests for entry in manifest["entries"]}
    assert listed == {r.credential_id for r in requests}
    dead = read_all(pipeline.kafka, topology.dead_letters(topology.issued).name, 1)
    assert [codec.decode_as(d.value, DeadLetter).stage for d in dead] == ["renderer"]

    # -- replaying every notification writes nothing ----------------------------------
    _rewind(pipeline.kafka, rendering, topology.issued.name)
    with running(pipeline, ["renderer"]) as workers:
        wait_until(
            lambda: committed_everything(pipeline.kafka, rendering, topology.issued.name),
            what="the replay to finish",
            alive=[workers["renderer"]],
        )
    assert _objects(s3, store.bucket, f"{tenant}/") == objects

    # -- revoke, suspend, reinstate ---------------------------------------------------
    controller = tmp_path / "did.json"
    ring = read_keyring(pipeline.keys, tenant)
    controller.write_text(json.dumps(did_document(ring, pipeline.catalog.issuer.id)))
    revoked, suspended, untouched = (requests[i].credential_id for i in (1, 2, 3))
    files = {}
    for credential_id in (revoked, suspended, untouched):
        files[credential_id] = tmp_path / f"{credential_id}.json"
        files[credential_id].write_bytes(objects[credential_key(tenant, credential_id)])
    command = Cli(pipeline)

    def verify(credential_id: str) -> Result:
        return command(
            "verify", str(files[credential_id]), "--controller", str(controller), "--store"
        )

    missing = verify(revoked)  # no updater has run: the lists do not exist yet
    assert missing.exit_code == 1 and "is not available" in missing.output
    with running(pipeline, ["status-updater"]) as workers:
        # The updater provisions empty lists for the slots in use: status verifies at once.
        wait_until(
            lambda: verify(revoked).exit_code == 0,
            what="empty lists to be provisioned",
            alive=[workers["status-updater"]],
        )
        # The first change also waits for the updater to join its group and open the key.
        first = command(
            "revoke", revoked, "--tenant", tenant, "--reason", "plagiarism", "--wait", "60"
        )
        assert first.exit_code == 0, first.output
        assert "revoked in the published revocation list" in first.output
        result = verify(revoked)
        assert result.exit_code == 1
        assert "FAIL revocation_status: REVOKED" in result.output, result.output
        assert "ok   valid_signature" in result.output

        started = time.monotonic()
        second = command(
            "suspend", suspended, "--tenant", tenant, "--reason", "review", "--wait", "5"
        )
        visible_after = time.monotonic() - started
        assert second.exit_code == 0, second.output  # visible within 5 s
        assert "FAIL suspension_status: SUSPENDED" in verify(suspended).output
        third = command(
            "reinstate", suspended, "--tenant", tenant, "--reason", "cleared", "--wait", "5"
        )
        assert third.exit_code == 0, third.output
        reinstated = verify(suspended)
        assert reinstated.exit_code == 0, reinstated.output
        assert "ok   suspension_status: not suspended" in reinstated.output
        # Reinstating does not touch revocation; an untouched credential stays valid.
        again = command(
            "reinstate", revoked, "--tenant", tenant, "--reason", "appeal", "--wait", "5"
        )
        assert again.exit_code == 0
        assert f"note: {revoked} is revoked; reinstate lifts a suspension only" in again.output
        assert verify(revoked).exit_code == 1
        assert verify(untouched).exit_code == 0
        wait_until(
            lambda: committed_everything(
                pipeline.kafka, status_updater_group(pipeline.kafka), topology.status.name
            ),
            what="the updater to commit every change",
            alive=[workers["status-updater"]],
        )
    print(f"suspension visible in the published list after {visible_after:.2f} s")

    published = _objects(s3, store.bucket, f"{tenant}/status/")
    lists = {k: json.loads(v) for k, v in published.items() if "/history/" not in k}
    # Both purposes of every list a slot can be in (6 partitions, one list ahead each).
    assert len(lists) == 2 * 6 * 2
    for document in lists.values():
        assert verify_proof(document, key.public_key, canon).verified
    history = [k for k in published if "/history/" in k]
    assert len(history) == 3  # one copy per publication: revoke, suspend, reinstate
    entry = next(
        e
        for e in json.loads(files[revoked].read_bytes())["credentialStatus"]
        if e["statusPurpose"] == "revocation"
    )
    revocation = lists[parse_status_list_url(entry["statusListCredential"]).key]
    assert read_status(revocation, entry)
    assert not any(d.get("validUntil") for d in lists.values())
