"""Issuance first: the renderer pauses while the signer has a backlog, then resumes."""

from __future__ import annotations

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


def test_the_renderer_pauses_above_the_threshold_and_resumes_at_or_below_it() -> None:
    backlog = iter([10, 2_001, 5_000, 2_000, 0])
    consumer = _Consumer({0, 1})
    task = YieldToIssuance(consumer, lambda: next(backlog), threshold=2_000)
    seen = []
    for _ in range(5):
        task()
        seen.append((task.paused, sorted(consumer.paused)))
    assert seen == [
        (False, []), (True, [0, 1]), (True, [0, 1]), (False, []), (False, []),
    ]  # fmt: skip


def test_partitions_assigned_while_paused_are_paused_at_the_next_turn() -> None:
    consumer = _Consumer({0})
    task = YieldToIssuance(consumer, lambda: 9_999, threshold=100)
    task()
    consumer.assigned = {0, 3}  # a rebalance handed over another partition, not paused
    task()
    assert consumer.paused == {0, 3}
