"""Signing throughput on one core, measured in-process over plain dicts (no I/O, no JSON).

:func:`bench_sign` reports, per cryptosuite, the credentials/s of the signing path (with the
canonicalizer credstream signs with), of the reference pyld path, and the bare Ed25519
signing rate, all from the same run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from signers.multikey import public_key_multibase
from signers.proofs import (
    CRYPTOSUITES,
    EDDSA_RDFC_2022,
    PROOF_TYPE,
    Canonicalizer,
    RdfcReferenceCanonicalizer,
    Sign,
    add_proof,
    ed25519_public_key,
    ed25519_signer,
)

_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
_ISSUER = {
    "id": "https://example.edu/issuers/565049",
    "type": ["Profile"],
    "url": "https://www.imsglobal.org",
    "name": "Example Corp",
}
# (slug, name, description, narrative): a small catalog, some of it non-ASCII.
_ACHIEVEMENTS = [
    ("teamwork", "Teamwork", "Collaborates within a group.", "Nominated by peers."),
    ("python-101", "Python 101", "Writes small Python programs.", "Passed 8 of 10 labs."),
    ("statistik", "Statistik für alle", "Beschreibt Daten korrekt.", "Prüfung bestanden."),
    ("data-ethics", "Éthique des données", "Analyse les risques.", "Étude de cas réussie."),
    ("kanji", "漢字 N5", "Reads the 100 N5 kanji.", "Scored 92% on the final quiz."),
]
_WARM_UP = 5
BENCH_SEED = bytes(range(32))  # a throwaway key: benchmarks never touch real keys


@dataclass(frozen=True)
class SuiteRate:
    suite: str
    signed_per_second: float
    reference_per_second: float | None  # None: the suite has no separate reference path
    raw_ed25519_per_second: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def catalog_credentials(count: int) -> list[dict[str, Any]]:
    """``count`` unsigned OpenBadgeCredentials shaped like the OB 3.0 test vector, with
    distinct ids, learners and dates, cycling through a small achievement catalog."""
    credentials = []
    for index in range(count):
        slug, name, description, narrative = _ACHIEVEMENTS[index % len(_ACHIEVEMENTS)]
        credentials.append(
            {
                "@context": list(_CONTEXT),
                "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'bench/{index}')}",
                "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": dict(_ISSUER),
                "validFrom": f"2024-{index % 12 + 1:02d}-{index % 28 + 1:02d}T10:00:00Z",
                "name": f"{name} Badge",
                "credentialSubject": {
                    "id": f"did:example:learner-{index}",
                    "type": ["AchievementSubject"],
                    "achievement": {
                        "id": f"https://example.com/achievements/{slug}",
                        "type": ["Achievement"],
                        "criteria": {"narrative": narrative},
                        "description": description,
                        "name": name,
                    },
                },
            }
        )
    return credentials


def proof_options(suite: str, verification_method: str) -> dict[str, str]:
    return {
        "type": PROOF_TYPE,
        "cryptosuite": suite,
        "created": "2024-05-01T10:00:00Z",
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }


def signing_rate(
    credentials: Sequence[Mapping[str, Any]],
    options: Mapping[str, Any],
    sign: Sign,
    canonicalizer: Canonicalizer,
) -> float:
    """Credentials signed per second, after a few untimed signatures (context loading)."""
    for credential in credentials[:_WARM_UP]:
        add_proof(credential, options, sign, canonicalizer)
    start = time.perf_counter()
    for credential in credentials:
        add_proof(credential, options, sign, canonicalizer)
    return len(credentials) / (time.perf_counter() - start)


def raw_ed25519_rate(sign: Sign, count: int) -> float:
    """Bare Ed25519 signatures per second over 64-byte messages (a combined hash's size)."""
    messages = [index.to_bytes(64, "big") for index in range(count)]
    start = time.perf_counter()
    for message in messages:
        sign(message)
    return count / (time.perf_counter() - start)


def bench_sign(count: int, canonicalizer: Canonicalizer) -> list[SuiteRate]:
    """One entry per cryptosuite; ``canonicalizer`` is the signing path's RDFC strategy."""
    if count < 1:
        raise ValueError("count must be at least 1")
    sign = ed25519_signer(BENCH_SEED)
    did = "did:key:" + public_key_multibase(ed25519_public_key(BENCH_SEED))
    method = f"{did}#{did.removeprefix('did:key:')}"
    credentials = catalog_credentials(count)
    raw = raw_ed25519_rate(sign, max(count, 10_000))
    rates = []
    for suite in CRYPTOSUITES:
        options = proof_options(suite, method)
        signed = signing_rate(credentials, options, sign, canonicalizer)
        reference = (
            signing_rate(credentials, options, sign, RdfcReferenceCanonicalizer())
            if suite == EDDSA_RDFC_2022
            else None
        )
        rates.append(SuiteRate(suite, signed, reference, raw))
    return rates
