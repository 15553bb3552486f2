"""Scenario 11: the tenant's signing key is rotated mid-run.

While credentials are being issued (half the events sent) the key is rotated
(``rotate_key``: the old key is retired, not deleted), the DID document is republished
to the store, and the signers are rolled (a new one starts with the new key, then the
old one stops); then the other half of the events arrives. Every credential and batch
manifest, from either key, must verify against the published ``did.json`` alone, and
both keys must have signed.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from credstream.clients import s3_client
from credstream.e2e import expected_awards
from credstream.pipeline import LocalPipeline
from credstream.settings import KafkaSettings, S3Settings
from signers.keys import (
    did_document,
    did_document_object_key,
    put_did_document,
    read_keyring,
    resolve_verification_method,
    rotate_key,
)
from signers.proofs import JcsCanonicalizer, verify_proof
from tests.integration.workers import new_pipeline, produce_events
from tests.system._harness import (
    Crew,
    audit,
    fetch,
    list_keys,
    sized,
    topic_end,
    wait,
    wait_drained,
    workload_events,
)
from tests.system.conftest import Recorder


def _publish_did(pipeline: LocalPipeline) -> None:
    document = did_document(
        read_keyring(pipeline.keys, pipeline.tenant), pipeline.catalog.issuer.id
    )
    put_did_document(s3_client(pipeline.store), pipeline.store.bucket, pipeline.tenant, document)


def _published_keys(pipeline: LocalPipeline) -> dict[str, bytes]:
    """Verification method -> public key, from the did.json in the store (nothing else)."""
    did = pipeline.catalog.issuer.id
    key = did_document_object_key(pipeline.tenant, did)
    document: dict[str, Any] = json.loads(fetch(pipeline, [key])[key])
    methods = [m["id"] if m["id"].startswith("did:") else did + m["id"]
               for m in document["verificationMethod"]]  # fmt: skip
    return {m: resolve_verification_method(document, m) for m in methods}


def test_credentials_from_both_keys_verify_against_the_published_did(
    kafka: KafkaSettings, store: S3Settings, tmp_path: Path, scenario: Recorder
) -> None:
    pipeline = new_pipeline(kafka, store, tmp_path)
    events = workload_events(pipeline, mixed=sized(500, 10_000), burst=sized(1200, 20_000))
    expected = expected_awards(pipeline, events)
    first, second = events[: len(events) // 2], events[len(events) // 2 :]
    before = len(expected_awards(pipeline, first))
    produce_events(pipeline, first)
    _publish_did(pipeline)
    issued = pipeline.topology.issued.name
    with Crew(pipeline, CREDSTREAM_SIGNER_PROCESSES="1") as crew:
        crew.start("processor")
        old = crew.start("signer")
        wait(lambda: topic_end(pipeline, issued) >= before // 2, 600, "issuance", crew)
        new_key, retired = rotate_key(pipeline.keys, pipeline.tenant, now=datetime.now(UTC))
        _publish_did(pipeline)
        crew.start("signer")  # the new key, from the key ring: a rolling restart
        rotated_at = topic_end(pipeline, issued)
        time.sleep(5)
        crew.stop(old)
        produce_events(pipeline, second)  # issued after the rotation
        wait_drained(pipeline, crew, sized(300, 1200))
    keys = _published_keys(pipeline)
    result = audit(pipeline, expected, keys=keys)
    manifests = fetch(pipeline, list_keys(pipeline, f"{pipeline.tenant}/manifests/"))
    manifest_failures = 0
    for body in manifests.values():
        manifest = json.loads(body)
        public = keys.get(manifest["proof"]["verificationMethod"])
        ok = public is not None and verify_proof(manifest, public, JcsCanonicalizer()).verified
        manifest_failures += not ok
    scenario(
        11,
        "key rotation mid-run, verified against the published did.json",
        events=len(events),
        issued_before_rotation=rotated_at,
        published_methods=len(keys),
        old_key_credentials=result.keys_used.get(retired.key_id, 0),
        new_key_credentials=result.keys_used.get(new_key.key_id, 0),
        manifests_verified=len(manifests) - manifest_failures,
        **result.figures(),
    )
    assert result.exact, result.explain()
    assert result.keys_used.get(retired.key_id, 0) > 0
    assert result.keys_used.get(new_key.key_id, 0) > 0
    assert manifest_failures == 0
