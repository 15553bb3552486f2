"""Whole files: every input converted and checked before anything may be sent."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credstream.errors import InvalidInputError
from producers.adapters._caliper import caliper_events, from_caliper, submissions
from producers.adapters._common import (
    AdapterContext,
    FieldError,
    Problem,
    RejectedFileError,
    Skipped,
    json_documents,
)
from producers.adapters._openedx import from_openedx
from producers.adapters._tabular import from_row
from producers.adapters._xapi import from_xapi
from schemas.models import AssessmentCompleted

FORMATS = ("xapi", "caliper", "openedx", "csv", "jsonl")


@dataclass(frozen=True)
class Conversion:
    events: tuple[AssessmentCompleted, ...]
    skipped: tuple[Skipped, ...]


Convert = Callable[[Any], AssessmentCompleted | Skipped]


def convert_text(
    data: str, format: str, context: AdapterContext, source: str = "<input>"
) -> Conversion:
    """Convert a whole document; raises :class:`RejectedFileError` listing every bad input."""
    if format not in FORMATS:
        raise InvalidInputError(f"format {format!r}: expected one of {', '.join(FORMATS)}")
    events: list[AssessmentCompleted] = []
    skipped: list[Skipped] = []
    problems: list[Problem] = []
    for location, item, convert in _inputs(data, format, context):
        try:
            if isinstance(item, FieldError):
                raise item
            result = convert(item)
        except FieldError as error:
            problems += [Problem(location, name, reason) for name, reason in error.problems]
            continue
        if isinstance(result, Skipped):
            skipped.append(dataclasses.replace(result, location=location))
        else:
            events.append(result)
    if problems:
        raise RejectedFileError(source, problems)
    return Conversion(tuple(events), tuple(skipped))


def convert_file(path: Path, format: str, context: AdapterContext) -> Conversion:
    try:
        data = path.read_text(encoding="utf-8-sig")  # spreadsheets often write a BOM
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"cannot read {path}: {error}") from None
    return convert_text(data, format, context, str(path))


def _inputs(data: str, format: str, context: AdapterContext) -> Iterator[tuple[str, Any, Convert]]:
    if format == "csv":
        reader = csv.DictReader(io.StringIO(data))
        rows = iter(reader)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as error:  # the rest cannot be read reliably: say where it broke
                broken = FieldError([("(file)", f"not valid CSV: {error}")])
                yield f"line {reader.line_num}", broken, _row(context)
                return
            extra = FieldError([("(row)", "more values than header columns")])
            yield f"line {reader.line_num}", extra if None in row else row, _row(context)
    documents = list(json_documents(data))
    if format == "caliper":
        located = []
        for location, document in documents:
            try:
                events = [] if isinstance(document, FieldError) else caliper_events(document)
            except FieldError as error:
                located.append((location, error))
                continue
            if isinstance(document, FieldError):
                located.append((location, document))
            located += [(f"{location} {inner}".strip(), event) for inner, event in events]
        submitted = submissions(event for _, event in located)
        for location, event in located:
            yield location, event, lambda e: from_caliper(e, context, submitted)
        return
    convert: Callable[[Any], AssessmentCompleted | Skipped] = {
        "xapi": lambda d: from_xapi(d, context),
        "openedx": lambda d: from_openedx(d, context),
        "jsonl": lambda d: from_row(d, context),
    }[format]
    for location, document in documents:
        if format == "xapi" and isinstance(document, dict) and "statements" in document:
            statements = document["statements"]  # an LRS StatementResult
            if isinstance(statements, list):
                for i, statement in enumerate(statements):
                    yield f"{location} statements[{i}]", statement, convert
                continue
        yield location, document, convert


def _row(context: AdapterContext) -> Convert:
    return lambda row: from_row(row, context)
