"""Issuance first: the renderer stands aside while issuance has a backlog.

Baked badges are off the critical path (they may lag under a burst and never delay
issuance), but a renderer working through a burst takes CPU and, above all, store
capacity from the signer: a read and two writes per credential against the signer's one
write (on the 2-core benchmark host, the store's work for the renderer was a third of the
CPU per credential). So while more than ``threshold`` records wait for issuance (events
the processors and credential requests the signers have not committed), the renderer
pauses its partitions; it stays in its group (the loop keeps polling), and resumes when
the backlog is at or below the threshold. The badges of a burst follow it. Counting the
processors' events too keeps the everyday stream's latency: there the signer keeps up,
and it was the events that waited while badges were baked (mixed benchmark: p99 5.4 s at
half the sustained rate with only the requests counted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("credstream.renderer")


class YieldToIssuance:
    """A periodic task of the renderer's loop: pause or resume its consumer by issuance's
    backlog, read with ``backlog()`` (records the issuing stages have not committed)."""

    def __init__(self, consumer: Any, backlog: Callable[[], int], threshold: int) -> None:
        self._consumer = consumer
        self._backlog = backlog
        self._threshold = threshold
        self.paused = False

    def __call__(self) -> None:
        waiting = self._backlog()
        if waiting > self._threshold:
            if not self.paused:
                log.info("issuance first: %d records wait for issuance, pausing", waiting)
            # Again at every turn: partitions assigned since the last one are not paused.
            self._consumer.pause(*self._consumer.assignment())
            self.paused = True
        elif self.paused:
            log.info("issuance first: %d records wait for issuance, resuming", waiting)
            self._consumer.resume(*self._consumer.assignment())
            self.paused = False
