"""Write-once objects in an S3-compatible store.

Every write is ``PutObject`` with ``If-None-Match: *``. A 412 whose stored bytes hash
the same is success (a retry or a replay); a 412 with other bytes is a conflict, never an
overwrite. Transient failures (connection errors, 5xx, throttling) retry with backoff;
when the budget runs out the caller gets :class:`StoreUnavailableError` and must pause,
not skip.
"""

from __future__ import annotations

import enum
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from xml.etree import ElementTree

from credstream.errors import StorageError
from signers.storage._http import PipelinedClient, Request, Response
from signers.storage._sigv4 import EMPTY_SHA256, SigV4Signer, object_path

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class StoreUnavailableError(StorageError):
    """The store did not accept writes within the retry budget; pause and try again."""


class StoreRejectedError(StorageError):
    """The store refused a request for a reason retrying will not fix (auth, bad request)."""


class Outcome(enum.Enum):
    CREATED = "created"
    IDENTICAL = "identical"  # already stored with the same bytes: a retry or replay
    CONFLICT = "conflict"  # already stored with OTHER bytes: an integrity alarm


@dataclass(frozen=True, slots=True)
class ObjectWrite:
    key: str
    body: bytes
    content_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class PutResult:
    key: str
    outcome: Outcome
    sha256: str


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object's bytes with the ETag and user metadata they were read with."""

    body: bytes
    etag: str
    metadata: dict[str, str]


class WriteOnceStore(Protocol):
    """Where credentials, manifests and baked badges are written, once each."""

    def put_new(self, writes: Sequence[ObjectWrite]) -> list[PutResult]: ...

    def get(self, key: str) -> bytes | None: ...

    def close(self) -> None: ...


class ReplaceableStore(WriteOnceStore, Protocol):
    """Also objects that change in place at a stable URL (status lists), one writer at a
    time: a replacement names the ETag it read (``If-Match``) and fails if another
    writer got there first."""

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    def get_object(self, key: str) -> StoredObject | None: ...

    def put_if_match(
        self, write: ObjectWrite, etag: str | None, metadata: dict[str, str] | None = None
    ) -> str | None: ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    first_delay: float = 0.05
    max_delay: float = 2.0

    def delays(self) -> list[float]:
        return [min(self.first_delay * 2**i, self.max_delay) for i in range(self.attempts - 1)]


def _error_code(response: Response) -> str:
    try:
        code = ElementTree.fromstring(response.body).findtext("Code")  # noqa: S314 (our store)
    except ElementTree.ParseError:
        code = None
    return code or f"HTTP {response.status}"


_META = "x-amz-meta-"


def _transient(status: int) -> bool:
    return status >= 500 or status in (408, 429)


