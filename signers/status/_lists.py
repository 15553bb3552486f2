"""Status entries inside credentials and the status list credentials that hold the bits."""

from __future__ import annotations

from typing import Any

from signers.status._bitstring import PURPOSES, Bitstring, StatusListError, StatusSlot

VC_V2 = "https://www.w3.org/ns/credentials/v2"


def status_list_key(tenant: str, purpose: str, list_id: str) -> str:
    """Object key of a status list credential, under the tenant's prefix."""
    return f"{tenant}/status/{purpose}/{list_id}.json"


def status_list_url(public_base_url: str, tenant: str, purpose: str, list_id: str) -> str:
    return public_base_url.rstrip("/") + "/" + status_list_key(tenant, purpose, list_id)


def status_entries(public_base_url: str, tenant: str, slot: StatusSlot) -> list[dict[str, Any]]:
    """One ``BitstringStatusListEntry`` per purpose, all at the credential's slot."""
    entries = []
    for purpose in PURPOSES:
        url = status_list_url(public_base_url, tenant, purpose, slot.list_id)
        entries.append(
            {
                "id": f"{url}#{slot.index}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": str(slot.index),
                "statusListCredential": url,
            }
        )
    return entries


def status_list_credential(
    url: str, issuer: str, purpose: str, bits: Bitstring, valid_from: str
) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` (the signer adds the proof)."""
    if purpose not in PURPOSES:
        raise StatusListError(f"statusPurpose must be one of {PURPOSES}, not {purpose!r}")
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": bits.encode(),
        },
    }


def read_status(list_credential: Any, entry: Any) -> bool:
    """Whether the entry's bit is set in the list credential (True: revoked/suspended)."""
    # Both come from outside (a fetched list, a presented credential): check their shape.
    subject = (
        list_credential.get("credentialSubject") if isinstance(list_credential, dict) else None
    )
    if not isinstance(subject, dict):
        raise StatusListError("the status list credential has no credentialSubject object")
    if not isinstance(entry, dict):
        raise StatusListError("a credentialStatus entry must be an object")
    if subject.get("statusPurpose") != entry.get("statusPurpose"):
        raise StatusListError("the list's statusPurpose differs from the entry's")
    try:
        index = int(entry["statusListIndex"])
    except (KeyError, ValueError, TypeError):
        raise StatusListError("statusListIndex must be an integer string") from None
    return Bitstring.decode(subject.get("encodedList", "")).get(index)
