from __future__ import annotations

import gc

from credstream.commands import workers


def test_a_worker_runs_the_cyclic_collector_every_50000_allocations_not_700() -> None:
    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        workers._prepare("warning")
        assert gc.get_threshold() == (workers.COLLECT_EVERY_ALLOCATIONS, 10, 10)
        assert workers.COLLECT_EVERY_ALLOCATIONS == 50_000
    finally:
        gc.set_threshold(*saved)
