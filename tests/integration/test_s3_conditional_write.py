"""The store honours PutObject with If-None-Match: * (the exactly-once design needs it)."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from credstream.settings import S3Settings


def test_second_conditional_put_answers_412_and_keeps_the_object(s3, store: S3Settings) -> None:  # type: ignore[no-untyped-def]
    key = f"test/{uuid.uuid4()}.json"
    first = s3.put_object(Bucket=store.bucket, Key=key, Body=b'{"v": 1}', IfNoneMatch="*")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 200

    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=store.bucket, Key=key, Body=b'{"v": 2}', IfNoneMatch="*")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412

    stored = s3.get_object(Bucket=store.bucket, Key=key)
    assert stored["Body"].read() == b'{"v": 1}'
    assert stored["ETag"] == first["ETag"]
