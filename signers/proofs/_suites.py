"""The ``eddsa-rdfc-2022`` and ``eddsa-jcs-2022`` cryptosuites (W3C vc-di-eddsa v1.0).

Both hash the canonical proof configuration and the canonical document with SHA-256 and
sign ``proofHash || documentHash`` with Ed25519; they differ only in the canonicalization
(RDFC-1.0 vs JCS) and in ``eddsa-jcs-2022`` keeping the ``@context`` in the proof.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from nacl.bindings import crypto_sign, crypto_sign_seed_keypair

from credstream.errors import SigningError
from signers.multikey import multibase_encode
from signers.proofs._canon import Canonicalizer
from signers.proofs._dates import parse_date_time_stamp
from signers.proofs._jcs import JcsCanonicalizer

EDDSA_RDFC_2022: Final = "eddsa-rdfc-2022"
EDDSA_JCS_2022: Final = "eddsa-jcs-2022"
CRYPTOSUITES: Final = (EDDSA_RDFC_2022, EDDSA_JCS_2022)
PROOF_TYPE: Final = "DataIntegrityProof"

Sign = Callable[[bytes], bytes]
"""An Ed25519 signature over the message: a local key's ``sign`` or a KMS call."""

_JCS: Final = JcsCanonicalizer()


class ProofOptionsError(SigningError):
    """The proof options or the proof cannot be used (wrong type, suite, date, ...)."""


@dataclass(frozen=True)
class HashData:
    """The intermediate values of one proof, step by step as in the specification."""

    canonical_document: str
    canonical_proof: str
    document_hash: bytes
    proof_hash: bytes

    @property
    def combined(self) -> bytes:
        """What Ed25519 signs: ``proofHash || documentHash``."""
        return self.proof_hash + self.document_hash


def ed25519_signer(seed: bytes) -> Sign:
    """The ``sign`` of an in-process Ed25519 key made from its 32-byte seed.

    libsodium signs in about two thirds of OpenSSL's time here (README, performance);
    Ed25519 is deterministic, so the signatures are the same bytes.
    """
    return _Ed25519Signer(_keypair(seed)[1])


class _Ed25519Signer:
    __slots__ = ("_secret_key",)

    def __init__(self, secret_key: bytes) -> None:
        self._secret_key = secret_key  # libsodium's: seed || public key

    def __call__(self, message: bytes) -> bytes:
        return crypto_sign(message, self._secret_key)[:64]  # signature || message

    def __repr__(self) -> str:
        return "Ed25519Signer(<secret>)"

    def __reduce__(self) -> Any:
        raise TypeError("an in-process signing key is not pickled: open it in each process")


def ed25519_public_key(seed: bytes) -> bytes:
    """The 32-byte public key of a 32-byte Ed25519 seed."""
    return _keypair(seed)[0]


def _keypair(seed: bytes) -> tuple[bytes, bytes]:
    if len(seed) != 32:
        raise SigningError("an Ed25519 seed has 32 bytes")
    public_key, secret_key = crypto_sign_seed_keypair(seed)
    return public_key, secret_key


def canonicalizer_for(cryptosuite: str, rdfc: Canonicalizer) -> Canonicalizer:
    """The canonicalization a suite uses; ``rdfc`` is the strategy for eddsa-rdfc-2022."""
    if cryptosuite == EDDSA_RDFC_2022:
        return rdfc
    if cryptosuite == EDDSA_JCS_2022:
        return _JCS
    raise ProofOptionsError(f"unsupported cryptosuite {cryptosuite!r}")


def proof_configuration(document: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The proof options checked and given the document's ``@context`` (spec 3.x.5)."""
    if options.get("type") != PROOF_TYPE:
        raise ProofOptionsError(f"proof type must be {PROOF_TYPE!r}, not {options.get('type')!r}")
    suite = options.get("cryptosuite")
    if suite not in CRYPTOSUITES:
        raise ProofOptionsError(f"unsupported cryptosuite {suite!r}")
    for field in ("verificationMethod", "proofPurpose"):
        if not isinstance(options.get(field), str) or not options[field]:
            raise ProofOptionsError(f"proof {field} must be a non-empty string")
    if "created" in options and parse_date_time_stamp(options["created"]) is None:
        raise ProofOptionsError(
            f"proof created {options['created']!r} is not a date-time with a time zone"
        )
    config = {name: value for name, value in options.items() if name != "@context"}
    if "@context" in document:
        context = document["@context"]
        # Usually a list of URLs: a shallow copy is a full one (deepcopy costs ~3 us).
        plain = type(context) is list and all(type(item) is str for item in context)
        config["@context"] = list(context) if plain else copy.deepcopy(context)
    elif suite == EDDSA_RDFC_2022:
        raise ProofOptionsError("eddsa-rdfc-2022 needs a document with an @context")
    return config


def hash_data(
    document: Mapping[str, Any], proof_config: Mapping[str, Any], canonicalizer: Canonicalizer
) -> HashData:
    """Canonicalize and hash the document (without proof) and the proof configuration."""
    canonical_document = canonicalizer.canonize(document)
    canonical_proof = canonicalizer.canonize(proof_config)
    return HashData(
        canonical_document=canonical_document,
        canonical_proof=canonical_proof,
        document_hash=hashlib.sha256(canonical_document.encode("utf-8")).digest(),
        proof_hash=hashlib.sha256(canonical_proof.encode("utf-8")).digest(),
    )


def add_proof(
    document: Mapping[str, Any],
    options: Mapping[str, Any],
    sign: Sign,
    canonicalizer: Canonicalizer,
) -> dict[str, Any]:
    """A copy of ``document`` with a DataIntegrityProof made by ``sign``.

    ``options`` holds the proof's ``type``, ``cryptosuite``, ``created``,
    ``verificationMethod`` and ``proofPurpose``, in the order they are to appear.
    ``canonicalizer`` is the RDFC-1.0 strategy used when the suite is eddsa-rdfc-2022
    (eddsa-jcs-2022 always uses JCS). The input is not modified; the copy shares its
    nested values with it (a deep copy cost as much as the signature).
    """
    if "proof" in document:
        raise ProofOptionsError("the document already has a proof (proof sets are not supported)")
    if "proofValue" in options:
        raise ProofOptionsError("proof options must not carry a proofValue")
    config = proof_configuration(document, options)
    suite = config["cryptosuite"]
    data = hash_data(document, config, canonicalizer_for(suite, canonicalizer))
    signature = sign(data.combined)
    if len(signature) != 64:
        raise SigningError(f"the signer returned {len(signature)} bytes, not an Ed25519 signature")
    proof = {name: value for name, value in options.items() if name != "@context"}
    if suite == EDDSA_JCS_2022 and "@context" in config:
        proof["@context"] = config["@context"]
    proof["proofValue"] = multibase_encode(signature)
    return {**document, "proof": proof}
