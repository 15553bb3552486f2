"""KMS-remote custody: the exact Sign request, throttling, errors and the rate limit.

No local server signs with Ed25519, so these use botocore's Stubber on a real boto3 KMS
client: every request is checked against botocore's KMS service model and against the
exact parameters expected; responses are made with a local Ed25519 key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credstream.errors import ConfigurationError, SigningError
from signers.keys import (
    KeyCustodyError,
    KeySettings,
    KmsRemoteKey,
    KmsRequestError,
    KmsUnavailableError,
    RetryPolicy,
    TokenBucket,
    generate_key,
    open_key,
)
from signers.multikey import public_key_multibase

ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = PRIVATE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
SPKI = PRIVATE.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
MESSAGE = bytes(range(64))  # an eddsa-rdfc-2022 proof hash || document hash is 64 bytes


class FakeTime:
    """A clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture()
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture()
def retry(time_: FakeTime) -> RetryPolicy:
    return RetryPolicy(
        budget_seconds=5.0,
        base_delay=0.1,
        max_delay=1.0,
        clock=time_.clock,
        sleep=time_.sleep,
        jitter=lambda: 1.0,  # the upper end: delays are base * 2**n exactly
    )


@pytest.fixture()
def kms() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "kms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _public_key_response(**overrides: object) -> dict[str, object]:
    return {
        "KeyId": ARN,
        "PublicKey": SPKI,
        "KeySpec": "ECC_NIST_EDWARDS25519",
        "KeyUsage": "SIGN_VERIFY",
        "SigningAlgorithms": ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
        **overrides,
    }


SIGN_REQUEST = {
    "KeyId": ARN,
    "Message": MESSAGE,
    "MessageType": "RAW",
    "SigningAlgorithm": "ED25519_SHA_512",
}


def _sign_response(signature: bytes | None = None) -> dict[str, object]:
    return {
        "KeyId": ARN,
        "Signature": signature if signature is not None else PRIVATE.sign(MESSAGE),
        "SigningAlgorithm": "ED25519_SHA_512",
    }


def _open(kms: tuple[Any, Stubber], retry: RetryPolicy, limiter: TokenBucket) -> KmsRemoteKey:
    client, stubber = kms
    stubber.add_response("get_public_key", _public_key_response(), {"KeyId": ARN})
    return KmsRemoteKey.open(
        client,
        ARN,
        "acme-20260301-abcd0123",
        public_key_multibase=public_key_multibase(PUBLIC),
        limiter=limiter,
        retry=retry,
    )


@pytest.fixture()
def fast_limiter(time_: FakeTime) -> TokenBucket:
    return TokenBucket(1000.0, burst=1000, clock=time_.clock, sleep=time_.sleep)


def test_sign_sends_pure_ed25519_over_the_raw_message(
    kms: tuple[Any, Stubber], retry: RetryPolicy, fast_limiter: TokenBucket
) -> None:
    key = _open(kms, retry, fast_limiter)
    kms[1].add_response("sign", _sign_response(), SIGN_REQUEST)

    signature = key.sign(MESSAGE)

    PRIVATE.public_key().verify(signature, MESSAGE)
    assert key.public_key == PUBLIC
    assert repr(key) == "KmsRemoteKey(key_id='acme-20260301-abcd0123')"


def test_throttling_is_retried_with_growing_backoff(
    kms: tuple[Any, Stubber], retry: RetryPolicy, fast_limiter: TokenBucket, time_: FakeTime
) -> None:
    key = _open(kms, retry, fast_limiter)
    for _ in range(3):
        kms[1].add_client_error(
            "sign", "ThrottlingException", "Rate exceeded", 400, expected_params=SIGN_REQUEST
        )
    kms[1].add_response("sign", _sign_response(), SIGN_REQUEST)

    signature = key.sign(MESSAGE)

    PRIVATE.public_key().verify(signature, MESSAGE)
    assert time_.sleeps == pytest.approx([0.1, 0.2, 0.4])


