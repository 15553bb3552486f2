"""KMS-sealed startup: throttling is retried, AWS's key-mismatch answer is a decryption error.

The happy path and the encryption context run against a real server in
tests/integration/test_kms_sealed.py; these cover KMS answers that server does not give.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from signers.keys import KeyDecryptionError, KmsSealedKey, KmsUnavailableError, RetryPolicy
from signers.keys._kms import SealedKeyFile
from signers.multikey import public_key_multibase

SEED = bytes(range(32))
PUBLIC = (
    Ed25519PrivateKey.from_private_bytes(SEED)
    .public_key()
    .public_bytes(Encoding.Raw, PublicFormat.Raw)
)
ARN = "arn:aws:kms:us-east-1:111122223333:key/sealing"
STORED = SealedKeyFile(
    tenant="acme",
    key_id="acme-20260301-0a1b2c3d",
    public_key_multibase=public_key_multibase(PUBLIC),
    kms_key_id=ARN,
    ciphertext="Y2lwaGVydGV4dA==",
)
DECRYPT_REQUEST = {
    "CiphertextBlob": b"ciphertext",
    "KeyId": ARN,
    "EncryptionContext": {
        "credstream:tenant": "acme",
        "credstream:key-id": "acme-20260301-0a1b2c3d",
    },
    "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
}


@pytest.fixture()
def kms() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "kms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _unseal(client: Any, retry: RetryPolicy) -> KmsSealedKey:
    return KmsSealedKey.unseal(
        client,
        STORED,
        tenant="acme",
        key_id=STORED.key_id,
        public_key_multibase=STORED.public_key_multibase,
        kms_key_id=ARN,
        retry=retry,
    )


def _retry(sleeps: list[float], budget: float = 10.0) -> RetryPolicy:
    clock = [0.0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    return RetryPolicy(
        budget_seconds=budget,
        base_delay=0.5,
        max_delay=4.0,
        clock=lambda: clock[0],
        sleep=sleep,
        jitter=lambda: 0.0,  # the lower end: delays are base * 2**n / 2
    )


def test_startup_retries_throttling_and_transient_kms_errors(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    stubber.add_client_error("decrypt", "ThrottlingException", expected_params=DECRYPT_REQUEST)
    stubber.add_client_error("decrypt", "KMSInternalException", http_status_code=500)
    stubber.add_client_error("decrypt", "DependencyTimeoutException", http_status_code=503)
    stubber.add_response("decrypt", {"KeyId": ARN, "Plaintext": SEED}, DECRYPT_REQUEST)
    sleeps: list[float] = []

    key = _unseal(client, _retry(sleeps))

    assert key.public_key == PUBLIC
    assert sleeps == [0.25, 0.5, 1.0]


def test_startup_gives_up_after_its_budget(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    for _ in range(4):
        stubber.add_client_error("decrypt", "ThrottlingException")
    sleeps: list[float] = []

    with pytest.raises(KmsUnavailableError, match=r"ThrottlingException.*after 4 attempts"):
        _unseal(client, _retry(sleeps, budget=2.0))
    assert sleeps == [0.25, 0.5, 1.0]  # 1.75 s; a 2 s wait more would pass the budget


@pytest.mark.parametrize("code", ["IncorrectKeyException", "InvalidCiphertextException"])
def test_a_ciphertext_that_kms_will_not_open_is_a_decryption_error(
    kms: tuple[Any, Stubber], code: str
) -> None:
    client, stubber = kms
    stubber.add_client_error("decrypt", code)

    with pytest.raises(KeyDecryptionError, match=code):
        _unseal(client, _retry([]))


def test_a_sealed_seed_of_another_key_is_refused(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    stubber.add_response("decrypt", {"KeyId": ARN, "Plaintext": bytes(32)})

    with pytest.raises(KeyDecryptionError, match="holds a different key"):
        _unseal(client, _retry([]))
