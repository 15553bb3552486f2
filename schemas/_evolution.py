"""Schema evolution: every revision must read data written with every earlier one.

That is Confluent's BACKWARD_TRANSITIVE rule: consumers upgrade first, then producers, and a
consumer replaying the whole topic can still decode its oldest records.
"""

from __future__ import annotations

from collections.abc import Sequence

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from schemas._contracts import Revision


def backward_problems(reader_json: str, writer_json: str) -> list[str]:
    """Why a reader with ``reader_json`` cannot read data written with ``writer_json``."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(
        avro.schema.parse(reader_json), avro.schema.parse(writer_json)
    )
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    return [
        f"{location}: {message}"
        for location, message in zip(result.locations, result.messages, strict=False)
    ] or ["incompatible"]


def backward_transitive_problems(revisions: Sequence[Revision]) -> list[str]:
    """Every revision against every earlier one; empty when the history is compatible."""
    problems = []
    for index, newer in enumerate(revisions):
        for older in revisions[:index]:
            for problem in backward_problems(newer.schema_json, older.schema_json):
                problems.append(f"revision {newer.number} cannot read {older.number}: {problem}")
    return problems
