"""CPU of process trees, read from /proc once for every group."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from credstream.pipeline import cpu_seconds_of_trees, tree_cpu_seconds


def test_a_tree_counts_its_descendants_and_groups_add_up() -> None:
    # A child that burns ~0.3 s of CPU, then waits to be measured.
    burn = (
        "import time\nend = time.process_time() + 0.3\n"
        "while time.process_time() < end: pass\ntime.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", burn])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and tree_cpu_seconds(child.pid) < 0.3:
            time.sleep(0.05)
        me, it = os.getpid(), child.pid
        totals = cpu_seconds_of_trees({"mine": [me], "its": [it], "both": [it, it]})
        assert totals["its"] >= 0.3
        assert totals["mine"] >= totals["its"]  # my tree holds the child
        assert totals["both"] == totals["its"]  # a process listed twice counts once
        assert abs(tree_cpu_seconds(it) - totals["its"]) < 0.05
    finally:
        child.kill()
        child.wait()
