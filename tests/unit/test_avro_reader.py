"""The Rust Avro reader returns what fastavro returns, and fails where fastavro fails."""

from __future__ import annotations

import io
import json
import re
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

import fastavro
import pytest
from credstream_avro_reader import Reader
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas._contracts import load_contracts
from schemas.codec import Codec, DecodeError

# Every kind of node the reader compiles, nested and named, with references by name.
EVERY_KIND: dict[str, Any] = {
    "type": "record",
    "name": "Everything",
    "namespace": "test.avro",
    "fields": [
        {"name": "null", "type": "null"},
        {"name": "flag", "type": "boolean"},
        {"name": "small", "type": "int"},
        {"name": "big", "type": "long"},
        {"name": "single", "type": "float"},
        {"name": "double", "type": "double"},
        {"name": "raw", "type": "bytes"},
        {"name": "text", "type": "string"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
        {"name": "colour", "type": {"type": "enum", "name": "Colour", "symbols": ["RED", "BLUE"]}},
        {
            "name": "inner",
            "type": {
                "type": "record",
                "name": "Inner",
                "fields": [{"name": "maybe", "type": ["null", "string", "Colour"]}],
            },
        },
        {"name": "inners", "type": {"type": "array", "items": "test.avro.Inner"}},
        {"name": "digests", "type": {"type": "map", "values": "Digest"}},
    ],
}
TIMES = st.integers(-62_135_596_800_000, 253_402_300_799_999).map(
    lambda ms: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
)
TEXT = st.text(max_size=12)


def values_of(schema: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Hypothesis values that fastavro can write with ``schema``."""
    if isinstance(schema, list):
        return st.one_of(*(values_of(branch, named) for branch in schema))
    if isinstance(schema, str):
        primitives: dict[str, st.SearchStrategy[Any]] = {
            "null": st.none(),
            "boolean": st.booleans(),
            "int": st.integers(-(2**31), 2**31 - 1),
            "long": st.integers(-(2**63), 2**63 - 1),
            "float": st.floats(width=32, allow_nan=False),
            "double": st.floats(allow_nan=False),
            "bytes": st.binary(max_size=12),
            "string": TEXT,
        }
        if schema in primitives:
            return primitives[schema]
        return values_of(named.get(schema) or named[f"test.avro.{schema}"], named)
    kind = schema["type"]
    if schema.get("logicalType") == "timestamp-millis":
        return TIMES
    if kind == "record":
        named[schema["name"]] = named[
            f"{schema.get('namespace', 'test.avro')}.{schema['name']}"
        ] = schema
        return st.fixed_dictionaries(
            {field["name"]: values_of(field["type"], named) for field in schema["fields"]}
        )
    if kind == "enum":
        named[schema["name"]] = schema
        return st.sampled_from(schema["symbols"])
    if kind == "fixed":
        named[schema["name"]] = schema
        return st.binary(min_size=schema["size"], max_size=schema["size"])
    if kind == "array":
        return st.lists(values_of(schema["items"], named), max_size=4)
    if kind == "map":
        return st.dictionaries(TEXT, values_of(schema["values"], named), max_size=4)
    return values_of(kind, named)


def fastavro_read(schema: Any, data: bytes) -> tuple[Any, int]:
    buffer = io.BytesIO(data)
    value = fastavro.schemaless_reader(buffer, fastavro.parse_schema(schema), None)
    return value, buffer.tell()


def write(schema: Any, value: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), value)
    return buffer.getvalue()


def outcome(read: Any, schema: Any, data: bytes) -> tuple[str, Any]:
    try:
        return "value", read(schema, data)
    except Exception as error:  # any failure means the same: the bytes do not decode
        return "error", str(error)


def native_read(schema: Any, data: bytes) -> tuple[Any, int]:
    value, end = Reader(schema).read(data, 0)
    return value, end


SCHEMAS = [EVERY_KIND] + [json.loads(c.current.schema_json) for c in load_contracts()]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s["name"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_records_read_back_as_fastavro_reads_them(schema: Any, data: st.DataObject) -> None:
    value = data.draw(values_of(schema, {}))
    encoded = write(schema, value)
    assert native_read(schema, encoded) == fastavro_read(schema, encoded)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s["name"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_bytes_fail_or_read_as_fastavro_reads_them(
    schema: Any, data: st.DataObject
) -> None:
    encoded = bytearray(write(schema, data.draw(values_of(schema, {}))))
    # Flip, cut or append bytes: mostly failures, sometimes other valid records.
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.integers(0, max(0, len(encoded) - 1)))
        action = data.draw(st.sampled_from(["flip", "cut", "append"]))
        if action == "flip" and encoded:
            encoded[where] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del encoded[where:]
        else:
            encoded += data.draw(st.binary(min_size=1, max_size=4))
    damaged = bytes(encoded)
    native = outcome(native_read, schema, damaged)
    reference = outcome(fastavro_read, schema, damaged)
    if native[0] == reference[0] == "error":
        return
    if native[0] == "error":
        # Stricter where fastavro reads what is not Avro (Java's reader refuses both): a
        # varint of more than 10 bytes (fastavro's shifts wrap around), and a negative
        # union or enum index (fastavro indexes its list from the end).
        assert re.search(r"varint longer than 10 bytes|index -\d+ out of range", native[1])
        return
    # Compared as text: damage can make a NaN, which is not equal to itself.
    assert repr(native) == repr(reference)


def test_arrays_and_maps_in_blocks_with_byte_sizes() -> None:
    # Writers may prefix a block with a negative count and its size in bytes.
    schema = {"type": "array", "items": "long"}
    data = bytes([3, 4, 2, 4, 2, 10, 0])  # count -2, size 2, items 1 2; count 1, item 5
    assert native_read(schema, data) == fastavro_read(schema, data) == ([1, 2, 5], 7)


def test_a_block_count_beyond_the_bytes_left_is_refused_at_once() -> None:
    # 2**40 items claimed, 3 bytes given: no loop over the claim.
    data = write("long", 2**40) + b"\x02\x04"
    for schema in ({"type": "array", "items": "long"}, {"type": "map", "values": "long"}):
        with pytest.raises(ValueError, match="items in fewer bytes"):
            native_read(schema, data)


def test_timestamps_at_the_ends_of_the_calendar() -> None:
    schema = {"type": "long", "logicalType": "timestamp-millis"}
    for value in (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999000, UTC)):
        encoded = write(schema, value)
        assert native_read(schema, encoded) == fastavro_read(schema, encoded)
        assert native_read(schema, encoded)[0] == value
    beyond = write("long", 253_402_300_800_000)  # 10000-01-01
    assert outcome(native_read, schema, beyond)[0] == "error"
    assert outcome(fastavro_read, schema, beyond)[0] == "error"


def test_a_float_reads_as_the_double_of_its_32_bits() -> None:
    data = struct.pack("<f", 0.1)
    assert native_read("float", data) == fastavro_read("float", data)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "int", "logicalType": "date"},
        {"type": "bytes", "logicalType": "decimal", "precision": 4},
        {"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]},
        {"type": "array", "items": "null"},  # block counts could not be bounded by the bytes
        "NoSuchType",
    ],
)
def test_schemas_it_does_not_support_are_refused_at_construction(schema: Any) -> None:
    with pytest.raises(ValueError):
        Reader(schema)


def test_the_codec_reads_current_records_natively_with_fastavros_errors_otherwise() -> None:
    codec = Codec()
    contract = codec.contract("credential.status.v1")
    at = datetime(2026, 11, 30, tzinfo=UTC)
    record = {"credential_id": "c", "tenant_id": "t", "action": "revoke", "requested_at": at}
    encoded = codec.encode_dict(contract.name, {**record, "reason": None})
    assert codec.decode_dict(encoded).record == {**record, "reason": None}
    with pytest.raises(DecodeError, match="trailing bytes"):
        codec.decode_dict(encoded + b"\x00")
    with pytest.raises(DecodeError, match="do not decode with schema revision"):
        codec.decode_dict(encoded[:-3])