class PipelinedS3Store:
    """Conditional writes through SigV4-signed requests pipelined over pooled connections.

    Not thread-safe: one per worker thread.
    """

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        *,
        access_key_id: str,
        secret_access_key: str,
        region: str = "us-east-1",
        connections: int = 4,
        depth: int = 64,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = PipelinedClient(endpoint, connections=connections, depth=depth)
        self._signer = SigV4Signer(access_key_id, secret_access_key, region)
        self._bucket = bucket
        self._retry = retry or RetryPolicy()
        self._sleep = sleep

    def close(self) -> None:
        self._client.close()

    def _request(
        self,
        method: str,
        key: str,
        body: bytes,
        content_type: str | None,
        condition: dict[str, str] | None = None,
    ) -> Request:
        """``condition``: the precondition headers of a PUT (default If-None-Match: *)."""
        path = object_path(self._bucket, key)
        if method == "PUT":
            digest = hashlib.sha256(body).hexdigest()
            extra = {"content-type": content_type or "application/json"}
            extra.update(condition if condition is not None else {"if-none-match": "*"})
        else:
            digest, extra = EMPTY_SHA256, {}
        headers = self._signer.sign(method, path, self._client.host_header, digest, extra)
        return Request(method, path, headers, body)

    def _exchange_with_retry(self, requests: list[Request]) -> list[Response]:
        """Responses for every request; transient failures are sent again with backoff."""
        results: list[Response | None] = [None] * len(requests)
        pending = list(range(len(requests)))
        delays = self._retry.delays()
        last_problem = ""
        for attempt in range(self._retry.attempts):
            responses = self._client.exchange([requests[i] for i in pending])
            retry: list[int] = []
            for index, response in zip(pending, responses, strict=True):
                if response is None:
                    retry.append(index)
                    last_problem = "connection failed"
                elif _transient(response.status):
                    retry.append(index)
                    last_problem = _error_code(response)
                else:
                    results[index] = response
            if not retry:
                return [r for r in results if r is not None]
            pending = retry
            if attempt < len(delays):
                self._sleep(delays[attempt])
        raise StoreUnavailableError(
            f"{len(pending)} request(s) to the object store still failing after "
            f"{self._retry.attempts} attempts ({last_problem})"
        )

    def put_new(self, writes: Sequence[ObjectWrite]) -> list[PutResult]:
        requests = [self._request("PUT", w.key, w.body, w.content_type) for w in writes]
        responses = self._exchange_with_retry(requests)
        digests = [hashlib.sha256(w.body).hexdigest() for w in writes]
        outcomes: list[Outcome | None] = []
        to_check: list[int] = []
        for index, response in enumerate(responses):
            if 200 <= response.status < 300:
                outcomes.append(Outcome.CREATED)
            elif response.status == 412:
                outcomes.append(None)
                to_check.append(index)
            else:
                raise StoreRejectedError(
                    f"PUT {writes[index].key} refused: {_error_code(response)}"
                )
        if to_check:
            stored = self._get_many([writes[i].key for i in to_check])
            for index, body in zip(to_check, stored, strict=True):
                same = body is not None and hashlib.sha256(body).hexdigest() == digests[index]
                outcomes[index] = Outcome.IDENTICAL if same else Outcome.CONFLICT
        return [
            PutResult(write.key, outcome, digest)
            for write, outcome, digest in zip(writes, outcomes, digests, strict=True)
            if outcome is not None
        ]

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        responses = self._exchange_with_retry([self._request("GET", k, b"", None) for k in keys])
        bodies: list[bytes | None] = []
        for key, response in zip(keys, responses, strict=True):
            if response.status == 404:
                bodies.append(None)
            elif response.status == 200:
                bodies.append(response.body)
            else:
                raise StoreRejectedError(f"GET {key} refused: {_error_code(response)}")
        return bodies

    def get(self, key: str) -> bytes | None:
        return self._get_many([key])[0]

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Bodies of many objects in one pipelined round (None where there is none)."""
        return self._get_many(list(keys)) if keys else []

    def get_object(self, key: str) -> StoredObject | None:
        """The object with its ETag and ``x-amz-meta-*`` metadata, or None."""
        response = self._exchange_with_retry([self._request("GET", key, b"", None)])[0]
        if response.status == 404:
            return None
        if response.status != 200:
            raise StoreRejectedError(f"GET {key} refused: {_error_code(response)}")
        metadata = {
            name.removeprefix(_META): value
            for name, value in response.headers.items()
            if name.startswith(_META)
        }
        return StoredObject(response.body, response.headers.get("etag", ""), metadata)

    def put_if_match(
        self, write: ObjectWrite, etag: str | None, metadata: dict[str, str] | None = None
    ) -> str | None:
        """Replace ``write.key`` if it still has ``etag`` (None: only if it does not exist).

        Returns the new ETag, or None when the precondition failed: another writer
        changed (or created, or deleted) the object since it was read.
        """
        condition = {"if-match": etag} if etag is not None else {"if-none-match": "*"}
        condition.update({_META + name: value for name, value in (metadata or {}).items()})
        request = self._request("PUT", write.key, write.body, write.content_type, condition)
        response = self._exchange_with_retry([request])[0]
        if 200 <= response.status < 300:
            return response.headers.get("etag", "")
        if response.status in (404, 409, 412):  # 404: If-Match on a deleted object
            return None
        raise StoreRejectedError(f"PUT {write.key} refused: {_error_code(response)}")


class Boto3Store:
    """The same contract on plain boto3 ``put_object``: the baseline the benchmark compares."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def close(self) -> None:
        self._client.close()

    def put_new(self, writes: Sequence[ObjectWrite]) -> list[PutResult]:
        from botocore.exceptions import ClientError

        results = []
        for write in writes:
            digest = hashlib.sha256(write.body).hexdigest()
            try:
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=write.key,
                    Body=write.body,
                    ContentType=write.content_type,
                    IfNoneMatch="*",
                )
                outcome = Outcome.CREATED
            except ClientError as error:
                if error.response["ResponseMetadata"]["HTTPStatusCode"] != 412:
                    raise StoreRejectedError(f"PUT {write.key} refused: {error}") from error
                stored = self.get(write.key)
                same = stored is not None and hashlib.sha256(stored).hexdigest() == digest
                outcome = Outcome.IDENTICAL if same else Outcome.CONFLICT
            results.append(PutResult(write.key, outcome, digest))
        return results

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            body: bytes = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                return None
            raise StoreRejectedError(f"GET {key} refused: {error}") from error
        return body
