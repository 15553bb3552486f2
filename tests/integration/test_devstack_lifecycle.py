"""A second, private stack goes up idempotently and `down` leaves none of its processes."""

from __future__ import annotations

from pathlib import Path

from credstream.devstack import DevStack, DevStackSettings


def _processes_marked(home_names: set[str]) -> list[int]:
    """PIDs of live processes carrying one of our stack markers."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(f"CREDSTREAM_DEVSTACK_PROCESS={n}".encode() in environ for n in home_names):
            stat = (proc / "stat").read_text()
            if not stat.split(") ", 1)[-1].startswith("Z"):
                pids.append(int(proc.name))
    return pids


def test_up_is_idempotent_and_down_stops_everything(tmp_path: Path, stack: DevStack) -> None:
    settings = DevStackSettings(
        home=tmp_path / "stack",
        cache=stack.settings.cache,
        kafka_port=28092,
        controller_port=28192,
        s3_port=28070,
        kafka_heap="256m",
    )
    private = DevStack(settings)
    try:
        first = private.up(echo=lambda _: None)
        assert all(s.healthy for s in first), first
        pids = {s.name: s.pid for s in first}
        again = private.up(echo=lambda _: None)  # idempotent: nothing restarted
        assert {s.name: s.pid for s in again} == pids
        assert private.s3_root.is_dir()
    finally:
        stopped = private.down(purge=True)
    assert sorted(stopped) == ["kafka-1", "s3"]
    assert not private.s3_root.exists()  # purged, wherever the objects lived
    live = [
        pid
        for pid in pids.values()
        if pid is not None
        and Path(f"/proc/{pid}").exists()
        and not (Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[-1].startswith("Z"))
    ]
    assert live == []
    assert not any(s.healthy for s in private.status())
    # The shared stack the other tests use is untouched.
    assert all(s.healthy for s in stack.status())
