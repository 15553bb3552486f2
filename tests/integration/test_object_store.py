"""Write-once semantics of both store implementations against the real S3 store."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest

from credstream.clients import delete_objects, s3_client
from credstream.settings import S3Settings
from signers.storage import (
    Boto3Store,
    ObjectWrite,
    Outcome,
    PipelinedS3Store,
    RetryPolicy,
    StoreUnavailableError,
    WriteOnceStore,
    pipelined_store,
)


@pytest.fixture(params=["pipelined", "boto3"])
def write_once(request: pytest.FixtureRequest, store: S3Settings) -> Iterator[WriteOnceStore]:
    if request.param == "pipelined":
        pipelined = pipelined_store(store, connections=2)
        yield pipelined
        pipelined.close()
    else:
        yield Boto3Store(s3_client(store), store.bucket)


def test_create_then_identical_replay_then_conflict(write_once: WriteOnceStore) -> None:
    prefix = f"test/store/{uuid.uuid4()}"
    writes = [
        ObjectWrite(f"{prefix}/{i}.json", f'{{"n": {i}, "é": "✓"}}'.encode()) for i in range(300)
    ]
    first = write_once.put_new(writes)
    assert [r.outcome for r in first] == [Outcome.CREATED] * 300
    assert [r.key for r in first] == [w.key for w in writes]

    replay = write_once.put_new(writes[:50])
    assert [r.outcome for r in replay] == [Outcome.IDENTICAL] * 50

    forged = ObjectWrite(writes[7].key, b'{"n": 999}')
    [conflict] = write_once.put_new([forged])
    assert conflict.outcome is Outcome.CONFLICT
    assert write_once.get(writes[7].key) == writes[7].body  # never overwritten
    assert write_once.get(f"{prefix}/missing.json") is None


def test_unreachable_store_raises_after_the_retry_budget() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    slept: list[float] = []
    dead = PipelinedS3Store(
        f"http://127.0.0.1:{port}", "credentials", access_key_id="k", secret_access_key="s",
        retry=RetryPolicy(attempts=4, first_delay=0.1), sleep=slept.append,
    )  # fmt: skip
    with pytest.raises(StoreUnavailableError, match="after 4 attempts"):
        dead.put_new([ObjectWrite("x.json", b"{}")])
    assert slept == [0.1, 0.2, 0.4]


def test_delete_objects_removes_the_prefix_and_nothing_else(s3, store: S3Settings) -> None:  # type: ignore[no-untyped-def]
    run = f"run-{uuid.uuid4().hex[:8]}/"
    ours = [f"{run}credentials/{i}.json" for i in range(1001)]  # more than a page
    other = f"{run[:-1]}x/credentials/0.json"  # shares the text, not the prefix
    for key in [*ours, other]:
        s3.put_object(Bucket=store.bucket, Key=key, Body=b"{}")
    assert delete_objects(store, run) == len(ours)
    left = s3.list_objects_v2(Bucket=store.bucket, Prefix=run[:-1]).get("Contents", [])
    assert [item["Key"] for item in left] == [other]
    assert delete_objects(store, other) == 1
    with pytest.raises(ValueError, match="a prefix is needed"):
        delete_objects(store, "")
