"""Fixtures of the fault, load and bad-input scenarios, and their report.

Each scenario records its figures with the ``scenario`` fixture; at the end of the run
one line per scenario is printed (number, PASS/FAIL, figures), then a JSON summary, also
written to ``CREDSTREAM_CHAOS_REPORT`` when that is set (``make chaos`` does).

``make test`` runs the short version of every scenario; ``make chaos`` sets
``CREDSTREAM_CHAOS=full`` for the full sizes and durations (see each module).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import kafka, s3, stack, store
from tests.system._harness import FULL

__all__ = ["kafka", "s3", "stack", "store"]  # the integration fixtures, shared


@dataclass
class ScenarioRecord:
    number: int
    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    outcome: str = "not run"
    seconds: float = 0.0
    tests: set[str] = field(default_factory=set)


@dataclass
class Records:
    by_number: dict[int, ScenarioRecord] = field(default_factory=dict)
    of_test: dict[str, int] = field(default_factory=dict)


_RECORDS: pytest.StashKey[Records] = pytest.StashKey()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RECORDS] = Records()


Recorder = Callable[..., None]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Full-size scenarios run far longer than the suite's 10-minute default (bounded)."""
    if FULL:
        for item in items:
            if item.path.parent == Path(__file__).parent:
                item.add_marker(pytest.mark.timeout(5400 if "soak" in item.nodeid else 3600))


@pytest.fixture()
def scenario(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    """``scenario(number, name, **figures)``: what this test measured for that scenario
    (call it again to add figures; several tests may report one scenario)."""
    records = request.config.stash[_RECORDS]
    started = time.monotonic()
    nodeid = request.node.nodeid

    def record(number: int, name: str, **figures: Any) -> None:
        entry = records.by_number.setdefault(number, ScenarioRecord(number, name))
        entry.figures.update(figures)
        entry.tests.add(nodeid)
        records.of_test[nodeid] = number

    yield record
    number = records.of_test.get(nodeid)
    if number is not None:
        records.by_number[number].seconds += round(time.monotonic() - started, 1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    records = item.config.stash[_RECORDS]
    number = records.of_test.get(item.nodeid)
    if number is None or not (report.when == "call" or report.failed):
        return
    entry = records.by_number[number]
    if report.failed:
        entry.outcome = "FAIL"  # one failing test fails its scenario
    elif report.when == "call" and entry.outcome != "FAIL":
        entry.outcome = "SKIP" if report.skipped else "PASS"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return f"[{len(value)}]"
    return str(value)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    records = sorted(config.stash[_RECORDS].by_number.values(), key=lambda r: r.number)
    if not records:
        return
    terminalreporter.section(f"scenarios ({'full' if FULL else 'short'})")
    for entry in records:
        figures = " ".join(
            f"{k}={_short(v)}" for k, v in entry.figures.items() if k not in ("problems",)
        )
        terminalreporter.write_line(
            f"S{entry.number:02d} {entry.outcome:<4} {entry.name}: {figures} "
            f"seconds={round(entry.seconds, 1):g}"
        )
    summary = {
        "mode": "full" if FULL else "short",
        "passed": all(r.outcome == "PASS" for r in records),
        "scenarios": [
            {
                "number": r.number,
                "name": r.name,
                "outcome": r.outcome,
                "seconds": round(r.seconds, 1),
                **r.figures,
            }
            for r in records
        ],
    }
    text = json.dumps(summary, indent=1, default=str)
    terminalreporter.write_line(text)
    target = os.environ.get("CREDSTREAM_CHAOS_REPORT")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(text + "\n")
