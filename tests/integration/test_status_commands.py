"""``credstream revoke`` and ``credstream images put`` against the real store: what they
refuse, and what they store."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from credstream.cli import cli
from credstream.commands import register
from credstream.settings import S3Settings
from signers.render import default_png, default_svg, image_key


@pytest.fixture(scope="module")
def root() -> click.Group:
    register(cli)
    return cli


def run(root: click.Group, store: S3Settings, *args: str) -> Result:
    env = {
        "CREDSTREAM_S3_ENDPOINT_URL": store.endpoint_url or "",
        "CREDSTREAM_S3_BUCKET": store.bucket,
    }
    return CliRunner().invoke(root, list(args), env=env)


def test_revoke_refuses_what_it_cannot_find_or_change(
    root: click.Group, store: S3Settings, s3
) -> None:  # type: ignore[no-untyped-def]
    tenant = f"it-{uuid.uuid4().hex[:8]}"
    missing = run(root, store, "revoke", "nope", "--tenant", tenant, "--reason", "x")
    assert missing.exit_code == 2
    assert f"no credential nope of tenant {tenant}" in missing.output

    s3.put_object(
        Bucket=store.bucket,
        Key=f"{tenant}/credentials/plain.json",
        Body=json.dumps({"id": "urn:uuid:plain", "issuer": "did:web:x"}).encode(),
    )
    plain = run(root, store, "suspend", "plain", "--tenant", tenant, "--reason", "x")
    assert plain.exit_code == 2
    assert "has no credentialStatus entries" in plain.output

    sneaky = run(root, store, "revoke", "../other/x", "--tenant", tenant, "--reason", "x")
    assert sneaky.exit_code == 2 and "object key segment" in sneaky.output


def test_images_put_checks_and_stores_artwork(
    root: click.Group, store: S3Settings, s3, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    tenant = f"it-{uuid.uuid4().hex[:8]}"
    png, svg, bad = tmp_path / "a.png", tmp_path / "a.svg", tmp_path / "bad.svg"
    png.write_bytes(default_png("urn:art"))
    svg.write_bytes(default_svg("urn:art", "Art"))
    bad.write_bytes(b"<svg><unclosed></svg>")
    for path, kind in ((png, "png"), (svg, "svg")):
        result = run(root, store, "images", "put", "da-101", str(path), "--tenant", tenant)
        assert result.exit_code == 0, result.output
        stored = s3.get_object(Bucket=store.bucket, Key=image_key(tenant, "da-101", kind))
        assert stored["Body"].read() == path.read_bytes()
        assert stored["ContentType"] == {"png": "image/png", "svg": "image/svg+xml"}[kind]
    refused = run(root, store, "images", "put", "da-101", str(bad), "--tenant", tenant)
    assert refused.exit_code == 2 and "not well-formed XML" in refused.output
