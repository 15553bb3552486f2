"""The codec's framings, its typed errors, and a fuzz test: random bytes never crash it."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.codec import (
    Codec,
    CodecError,
    DecodeError,
    EncodeError,
    Framing,
    StaticSchemaIds,
    UnknownSchemaError,
)
from schemas.contracts import load_contracts
from schemas.models import AssessmentCompleted, CredentialStatusChange, Learner

CONTRACTS = load_contracts()
CODEC = Codec(CONTRACTS)
EVENT = AssessmentCompleted(
    event_id="e-1", tenant_id="uni", engine_id="lms", learner=Learner(id="l-1"),
    course_id="da-101", assessment_id="da-101/m1", score=9.0, max_score=10.0,
    occurred_at=datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
)  # fmt: skip
ASSESSMENT = CODEC.contract(AssessmentCompleted)


def _registry() -> StaticSchemaIds:
    return StaticSchemaIds({41 + i: c.current.schema_json for i, c in enumerate(CONTRACTS)})


def test_single_object_encoding_is_the_default() -> None:
    data = CODEC.encode(EVENT)
    assert CODEC.framing is Framing.SINGLE_OBJECT
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == ASSESSMENT.current.fingerprint
    assert CODEC.writer_fingerprint(data) == ASSESSMENT.current.fingerprint
    assert CODEC.decode_as(data, AssessmentCompleted) == EVENT


def test_confluent_wire_format_with_a_registry() -> None:
    codec = Codec(CONTRACTS, registry=_registry())
    data = codec.encode(EVENT)
    assert codec.framing is Framing.CONFLUENT
    assert data[:5] == b"\x00\x00\x00\x00\x29"  # magic 0, schema id 41 big-endian
    assert data[5:] == CODEC.encode(EVENT)[10:]  # same Avro body
    assert codec.decode(data).record == EVENT
    assert codec.writer_fingerprint(data) == ASSESSMENT.current.fingerprint
    # A consumer with a registry still reads single-object records (migration).
    assert codec.decode(CODEC.encode(EVENT)).record == EVENT


def test_confluent_framing_without_or_outside_the_registry_is_unknown() -> None:
    data = Codec(CONTRACTS, registry=_registry()).encode(EVENT)
    with pytest.raises(UnknownSchemaError, match="no registry configured"):
        CODEC.decode(data)
    with pytest.raises(UnknownSchemaError, match="schema id 7 is not in the registry"):
        Codec(CONTRACTS, registry=_registry()).decode(b"\x00\x00\x00\x00\x07" + data[5:])
    foreign = StaticSchemaIds({3: '{"type": "record", "name": "x.Other", "fields": []}'})
    with pytest.raises(UnknownSchemaError, match="not one of our contracts"):
        Codec(CONTRACTS, registry=foreign).decode(b"\x00\x00\x00\x00\x03")
    with pytest.raises(UnknownSchemaError, match="has no registry id"):
        Codec(CONTRACTS, registry=foreign).encode(EVENT)


def test_unknown_fingerprint_and_framing_are_named() -> None:
    with pytest.raises(UnknownSchemaError, match="unknown schema fingerprint 0102030405060708"):
        CODEC.decode(b"\xc3\x01\x01\x02\x03\x04\x05\x06\x07\x08\x00")
    with pytest.raises(UnknownSchemaError, match="starts with 7b22"):
        CODEC.decode(b'{"event_id": 1}')
    with pytest.raises(UnknownSchemaError):
        CODEC.decode(b"")


def test_truncated_and_trailing_bytes_are_decode_errors() -> None:
    data = CODEC.encode(EVENT)
    with pytest.raises(DecodeError, match="truncated single-object header"):
        CODEC.decode(data[:6])
    with pytest.raises(DecodeError, match=r"assessment\.completed\.v1: bytes do not decode"):
        CODEC.decode(data[:-3])
    with pytest.raises(DecodeError, match="2 trailing bytes"):
        CODEC.decode(data + b"\x00\x00")
    with pytest.raises(DecodeError, match="expected bytes, got NoneType"):
        CODEC.decode(None)  # type: ignore[arg-type]


def test_a_record_that_breaks_the_model_is_a_decode_error_naming_the_field() -> None:
    record = EVENT.model_dump() | {"event_id": ""}
    data = CODEC.encode_dict("assessment.completed.v1", record)
    assert CODEC.decode_dict(data).record["event_id"] == ""  # the hot path does not validate
    with pytest.raises(DecodeError, match="event_id: String should have at least 1 character"):
        CODEC.decode(data)


def test_decode_as_refuses_another_contract() -> None:
    with pytest.raises(DecodeError, match="expected a CredentialStatusChange record"):
        CODEC.decode_as(CODEC.encode(EVENT), CredentialStatusChange)


def test_encoding_a_dict_that_does_not_fit_is_an_encode_error() -> None:
    with pytest.raises(EncodeError, match=r"assessment\.completed\.v1"):
        CODEC.encode_dict("assessment.completed.v1", {"event_id": "e"})


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_codec_errors(data: bytes) -> None:
    with contextlib.suppress(CodecError):
        CODEC.decode(data)


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from([c.current.fingerprint for c in CONTRACTS]),
    st.binary(max_size=300),
)
def test_random_bodies_behind_a_valid_header_raise_only_codec_errors(
    fingerprint: bytes, body: bytes
) -> None:
    with contextlib.suppress(CodecError):
        CODEC.decode(b"\xc3\x01" + fingerprint + body)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=60), st.integers(min_value=0, max_value=200))
def test_mutated_valid_records_raise_only_codec_errors(patch: bytes, at: int) -> None:
    data = bytearray(CODEC.encode(EVENT))
    at = 10 + at % (len(data) - 10)
    data[at : at + len(patch)] = patch
    with contextlib.suppress(CodecError):
        CODEC.decode(bytes(data))
