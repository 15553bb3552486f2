"""Revocation and suspension with W3C Bitstring Status List v1.0."""

from signers.status._bitstring import (
    LIST_SIZE,
    PURPOSES,
    Bitstring,
    StatusListError,
    StatusSlot,
    allocate_slot,
)
from signers.status._lists import (
    read_status,
    status_entries,
    status_list_credential,
    status_list_key,
    status_list_url,
)

__all__ = [
    "LIST_SIZE",
    "PURPOSES",
    "Bitstring",
    "StatusListError",
    "StatusSlot",
    "allocate_slot",
    "read_status",
    "status_entries",
    "status_list_credential",
    "status_list_key",
    "status_list_url",
]
