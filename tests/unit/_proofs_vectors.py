"""The W3C vc-di-eddsa and 1EdTech Open Badges 3.0 test vectors (tests/data/vectors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from signers.multikey import seed_from_multibase
from signers.proofs import ed25519_public_key

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vectors"
W3C = VECTORS / "vc-di-eddsa"
OB = VECTORS / "ob-v3p0-eddsa-rdfc-2022"

# suite -> (folder, file-name suffix) in the W3C vector set
W3C_SUITES = {"eddsa-rdfc-2022": "DataInt", "eddsa-jcs-2022": "JCS"}


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def w3c_seed() -> bytes:
    return seed_from_multibase(load(W3C / "keyPair.json")["privateKeyMultibase"])


def w3c_file(suite: str, stem: str, extension: str = "txt") -> Path:
    return W3C / suite / f"{stem}{W3C_SUITES[suite]}.{extension}"


def w3c_options(suite: str) -> dict[str, Any]:
    """The proof options: the vector's proof configuration without the @context it adds."""
    config = load(w3c_file(suite, "proofConfig", "json"))
    return {name: value for name, value in config.items() if name != "@context"}


def ob_expected() -> dict[str, Any]:
    expected: dict[str, Any] = load(OB / "expected.json")
    return expected


def ob_signed() -> dict[str, Any]:
    """The OB vector's credential with its published proof (the set has no signed file)."""
    expected = ob_expected()
    proof = {**expected["proofOptions"], "proofValue": expected["proofValue"]}
    return {**load(OB / "unsigned.json"), "proof": proof}


def signed_vectors() -> dict[str, tuple[dict[str, Any], bytes]]:
    """Every signed vector with the public key that verifies it."""
    public = ed25519_public_key(w3c_seed())
    return {
        "w3c-rdfc": (load(w3c_file("eddsa-rdfc-2022", "signed", "json")), public),
        "w3c-jcs": (load(w3c_file("eddsa-jcs-2022", "signed", "json")), public),
        "ob-rdfc": (ob_signed(), bytes.fromhex(ob_expected()["publicKeyHex"])),
    }
