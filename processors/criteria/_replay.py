"""Running the engine over a whole history: the oracle the processor is checked against."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pydantic import ValidationError

from credstream.errors import InvalidInputError
from processors.catalog import Catalog
from processors.criteria._engine import evaluate
from processors.criteria._progress import Progress
from schemas.models import AssessmentCompleted, CredentialRequested


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input line the processor would send to the dead-letter topic, and why."""

    line: int
    reason: str


def _reason(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}" if where else f"{first['msg']}{more}"


def replay(
    lines: Iterable[str | bytes], catalog: Catalog
) -> Iterator[CredentialRequested | Rejected]:
    """Evaluate JSON lines (``AssessmentCompleted`` JSON) in order, one progress per
    (tenant, learner), yielding awards as they are made and lines the processor would
    reject (undecodable, unknown tenant, not comparable). Blank lines are skipped."""
    progress: dict[tuple[str, str], Progress] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = AssessmentCompleted.model_validate_json(line)
        except ValidationError as error:
            yield Rejected(number, _reason(error))
            continue
        key = (event.tenant_id, event.learner.id)
        try:
            progress[key], awards = evaluate(progress.get(key), event, catalog)
        except InvalidInputError as error:
            yield Rejected(number, str(error))
            continue
        yield from awards
