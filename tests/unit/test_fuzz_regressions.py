"""Inputs the fuzzing scenario (tests/system/test_14_fuzz.py) found crashing a parser with
an untyped error; each must now be a typed rejection naming the problem."""

from __future__ import annotations

import base64
import gzip

import pytest

from processors.catalog import CatalogError, parse_catalog
from producers.adapters import AdapterContext, RejectedFileError, convert_text
from signers.status import Bitstring, StatusListError, read_status
from signers.status._bitstring import MAX_DECODED_BYTES

CONTEXT = AdapterContext(tenant_id="acme", engine_id="lms")
ENTRY = {"statusPurpose": "revocation", "statusListIndex": "3"}


def test_a_csv_file_the_csv_module_cannot_read_is_rejected_naming_the_line() -> None:
    text = "learner_id,course_id\nl-1,c\n\x81H[\rz\n"  # a bare CR inside an unquoted field
    with pytest.raises(RejectedFileError) as raised:
        convert_text(text, "csv", CONTEXT, source="results.csv")
    assert any("not valid CSV" in str(p) for p in raised.value.problems)


@pytest.mark.parametrize(
    ("listed", "entry"),
    [
        (None, ENTRY),
        ({"credentialSubject": None}, ENTRY),
        ({"credentialSubject": {"statusPurpose": "revocation"}}, None),
        ({"credentialSubject": {"statusPurpose": "revocation"}},
         {**ENTRY, "statusListIndex": [3]}),
        ({"credentialSubject": {"statusPurpose": "revocation", "encodedList": 7}}, ENTRY),
    ],
)  # fmt: skip
def test_status_list_shapes_from_outside_are_rejected(listed: object, entry: object) -> None:
    with pytest.raises(StatusListError):
        read_status(listed, entry)


def test_a_status_list_that_inflates_past_the_bound_is_rejected() -> None:
    bomb = gzip.compress(bytes(MAX_DECODED_BYTES + 1))  # ~16 KB that inflates to 16 MiB
    encoded = "u" + base64.urlsafe_b64encode(bomb).rstrip(b"=").decode()
    with pytest.raises(StatusListError, match="more than"):
        Bitstring.decode(encoded)
    truncated = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(100))[:-12]).decode()
    with pytest.raises(StatusListError, match="does not decode"):
        Bitstring.decode(truncated)


def test_a_yaml_mapping_key_that_is_a_list_is_a_catalog_error() -> None:
    with pytest.raises(CatalogError, match="a mapping key must be a plain value"):
        parse_catalog("? [a, b]\n: 1\n", "fuzz.yaml")
