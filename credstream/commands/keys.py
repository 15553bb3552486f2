"""``credstream keys``: a tenant's Ed25519 signing keys and its did:web document."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from signers.keys import Backend, KeySettings

BACKEND_CHOICE = click.Choice(["local", "kms-sealed", "kms-remote"])
tenant_option = click.option("--tenant", required=True, help="Tenant whose keys these are.")
keyring_option = click.option(
    "--keyring-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Key ring directory [default: $CREDSTREAM_KEYS_KEYRING_DIR or .credstream/keys].",
)


def _settings(keyring_dir: Path | None) -> KeySettings:
    from signers.keys import KeySettings

    settings = KeySettings()
    return settings.model_copy(update={"keyring_dir": keyring_dir}) if keyring_dir else settings


@click.group()
def keys() -> None:
    """Generate, list, rotate and publish tenants' signing keys.

    Secrets come from the environment only: CREDSTREAM_KEYS_PASSPHRASE (local key files),
    AWS credentials or CREDSTREAM_KEYS_KMS_* (KMS backends).
    """


@keys.command()
@tenant_option
@click.option(
    "--backend",
    type=BACKEND_CHOICE,
    default=None,
    help="[default: $CREDSTREAM_KEYS_BACKEND or local]",
)
@click.option(
    "--kms-key-id",
    default=None,
    help="kms-sealed: the sealing KMS key; kms-remote: an Ed25519 KMS key to adopt "
    "(default: create one).",
)
@click.option(
    "--did", default=None, help="The tenant's did:web DID, e.g. did:web:badges.example.edu"
)
@keyring_option
def generate(
    tenant: str,
    backend: Backend | None,
    kms_key_id: str | None,
    did: str | None,
    keyring_dir: Path | None,
) -> None:
    """Create the tenant's first key."""
    from signers.keys import generate_key

    record = generate_key(
        _settings(keyring_dir),
        tenant,
        now=datetime.now(UTC),
        backend=backend,
        kms_key_id=kms_key_id,
        did=did,
    )
    click.echo(f"generated {record.key_id} ({record.backend}) {record.public_key_multibase}")


@keys.command(name="list")
@tenant_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table.")
@keyring_option
def list_(tenant: str, as_json: bool, keyring_dir: Path | None) -> None:
    """Key ids, status, creation date, backend and public key (never a secret)."""
    from signers.keys import read_keyring

    ring = read_keyring(_settings(keyring_dir), tenant)
    if as_json:
        click.echo(json.dumps(ring.model_dump(mode="json"), indent=2))
        return
    if not ring.keys:
        click.echo(f"tenant {tenant} has no keys")
        return
    for record in ring.keys:
        created = record.created.isoformat(timespec="seconds")
        click.echo(
            f"{record.key_id}\t{record.status}\t{created}\t{record.backend}\t"
            f"{record.public_key_multibase}"
        )


@keys.command()
@tenant_option
@click.option("--backend", type=BACKEND_CHOICE, default=None, help="[default: the current key's]")
@click.option("--kms-key-id", default=None, help="As for generate.")
@keyring_option
def rotate(
    tenant: str, backend: Backend | None, kms_key_id: str | None, keyring_dir: Path | None
) -> None:
    """Make a new active key; the old one is retired but still verifies."""
    from signers.keys import rotate_key

    new, retired = rotate_key(
        _settings(keyring_dir),
        tenant,
        now=datetime.now(UTC),
        backend=backend,
        kms_key_id=kms_key_id,
    )
    click.echo(f"active {new.key_id} ({new.backend}); retired {retired.key_id}")
    click.echo("publish the new DID document: credstream keys publish --tenant " + tenant)


@keys.command()
@tenant_option
@click.option("--did", default=None, help="Set the tenant's did:web DID (remembered).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write did.json here.",
)
@click.option("--s3", "to_s3", is_flag=True, help="Put it in the object store (CREDSTREAM_S3_*).")
@keyring_option
def publish(
    tenant: str, did: str | None, out: Path | None, to_s3: bool, keyring_dir: Path | None
) -> None:
    """Write the tenant's did:web document (to stdout unless --out or --s3)."""
    from signers.keys import did_document, put_did_document, read_keyring, set_did

    settings = _settings(keyring_dir)
    ring = set_did(settings, tenant, did) if did else read_keyring(settings, tenant)
    document = did_document(ring)
    text = json.dumps(document, indent=2) + "\n"
    if out:
        out.write_text(text)
        click.echo(f"wrote {out}", err=True)
    if to_s3:
        from credstream.clients import s3_client
        from credstream.settings import S3Settings

        store = S3Settings()
        key = put_did_document(s3_client(store), store.bucket, tenant, document)
        click.echo(f"stored s3://{store.bucket}/{key}", err=True)
    if not out and not to_s3:
        click.echo(text, nl=False)
