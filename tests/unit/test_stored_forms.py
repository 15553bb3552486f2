"""The stored bytes of a credential and its dates stay what earlier releases wrote.

A retry re-signs a request and writes with ``If-None-Match: *``: the store compares the
bytes, so a faster serializer or date formatter must produce exactly the old ones.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from signers.credential import xsd_datetime
from signers.service import credential_json

# What credentials hold: strings (any code point but lone surrogates, which no UTF-8
# encoder accepts), 64-bit integers, booleans, null, lists and objects.
_text = st.text(st.characters(blacklist_categories=("Cs",)))
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(_text, _json, max_size=6))
def test_credential_json_is_the_compact_json_dumps_encoding(credential: dict[str, Any]) -> None:
    expected = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode()
    assert credential_json(credential) == expected


def test_credential_json_keeps_the_builders_key_order_and_escapes() -> None:
    made = credential_json({"z": 'a\nb\x01\u2028é"\\', "a": [1, True, None]})
    assert made == '{"z":"a\\nb\\u0001\u2028é\\"\\\\","a":[1,true,null]}'.encode()


def _strftime_form(moment: datetime) -> str:
    # The formula of earlier releases.
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = moment.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


_offsets = st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))


@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30)),
    _offsets.map(timezone),
)
def test_xsd_datetime_matches_the_earlier_formula(naive: datetime, zone: timezone) -> None:
    assert xsd_datetime(naive.replace(tzinfo=zone)) == _strftime_form(naive.replace(tzinfo=zone))


def test_xsd_datetime_writes_milliseconds_only_when_there_are_any() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert xsd_datetime(moment) == "2026-03-04T05:06:07Z"
    assert xsd_datetime(moment.replace(microsecond=999)) == "2026-03-04T05:06:07Z"
    assert xsd_datetime(moment.replace(microsecond=45_678)) == "2026-03-04T05:06:07.045Z"
    east = timezone(timedelta(hours=2))
    assert xsd_datetime(datetime(2026, 1, 1, 1, 0, tzinfo=east)) == "2025-12-31T23:00:00Z"
