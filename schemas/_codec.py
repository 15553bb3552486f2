"""Avro binary codec with two framings, detected on decode by the first byte.

- Avro single-object encoding (the default, no registry): ``C3 01`` + the writer schema's
  8-byte little-endian CRC-64-AVRO fingerprint + the Avro binary body.
- Confluent wire format (when a schema registry is configured): ``00`` + 4-byte big-endian
  schema id + the Avro binary body.

Bytes written with the current revision are decoded, and records encoded, by
``credstream_avro_native``, a Rust extension built from ``schemas/avro_native``: it returns
the objects fastavro returns about 5x faster, and writes the bytes fastavro writes about
10x faster (README, performance; ``schemas.bench``). fastavro decodes bytes written with
an older revision (schema resolution), and encodes the values the extension leaves to it
(which it writes or names what is wrong).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from enum import Enum
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, get_args

import fastavro
from credstream_avro_native import Reader, Writer
from pydantic import BaseModel, ValidationError

from credstream.errors import ConfigurationError, InvalidInputError
from schemas._contracts import Contract, Revision, load_contracts, revision

# No contract's record comes near this (events and requests are a few KB): anything
# larger is refused before it is parsed, so a huge record cannot tie up a stage.
MAX_RECORD_BYTES = 1_048_576
SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
_SINGLE_OBJECT_HEADER = len(SINGLE_OBJECT_MAGIC) + 8
_CONFLUENT_HEADER = len(CONFLUENT_MAGIC) + 4

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


class CodecError(InvalidInputError):
    """A record cannot be encoded or decoded."""


class UnknownSchemaError(CodecError):
    """The bytes name a schema (fingerprint, registry id) that this process does not know."""


class DecodeError(CodecError):
    """The bytes do not decode with their schema, or the record breaks the model's rules."""


class RecordTooLargeError(DecodeError):
    """The bytes are larger than the codec accepts (``MAX_RECORD_BYTES`` by default)."""


class EncodeError(CodecError):
    """A record does not fit its schema."""


class SchemaIds(Protocol):
    """What the codec needs from a schema registry: ids both ways."""

    def id_for(self, contract: str, schema_json: str) -> int:
        """The registry id of this schema (registered under the contract's subject)."""
        ...

    def schema_for(self, schema_id: int) -> str | None:
        """The schema text registered with this id, or None when there is none."""
        ...


class StaticSchemaIds:
    """Registry ids pinned in configuration: ``{id: schema JSON}``."""

    def __init__(self, schemas: Mapping[int, str]) -> None:
        self._schemas = dict(schemas)
        self._ids = {revision(i, text).canonical_form: i for i, text in self._schemas.items()}

    def id_for(self, contract: str, schema_json: str) -> int:
        canonical = revision(0, schema_json).canonical_form
        if canonical not in self._ids:
            raise UnknownSchemaError(f"{contract}: the current schema has no registry id")
        return self._ids[canonical]

    def schema_for(self, schema_id: int) -> str | None:
        return self._schemas.get(schema_id)


class Framing(Enum):
    SINGLE_OBJECT = "single-object"
    CONFLUENT = "confluent"


# A NamedTuple: one is made per record decoded, and a frozen dataclass costs ~2.4x as
# much to make (its __init__ sets each field through object.__setattr__).
class Decoded(NamedTuple, Generic[R]):
    """A decoded record with the contract it belongs to and the schema that wrote it."""

    contract: Contract
    writer: Revision
    record: R


N = TypeVar("N", Reader, Writer)


def _native(kind: type[N], current: Revision) -> N | None:
    """The Rust reader or writer of a revision; None for a schema it does not support."""
    try:
        return kind(current.schema)
    except ValueError:
        return None


def _dumps_as_attributes(model: type[BaseModel]) -> bool:
    """Whether ``model_dump()`` of the model, and of every model in its fields, holds the
    attributes as they are: no serializers, computed or excluded fields."""
    decorators = model.__pydantic_decorators__
    if decorators.field_serializers or decorators.model_serializers:
        return False
    if model.model_computed_fields or any(f.exclude for f in model.model_fields.values()):
        return False
    nested = {
        kind
        for field in model.model_fields.values()
        for kind in _types_in(field.annotation)
        if isinstance(kind, type) and issubclass(kind, BaseModel)
    }
    return all(_dumps_as_attributes(kind) for kind in nested)


