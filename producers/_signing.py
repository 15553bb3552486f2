"""Event authenticity: each engine signs what it sends; processors verify before trusting.

The signed message is a fixed byte layout (all lengths big-endian, so no two different
inputs give the same bytes)::

    b"credstream-event-signature-v1" 0x00
    u32 len(event_id)  event_id (UTF-8)
    u32 len(engine_id) engine_id (UTF-8)
    schema fingerprint (8 bytes: CRC-64-AVRO, little-endian, as in single-object encoding)
    u64 signed_at (milliseconds since the Unix epoch)
    u32 len(value)     value (the encoded record bytes, framing included)

The signature (Ed25519, 64 bytes raw) and its inputs travel in Kafka headers: ``cs-engine``
(engine id, UTF-8), ``cs-ts`` (signed_at, decimal ASCII) and ``cs-sig``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from credstream_ed25519_batch import verify_batch
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from credstream.errors import InvalidInputError

DOMAIN = b"credstream-event-signature-v1\x00"
HEADER_ENGINE = "cs-engine"
HEADER_TIMESTAMP = "cs-ts"
HEADER_SIGNATURE = "cs-sig"
_SIGNED_HEADERS = (HEADER_ENGINE, HEADER_TIMESTAMP, HEADER_SIGNATURE)

Headers = Sequence[tuple[str, bytes | None]]


class AuthenticityError(InvalidInputError):
    """An event cannot be trusted: the processor sends it to the dead-letter topic."""


class UnsignedEventError(AuthenticityError):
    """A signature header is missing."""


class UnknownEngineError(AuthenticityError):
    """The event names an engine whose public key is not registered."""


class TamperedEventError(AuthenticityError):
    """The signature does not verify, or the headers contradict the event."""


def signed_message(
    event_id: str, engine_id: str, schema_fingerprint: bytes, signed_at_ms: int, value: bytes
) -> bytes:
    """The exact bytes an engine signs (layout in the module docstring)."""
    if len(schema_fingerprint) != 8:
        raise InvalidInputError("a schema fingerprint has 8 bytes")
    event, engine = event_id.encode(), engine_id.encode()
    return b"".join(
        (
            DOMAIN,
            len(event).to_bytes(4, "big"),
            event,
            len(engine).to_bytes(4, "big"),
            engine,
            schema_fingerprint,
            signed_at_ms.to_bytes(8, "big"),
            len(value).to_bytes(4, "big"),
            value,
        )
    )


class EventSigner:
    """Signs one engine's events. Holds the private key; never prints or exposes it."""

    def __init__(self, engine_id: str, private_key: Ed25519PrivateKey) -> None:
        self.engine_id = engine_id
        self._key = private_key

    def __repr__(self) -> str:
        return f"EventSigner(engine_id={self.engine_id!r})"

    def public_key(self) -> bytes:
        return self._key.public_key().public_bytes_raw()

    def headers(
        self, event_id: str, schema_fingerprint: bytes, signed_at_ms: int, value: bytes
    ) -> list[tuple[str, bytes]]:
        """The Kafka headers that carry this event's signature."""
        message = signed_message(event_id, self.engine_id, schema_fingerprint, signed_at_ms, value)
        return [
            (HEADER_ENGINE, self.engine_id.encode()),
            (HEADER_TIMESTAMP, str(signed_at_ms).encode()),
            (HEADER_SIGNATURE, self._key.sign(message)),
        ]


# NamedTuples: one of each is made per event the processor checks, and a frozen dataclass
# costs ~2.4x as much to make (its __init__ sets each field through object.__setattr__).
class VerifiedEvent(NamedTuple):
    engine_id: str
    signed_at_ms: int


class SignedEvent(NamedTuple):
    """What a verifier needs of one received event.

    ``event_id`` and ``engine_id`` come from the decoded event, ``schema_fingerprint``
    from the codec (the schema that wrote ``value``), ``headers`` from the record.
    """

    event_id: str
    engine_id: str
    schema_fingerprint: bytes
    value: bytes
    headers: Headers


class _SignatureCheck(NamedTuple):
    message: bytes
    signature: bytes
    public_key: bytes
    verified: VerifiedEvent  # what the event is, if the signature verifies


# Fewer signatures than this are checked one by one (libsodium), as a failed batch's
# halves end up being.
_CHECK_ALONE_BELOW = 3


def verify_event(
    *,
    event_id: str,
    engine_id: str,
    schema_fingerprint: bytes,
    value: bytes,
    headers: Headers,
    public_keys: Mapping[str, bytes],
) -> VerifiedEvent:
    """Check that ``value`` was signed by the engine the event names; pure.

    ``public_keys`` maps engine id to its raw Ed25519 public key. Raises an
    :class:`AuthenticityError` subclass otherwise.
    """
    event = SignedEvent(event_id, engine_id, schema_fingerprint, value, headers)
    (verdict,) = verify_events([event], public_keys)
    if isinstance(verdict, AuthenticityError):
        raise verdict
    return verdict