def test_throttling_past_the_budget_is_a_typed_error(
    kms: tuple[Any, Stubber], retry: RetryPolicy, fast_limiter: TokenBucket, time_: FakeTime
) -> None:
    key = _open(kms, retry, fast_limiter)
    # 0.1+0.2+0.4+0.8+1+1+1 = 4.5 s of backoff; the 8th wait would pass the 5 s budget.
    for _ in range(8):
        kms[1].add_client_error("sign", "ThrottlingException", "Rate exceeded", 400)

    with pytest.raises(KmsUnavailableError, match=r"ThrottlingException.*after 8 attempts"):
        key.sign(MESSAGE)
    assert len(time_.sleeps) == 7 and time_.now <= 5.0


@pytest.mark.parametrize(
    "code", ["AccessDeniedException", "DisabledException", "KMSInvalidStateException"]
)
def test_other_kms_errors_fail_at_once(
    kms: tuple[Any, Stubber],
    retry: RetryPolicy,
    fast_limiter: TokenBucket,
    time_: FakeTime,
    code: str,
) -> None:
    key = _open(kms, retry, fast_limiter)
    kms[1].add_client_error("sign", code, "no", 400, expected_params=SIGN_REQUEST)

    with pytest.raises(KmsRequestError, match=code) as raised:
        key.sign(MESSAGE)
    assert raised.value.code == code
    assert time_.sleeps == []


def test_a_signature_that_does_not_verify_is_refused(
    kms: tuple[Any, Stubber], retry: RetryPolicy, fast_limiter: TokenBucket
) -> None:
    key = _open(kms, retry, fast_limiter)
    other = Ed25519PrivateKey.from_private_bytes(bytes(32)).sign(MESSAGE)
    kms[1].add_response("sign", _sign_response(other), SIGN_REQUEST)

    with pytest.raises(SigningError, match="does not verify"):
        key.sign(MESSAGE)


def test_messages_over_the_kms_raw_limit_are_refused_before_any_request(
    kms: tuple[Any, Stubber], retry: RetryPolicy, fast_limiter: TokenBucket
) -> None:
    key = _open(kms, retry, fast_limiter)
    with pytest.raises(SigningError, match="at most 4096 bytes"):
        key.sign(bytes(4097))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"KeySpec": "ECC_NIST_P256"}, "not an ECC_NIST_EDWARDS25519"),
        ({"KeyUsage": "ENCRYPT_DECRYPT"}, "not an ECC_NIST_EDWARDS25519"),
        ({"SigningAlgorithms": ["ED25519_PH_SHA_512"]}, "does not offer ED25519_SHA_512"),
        ({"PublicKey": b"not der"}, "unreadable"),
    ],
)
def test_only_an_ed25519_signing_key_is_accepted(
    kms: tuple[Any, Stubber],
    retry: RetryPolicy,
    fast_limiter: TokenBucket,
    overrides: dict[str, object],
    reason: str,
) -> None:
    client, stubber = kms
    stubber.add_response("get_public_key", _public_key_response(**overrides), {"KeyId": ARN})
    with pytest.raises(KeyCustodyError, match=reason):
        KmsRemoteKey.open(
            client,
            ARN,
            "k",
            public_key_multibase=public_key_multibase(PUBLIC),
            limiter=fast_limiter,
            retry=retry,
        )


def test_a_kms_key_with_another_public_key_than_recorded_is_refused(
    kms: tuple[Any, Stubber], retry: RetryPolicy, fast_limiter: TokenBucket
) -> None:
    client, stubber = kms
    stubber.add_response("get_public_key", _public_key_response(), {"KeyId": ARN})
    with pytest.raises(KeyCustodyError, match="different public key"):
        KmsRemoteKey.open(
            client,
            ARN,
            "k",
            public_key_multibase=public_key_multibase(bytes(32)),
            limiter=fast_limiter,
            retry=retry,
        )


