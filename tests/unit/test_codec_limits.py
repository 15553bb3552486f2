"""The codec refuses oversized records unread; dead-letter topics take them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.codec import MAX_RECORD_BYTES, Codec, DecodeError, RecordTooLargeError
from schemas.models import AssessmentCompleted, DeadLetter, Learner
from schemas.topics import DEAD_LETTER_MAX_BYTES, Topology

NOW = datetime(2026, 1, 5, 8, tzinfo=UTC)


def _event(blob: int) -> AssessmentCompleted:
    return AssessmentCompleted(
        event_id="e-1", tenant_id="acme", engine_id="lms", learner=Learner(id="l-1"),
        course_id="c", assessment_id="c/a", score=1, max_score=1, occurred_at=NOW,
        attributes={"blob": "x" * blob},
    )  # fmt: skip


def test_a_record_over_the_limit_is_refused_before_it_is_parsed() -> None:
    codec = Codec()
    big = codec.encode(_event(MAX_RECORD_BYTES))
    with pytest.raises(RecordTooLargeError, match=f"{len(big)} bytes: larger than"):
        codec.decode_dict(big)
    assert issubclass(RecordTooLargeError, DecodeError)  # a stage dead-letters it like one
    # Even bytes that are not a record at all are refused by size first.
    with pytest.raises(RecordTooLargeError):
        codec.decode(b"\x07" * (MAX_RECORD_BYTES + 1))


def test_a_record_within_the_limit_decodes() -> None:
    codec = Codec()
    event = _event(MAX_RECORD_BYTES - 1000)
    assert codec.decode_as(codec.encode(event), AssessmentCompleted) == event


def test_without_a_limit_a_dead_letter_of_a_refused_record_decodes() -> None:
    big = b"\x07" * (MAX_RECORD_BYTES + 1)
    letter = DeadLetter(
        source_topic="t", source_partition=0, source_offset=1, original_value=big,
        stage="processor", error_class="RecordTooLargeError", error_message="", failed_at=NOW,
    )  # fmt: skip
    wide = Codec(max_record_bytes=None)
    assert wide.decode_as(wide.encode(letter), DeadLetter).original_value == big
    with pytest.raises(RecordTooLargeError):
        Codec().decode_as(wide.encode(letter), DeadLetter)


def test_dead_letter_topics_take_a_wrapped_record_of_the_largest_size() -> None:
    room = MAX_RECORD_BYTES + 64_000  # the envelope's own fields and headers
    assert room < DEAD_LETTER_MAX_BYTES
    topology = Topology("x.")
    for source in (topology.assessments, topology.requests, topology.issued, topology.status):
        config = topology.dead_letters(source).config
        assert int(config["max.message.bytes"]) == DEAD_LETTER_MAX_BYTES
