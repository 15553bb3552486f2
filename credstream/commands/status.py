"""``credstream revoke | suspend | reinstate CREDENTIAL_ID --tenant T --reason TEXT``.

Reads the stored credential to find its status entry, and produces the change to
``credential.status.v1`` keyed ``{tenant}/{list id}``; the status updater applies it and
republishes the list (within seconds). ``--wait`` then polls the published list until
the change shows. Revocation is permanent: ``reinstate`` lifts a suspension only.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from credstream.errors import InvalidInputError

if TYPE_CHECKING:
    from signers.status import StatusTarget
    from signers.storage import Boto3Store

_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_DONE = {"revoke": "revoked", "suspend": "suspended", "reinstate": "reinstated"}


def _segment(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not _SEGMENT.fullmatch(value):
        raise click.BadParameter("letters, digits, '.', '_' or '-' (an object key segment)")
    return value


def _status_command(action: str, summary: str) -> click.Command:
    @click.command(name=action, help=summary)
    @click.argument("credential_id", callback=_segment)
    @click.option("--tenant", required=True, callback=_segment, help="The issuing tenant.")
    @click.option("--reason", required=True, help="Why (kept with the change, not published).")
    @click.option(
        "--wait",
        type=click.FloatRange(min=0),
        default=0,
        show_default=True,
        help="Seconds to wait until the republished status list shows the change.",
    )
    @click.pass_context
    def command(
        ctx: click.Context, credential_id: str, tenant: str, reason: str, wait: float
    ) -> None:
        change_status(ctx, action, credential_id, tenant, reason, wait)

    return command


def change_status(
    ctx: click.Context, action: str, credential_id: str, tenant: str, reason: str, wait: float
) -> None:
    from credstream.clients import kafka_producer, s3_client
    from credstream.settings import KafkaSettings, S3Settings
    from schemas.codec import Codec
    from schemas.models import CredentialStatusChange, StatusAction
    from signers.service import credential_key
    from signers.status import status_change_key, status_target
    from signers.storage import Boto3Store

    kafka, s3 = KafkaSettings(), S3Settings()
    store = Boto3Store(s3_client(s3), s3.bucket)
    key = credential_key(tenant, credential_id)
    body = store.get(key)
    if body is None:
        raise InvalidInputError(
            f"no credential {credential_id} of tenant {tenant} (s3://{s3.bucket}/{key})"
        )
    try:
        credential = json.loads(body)
    except ValueError as error:
        raise InvalidInputError(f"s3://{s3.bucket}/{key} is not JSON ({error})") from None
    target = status_target(credential, action, tenant)
    change = CredentialStatusChange(
        credential_id=credential_id,
        tenant_id=tenant,
        action=StatusAction(action),
        reason=reason,
        requested_at=datetime.now(UTC),
    )
    with kafka_producer(kafka) as producer:
        producer.send(
            kafka.topology().status.name,
            key=status_change_key(tenant, target.location.list_id),
            value=Codec().encode(change),
        )
        producer.flush()
    purpose = target.location.purpose
    click.echo(
        f"{action} {credential_id}: requested ({purpose} bit {target.index} of {target.url})"
    )
    if action == "reinstate" and _shows(store, status_target(credential, "revoke", tenant)):
        click.echo(f"note: {credential_id} is revoked; reinstate lifts a suspension only", err=True)
    if wait <= 0:
        return
    if _wait_for(store, target, wait):
        click.echo(f"{credential_id}: {_DONE[action]} in the published {purpose} list")
        return
    click.echo(f"{credential_id}: not yet in the published {purpose} list after {wait:g} s")
    ctx.exit(1)


def _shows(store: Boto3Store, target: StatusTarget) -> bool:
    """Whether the published list holds the target bit's value (False if unreadable)."""
    from signers.status import StatusListError, read_status

    entry = {"statusPurpose": target.location.purpose, "statusListIndex": str(target.index)}
    body = store.get(target.location.key)
    try:
        return body is not None and read_status(json.loads(body), entry) == target.value
    except (ValueError, AttributeError, StatusListError):
        return False  # being replaced, or not ours


def _wait_for(store: Boto3Store, target: StatusTarget, seconds: float) -> bool:
    """Whether the published list shows the target bit's new value within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not _shows(store, target):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.25)
    return True


revoke = _status_command("revoke", "Revoke an issued credential (permanent).")
suspend = _status_command("suspend", "Suspend an issued credential (undo with reinstate).")
reinstate = _status_command(
    "reinstate", "Lift a credential's suspension (a revoked credential stays revoked)."
)
