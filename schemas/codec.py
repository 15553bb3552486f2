"""The codec every producer and consumer uses: framed Avro binary to models or dicts."""

from schemas._codec import (
    CONFLUENT_MAGIC,
    MAX_RECORD_BYTES,
    SINGLE_OBJECT_MAGIC,
    Codec,
    CodecError,
    Decoded,
    DecodeError,
    EncodeError,
    Framing,
    RecordTooLargeError,
    SchemaIds,
    StaticSchemaIds,
    UnknownSchemaError,
)

__all__ = [
    "CONFLUENT_MAGIC",
    "MAX_RECORD_BYTES",
    "SINGLE_OBJECT_MAGIC",
    "Codec",
    "CodecError",
    "DecodeError",
    "Decoded",
    "EncodeError",
    "Framing",
    "RecordTooLargeError",
    "SchemaIds",
    "StaticSchemaIds",
    "UnknownSchemaError",
]
