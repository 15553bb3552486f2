"""Retries with capped exponential backoff for KMS calls, and a client-side rate limiter.

botocore's own retries are switched off on the KMS client (see ``kms_client``) so that
the budget here is the only one and its error is the one a caller sees.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from credstream.errors import ConfigurationError
from signers.keys._errors import KmsRequestError, KmsUnavailableError

T = TypeVar("T")

# Errors after which the same request can succeed: throttling, and KMS's own transient
# failures. Anything else (access denied, disabled key, bad parameters) fails at once.
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "KeyUnavailableException",
    }
)


def _jitter() -> float:
    return random.random()  # noqa: S311 - spreads retries in time, nothing secret


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff ``base * 2**attempt`` capped at ``max_delay``, each delay scaled by a
    random factor in [0.5, 1) so that many workers throttled together do not retry in
    step; gives up before the total time would exceed ``budget_seconds``. Clock, sleep
    and jitter are injectable for deterministic tests."""

    budget_seconds: float = 30.0
    base_delay: float = 0.05
    max_delay: float = 2.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=_jitter, repr=False)


def call_with_retry(operation: Callable[[], T], policy: RetryPolicy, what: str) -> T:
    """Run ``operation`` (one KMS request); ``what`` names it in errors."""
    start = policy.clock()
    attempt = 0
    while True:
        try:
            return operation()
        except ClientError as error:
            details = error.response.get("Error", {})
            code = str(details.get("Code", "Unknown"))
            if code not in RETRYABLE_CODES:
                message = details.get("Message", "")
                raise KmsRequestError(f"{what}: KMS refused it ({code}: {message})", code) from None
            reason = code
        except (BotoConnectionError, HTTPClientError) as error:
            reason = f"unreachable: {type(error).__name__}"
        delay = min(policy.max_delay, policy.base_delay * 2**attempt) * (0.5 + policy.jitter() / 2)
        attempt += 1
        elapsed = policy.clock() - start
        if elapsed + delay > policy.budget_seconds:
            raise KmsUnavailableError(
                f"{what}: KMS still failing ({reason}) after {attempt} attempts in "
                f"{elapsed:.1f} s (retry budget {policy.budget_seconds:g} s)"
            )
        policy.sleep(delay)


class TokenBucket:
    """At most ``rate`` acquisitions per second on average, ``burst`` at once.

    Reservation style: a caller takes a token even when none is left and sleeps until its
    token would have been refilled, so concurrent callers queue fairly without polling.
    Thread-safe; one bucket limits one process (divide the account quota among them).
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ConfigurationError("rate limit: rate must be > 0 and burst >= 1")
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = burst
        self._updated = clock()

    @property
    def rate(self) -> float:
        return self._rate

    def acquire(self) -> float:
        """Take one token; returns the seconds waited for it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            self._tokens -= 1
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait
