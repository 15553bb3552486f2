"""The replaceable-object methods of the pipelined store against the real local store:
If-Match replacements (what status lists need), ETags, user metadata, batched reads."""

from __future__ import annotations

import uuid

from credstream.settings import S3Settings
from signers.storage import ObjectWrite, Outcome, pipelined_store


def test_if_match_replaces_only_the_version_that_was_read(store: S3Settings) -> None:
    s3 = pipelined_store(store)
    key = f"it-store/{uuid.uuid4().hex}/list.json"
    try:
        assert s3.get_object(key) is None
        first = s3.put_if_match(ObjectWrite(key, b"one"), None, {"credstream-applied": "t/0/5"})
        assert first
        assert s3.put_if_match(ObjectWrite(key, b"other"), None) is None  # exists already
        read = s3.get_object(key)
        assert read is not None
        assert (read.body, read.etag, read.metadata) == (
            b"one",
            first,
            {"credstream-applied": "t/0/5"},
        )

        assert s3.put_if_match(ObjectWrite(key, b"stale"), '"0123456789abcdef"') is None
        second = s3.put_if_match(
            ObjectWrite(key, b"two"), read.etag, {"credstream-applied": "t/0/9"}
        )
        assert second and second != first
        assert s3.put_if_match(ObjectWrite(key, b"late"), read.etag) is None  # lost the race
        now = s3.get_object(key)
        assert now is not None and (now.body, now.metadata["credstream-applied"]) == (
            b"two",
            "t/0/9",
        )
        assert s3.put_if_match(ObjectWrite(key + ".gone", b"x"), read.etag) is None  # no object
    finally:
        s3.close()


def test_get_many_and_put_new_are_unchanged_by_the_additions(store: S3Settings) -> None:
    s3 = pipelined_store(store)
    prefix = f"it-store/{uuid.uuid4().hex}"
    try:
        results = s3.put_new([ObjectWrite(f"{prefix}/{i}", bytes([i])) for i in range(5)])
        assert [r.outcome for r in results] == [Outcome.CREATED] * 5
        again = s3.put_new([ObjectWrite(f"{prefix}/0", b"\x00"), ObjectWrite(f"{prefix}/1", b"x")])
        assert [r.outcome for r in again] == [Outcome.IDENTICAL, Outcome.CONFLICT]
        keys = [f"{prefix}/{i}" for i in (4, 9, 0)]
        assert s3.get_many(keys) == [b"\x04", None, b"\x00"]
        assert s3.get_many([]) == []
    finally:
        s3.close()
