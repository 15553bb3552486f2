"""The local stack says clearly what is wrong (a missing tool, a busy port), and where its
store keeps the objects."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from credstream.devstack import DevStack, DevStackSettings
from credstream.devstack._process import ManagedProcess, require_free_port
from credstream.errors import DevStackError


def test_busy_port_names_the_port_and_the_setting() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(DevStackError) as error:
            require_free_port(port, "Kafka broker 1", "CREDSTREAM_DEV_KAFKA_PORT")
    assert f"port {port} (Kafka broker 1) is busy" in str(error.value)
    assert "CREDSTREAM_DEV_KAFKA_PORT" in str(error.value)


@pytest.mark.parametrize("missing", ["java", "mvn"])
def test_missing_tool_says_what_to_install(
    missing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A PATH holding stand-ins for every tool but the missing one.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in {"java", "mvn", "go"} - {missing}:
        stub = bin_dir / tool
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    stack = DevStack(DevStackSettings(home=tmp_path / "home", cache=tmp_path / "cache"))
    with pytest.raises(DevStackError) as error:
        stack.install(echo=lambda _: None)
    message = str(error.value)
    assert f"`{missing}` was not found on PATH" in message
    assert "install" in message


def test_pid_file_of_a_stranger_is_not_ours(tmp_path: Path) -> None:
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        proc = ManagedProcess("s3", tmp_path / "run", tmp_path / "logs")
        proc.run_dir.mkdir(parents=True)
        proc.pid_file.write_text(f"{stranger.pid}\n")
        assert proc.pid() is None  # not started by us: never signalled
        reason = proc.inspect()[1]
        assert reason.startswith(f"PID {stranger.pid} (state ")
        assert reason.endswith(f"is not ours: no {proc.marker} in its environment")
        assert proc.stop() is False
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_started_process_is_found_and_stopped(tmp_path: Path) -> None:
    proc = ManagedProcess("worker", tmp_path / "run", tmp_path / "logs")
    pid = proc.start([sys.executable, "-c", "import time; time.sleep(30)"])
    assert proc.pid() == pid
    assert proc.stop(timeout=5) is True
    assert proc.pid() is None
    assert not proc.pid_file.exists()
    assert proc.inspect() == (None, "no PID file")  # what a start-up error would say


def test_a_process_just_started_is_ours_at_once(tmp_path: Path) -> None:
    # Its environment reads empty for a moment inside execve: a CI run took a starting
    # S3 server for a stranger ("state R ... is not ours").
    proc = ManagedProcess("s3", tmp_path / "run", tmp_path / "logs")
    for _ in range(20):
        started = proc.start([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            pid, why = proc.inspect()
            assert pid == started, why
        finally:
            os.kill(started, signal.SIGKILL)
            os.waitpid(started, 0)


def test_store_objects_live_where_the_setting_says_else_one_folder_per_checkout(
    tmp_path: Path,
) -> None:
    chosen = DevStack(DevStackSettings(home=tmp_path / "a", s3_data=tmp_path / "objects"))
    assert chosen.s3_root == tmp_path / "objects"
    first = DevStack(DevStackSettings(home=tmp_path / "a")).s3_root
    second = DevStack(DevStackSettings(home=tmp_path / "b")).s3_root
    assert first != second
    assert first == DevStack(DevStackSettings(home=tmp_path / "a")).s3_root
    if Path("/dev/shm").is_dir():
        assert first.parent == Path("/dev/shm")
    else:
        assert first == tmp_path / "a" / "data" / "s3"
