"""Data Integrity proofs: eddsa-rdfc-2022 and eddsa-jcs-2022, signing and verification.

Plain functions over plain JSON data (dicts). The signing primitive is injected
(``sign(message) -> 64-byte Ed25519 signature``) so that any key custody can plug in, and
the RDF canonicalization is a strategy (:class:`Canonicalizer`) so that a faster
implementation can replace the reference one without the suites noticing. JSON-LD contexts
come only from the packaged files (:class:`OfflineDocumentLoader`).

    canonicalizer = RdfcReferenceCanonicalizer()
    signed = add_proof(credential, options, ed25519_signer(seed), canonicalizer)
    result = verify_proof(signed, public_key, canonicalizer)
"""

from signers.proofs._canon import (
    CanonicalizationError,
    Canonicalizer,
    DataLossError,
    RdfcReferenceCanonicalizer,
    default_canonicalizer,
)
from signers.proofs._jcs import JcsCanonicalizer, jcs
from signers.proofs._jsonld import (
    CONTEXT_FILES,
    OfflineDocumentLoader,
    UnknownContextError,
    packaged_context_bytes,
)
from signers.proofs._methods import (
    ResolveMethod,
    VerificationMethod,
    VerificationMethodError,
    controller_document_method,
    did_key_method,
)
from signers.proofs._suites import (
    CRYPTOSUITES,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    PROOF_TYPE,
    HashData,
    ProofOptionsError,
    Sign,
    add_proof,
    canonicalizer_for,
    ed25519_public_key,
    ed25519_signer,
    hash_data,
    proof_configuration,
)
from signers.proofs._verify import (
    Check,
    CheckId,
    VerificationResult,
    verify_credential,
    verify_proof,
)

__all__ = [
    "CONTEXT_FILES",
    "CRYPTOSUITES",
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "PROOF_TYPE",
    "CanonicalizationError",
    "Canonicalizer",
    "Check",
    "CheckId",
    "DataLossError",
    "HashData",
    "JcsCanonicalizer",
    "OfflineDocumentLoader",
    "ProofOptionsError",
    "RdfcReferenceCanonicalizer",
    "ResolveMethod",
    "Sign",
    "UnknownContextError",
    "VerificationMethod",
    "VerificationMethodError",
    "VerificationResult",
    "add_proof",
    "canonicalizer_for",
    "controller_document_method",
    "default_canonicalizer",
    "did_key_method",
    "ed25519_public_key",
    "ed25519_signer",
    "hash_data",
    "jcs",
    "packaged_context_bytes",
    "proof_configuration",
    "verify_credential",
    "verify_proof",
]
