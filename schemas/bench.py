"""Speed of the codec (its Rust reader and writer) against fastavro and the ``avro`` package.

Run ``python -m schemas.bench [records]``; figures are microseconds per record.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import avro.io
import avro.schema
import fastavro

from schemas._codec import Codec
from schemas.models import AssessmentCompleted, Learner


@dataclass(frozen=True)
class CodecBench:
    records: int
    codec_dict_us: float  # Codec.decode_dict (the Rust reader): the hot path
    codec_model_us: float  # Codec.decode: dict + pydantic validation
    fastavro_us: float  # fastavro.schemaless_reader on the same bytes
    avro_package_us: float  # avro.io.DatumReader on the same bytes
    encode_us: float  # Codec.encode from the model (the Rust writer, from its attributes)
    fastavro_encode_us: float  # model_dump + fastavro.schemaless_writer, as the codec did


def _per_record_us(records: int, step: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for i in range(records):
        step(i)
    return (time.perf_counter() - start) / records * 1e6


def bench_codec(records: int = 20_000) -> CodecBench:
    codec = Codec()
    contract = codec.contract(AssessmentCompleted)
    events = [
        AssessmentCompleted(
            event_id=f"00000000-0000-4000-8000-{i:012d}", tenant_id="bench-u",
            engine_id="bench", learner=Learner(id=f"learner-{i}", email=f"l{i}@example.org"),
            course_id="da-101", assessment_id="da-101/m3", score=70.0 + i % 30,
            max_score=100.0, passed=True, attempt=1 + i % 3,
            occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
            attributes={"source": "bench", "cohort": "2026-01"},
        )
        for i in range(min(records, 1000))
    ]  # fmt: skip
    encoded = [codec.encode(e) for e in events]
    bodies = [data[10:] for data in encoded]
    reader = avro.io.DatumReader(avro.schema.parse(contract.current.schema_json))
    n = len(encoded)

    def avro_read(i: int) -> object:
        return reader.read(avro.io.BinaryDecoder(io.BytesIO(bodies[i % n])))

    def fastavro_read(i: int) -> object:
        return fastavro.schemaless_reader(io.BytesIO(bodies[i % n]), contract.current.parsed, None)

    def fastavro_write(i: int) -> object:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, contract.current.parsed, events[i % n].model_dump())
        return buffer.getvalue()

    return CodecBench(
        records=records,
        codec_dict_us=_per_record_us(records, lambda i: codec.decode_dict(encoded[i % n])),
        codec_model_us=_per_record_us(records, lambda i: codec.decode(encoded[i % n])),
        fastavro_us=_per_record_us(records, fastavro_read),
        avro_package_us=_per_record_us(records, avro_read),
        encode_us=_per_record_us(records, lambda i: codec.encode(events[i % n])),
        fastavro_encode_us=_per_record_us(records, fastavro_write),
    )


def main(argv: list[str]) -> None:
    result = bench_codec(int(argv[0]) if argv else 20_000)
    print(
        f"{result.records} AssessmentCompleted records, microseconds per record:\n"
        f"  decode, codec to dict        {result.codec_dict_us:8.2f}\n"
        f"  decode, codec to model       {result.codec_model_us:8.2f}\n"
        f"  decode, fastavro             {result.fastavro_us:8.2f}"
        f"  ({result.fastavro_us / result.codec_dict_us:.1f}x the codec's)\n"
        f"  decode, avro package         {result.avro_package_us:8.2f}"
        f"  ({result.avro_package_us / result.codec_dict_us:.1f}x the codec's)\n"
        f"  encode, codec from the model {result.encode_us:8.2f}\n"
        f"  encode, dump + fastavro      {result.fastavro_encode_us:8.2f}"
        f"  ({result.fastavro_encode_us / result.encode_us:.1f}x the codec's)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
