"""One assessment event through the processor: decode, authenticate, evaluate, route.

Plain code over plain data (no Faust, no Kafka): the Faust agent hands a batch of
records to :meth:`EventHandler.admit` (decoded, and their signatures checked together),
then each admitted event and its learner's stored progress to
:meth:`EventHandler.evaluate`, and acts on the results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from credstream.errors import InvalidInputError
from processors.catalog import Catalog
from processors.criteria import EMPTY_PROGRESS, Progress, evaluate
from producers import AuthenticityError, Signatures, SignedEvent
from schemas.codec import Codec
from schemas.dead_letters import DeadLetterRecord, Origin, dead_letter_record
from schemas.models import AssessmentCompleted, CredentialRequested

STAGE = "processor"


class MisroutedEventError(InvalidInputError):
    """The record key is not ``tenant/learner``: per-learner order and state need it."""


# NamedTuples: one of each is made per event, and a frozen dataclass costs ~2.4x as much
# to make (its __init__ sets each field through object.__setattr__).
class Handled(NamedTuple):
    """What to do with one record."""

    outcome: str  # accepted, dead_lettered, rejected_auth
    tenant: str
    progress: bytes | None = None  # new progress to store; None: unchanged
    awards: Sequence[CredentialRequested] = ()
    dead_letter: DeadLetterRecord | None = None
    reason: str | None = None


class Admitted(NamedTuple):
    """A decoded event whose engine signature verified, ready for evaluation."""

    origin: Origin
    event: AssessmentCompleted


class Admission:
    """A batch decoded, its signatures not yet checked. :meth:`check` is nearly all curve
    arithmetic outside the interpreter lock: the processor runs it on another thread
    while its own evaluates the batch before."""

    def __init__(
        self,
        results: list[Admitted | Handled],
        claimed: list[tuple[int, Admitted]],
        signatures: Signatures,
        dead: Callable[[Origin, str, InvalidInputError, str], Handled],
    ) -> None:
        self._results = results
        self._claimed = claimed
        self._signatures = signatures
        self._dead = dead

    def check(self) -> list[Admitted | Handled]:
        """Each record admitted, or its dead letter; in order."""
        results = list(self._results)
        verdicts = self._signatures.check()
        for (index, admitted), verdict in zip(self._claimed, verdicts, strict=True):
            if isinstance(verdict, AuthenticityError):
                tenant = admitted.event.tenant_id
                results[index] = self._dead(admitted.origin, tenant, verdict, "rejected_auth")
        return results


def progress_key(tenant: str, learner_id: str) -> str:
    """Table key and record key of a learner: events of one learner stay in order."""
    return f"{tenant}/{learner_id}"


class EventHandler:
    """Per-process state: the codec, the catalog index and engine keys (swapped on change)."""

    def __init__(
        self,
        codec: Codec,
        catalog: Callable[[], Catalog],
        engine_keys: Mapping[str, bytes],
        clock: Callable[[], datetime],
    ) -> None:
        self._codec = codec
        self._catalog = catalog
        self._engine_keys = dict(engine_keys)
        self._clock = clock

    def handle(self, origin: Origin, stored_progress: bytes | None) -> Handled:
        """One record, start to end."""
        (admitted,) = self.admit([origin])
        if isinstance(admitted, Handled):
            return admitted
        return self.evaluate(admitted, stored_progress)

    def admit(self, origins: Sequence[Origin]) -> list[Admitted | Handled]:
        """Each record decoded and authenticated, or its dead letter; in order."""
        return self.read(origins).check()

    def read(self, origins: Sequence[Origin]) -> Admission:
        """The records decoded and their signature headers read; :meth:`Admission.check`
        checks the signatures, together (README, performance)."""
        results: list[Admitted | Handled] = []
        claimed: list[tuple[int, Admitted]] = []
        claims: list[SignedEvent] = []
        for origin in origins:
            value = origin.value or b""
            try:
                decoded = self._codec.decode_dict(value)
                if decoded.contract.model is not AssessmentCompleted:
                    raise InvalidInputError(
                        f"expected an AssessmentCompleted record, got {decoded.contract.name}"
                    )
                event = AssessmentCompleted.model_validate(decoded.record)
            except InvalidInputError as error:
                results.append(self._dead(origin, "", error))
                continue
            except ValueError as error:  # pydantic: a decodable record with invalid values
                invalid = InvalidInputError(f"invalid event: {error}")
                results.append(self._dead(origin, "", invalid))
                continue
            claims.append(
                SignedEvent(
                    event.event_id, event.engine_id, decoded.writer.fingerprint, value,
                    origin.headers,
                )
            )  # fmt: skip
            admitted = Admitted(origin, event)
            claimed.append((len(results), admitted))
            results.append(admitted)
        return Admission(results, claimed, Signatures(claims, self._engine_keys), self._dead)

    def evaluate(self, admitted: Admitted, stored_progress: bytes | None) -> Handled:
        """The learner's new progress and awards after one admitted event."""
        origin, event = admitted.origin, admitted.event
        tenant = event.tenant_id
        expected = progress_key(tenant, event.learner.id).encode()
        if origin.key != expected:
            misrouted = MisroutedEventError(f"record key {origin.key!r} must be {expected!r}")
            return self._dead(origin, tenant, misrouted)
        try:
            progress = Progress.from_bytes(stored_progress) if stored_progress else EMPTY_PROGRESS
            updated, awards = evaluate(progress, event, self._catalog())
        except InvalidInputError as error:
            return self._dead(origin, tenant, error)
        if updated is progress:  # a duplicate, or a result no pending rule reads
            return Handled("accepted", tenant)
        return Handled("accepted", tenant, updated.to_bytes(), awards)

    def _dead(
        self, origin: Origin, tenant: str, error: InvalidInputError, outcome: str = "dead_lettered"
    ) -> Handled:
        reason = type(error).__name__
        letter = dead_letter_record(self._codec, origin, STAGE, reason, str(error), self._clock())
        return Handled(outcome, tenant or "unknown", dead_letter=letter, reason=reason)
