"""Issuance first: the renderer pauses while issuance is behind, then resumes."""

from __future__ import annotations

import math
from typing import Any

from signers.render import YieldToIssuance


class _Consumer:
    """The three consumer members the task uses (kafka-python's names)."""

    def __init__(self, assigned: set[int]) -> None:
        self.assigned = assigned
        self.paused: set[int] = set()

    def assignment(self) -> set[int]:
        return set(self.assigned)

    def pause(self, *partitions: int) -> None:
        self.paused |= set(partitions)

    def resume(self, *partitions: int) -> None:
        self.paused -= set(partitions)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _turns(task: YieldToIssuance, clock: _Clock, consumer: _Consumer, count: int) -> list[Any]:
    seen = []
    for _ in range(count):
        task()
        seen.append((task.paused, sorted(consumer.paused)))
        clock.now += 1.0
    return seen


def test_the_delay_is_each_stages_backlog_over_its_rate_summed() -> None:
    # Processor: 1,000 events/s committed, 500 waiting; signer: 100/s, 20 waiting.
    samples = iter([[(0, 500), (0, 20)], [(1_000, 1_500), (100, 120)]])
    clock = _Clock()
    task = YieldToIssuance(_Consumer({0}), lambda: next(samples), 1.0, clock=clock)
    task.delay()
    clock.now = 1.0
    assert task.delay() == 0.5 + 0.2


def test_the_renderer_pauses_while_issuance_is_behind_and_resumes_when_it_is_not() -> None:
    # One stage committing 1,000 records/s; what waits: 200, then 3,000, 2,000, 500, none.
    waiting = iter([200, 200, 3_000, 2_000, 500, 0])
    committed = iter(range(0, 6_000, 1_000))

    def progress() -> list[tuple[int, int]]:
        done = next(committed)
        return [(done, done + next(waiting))]

    consumer, clock = _Consumer({0, 1}), _Clock()
    task = YieldToIssuance(consumer, progress, threshold_seconds=1.0, clock=clock)
    assert _turns(task, clock, consumer, 6) == [
        (True, [0, 1]),  # one sample: no rate yet, and records wait
        (False, []), (True, [0, 1]), (True, [0, 1]), (False, []), (False, []),
    ]  # fmt: skip


def test_a_stage_that_made_no_progress_in_the_window_counts_as_infinitely_late() -> None:
    # Progress in the first second, then none for the rest of the 5 s window and beyond.
    done = iter([0, 100, 100, 100, 100, 100, 100, 100, 100])
    clock = _Clock()
    task = YieldToIssuance(_Consumer({0}), lambda: [(d := next(done), d + 10)], 1.0, clock=clock)
    delays = []
    for _ in range(9):
        delays.append(task.delay())
        clock.now += 1.0
    # The window keeps the newest sample at least 5 s old: t=1 (100 done) from t=6 on.
    assert delays[1:6] == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert delays[6:] == [math.inf] * 3


def test_an_idle_pipeline_has_no_delay() -> None:
    task = YieldToIssuance(_Consumer({0}), lambda: [(7, 7), (3, 3)], 0.0, clock=_Clock())
    assert task.delay() == 0.0


def test_partitions_assigned_while_paused_are_paused_at_the_next_turn() -> None:
    consumer = _Consumer({0})
    task = YieldToIssuance(consumer, lambda: [(0, 9_999)], 0.5, clock=_Clock())
    task()
    consumer.assigned = {0, 3}  # a rebalance handed over another partition, not paused
    task()
    assert consumer.paused == {0, 3}
