"""Revocation and suspension with W3C Bitstring Status List v1.0.

Encoding, slots and entries (``_bitstring``, ``_lists``), the updater that applies
revoke / suspend / reinstate and republishes lists (``_updater``), and the check a
verifier runs (``_check``).
"""

from signers.status._bitstring import (
    LIST_SIZE,
    PURPOSES,
    Bitstring,
    StatusListError,
    StatusSlot,
    allocate_slot,
)
from signers.status._check import StatusLists, status_checks
from signers.status._lists import (
    read_status,
    status_entries,
    status_list_credential,
    status_list_key,
    status_list_url,
)
from signers.status._updater import (
    ACTIONS,
    APPLIED_METADATA,
    ListContentionError,
    ListLocation,
    Mark,
    SigningUnavailableError,
    StatusChangeError,
    StatusTarget,
    StatusUpdater,
    UpdateReport,
    lists_in_use,
    parse_status_list_url,
    status_change_key,
    status_target,
)

__all__ = [
    "ACTIONS",
    "APPLIED_METADATA",
    "LIST_SIZE",
    "PURPOSES",
    "Bitstring",
    "ListContentionError",
    "ListLocation",
    "Mark",
    "SigningUnavailableError",
    "StatusChangeError",
    "StatusListError",
    "StatusLists",
    "StatusSlot",
    "StatusTarget",
    "StatusUpdater",
    "UpdateReport",
    "allocate_slot",
    "lists_in_use",
    "parse_status_list_url",
    "read_status",
    "status_change_key",
    "status_checks",
    "status_entries",
    "status_list_credential",
    "status_list_key",
    "status_list_url",
    "status_target",
]
