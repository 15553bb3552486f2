"""The benchmark signs valid, distinct, catalog-like credentials."""

from __future__ import annotations

from datetime import UTC, datetime

from signers.bench import bench_sign, catalog_credentials, proof_options
from signers.multikey import public_key_multibase
from signers.proofs import (
    CRYPTOSUITES,
    RdfcReferenceCanonicalizer,
    add_proof,
    did_key_method,
    ed25519_public_key,
    ed25519_signer,
    verify_credential,
)

SEED = bytes(32)
DID = "did:key:" + public_key_multibase(ed25519_public_key(SEED))


def test_catalog_credentials_are_distinct_and_sign_and_verify() -> None:
    credentials = catalog_credentials(6)
    assert len({c["id"] for c in credentials}) == 6
    assert len({c["credentialSubject"]["achievement"]["id"] for c in credentials}) == 5
    canonicalizer = RdfcReferenceCanonicalizer()
    for suite in CRYPTOSUITES:
        options = proof_options(suite, f"{DID}#{DID.removeprefix('did:key:')}")
        for credential in credentials:
            credential["issuer"]["id"] = DID  # so that the key is the issuer's
            signed = add_proof(credential, options, ed25519_signer(SEED), canonicalizer)
            now = datetime(2030, 1, 1, tzinfo=UTC)
            result = verify_credential(signed, did_key_method, now, canonicalizer)
            assert result.verified, result.problems


def test_bench_sign_reports_every_suite() -> None:
    rates = bench_sign(2, RdfcReferenceCanonicalizer())
    assert [rate.suite for rate in rates] == list(CRYPTOSUITES)
    assert all(rate.signed_per_second > 0 for rate in rates)
    assert rates[0].reference_per_second is not None and rates[1].reference_per_second is None
    assert rates[0].raw_ed25519_per_second == rates[1].raw_ed25519_per_second > 0
