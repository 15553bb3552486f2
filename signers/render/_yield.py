"""Issuance first: the renderer stands aside while issuance is falling behind.

Baked badges are off the critical path (they may lag and never delay issuance), but a
renderer at work takes CPU and, above all, store capacity from the signer: a read and two
writes per credential against the signer's one write. On the 2-core benchmark host,
badges baked beside issuance offered 600 credentials/s (half its capacity) took p99 from
0.8-1.6 s to 3.9-5.5 s, though the renderer itself ran niced: the store served its writes
at full priority.

So the renderer watches issuance's delay: the records the issuing stages have not
committed (events for the processors, credential requests for the signers), each stage's
divided by the rate it committed over the last few seconds (Little's law), summed over the
stages. Above ``threshold_seconds`` it pauses its partitions; it stays in its group (the
loop keeps polling) and resumes when the delay is back at or below the threshold. A stage
with a backlog and no progress in the window (a burst's start, a stalled signer) counts
as infinitely late. A count of waiting records did not do: it is a long delay at a low
rate and a short one at a high rate, and a pipeline's own batches in flight exceed it.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger("credstream.renderer")
# (committed, end) offsets of each issuing stage, summed over its partitions.
StageProgress = Sequence[tuple[int, int]]


class YieldToIssuance:
    """A periodic task of the renderer's loop: pause or resume its consumer by issuance's
    delay, estimated from ``progress()`` (see the module's docstring)."""

    def __init__(
        self,
        consumer: Any,
        progress: Callable[[], StageProgress],
        threshold_seconds: float,
        window_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumer = consumer
        self._progress = progress
        self._threshold = threshold_seconds
        self._window = window_seconds
        self._clock = clock
        self._history: deque[tuple[float, list[int]]] = deque()  # (time, committed)
        self.paused = False

    def delay(self) -> float:
        """Seconds issuance needs for what waits now, at the rate it has just had."""
        now, stages = self._clock(), list(self._progress())
        committed = [done for done, _ in stages]
        self._history.append((now, committed))
        # The window starts at the newest sample at least window_seconds old.
        while len(self._history) > 1 and now - self._history[1][0] >= self._window:
            self._history.popleft()
        then, committed_then = self._history[0]
        delay = 0.0
        for (done, end), done_then in zip(stages, committed_then, strict=True):
            waiting = end - done
            if waiting <= 0:
                continue
            if done <= done_then or now <= then:
                return math.inf
            delay += waiting * (now - then) / (done - done_then)
        return delay

    def __call__(self) -> None:
        delay = self.delay()
        if delay > self._threshold:
            if not self.paused:
                log.info("issuance first: issuance is %.1f s behind, pausing", delay)
            # Again at every turn: partitions assigned since the last one are not paused.
            self._consumer.pause(*self._consumer.assignment())
            self.paused = True
        elif self.paused:
            log.info("issuance first: issuance is %.1f s behind, resuming", delay)
            self._consumer.resume(*self._consumer.assignment())
            self.paused = False