def verify_events(
    events: Sequence[SignedEvent], public_keys: Mapping[str, bytes]
) -> list[VerifiedEvent | AuthenticityError]:
    """Each event's verdict, in order: what :func:`verify_event` returns or raises."""
    return Signatures(events, public_keys).check()


class Signatures:
    """A batch of events whose signature headers are read and checked against the
    events, their signatures not yet.

    :meth:`check` is the curve arithmetic, nearly all of it outside the interpreter
    lock: a caller can run it on another thread while its own goes on with Python work.
    """

    def __init__(self, events: Sequence[SignedEvent], public_keys: Mapping[str, bytes]) -> None:
        self._events = events
        self._verdicts: list[VerifiedEvent | AuthenticityError] = []
        self._checks: list[tuple[int, _SignatureCheck]] = []
        for index, event in enumerate(events):
            try:
                check = _signature_check(event, public_keys)
            except AuthenticityError as error:
                self._verdicts.append(error)
                continue
            self._verdicts.append(check.verified)
            self._checks.append((index, check))

    def check(self) -> list[VerifiedEvent | AuthenticityError]:
        """Each event's verdict, in order.

        The signatures are checked together (Ed25519 batch verification, about a third
        of the CPU of one check per signature here; README, performance); when a batch
        fails, its halves are checked until the bad signatures are found alone.
        """
        verdicts = list(self._verdicts)
        for index, check in _failing(self._checks):
            verdicts[index] = _does_not_verify(
                self._events[index].event_id, check.verified.engine_id
            )
        return verdicts


def _signature_check(event: SignedEvent, public_keys: Mapping[str, bytes]) -> _SignatureCheck:
    """The headers read and checked against the event; the signature is not checked yet."""
    event_id, engine_id = event.event_id, event.engine_id
    found: dict[str, bytes] = {}
    for name, header_value in event.headers:
        if name in _SIGNED_HEADERS:
            if name in found:
                raise TamperedEventError(f"header {name} appears more than once")
            found[name] = header_value or b""
    missing = [name for name in _SIGNED_HEADERS if name not in found]
    if missing:
        raise UnsignedEventError(f"event {event_id}: missing header {', '.join(missing)}")
    claimed = found[HEADER_ENGINE].decode("utf-8", errors="replace")
    if claimed != engine_id:
        raise TamperedEventError(
            f"event {event_id}: header {HEADER_ENGINE} {claimed!r} is not the event's "
            f"engine_id {engine_id!r}"
        )
    public_key = public_keys.get(engine_id)
    if public_key is None:
        raise UnknownEngineError(f"event {event_id}: engine {engine_id!r} is not registered")
    stamp = found[HEADER_TIMESTAMP]
    if not stamp.isdigit() or len(stamp) > 19:
        raise TamperedEventError(f"event {event_id}: header {HEADER_TIMESTAMP} is not a time")
    signed_at = int(stamp)
    signature = found[HEADER_SIGNATURE]
    if len(signature) != 64:  # an Ed25519 signature has 64 bytes
        raise _does_not_verify(event_id, engine_id)
    message = signed_message(event_id, engine_id, event.schema_fingerprint, signed_at, event.value)
    return _SignatureCheck(message, signature, public_key, VerifiedEvent(engine_id, signed_at))


def _does_not_verify(event_id: str, engine_id: str) -> TamperedEventError:
    return TamperedEventError(
        f"event {event_id}: the signature of engine {engine_id!r} does not verify"
    )


def _failing(
    checks: Sequence[tuple[int, _SignatureCheck]],
) -> list[tuple[int, _SignatureCheck]]:
    """The checks whose signature does not verify (bisecting failed batches)."""
    if len(checks) < _CHECK_ALONE_BELOW:
        return [(index, check) for index, check in checks if not _verifies(check)]
    try:
        valid = verify_batch(
            [check.message for _, check in checks],
            [check.signature for _, check in checks],
            [check.public_key for _, check in checks],
        )
    except ValueError:  # a registered key that is not a curve point: look at each
        valid = False
    if valid:
        return []
    half = len(checks) // 2
    return _failing(checks[:half]) + _failing(checks[half:])


def _verifies(check: _SignatureCheck) -> bool:
    # libsodium verifies one signature in about half of OpenSSL's time here. It takes
    # signature || message.
    try:
        crypto_sign_open(check.signature + check.message, check.public_key)
    except (BadSignatureError, ValueError):
        return False
    return True
