"""What a verifier checks of a credential's status: revoked? suspended?

For each ``credentialStatus`` entry the list credential is fetched (from a file or the
store; never from an arbitrary URL here), its own proof is verified with the same
controller document as the credential's (the issuer signs its lists), its issuer must
be the credential's issuer, and the entry's bit is read. A set bit, a list that cannot
be had or does not verify, or an entry that cannot be read is a failing check with the
reason: a verifier cannot call a credential valid when its status is unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from signers.proofs import Canonicalizer, Check, CheckId, ResolveMethod, verify_credential
from signers.status._bitstring import StatusListError
from signers.status._lists import read_status

_CHECK_IDS = {"revocation": CheckId.REVOCATION, "suspension": CheckId.SUSPENSION}
_STATES = {"revocation": "revoked", "suspension": "suspended"}


def _issuer(document: Any) -> Any:
    issuer = document.get("issuer") if isinstance(document, dict) else None
    return issuer.get("id") if isinstance(issuer, dict) else issuer


class StatusLists:
    """Status list credentials by URL, each fetched and verified once."""

    def __init__(
        self,
        fetch: Callable[[str], Any],
        resolve: ResolveMethod,
        now: datetime,
        canonicalizer: Canonicalizer,
    ) -> None:
        self._fetch = fetch
        self._resolve = resolve
        self._now = now
        self._canonicalizer = canonicalizer
        self._cache: dict[str, tuple[dict[str, Any] | None, str]] = {}

    def verified(self, url: str) -> tuple[dict[str, Any] | None, str]:
        """(the list credential, "") when it verifies, else (None, why not)."""
        if url not in self._cache:
            self._cache[url] = self._load(url)
        return self._cache[url]

    def _load(self, url: str) -> tuple[dict[str, Any] | None, str]:
        document = self._fetch(url)
        if document is None:
            return None, f"status list {url} is not available"
        if not isinstance(document, dict):
            return None, f"status list {url} is not a JSON object"
        types = document.get("type")
        if not isinstance(types, list) or "BitstringStatusListCredential" not in types:
            return None, f"{url} is not a BitstringStatusListCredential"
        if document.get("id") != url:
            return None, f"the list at {url} has the id {document.get('id')!r}"
        result = verify_credential(document, self._resolve, self._now, self._canonicalizer)
        if not result.verified:
            problems = "; ".join(f"{c.id}: {c.message}" for c in result.problems)
            return None, f"status list {url} does not verify ({problems})"
        return document, ""


def status_checks(credential: Any, lists: StatusLists) -> list[Check]:
    """One check per ``credentialStatus`` entry (none when the credential has none)."""
    entries = credential.get("credentialStatus") if isinstance(credential, dict) else None
    if entries is None:
        return []
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        return [Check(CheckId.STATUS, False, "credentialStatus must be an object or a list")]
    return [_entry_check(credential, entry, lists) for entry in entries]


def _entry_check(credential: Any, entry: Any, lists: StatusLists) -> Check:
    if not isinstance(entry, dict):
        return Check(CheckId.STATUS, False, "a credentialStatus entry is not an object")
    purpose = entry.get("statusPurpose")
    if entry.get("type") != "BitstringStatusListEntry" or purpose not in _CHECK_IDS:
        return Check(
            CheckId.STATUS,
            False,
            f"unsupported status entry (type {entry.get('type')!r}, purpose {purpose!r})",
        )
    check_id = _CHECK_IDS[purpose]
    url = entry.get("statusListCredential")
    if not isinstance(url, str):
        return Check(check_id, False, "the entry has no statusListCredential URL")
    document, problem = lists.verified(url)
    if document is None:
        return Check(check_id, False, problem)
    if _issuer(document) != _issuer(credential):
        return Check(
            check_id,
            False,
            f"status list {url} is issued by {_issuer(document)!r}, "
            f"not by the credential's issuer {_issuer(credential)!r}",
        )
    try:
        set_ = read_status(document, entry)
    except StatusListError as error:
        return Check(check_id, False, f"status list {url}: {error}")
    index = entry.get("statusListIndex")
    if set_:
        return Check(
            check_id,
            False,
            f"{_STATES[purpose].upper()}: bit {index} is set in {url} "
            f"(list valid from {document.get('validFrom')})",
        )
    return Check(check_id, True, f"not {_STATES[purpose]} (bit {index} of {url} is clear)")
