"""The fast canonicalizer is the signing default, and signing with it changes no byte."""

from __future__ import annotations

import json
from typing import Any

import click
import pytest
from click.testing import CliRunner

from credstream.cli import cli
from credstream.commands import register
from signers.fastcanon import FastRdfcCanonicalizer, sample_credentials
from signers.proofs import (
    PROOF_TYPE,
    RdfcReferenceCanonicalizer,
    add_proof,
    default_canonicalizer,
    ed25519_public_key,
    ed25519_signer,
    verify_proof,
)

SEED = bytes(range(32))
METHOD = "did:web:badges.example.edu#key-1"
CREATED = "2026-03-01T12:00:00Z"
OPTIONS = {
    "type": PROOF_TYPE,
    "cryptosuite": "eddsa-rdfc-2022",
    "created": CREATED,
    "verificationMethod": METHOD,
    "proofPurpose": "assertionMethod",
}
REFERENCE = RdfcReferenceCanonicalizer()


def compact(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def credentials() -> list[dict[str, Any]]:
    return [
        *sample_credentials(60, seed=21),
        *sample_credentials(60, seed=22, varied=True, hostile=True),
    ]


def test_signing_default_is_the_fast_canonicalizer() -> None:
    assert isinstance(default_canonicalizer(), FastRdfcCanonicalizer)


def test_fast_and_reference_sign_identical_credentials() -> None:
    sign, fast = ed25519_signer(SEED), FastRdfcCanonicalizer(REFERENCE)
    for credential in credentials():
        signed = add_proof(credential, OPTIONS, sign, fast)
        assert compact(signed) == compact(add_proof(credential, OPTIONS, sign, REFERENCE))
        assert verify_proof(signed, ed25519_public_key(SEED), fast).verified
    assert fast.stats().fallbacks <= 3  # merged values only (equal tags in hostile samples)


def test_sign_command_output_is_unchanged() -> None:
    register(cli)
    root: click.Group = cli
    documents = credentials()
    stdin = "".join(compact(document) + "\n" for document in documents)
    args = ["sign", "-", "--seed-hex", SEED.hex(), "--verification-method", METHOD]
    result = CliRunner().invoke(root, [*args, "--created", CREATED], input=stdin)
    assert result.exit_code == 0, result.output
    sign = ed25519_signer(SEED)
    expected = [compact(add_proof(d, OPTIONS, sign, REFERENCE)) for d in documents]
    # split("\n"), not splitlines(): the hostile texts hold U+2028 and friends.
    assert result.output.split("\n") == [*expected, ""]


@pytest.mark.parametrize("field", ["name", "validFrom"])
def test_a_changed_field_fails_verification(field: str) -> None:
    fast = FastRdfcCanonicalizer(REFERENCE)
    credential = next(iter(sample_credentials(1, seed=23)))
    signed = add_proof(credential, OPTIONS, ed25519_signer(SEED), fast)
    tampered = {**signed, field: signed[field].replace("2", "3") + "x"}
    assert not verify_proof(tampered, ed25519_public_key(SEED), fast).verified
