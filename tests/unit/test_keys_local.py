"""Local file custody: encrypted at rest, opens only with the passphrase, never shows keys."""

from __future__ import annotations

import base64
import json
import pickle
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import SecretStr

from credstream.errors import ConfigurationError, InvalidInputError
from signers.keys import (
    KeyCustodyError,
    KeyDecryptionError,
    KeySettings,
    LocalFileKey,
    generate_key,
    load_signing_key,
    open_key,
    read_keyring,
    rotate_key,
)
from signers.keys._local import seal_with_passphrase
from signers.multikey import b58encode, multibase_encode, public_key_multibase

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PASSPHRASE = "correct horse battery staple"
SEED = bytes.fromhex("9b937b81322d816cfab9d5a3baacc9b2a5febe4b149f126b3630f93a29527017")


@pytest.fixture()
def settings(tmp_path: Path) -> KeySettings:
    return KeySettings(keyring_dir=tmp_path / "keys", passphrase=SecretStr(PASSPHRASE))


def _seed_of(key: Any) -> bytes:
    """The seed, read from inside the key (only a test may look)."""
    return bytes(key._sign._secret_key[:32])  # libsodium's secret key: seed || public key


def test_generated_key_signs_and_the_public_key_verifies(settings: KeySettings) -> None:
    record = generate_key(settings, "acme", now=NOW, did="did:web:badges.acme.edu")
    key = open_key(settings, "acme")

    signature = key.sign(b"proof hash || document hash")

    Ed25519PublicKey.from_public_bytes(key.public_key).verify(
        signature, b"proof hash || document hash"
    )
    assert isinstance(key, LocalFileKey)
    assert len(signature) == 64
    assert key.key_id == record.key_id
    assert key.key_id.startswith("acme-20260301-")
    assert key.public_key_multibase == record.public_key_multibase
    assert key.verification_method("did:web:badges.acme.edu") == (
        f"did:web:badges.acme.edu#{record.key_id}"
    )


def test_load_signing_key_opens_the_active_key_of_the_configured_tenant(
    settings: KeySettings,
) -> None:
    generate_key(settings, "acme", now=NOW)
    new, _ = rotate_key(settings, "acme", now=NOW)

    key = load_signing_key(settings.model_copy(update={"tenant": "acme"}))

    assert key.key_id == new.key_id


def test_load_signing_key_without_a_tenant_names_the_variable(settings: KeySettings) -> None:
    with pytest.raises(ConfigurationError, match="CREDSTREAM_KEYS_TENANT"):
        load_signing_key(settings)


def test_sealed_file_contains_no_form_of_the_seed() -> None:
    public = bytes.fromhex("4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5")
    stored = seal_with_passphrase(
        SEED,
        SecretStr(PASSPHRASE),
        tenant="acme",
        key_id="acme-1",
        public_key_multibase=public_key_multibase(public),
        scrypt_n=2**10,
    )
    text = stored.model_dump_json()

    forms = [SEED.hex(), base64.b64encode(SEED).decode(), b58encode(SEED)]
    forms.append(multibase_encode(b"\x80\x26" + SEED))
    for form in forms:
        assert form not in text
    assert PASSPHRASE not in text
    assert len(base64.b64decode(stored.ciphertext)) == 32 + 16  # seed + GCM tag


def test_key_file_on_disk_holds_neither_seed_nor_passphrase(settings: KeySettings) -> None:
    record = generate_key(settings, "acme", now=NOW)
    seed = _seed_of(open_key(settings, "acme"))
    files = list((settings.keyring_dir / "acme").iterdir())

    assert {f.name for f in files} == {"keyring.json", f"{record.key_id}.key.json"}
    for file in files:
        body = file.read_bytes()
        assert seed not in body
        for form in (seed.hex(), base64.b64encode(seed).decode(), b58encode(seed)):
            assert form.encode() not in body
        assert PASSPHRASE.encode() not in body
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE((settings.keyring_dir / "acme").stat().st_mode) == 0o700


