"""``credstream keys publish --s3`` writes the DID document to the real object store."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from credstream.cli import cli
from credstream.commands import register
from credstream.settings import S3Settings
from signers.keys import did_document_object_key, resolve_verification_method


def test_publish_puts_did_json_under_the_tenant_prefix_and_rotation_updates_it(
    store: S3Settings, s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(cli)
    tenant = f"t{uuid.uuid4().hex[:10]}"
    did = f"did:web:example.com:{tenant}"
    monkeypatch.setenv("CREDSTREAM_KEYS_KEYRING_DIR", str(tmp_path))
    monkeypatch.setenv("CREDSTREAM_KEYS_PASSPHRASE", "integration passphrase")
    monkeypatch.setenv("CREDSTREAM_S3_ENDPOINT_URL", str(store.endpoint_url))
    monkeypatch.setenv("CREDSTREAM_S3_BUCKET", store.bucket)
    runner = CliRunner()
    key = did_document_object_key(tenant, did)

    def published() -> dict[str, Any]:
        response = s3.get_object(Bucket=store.bucket, Key=key)
        assert response["ContentType"] == "application/did+ld+json"
        return json.loads(response["Body"].read())

    first = runner.invoke(cli, ["keys", "generate", "--tenant", tenant, "--did", did])
    assert first.exit_code == 0, first.output
    result = runner.invoke(cli, ["keys", "publish", "--tenant", tenant, "--s3"])
    assert result.exit_code == 0, result.output
    assert f"stored s3://{store.bucket}/{tenant}/{tenant}/did.json" in result.stderr
    old_vm = published()["assertionMethod"][0]

    assert runner.invoke(cli, ["keys", "rotate", "--tenant", tenant]).exit_code == 0
    assert runner.invoke(cli, ["keys", "publish", "--tenant", tenant, "--s3"]).exit_code == 0

    document = published()
    assert document["id"] == did
    assert len(document["assertionMethod"]) == 2 and document["assertionMethod"][0] == old_vm
    assert len(resolve_verification_method(document, old_vm)) == 32
