"""KMS-sealed custody against a real KMS-compatible server over the network.

moto's standalone server (``python -m moto.server``) runs as a subprocess on a free
loopback port for this module; it implements KMS's symmetric Encrypt/Decrypt, including
the encryption context bound into the ciphertext.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import SecretStr

from signers.keys import (
    KeyCustodyError,
    KeyDecryptionError,
    KeySettings,
    KmsRequestError,
    KmsSealedKey,
    KmsUnavailableError,
    RetryPolicy,
    did_document,
    generate_key,
    kms_client,
    load_signing_key,
    open_key,
    read_keyring,
    resolve_verification_method,
    rotate_key,
)
from signers.keys._kms import SealedKeyFile

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def kms_endpoint() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture()
def settings(kms_endpoint: str, tmp_path: Path) -> KeySettings:
    base = KeySettings(
        keyring_dir=tmp_path,
        kms_endpoint_url=kms_endpoint,
        kms_region="us-east-1",
        kms_access_key_id="testing",
        kms_secret_access_key=SecretStr("testing"),
        kms_retry_budget_seconds=5,
    )
    sealing_key = kms_client(base).create_key(Description="credstream test sealing key")
    return base.model_copy(
        update={"kms_key_id": sealing_key["KeyMetadata"]["Arn"], "tenant": "acme"}
    )


def _sealed_file(settings: KeySettings, key_id: str) -> Path:
    return settings.keyring_dir / "acme" / f"{key_id}.key.json"


def test_sealed_key_unseals_at_start_and_signs(settings: KeySettings) -> None:
    record = generate_key(settings, "acme", now=NOW, backend="kms-sealed")

    key = load_signing_key(settings)

    assert isinstance(key, KmsSealedKey)
    assert key.key_id == record.key_id and record.kms_key_id == settings.kms_key_id
    signature = key.sign(b"credential hash")
    Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, b"credential hash")


def test_sealed_file_holds_the_kms_ciphertext_not_the_seed(settings: KeySettings) -> None:
    record = generate_key(settings, "acme", now=NOW, backend="kms-sealed")
    stored = json.loads(_sealed_file(settings, record.key_id).read_text())
    # What KMS decrypts for the right context is the seed; the file must not contain it.
    seed = kms_client(settings).decrypt(
        CiphertextBlob=base64.b64decode(stored["ciphertext"]),
        EncryptionContext={"credstream:tenant": "acme", "credstream:key-id": record.key_id},
    )["Plaintext"]

    body = _sealed_file(settings, record.key_id).read_bytes()
    assert len(seed) == 32
    assert seed not in body and seed.hex().encode() not in body
    assert base64.b64encode(seed) not in body


def _unseal(settings: KeySettings, record_key_id: str, **identity: Any) -> KmsSealedKey:
    ring = read_keyring(settings, "acme")
    record = ring.get(record_key_id)
    stored = SealedKeyFile.model_validate_json(_sealed_file(settings, record_key_id).read_bytes())
    arguments: dict[str, Any] = {
        "tenant": "acme",
        "key_id": record.key_id,
        "public_key_multibase": record.public_key_multibase,
        "kms_key_id": record.kms_key_id,
        **identity,
    }
    return KmsSealedKey.unseal(
        kms_client(settings), stored, retry=settings.retry_policy(), **arguments
    )


@pytest.mark.parametrize("identity", [{"tenant": "other"}, {"key_id": "acme-20260301-00000000"}])
def test_another_encryption_context_does_not_decrypt(
    settings: KeySettings, identity: dict[str, str]
) -> None:
    record = generate_key(settings, "acme", now=NOW, backend="kms-sealed")
    assert _unseal(settings, record.key_id).key_id == record.key_id

    with pytest.raises(KeyDecryptionError, match="InvalidCiphertextException") as raised:
        _unseal(settings, record.key_id, **identity)
    assert "sealed file does not belong" in str(raised.value)


def test_another_kms_key_does_not_decrypt(settings: KeySettings) -> None:
    record = generate_key(settings, "acme", now=NOW, backend="kms-sealed")
    other = kms_client(settings).create_key()["KeyMetadata"]["Arn"]

    # AWS answers IncorrectKeyException (a KeyDecryptionError, unit-tested); moto answers
    # AccessDeniedException. Either way the key does not open, with a typed error.
    with pytest.raises(KeyCustodyError, match=f"{record.key_id}: KMS Decrypt"):
        _unseal(settings, record.key_id, kms_key_id=other)


def test_a_missing_sealing_key_is_refused_at_once(settings: KeySettings) -> None:
    missing = settings.model_copy(
        update={"kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/no-such-key"}
    )
    started = time.monotonic()

    with pytest.raises(KmsRequestError, match="NotFoundException"):
        generate_key(missing, "acme", now=NOW, backend="kms-sealed")
    assert time.monotonic() - started < 2  # not retried: retrying cannot help


def test_rotation_reseals_under_the_same_kms_key_and_old_credentials_verify(
    settings: KeySettings,
) -> None:
    did = "did:web:badges.acme.edu"
    first = generate_key(settings, "acme", now=NOW, backend="kms-sealed", did=did)
    old = load_signing_key(settings)
    signature = old.sign(b"issued before rotation")

    new, _ = rotate_key(settings, "acme", now=datetime(2026, 4, 1, tzinfo=UTC))

    assert new.backend == "kms-sealed" and new.kms_key_id == first.kms_key_id
    assert load_signing_key(settings).key_id == new.key_id
    document = did_document(read_keyring(settings, "acme"))
    public = resolve_verification_method(document, old.verification_method(did))
    Ed25519PublicKey.from_public_bytes(public).verify(signature, b"issued before rotation")


def test_unreachable_kms_is_retried_then_a_typed_error(
    settings: KeySettings,
) -> None:
    generate_key(settings, "acme", now=NOW, backend="kms-sealed")
    down = settings.model_copy(update={"kms_endpoint_url": f"http://127.0.0.1:{_free_port()}"})
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    retry = RetryPolicy(
        budget_seconds=1.5, base_delay=0.05, max_delay=0.4, sleep=sleep, jitter=lambda: 1.0
    )
    started = time.monotonic()
    with pytest.raises(KmsUnavailableError, match="unreachable: EndpointConnectionError") as raised:
        open_key(down, "acme", retry=retry)
    elapsed = time.monotonic() - started

    assert sleeps[:4] == pytest.approx([0.05, 0.1, 0.2, 0.4])  # backoff grows to its cap
    assert 1.0 < elapsed < 1.5 + 0.5  # used the budget, did not overrun it
    assert "retry budget 1.5 s" in str(raised.value)
