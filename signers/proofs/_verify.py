"""Verification: every check returns a structured result, none raises on bad input.

:func:`verify_proof` checks a proof against a known public key; :func:`verify_credential`
also resolves the verification method, binds it to the issuer and checks the validity
period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credstream.errors import SigningError
from signers.multikey import multibase_decode
from signers.proofs._canon import CanonicalizationError, Canonicalizer
from signers.proofs._dates import parse_date_time_stamp
from signers.proofs._jsonld import UnknownContextError
from signers.proofs._methods import ResolveMethod, VerificationMethod, VerificationMethodError
from signers.proofs._suites import (
    EDDSA_JCS_2022,
    ProofOptionsError,
    canonicalizer_for,
    hash_data,
    proof_configuration,
)

ASSERTION_METHOD = "assertionMethod"


class CheckId(StrEnum):
    PROOF_FORMAT = "proof_format"
    PROOF_CONTEXT = "proof_context"
    CANONICALIZATION = "canonicalization"
    SIGNATURE = "valid_signature"
    VERIFICATION_METHOD = "verification_method"
    PROOF_PURPOSE = "proof_purpose"
    ISSUER_BINDING = "issuer_binding"
    VALID_FROM = "valid_from"
    VALID_UNTIL = "valid_until"
    # Bitstring Status List entries (signers.status.status_checks): one check per entry.
    REVOCATION = "revocation_status"
    SUSPENSION = "suspension_status"
    STATUS = "credential_status"  # an entry of another purpose or type


@dataclass(frozen=True)
class Check:
    id: CheckId
    valid: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": str(self.id), "valid": self.valid, "message": self.message}


@dataclass(frozen=True)
class VerificationResult:
    """The checks that ran, in order; verified when there is at least one and all passed."""

    checks: tuple[Check, ...]

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(check.valid for check in self.checks)

    @property
    def problems(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.valid)

    def as_dict(self) -> dict[str, Any]:
        return {"verified": self.verified, "checks": [c.as_dict() for c in self.checks]}


def verify_proof(
    secured: Any, public_key: bytes, canonicalizer: Canonicalizer
) -> VerificationResult:
    """Checks the document's one DataIntegrityProof against an Ed25519 public key.

    ``canonicalizer`` is the RDFC-1.0 strategy for eddsa-rdfc-2022 proofs.
    """
    proof, format_check = _read_proof(secured)
    if proof is None:
        return VerificationResult((format_check,))
    return VerificationResult(
        (format_check, *_signature_checks(secured, proof, public_key, canonicalizer))
    )


def verify_credential(
    credential: Any, resolve: ResolveMethod, now: datetime, canonicalizer: Canonicalizer
) -> VerificationResult:
    """Proof, verification method (for assertionMethod), issuer binding and validity at ``now``."""
    proof, format_check = _read_proof(credential)
    if proof is None:
        return VerificationResult((format_check,))
    checks = [format_check, _purpose_check(proof)]
    try:
        method: VerificationMethod | None = resolve(proof["verificationMethod"])
    except VerificationMethodError as error:
        method = None
        checks.append(Check(CheckId.VERIFICATION_METHOD, False, str(error)))
    if method is not None:
        checks.append(
            Check(CheckId.VERIFICATION_METHOD, True, f"{method.id} is a key of {method.controller}")
        )
        checks.extend(_signature_checks(credential, proof, method.public_key, canonicalizer))
        checks.append(_issuer_binding(credential, method))
    checks.extend(_validity_checks(credential, now))
    return VerificationResult(tuple(checks))


def _read_proof(secured: Any) -> tuple[Mapping[str, Any] | None, Check]:
    def malformed(message: str) -> tuple[None, Check]:
        return None, Check(CheckId.PROOF_FORMAT, False, message)

    if not isinstance(secured, Mapping):
        return malformed("the credential is not a JSON object")
    proof = secured.get("proof")
    if proof is None:
        return malformed("the credential has no proof")
    if not isinstance(proof, Mapping):
        return malformed("proof must be one JSON object (proof sets are not supported)")
    if not isinstance(proof.get("proofValue"), str):
        return malformed("the proof has no proofValue string")
    try:
        proof_configuration(_unsecured(secured), _options(proof))
    except ProofOptionsError as error:
        return malformed(str(error))
    return proof, Check(
        CheckId.PROOF_FORMAT, True, f"one {proof['cryptosuite']} DataIntegrityProof"
    )


def _signature_checks(
    secured: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: bytes,
    canonicalizer: Canonicalizer,
) -> list[Check]:
    if len(public_key) != 32:
        raise SigningError("an Ed25519 public key has 32 bytes")
    checks: list[Check] = []
    document = _unsecured(secured)
    options = _options(proof)
    if proof["cryptosuite"] == EDDSA_JCS_2022 and "@context" in proof:
        context_check = _jcs_context_check(document, proof["@context"])
        checks.append(context_check)
        if not context_check.valid:
            return checks
        document["@context"] = proof["@context"]
    try:
        config = proof_configuration(document, options)
        data = hash_data(document, config, canonicalizer_for(proof["cryptosuite"], canonicalizer))
    except (UnknownContextError, CanonicalizationError) as error:
        return [*checks, Check(CheckId.CANONICALIZATION, False, str(error))]
    checks.append(Check(CheckId.CANONICALIZATION, True, "document and proof canonicalized"))
    try:
        signature = multibase_decode(proof["proofValue"])
    except SigningError as error:
        return [*checks, Check(CheckId.SIGNATURE, False, f"proofValue: {error}")]
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data.combined)
    except InvalidSignature:
        return [*checks, Check(CheckId.SIGNATURE, False, "the signature does not match")]
    return [*checks, Check(CheckId.SIGNATURE, True, "the Ed25519 signature matches")]


def _jcs_context_check(document: Mapping[str, Any], proof_context: Any) -> Check:
    # vc-di-eddsa 3.3.2: the document's @context must start with the proof's.
    expected, actual = _as_list(proof_context), _as_list(document.get("@context"))
    if actual[: len(expected)] != expected:
        return Check(
            CheckId.PROOF_CONTEXT,
            False,
            "the document @context does not start with the proof's @context",
        )
    return Check(CheckId.PROOF_CONTEXT, True, "the document @context starts with the proof's")


def _purpose_check(proof: Mapping[str, Any]) -> Check:
    purpose = proof["proofPurpose"]
    if purpose != ASSERTION_METHOD:
        return Check(
            CheckId.PROOF_PURPOSE, False, f"proofPurpose is {purpose!r}, not assertionMethod"
        )
    return Check(CheckId.PROOF_PURPOSE, True, "assertionMethod")


def _issuer_binding(credential: Mapping[str, Any], method: VerificationMethod) -> Check:
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if issuer_id != method.controller:
        return Check(
            CheckId.ISSUER_BINDING,
            False,
            f"the key is controlled by {method.controller}, not by the issuer {issuer_id!r}",
        )
    return Check(CheckId.ISSUER_BINDING, True, f"the key is controlled by the issuer {issuer_id}")


def _validity_checks(credential: Mapping[str, Any], now: datetime) -> list[Check]:
    checks = []
    for field, check_id in (("validFrom", CheckId.VALID_FROM), ("validUntil", CheckId.VALID_UNTIL)):
        if field not in credential:
            checks.append(Check(check_id, True, f"no {field}"))
            continue
        moment = parse_date_time_stamp(credential[field])
        if moment is None:
            checks.append(
                Check(
                    check_id,
                    False,
                    f"{field} {credential[field]!r} is not a date-time with a time zone",
                )
            )
        elif check_id is CheckId.VALID_FROM and now < moment:
            checks.append(Check(check_id, False, f"not valid before {credential[field]}"))
        elif check_id is CheckId.VALID_UNTIL and now > moment:
            checks.append(Check(check_id, False, f"expired at {credential[field]}"))
        else:
            checks.append(Check(check_id, True, f"{field} {credential[field]}"))
    return checks


def _unsecured(secured: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in secured.items() if name != "proof"}


def _options(proof: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in proof.items() if name != "proofValue"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
