"""The Rust Avro reader returns what fastavro returns, and fails where fastavro fails; the
writer writes what fastavro writes, and leaves to fastavro the values it does not take."""

from __future__ import annotations

import io
import json
import re
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

import fastavro
import pytest
from credstream_avro_native import Reader, Writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas._contracts import load_contracts
from schemas.codec import Codec, DecodeError, EncodeError
from schemas.models import AssessmentCompleted, Learner

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


# What the writer supports (no float; unions of null and one type), every kind of it.
WRITABLE: dict[str, Any] = {
    **EVERY_KIND,
    "name": "Writable",
    "fields": [
        *(f for f in EVERY_KIND["fields"] if f["name"] not in ("single", "inner", "inners")),
        {
            "name": "inner",
            "type": {
                "type": "record",
                "name": "Inner",
                "fields": [
                    {"name": "maybe", "type": ["null", "string"]},
                    {"name": "colour", "type": ["Colour", "null"]},
                    {"name": "flag", "type": ["null", "boolean"]},
                    {"name": "raw", "type": ["null", "bytes"]},
                    {"name": "count", "type": ["null", "long"]},
                    {"name": "tags", "type": ["null", {"type": "map", "values": "string"}]},
                ],
            },
        },
        {"name": "inners", "type": {"type": "array", "items": "test.avro.Inner"}},
    ],
}
WRITABLE_SCHEMAS = [WRITABLE] + [json.loads(c.current.schema_json) for c in load_contracts()]


@pytest.mark.parametrize("schema", WRITABLE_SCHEMAS, ids=lambda s: s["name"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_records_write_as_fastavro_writes_them(schema: Any, data: st.DataObject) -> None:
    value = data.draw(values_of(schema, {}))
    as_tuples = data.draw(st.booleans())  # arrays as tuples, as models hold them
    if as_tuples:
        value = _lists_to_tuples(value)
    assert Writer(schema).write(b"\xc3\x01", value) == b"\xc3\x01" + write(schema, value)


def _lists_to_tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_lists_to_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _lists_to_tuples(item) for key, item in value.items()}
    return value


def test_records_are_read_from_attributes_too() -> None:
    event = AssessmentCompleted(
        event_id="e", tenant_id="t", engine_id="g", learner=Learner(id="l"), course_id="c",
        assessment_id="a", score=1, max_score=2.5, occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    schema = json.loads(Codec().contract(AssessmentCompleted).current.schema_json)
    assert Writer(schema).write(b"", event) == write(schema, event.model_dump())


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "long", "logicalType": "timestamp-millis"}, datetime(2026, 1, 1)),  # naive
        ("long", 2.0),
        ("long", True),
        ("long", 2**63),  # fastavro writes a longer varint
        ("double", "1.5"),
        ("boolean", 1),
        ("string", "\udc80"),  # a lone surrogate: not UTF-8
        ("bytes", bytearray(b"x")),
        ({"type": "enum", "name": "E", "symbols": ["A"]}, "B"),
        ({"type": "fixed", "name": "F", "size": 2}, b"x"),
        (["null", "string"], ("string", "x")),  # fastavro's (branch, value) notation
        (["null", "string"], 5),
        ({"type": "map", "values": "long"}, {1: 2}),
        ({"type": "array", "items": "long"}, {1, 2}),
        ({"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]}, {}),
        ({"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]}, object()),
    ],
)
def test_values_it_does_not_take_are_left_to_fastavro(schema: Any, value: Any) -> None:
    assert Writer(schema).write(b"", value) is None


@pytest.mark.parametrize(
    "schema",
    [
        "float",
        ["null", "string", "long"],
        ["string", "long"],
        ["null", {"type": "record", "name": "R", "fields": []}],
        ["null", {"type": "array", "items": "long"}],
        {"type": "int", "logicalType": "date"},
    ],
)
def test_schemas_the_writer_does_not_support_are_refused_at_construction(schema: Any) -> None:
    with pytest.raises(ValueError):
        Writer(schema)


def test_the_codec_encodes_natively_with_fastavros_results_and_errors_otherwise() -> None:
    codec = Codec()
    contract = codec.contract("credential.status.v1")
    record = {"credential_id": "c", "tenant_id": "t", "action": "revoke", "reason": None}
    aware = {**record, "requested_at": datetime(2026, 11, 30, tzinfo=UTC)}
    header = codec.encode_dict(contract.name, aware)[:10]
    assert codec.encode_dict(contract.name, aware) == header + write(contract.current.schema, aware)
    # Left to fastavro: written as fastavro writes it, or refused with its reason.
    naive = {**record, "requested_at": datetime(2026, 11, 30)}
    assert codec.encode_dict(contract.name, naive) == header + write(contract.current.schema, naive)
    with pytest.raises(EncodeError, match=r"credential\.status\.v1: ValueError: .*'cancel'"):
        codec.encode_dict(contract.name, {**aware, "action": "cancel"})
    # A model's attributes the writer leaves go to fastavro too, by its dump.
    model = contract.model.model_validate(naive)
    assert codec.encode(model) == header + write(contract.current.schema, model.model_dump())