def _types_in(annotation: Any) -> list[Any]:
    """The annotation and every type argument in it (``tuple[Evidence, ...]``: Evidence)."""
    return [annotation, *(t for argument in get_args(annotation) for t in _types_in(argument))]


class Codec:
    """Encode models (or plain dicts) to framed Avro bytes and back.

    Without ``registry`` it writes single-object encoding; with one, the Confluent wire
    format. It reads both either way (a registry is needed for Confluent-framed bytes).
    It refuses to decode more than ``max_record_bytes`` (None: no limit, for tools that
    read dead letters, whose envelopes hold whatever was refused).
    """

    def __init__(
        self,
        contracts: tuple[Contract, ...] | None = None,
        registry: SchemaIds | None = None,
        max_record_bytes: int | None = MAX_RECORD_BYTES,
    ) -> None:
        self._contracts = contracts if contracts is not None else load_contracts()
        self._registry = registry
        self._max_record_bytes = max_record_bytes
        self._by_name = {c.name: c for c in self._contracts}
        self._by_model = {c.model: c for c in self._contracts}
        self._by_full_name = {c.full_name: c for c in self._contracts}
        self._readers = {c.name: _native(Reader, c.current) for c in self._contracts}
        self._writers = {c.name: _native(Writer, c.current) for c in self._contracts}
        # Models whose dump is their attributes as they are: written without the dump.
        self._attribute_writers = {
            c.model: self._writers[c.name]
            for c in self._contracts
            if self._writers[c.name] is not None and _dumps_as_attributes(c.model)
        }
        # The current revision wins its fingerprint, so current-schema bytes skip resolution.
        self._by_fingerprint = {r.fingerprint: (c, r) for c in self._contracts for r in c.history}
        self._by_fingerprint.update(
            {c.current.fingerprint: (c, c.current) for c in self._contracts}
        )
        # Filled lazily from the registry: ids are only known once a schema is looked up.
        self._headers: dict[str, bytes] = {}
        self._by_id: dict[int, tuple[Contract, Revision]] = {}

    @property
    def framing(self) -> Framing:
        return Framing.CONFLUENT if self._registry else Framing.SINGLE_OBJECT

    @property
    def contracts(self) -> tuple[Contract, ...]:
        return self._contracts

    def contract(self, name_or_model: str | type[BaseModel]) -> Contract:
        found = (
            self._by_name.get(name_or_model)
            if isinstance(name_or_model, str)
            else self._by_model.get(name_or_model)
        )
        if found is None:
            raise ConfigurationError(f"no contract for {name_or_model!r}")
        return found

    # -- encoding --------------------------------------------------------------------

    def encode(self, record: BaseModel) -> bytes:
        contract = self.contract(type(record))
        native = self._attribute_writers.get(contract.model)
        if native is None:
            return self.encode_dict(contract.name, record.model_dump())
        encoded = native.write(self._header(contract), record)
        # What the writer left from the attributes it would leave from the dump too.
        return (
            encoded if encoded is not None else self._fastavro_encode(contract, record.model_dump())
        )

    def encode_dict(self, contract_name: str, record: Mapping[str, Any]) -> bytes:
        contract = self.contract(contract_name)
        native = self._writers[contract.name]
        encoded = native.write(self._header(contract), record) if native is not None else None
        if encoded is not None:
            return encoded
        return self._fastavro_encode(contract, record)

    def _fastavro_encode(self, contract: Contract, record: Mapping[str, Any]) -> bytes:
        header = self._header(contract)
        buffer = io.BytesIO()
        buffer.write(header)
        try:
            fastavro.schemaless_writer(buffer, contract.current.parsed, record)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
            raise EncodeError(f"{contract.name}: {type(error).__name__}: {error}") from None
        return buffer.getvalue()

    def _header(self, contract: Contract) -> bytes:
        if self._registry is None:
            return SINGLE_OBJECT_MAGIC + contract.current.fingerprint
        header = self._headers.get(contract.name)
        if header is None:
            schema_id = self._registry.id_for(contract.name, contract.current.schema_json)
            header = CONFLUENT_MAGIC + schema_id.to_bytes(4, "big")
            self._headers[contract.name] = header
        return header

    # -- decoding --------------------------------------------------------------------

    def decode(self, data: bytes) -> Decoded[BaseModel]:
        """Decode to the contract's model (validated)."""
        decoded = self.decode_dict(data)
        return Decoded(decoded.contract, decoded.writer, _validate(decoded))

    def decode_as(self, data: bytes, model: type[M]) -> M:
        """Decode bytes that must belong to ``model``'s contract."""
        decoded = self.decode_dict(data)
        if decoded.contract.model is not model:
            raise DecodeError(f"expected a {model.__name__} record, got {decoded.contract.name}")
        record = _validate(decoded)
        assert isinstance(record, model)
        return record

    def decode_dict(self, data: bytes) -> Decoded[dict[str, Any]]:
        """Decode to a plain dict (the hot path: no model validation)."""
        if isinstance(data, bytes | bytearray) and self._over_limit(data):
            raise RecordTooLargeError(
                f"record of {len(data)} bytes: larger than {self._max_record_bytes} bytes"
            )
        contract, writer, offset = self._writer_of(data)
        native = self._readers[contract.name] if writer is contract.current else None
        try:
            if native is not None and isinstance(data, bytes):
                record, end = native.read(data, offset)
            else:
                reader = None if writer is contract.current else contract.current.parsed
                buffer = io.BytesIO(data)
                buffer.seek(offset)
                record = fastavro.schemaless_reader(buffer, writer.parsed, reader)
                end = buffer.tell()
        # Arbitrary bytes make a decoder fail in many ways (EOF, bad UTF-8, bad union index,
        # overflow...): all of them mean the same thing to a consumer.
        except Exception as error:
            raise DecodeError(
                f"{contract.name}: bytes do not decode with schema revision {writer.number} "
                f"({type(error).__name__}: {error})"
            ) from None
        if end != len(data):
            raise DecodeError(f"{contract.name}: {len(data) - end} trailing bytes after the record")
        if not isinstance(record, dict):
            raise DecodeError(f"{contract.name}: not a record")
        return Decoded(contract, writer, record)

    def _over_limit(self, data: bytes | bytearray) -> bool:
        return self._max_record_bytes is not None and len(data) > self._max_record_bytes

    def writer_fingerprint(self, data: bytes) -> bytes:
        """The CRC-64-AVRO fingerprint of the schema that wrote ``data`` (what engines sign)."""
        return self._writer_of(data)[1].fingerprint

    def _writer_of(self, data: bytes) -> tuple[Contract, Revision, int]:
        if not isinstance(data, bytes | bytearray):  # a tombstone's None, from untyped clients
            raise DecodeError(f"expected bytes, got {type(data).__name__}")
        if data[:2] == SINGLE_OBJECT_MAGIC:
            if len(data) < _SINGLE_OBJECT_HEADER:
                raise DecodeError("truncated single-object header")
            found = self._by_fingerprint.get(data[2:_SINGLE_OBJECT_HEADER])
            if found is None:
                raise UnknownSchemaError(
                    f"unknown schema fingerprint {data[2:_SINGLE_OBJECT_HEADER].hex()}"
                )
            return found[0], found[1], _SINGLE_OBJECT_HEADER
        if data[:1] == CONFLUENT_MAGIC:
            if len(data) < _CONFLUENT_HEADER:
                raise DecodeError("truncated Confluent wire-format header")
            schema_id = int.from_bytes(data[1:_CONFLUENT_HEADER], "big")
            contract, writer = self._registered(schema_id)
            return contract, writer, _CONFLUENT_HEADER
        raise UnknownSchemaError(
            f"not single-object (C3 01) or Confluent (00) framing: starts with {data[:2].hex()}"
        )

    def _registered(self, schema_id: int) -> tuple[Contract, Revision]:
        found = self._by_id.get(schema_id)
        if found is not None:
            return found
        if self._registry is None:
            raise UnknownSchemaError(
                f"Confluent-framed record (schema id {schema_id}) but no registry configured"
            )
        text = self._registry.schema_for(schema_id)
        if text is None:
            raise UnknownSchemaError(f"schema id {schema_id} is not in the registry")
        try:
            writer = revision(schema_id, text)
        except ConfigurationError as error:
            raise UnknownSchemaError(f"schema id {schema_id}: {error}") from None
        known = self._by_fingerprint.get(writer.fingerprint)
        contract = known[0] if known else self._by_full_name.get(str(writer.parsed.get("name")))
        if contract is None:
            raise UnknownSchemaError(f"schema id {schema_id} is not one of our contracts")
        found = (contract, known[1] if known else writer)
        self._by_id[schema_id] = found
        return found


def _validate(decoded: Decoded[dict[str, Any]]) -> BaseModel:
    try:
        return decoded.contract.model.model_validate(decoded.record)
    except ValidationError as error:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise DecodeError(f"{decoded.contract.name}: {fields}") from None
