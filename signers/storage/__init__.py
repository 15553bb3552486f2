"""Write-once object storage for credentials, manifests, status lists and baked badges.

``PipelinedS3Store`` is the production path (SigV4 signed requests pipelined over pooled
keep-alive connections, about 10x less client CPU per object than boto3);
``Boto3Store`` is the same contract on plain ``put_object``, kept as the benchmark
baseline.
"""

from __future__ import annotations

from credstream.settings import S3Settings
from signers.storage._store import (
    Boto3Store,
    ObjectWrite,
    Outcome,
    PipelinedS3Store,
    PutResult,
    ReplaceableStore,
    RetryPolicy,
    StoredObject,
    StoreRejectedError,
    StoreUnavailableError,
    WriteOnceStore,
)

__all__ = [
    "Boto3Store",
    "ObjectWrite",
    "Outcome",
    "PipelinedS3Store",
    "PutResult",
    "ReplaceableStore",
    "RetryPolicy",
    "StoreRejectedError",
    "StoreUnavailableError",
    "StoredObject",
    "WriteOnceStore",
    "pipelined_store",
]


def pipelined_store(settings: S3Settings, connections: int = 4) -> PipelinedS3Store:
    if not settings.endpoint_url:
        raise StoreRejectedError("CREDSTREAM_S3_ENDPOINT_URL is required by the pipelined store")
    return PipelinedS3Store(
        endpoint=settings.endpoint_url,
        bucket=settings.bucket,
        access_key_id=settings.access_key_id,
        secret_access_key=settings.secret_access_key.get_secret_value(),
        region=settings.region,
        connections=connections,
    )
