"""Compare a pydantic model with the Avro schema it mirrors, field by field, both ways."""

from __future__ import annotations

import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

_PRIMITIVES: dict[str, type] = {
    "string": str,
    "int": int,
    "long": int,
    "float": float,
    "double": float,
    "boolean": bool,
    "bytes": bytes,
}


def schema_drift(model: type[BaseModel], schema: dict[str, Any], path: str = "") -> list[str]:
    """Differences between ``model`` and the Avro record ``schema``; empty when in step.

    Checks names, types, optionality (``T | None`` iff a union with null) and defaults.
    """
    problems: list[str] = []
    avro_fields = {field["name"]: field for field in schema["fields"]}
    model_fields = model.model_fields
    for name in avro_fields.keys() - model_fields.keys():
        problems.append(f"{path}{name}: in the schema, not in {model.__name__}")
    for name in model_fields.keys() - avro_fields.keys():
        problems.append(f"{path}{name}: in {model.__name__}, not in the schema")
    for name in avro_fields.keys() & model_fields.keys():
        field = model_fields[name]
        avro_field = avro_fields[name]
        where = f"{path}{name}"
        problems += _type_drift(field.annotation, avro_field["type"], where)
        problems += _default_drift(field, avro_field, where)
    return sorted(problems)


def _default_drift(field: Any, avro_field: dict[str, Any], where: str) -> list[str]:
    has_avro_default = "default" in avro_field
    if field.is_required():
        return [f"{where}: the schema has a default, the model requires it"] * has_avro_default
    if not has_avro_default:
        return [f"{where}: the model has a default, the schema does not"]
    default = field.default_factory() if field.default is PydanticUndefined else field.default
    if _plain(default) != avro_field["default"]:
        return [f"{where}: default {default!r} in the model, {avro_field['default']!r} in schema"]
    return []


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def _type_drift(annotation: Any, avro_type: Any, where: str) -> list[str]:
    if isinstance(avro_type, list):
        return _union_drift(annotation, avro_type, where)
    if _members(annotation) is not None:
        return [f"{where}: optional in the model, not in the schema"]
    if isinstance(avro_type, str):
        expected = _PRIMITIVES.get(avro_type)
        return [] if annotation is expected else [f"{where}: {annotation} vs Avro {avro_type}"]
    kind = avro_type["type"]
    if avro_type.get("logicalType") == "timestamp-millis" and kind == "long":
        return [] if annotation is datetime else [f"{where}: {annotation} vs timestamp-millis"]
    if kind == "record":
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return schema_drift(annotation, avro_type, f"{where}.")
        return [f"{where}: {annotation} vs Avro record"]
    if kind == "enum":
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            values = [member.value for member in annotation]
            if values == avro_type["symbols"]:
                return []
        return [f"{where}: {annotation} vs Avro enum {avro_type['symbols']}"]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if kind == "map" and origin is dict and args[0] is str:
        return _type_drift(args[1], avro_type["values"], f"{where}[]")
    if kind == "array" and origin in (tuple, list):
        if origin is tuple and (len(args) != 2 or args[1] is not Ellipsis):
            return [f"{where}: a fixed-size tuple vs Avro array"]
        return _type_drift(args[0], avro_type["items"], f"{where}[]")
    return [f"{where}: {annotation} vs Avro {kind}"]


def _union_drift(annotation: Any, avro_union: list[Any], where: str) -> list[str]:
    others = [member for member in avro_union if member != "null"]
    members = _members(annotation)
    if len(others) != 1 or len(avro_union) != 2:
        return [f"{where}: only unions of null and one type are mirrored"]
    if members is None:
        return [f"{where}: optional in the schema, required in the model"]
    return _type_drift(members[0], others[0], where)


def _members(annotation: Any) -> list[Any] | None:
    """The non-None members of ``T | None``; None when the annotation is not optional."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if type(None) in args:
            return [arg for arg in args if arg is not type(None)]
    return None
