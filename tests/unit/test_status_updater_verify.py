"""``credstream verify --status-list``: lists the updater publishes, checked by a verifier."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from credstream.cli import cli
from credstream.commands import register
from credstream.observability import Metrics
from schemas.codec import Codec
from schemas.models import CredentialStatusChange, StatusAction
from signers.proofs import RdfcReferenceCanonicalizer, add_proof, ed25519_signer
from signers.service import credential_key
from signers.status import (
    Bitstring,
    StatusSlot,
    StatusUpdater,
    status_change_key,
    status_entries,
    status_list_credential,
    status_list_key,
)
from signers.storage import ObjectWrite
from tests.unit._memory_store import MemoryStore, Record
from tests.unit._proofs_vectors import W3C, load, ob_expected, w3c_seed

METHOD = load(W3C / "eddsa-rdfc-2022" / "proofConfigDataInt.json")["verificationMethod"]
DID = METHOD.partition("#")[0]
TENANT = "uni-a"
BASE = "https://badges.example.edu"
CANON = RdfcReferenceCanonicalizer()
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class DidKey:
    def sign(self, message: bytes) -> bytes:
        return ed25519_signer(w3c_seed())(message)

    def verification_method(self, did: str) -> str:
        return METHOD


def signed_credential(number: int, slot: StatusSlot) -> dict[str, Any]:
    unsigned = {
        **load(W3C / "unsigned.json"),
        "id": f"urn:uuid:{number}",
        "issuer": DID,
        "credentialStatus": status_entries(BASE, TENANT, slot),
    }
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": METHOD,
        "proofPurpose": "assertionMethod",
    }
    return add_proof(unsigned, options, DidKey().sign, CANON)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Credentials 1 (revoked), 2 (suspended) and 3 (fine), and the lists, as files."""
    folder = tmp_path_factory.mktemp("status")
    store, codec = MemoryStore(), Codec()
    updater = StatusUpdater(
        store, codec, lambda _: DidKey(), CANON, Metrics("t", process_collectors=False), lambda: AT
    )
    files: dict[str, Path] = {}
    records = []
    for number, action in ((1, "revoke"), (2, "suspend"), (3, None)):
        credential = signed_credential(number, StatusSlot("p0-0", number * 100))
        body = json.dumps(credential).encode()
        store.put_new([ObjectWrite(credential_key(TENANT, f"c-{number}"), body)])
        files[f"c-{number}"] = folder / f"c-{number}.json"
        files[f"c-{number}"].write_bytes(body)
        if action:
            change = CredentialStatusChange(
                credential_id=f"c-{number}",
                tenant_id=TENANT,
                action=StatusAction(action),
                requested_at=AT,
            )
            key = status_change_key(TENANT, "p0-0")
            records.append(Record("credential.status.v1", 0, number, key, codec.encode(change)))
    updater.update(records)
    for purpose in ("revocation", "suspension"):
        files[purpose] = folder / f"{purpose}.json"
        body = store.get(status_list_key(TENANT, purpose, "p0-0"))
        assert body is not None
        files[purpose].write_bytes(body)
    return files


@pytest.fixture(scope="module")
def root() -> click.Group:
    register(cli)
    return cli


def verify(root: click.Group, world: dict[str, Path], name: str, *lists: str) -> Result:
    args = ["verify", str(world[name])]
    for purpose in lists:
        args += ["--status-list", str(world[purpose])]
    return CliRunner().invoke(root, args)


def test_a_revoked_credential_fails_with_the_reason(
    root: click.Group, world: dict[str, Path]
) -> None:
    result = verify(root, world, "c-1", "revocation", "suspension")
    assert result.exit_code == 1, result.output
    assert "NOT VERIFIED" in result.output
    assert "FAIL revocation_status: REVOKED: bit 100 is set in" in result.output
    assert "ok   suspension_status: not suspended" in result.output
    assert "ok   valid_signature" in result.output  # the proof itself is still fine


def test_a_suspended_credential_fails_and_a_fine_one_passes(
    root: click.Group, world: dict[str, Path]
) -> None:
    suspended = verify(root, world, "c-2", "revocation", "suspension")
    assert suspended.exit_code == 1
    assert "FAIL suspension_status: SUSPENDED" in suspended.output
    fine = verify(root, world, "c-3", "revocation", "suspension")
    assert fine.exit_code == 0, fine.output
    assert "ok   revocation_status: not revoked" in fine.output


def test_json_output_carries_the_status_checks(root: click.Group, world: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        root,
        ["verify", str(world["c-1"]), "--json", "--status-list", str(world["revocation"])],
    )
    checks = {c["id"]: c for c in json.loads(result.output)["checks"]}
    assert checks["revocation_status"]["valid"] is False
    assert checks["suspension_status"]["message"].endswith("is not available")


def test_without_a_status_source_the_status_is_not_checked(
    root: click.Group, world: dict[str, Path]
) -> None:
    result = verify(root, world, "c-1")
    assert result.exit_code == 0 and "status" not in result.output


def test_a_tampered_or_foreign_list_is_not_trusted(
    root: click.Group, world: dict[str, Path], tmp_path: Path
) -> None:
    document = json.loads(world["revocation"].read_text())
    tampered = copy.deepcopy(document)
    tampered["credentialSubject"]["encodedList"] = Bitstring().encode()  # un-revoke everyone
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    result = CliRunner().invoke(
        root,
        ["verify", str(world["c-1"]), "--status-list", str(tmp_path / "tampered.json")],
    )
    assert result.exit_code == 1
    assert "does not verify (valid_signature: the signature does not match)" in result.output

    # A list that verifies, but under another issuer's key: it has no say over c-3.
    expected = ob_expected()
    other = "did:key:" + expected["publicKeyMultibase"]
    unsigned = status_list_credential(
        document["id"], other, "revocation", Bitstring(), "2026-01-02T03:04:05Z"
    )
    options = {**expected["proofOptions"], "verificationMethod": other + "#" + other[8:]}
    seed = bytes.fromhex(expected["privateKeySeedHex"])
    foreign = add_proof(unsigned, options, ed25519_signer(seed), CANON)
    (tmp_path / "foreign.json").write_text(json.dumps(foreign))
    result = CliRunner().invoke(
        root,
        ["verify", str(world["c-3"]), "--status-list", str(tmp_path / "foreign.json")],
    )
    assert result.exit_code == 1
    assert f"is issued by '{other}', not by the credential's issuer '{DID}'" in result.output


def test_a_list_file_without_an_id_is_a_clear_error(
    root: click.Group, world: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "nameless.json").write_text("{}")
    result = CliRunner().invoke(
        root, ["verify", str(world["c-1"]), "--status-list", str(tmp_path / "nameless.json")]
    )
    assert result.exit_code == 2
    assert "a status list credential needs an id" in result.output