def test_rate_limit_spaces_requests_to_the_configured_rate(
    kms: tuple[Any, Stubber], retry: RetryPolicy, time_: FakeTime
) -> None:
    limiter = TokenBucket(300.0, clock=time_.clock, sleep=time_.sleep)
    key = _open(kms, retry, limiter)
    sent_at: list[float] = []
    client = kms[0]
    client.meta.events.register(
        "before-parameter-build.kms.Sign", lambda **_: sent_at.append(time_.now)
    )
    for _ in range(31):
        kms[1].add_response("sign", _sign_response(), SIGN_REQUEST)

    for _ in range(31):
        key.sign(MESSAGE)

    assert time_.now == pytest.approx(30 / 300)
    gaps = [b - a for a, b in pairwise(sent_at)]
    assert gaps == pytest.approx([1 / 300] * 30)


def test_throttled_attempts_take_tokens_too(
    kms: tuple[Any, Stubber], retry: RetryPolicy, time_: FakeTime
) -> None:
    limiter = TokenBucket(2.0, clock=time_.clock, sleep=time_.sleep)
    key = _open(kms, retry, limiter)
    kms[1].add_client_error("sign", "ThrottlingException", "Rate exceeded", 400)
    kms[1].add_response("sign", _sign_response(), SIGN_REQUEST)

    key.sign(MESSAGE)

    # 0.1 s backoff, then the second attempt waits for its token (0.5 s after the first).
    assert time_.sleeps == pytest.approx([0.1, 0.4])


def test_token_bucket_allows_a_burst_then_the_rate(time_: FakeTime) -> None:
    bucket = TokenBucket(10.0, burst=5, clock=time_.clock, sleep=time_.sleep)

    waits = [bucket.acquire() for _ in range(8)]

    assert waits[:5] == [0.0] * 5
    assert waits[5:] == pytest.approx([0.1, 0.1, 0.1])
    time_.now += 10  # idle: the bucket refills to its burst, not beyond
    assert [bucket.acquire() for _ in range(6)][-1] == pytest.approx(0.1)


def test_token_bucket_rejects_a_nonpositive_rate() -> None:
    with pytest.raises(ConfigurationError):
        TokenBucket(0)


def test_generate_creates_an_ed25519_kms_key_and_records_no_secret(
    tmp_path: Path, kms: tuple[Any, Stubber], retry: RetryPolicy, fast_limiter: TokenBucket
) -> None:
    client, stubber = kms
    settings = KeySettings(keyring_dir=tmp_path)
    stubber.add_response(
        "create_key",
        {"KeyMetadata": {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "Arn": ARN}},
        {
            "KeySpec": "ECC_NIST_EDWARDS25519",
            "KeyUsage": "SIGN_VERIFY",
            "Description": "credstream credential signing key, tenant acme",
            "Tags": [{"TagKey": "credstream:tenant", "TagValue": "acme"}],
        },
    )
    stubber.add_response("get_public_key", _public_key_response(), {"KeyId": ARN})

    record = generate_key(
        settings,
        "acme",
        now=NOW,
        backend="kms-remote",
        kms=client,
        retry=retry,
    )

    assert record.backend == "kms-remote" and record.kms_key_id == ARN
    assert record.public_key_multibase == public_key_multibase(PUBLIC)
    assert [p.name for p in (tmp_path / "acme").iterdir()] == ["keyring.json"]

    stubber.add_response("get_public_key", _public_key_response(), {"KeyId": ARN})
    stubber.add_response("sign", _sign_response(), SIGN_REQUEST)
    key = open_key(settings, "acme", kms=client, retry=retry, limiter=fast_limiter)
    assert isinstance(key, KmsRemoteKey)
    PRIVATE.public_key().verify(key.sign(MESSAGE), MESSAGE)


def test_generate_adopts_a_given_kms_key(
    tmp_path: Path, kms: tuple[Any, Stubber], retry: RetryPolicy
) -> None:
    client, stubber = kms
    stubber.add_response("get_public_key", _public_key_response(), {"KeyId": "alias/acme"})

    record = generate_key(
        KeySettings(keyring_dir=tmp_path),
        "acme",
        now=NOW,
        backend="kms-remote",
        kms_key_id="alias/acme",
        kms=client,
        retry=retry,
    )

    assert record.kms_key_id == "alias/acme"
