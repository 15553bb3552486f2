"""The signer process against the real broker and store: sign, store, announce, replay."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from credstream.clients import kafka_producer
from credstream.pipeline import read_all, running, wait_until
from credstream.roots.signer import signer_group
from credstream.settings import KafkaSettings, S3Settings
from schemas.codec import Codec
from schemas.models import CredentialIssued, CredentialRequested, DeadLetter, Evidence, Learner
from signers.keys import open_key
from signers.manifest import check_manifest
from signers.proofs import JcsCanonicalizer, RdfcReferenceCanonicalizer, verify_proof
from signers.service import credential_key
from tests.integration.workers import (
    committed_everything,
    new_pipeline,
)

REQUESTS = 40


def _requests(tenant: str) -> list[CredentialRequested]:
    start = datetime(2026, 5, 1, 9, tzinfo=UTC)
    requests = []
    for i in range(REQUESTS):
        at = start + timedelta(minutes=i, milliseconds=i)
        requests.append(
            CredentialRequested(
                credential_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{i}")),
                tenant_id=tenant,
                achievement_key="da-101" if i % 2 else "da-101-first-steps",
                achievement_version=1,
                learner=Learner(
                    id=f"learner-{i}", email=f"learner{i}@example.org" if i % 3 else None
                ),
                awarded_at=at,
                evidence=(
                    Evidence(
                        event_id=f"e-{i}",
                        course_id="da-101",
                        assessment_id="m1",
                        score=80 + i % 20,
                        max_score=100,
                        occurred_at=at,
                    ),
                ),
                source_event_id=f"e-{i}",
            )
        )
    return requests


def _objects(s3, bucket: str, prefix: str) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def _rewind(kafka: KafkaSettings, topic: str) -> None:
    consumer = KafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, group_id=signer_group(kafka)
    )
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.commit({tp: OffsetAndMetadata(0, "", -1) for tp in partitions})
    consumer.close()


def test_signer_issues_each_request_once_and_a_replay_changes_nothing(
    kafka: KafkaSettings,
    store: S3Settings,
    s3,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    topology, codec = pipeline.topology, Codec()
    requests = _requests(pipeline.tenant)
    with kafka_producer(pipeline.kafka) as producer:
        for request in requests:
            producer.send(
                topology.requests.name,
                key=request.credential_id.encode(),
                value=codec.encode(request),
            )
        producer.send(topology.requests.name, key=b"poison", value=b"\xc3\x01 not avro")
        unknown = requests[0].model_copy(
            update={"credential_id": str(uuid.uuid4()), "achievement_key": "no-such-badge"}
        )
        producer.send(topology.requests.name, key=b"unknown", value=codec.encode(unknown))
        producer.flush()

    group = signer_group(pipeline.kafka)
    with running(pipeline, ["signer"], CREDSTREAM_SIGNER_PROCESSES="1") as workers:
        wait_until(
            lambda: committed_everything(pipeline.kafka, group, topology.requests.name),
            what="the signer to commit every request",
            alive=list(workers.values()),
        )
        issued = read_all(pipeline.kafka, topology.issued.name, REQUESTS)

    notifications = [codec.decode_as(r.value, CredentialIssued) for r in issued]
    assert sorted(n.credential_id for n in notifications) == sorted(
        r.credential_id for r in requests
    )

    objects = _objects(s3, store.bucket, f"{pipeline.tenant}/")
    key = open_key(pipeline.keys, pipeline.tenant)
    reference = RdfcReferenceCanonicalizer()
    for request in requests:
        credential = json.loads(objects[credential_key(pipeline.tenant, request.credential_id)])
        assert credential["id"] == f"urn:uuid:{request.credential_id}"
        assert credential["validFrom"].startswith("2026-05-01T")
        result = verify_proof(credential, key.public_key, reference)
        assert result.verified, result
        assert credential["proof"]["verificationMethod"].startswith(
            pipeline.catalog.issuer.id + "#"
        )
    manifests = {k: json.loads(v) for k, v in objects.items() if "/manifests/" in k}
    assert manifests
    listed = [e["id"] for m in manifests.values() for e in m["entries"]]
    assert sorted(listed) == sorted(r.credential_id for r in requests)
    for manifest in manifests.values():
        assert check_manifest(manifest) == []
        assert verify_proof(manifest, key.public_key, JcsCanonicalizer()).verified

    dead = read_all(pipeline.kafka, topology.dead_letters(topology.requests).name, 2)
    assert len(dead) == 2
    for letter in dead:
        headers = dict(letter.headers)
        assert headers["cs-dlq-source-topic"] == topology.requests.name.encode()
        assert headers["cs-dlq-stage"] == b"signer"
        envelope = codec.decode_as(letter.value, DeadLetter)
        assert int(headers["cs-dlq-source-offset"]) == envelope.source_offset
        assert int(headers["cs-dlq-source-partition"]) == envelope.source_partition
        assert envelope.original_value in (b"\xc3\x01 not avro", codec.encode(unknown))
    reasons = {dict(letter.headers)["cs-dlq-error-class"] for letter in dead}
    assert reasons == {b"UnknownSchemaError", b"UnknownAchievementError"}

    # Replay everything: the group starts again from offset 0.
    _rewind(pipeline.kafka, topology.requests.name)
    with running(pipeline, ["signer"], CREDSTREAM_SIGNER_PROCESSES="0") as workers:
        wait_until(
            lambda: committed_everything(pipeline.kafka, group, topology.requests.name),
            what="the replay to finish",
            alive=list(workers.values()),
        )
    assert (
        _objects(s3, store.bucket, f"{pipeline.tenant}/") == objects
    )  # nothing new, nothing changed
    again = read_all(pipeline.kafka, topology.issued.name, REQUESTS, seconds=5)
    assert len(again) == REQUESTS  # no second notification