def test_wrong_passphrase_is_a_typed_error_without_either_secret(settings: KeySettings) -> None:
    generate_key(settings, "acme", now=NOW)
    wrong = settings.model_copy(update={"passphrase": SecretStr("not the passphrase")})

    with pytest.raises(KeyDecryptionError) as raised:
        open_key(wrong, "acme")

    message = str(raised.value)
    assert "wrong passphrase" in message
    assert "not the passphrase" not in message
    assert PASSPHRASE not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_key_file_copied_under_another_key_id_does_not_open(settings: KeySettings) -> None:
    first = generate_key(settings, "acme", now=NOW)
    second, _ = rotate_key(settings, "acme", now=NOW)
    folder = settings.keyring_dir / "acme"
    (folder / f"{second.key_id}.key.json").write_bytes(
        (folder / f"{first.key_id}.key.json").read_bytes()
    )

    with pytest.raises(KeyDecryptionError):
        open_key(settings, "acme", second.key_id)


def test_missing_passphrase_fails_before_creating_anything(tmp_path: Path) -> None:
    settings = KeySettings(keyring_dir=tmp_path / "keys", passphrase=None)

    with pytest.raises(ConfigurationError, match="CREDSTREAM_KEYS_PASSPHRASE"):
        generate_key(settings, "acme", now=NOW)

    assert not (tmp_path / "keys" / "acme").exists()


def test_passphrase_comes_from_the_environment_and_never_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREDSTREAM_KEYS_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("CREDSTREAM_KEYS_KEYRING_DIR", str(tmp_path))
    settings = KeySettings()

    generate_key(settings, "acme", now=NOW)

    assert settings.keyring_dir == tmp_path
    assert PASSPHRASE not in repr(settings) and PASSPHRASE not in str(settings)
    assert open_key(settings, "acme").sign(b"x")


def test_repr_and_str_show_the_key_id_only_and_pickling_is_refused(
    settings: KeySettings,
) -> None:
    generate_key(settings, "acme", now=NOW)
    key = open_key(settings, "acme")
    seed = _seed_of(key)

    for text in (repr(key), str(key), f"{key}", f"{key!r}"):
        assert text == f"LocalFileKey(key_id='{key.key_id}')"
        assert seed.hex() not in text
    with pytest.raises(KeyCustodyError, match="cannot be pickled"):
        pickle.dumps(key)


def test_generate_refuses_a_second_active_key(settings: KeySettings) -> None:
    record = generate_key(settings, "acme", now=NOW)

    with pytest.raises(KeyCustodyError, match=f"{record.key_id}.*keys rotate"):
        generate_key(settings, "acme", now=NOW)


def test_rotate_needs_an_existing_key(settings: KeySettings) -> None:
    with pytest.raises(KeyCustodyError, match="keys generate"):
        rotate_key(settings, "acme", now=NOW)


def test_rotation_retires_the_old_key_and_both_still_open(settings: KeySettings) -> None:
    first = generate_key(settings, "acme", now=NOW)
    later = datetime(2026, 6, 1, tzinfo=UTC)

    new, retired = rotate_key(settings, "acme", now=later)

    ring = read_keyring(settings, "acme")
    assert [(k.key_id, k.status) for k in ring.keys] == [
        (first.key_id, "retired"),
        (new.key_id, "active"),
    ]
    assert retired.key_id == first.key_id and retired.retired == later
    assert new.key_id.startswith("acme-20260601-")
    assert open_key(settings, "acme").key_id == new.key_id
    assert (
        open_key(settings, "acme", first.key_id).public_key_multibase == first.public_key_multibase
    )


@pytest.mark.parametrize("tenant", ["", "../etc", ".hidden", "a/b", "a b", "x" * 65])
def test_unsafe_tenant_names_are_refused(settings: KeySettings, tenant: str) -> None:
    with pytest.raises(InvalidInputError, match="tenant"):
        generate_key(settings, tenant, now=NOW)


def test_a_corrupt_keyring_names_the_file_and_field(settings: KeySettings) -> None:
    generate_key(settings, "acme", now=NOW)
    path = settings.keyring_dir / "acme" / "keyring.json"
    ring = json.loads(path.read_text())
    ring["keys"][0]["status"] = "lost"
    path.write_text(json.dumps(ring))

    with pytest.raises(InvalidInputError, match=r"keyring.json: keys.0.status"):
        open_key(settings, "acme")


def test_a_missing_key_file_is_a_custody_error(settings: KeySettings) -> None:
    record = generate_key(settings, "acme", now=NOW)
    (settings.keyring_dir / "acme" / f"{record.key_id}.key.json").unlink()

    with pytest.raises(KeyCustodyError, match="is missing"):
        open_key(settings, "acme")
