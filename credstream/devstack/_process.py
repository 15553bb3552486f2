"""Starting, finding and stopping the stack's own processes, by PID file."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from credstream.errors import DevStackError


@dataclass(frozen=True)
class ManagedProcess:
    """One process of the local stack: its name, PID file and log file."""

    name: str
    run_dir: Path
    log_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The PID of the running process we started, or None.

        A PID file whose process is gone, or whose PID now belongs to a process that is
        not ours (the marker is not in its environment), counts as not running.
        """
        return self.inspect()[0]

    def inspect(self) -> tuple[int | None, str]:
        """:meth:`pid`, and in words why there is none (start-up errors name it)."""
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None, "no PID file"
        try:
            environ = _environ(pid)
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError as error:
            return None, f"PID {pid} is gone ({error.strerror})"
        state = stat.split(") ", 1)[-1][:1]
        if state == "Z":
            return None, f"PID {pid} has exited"
        if self.marker.encode() not in environ.split(b"\0"):
            return (
                None,
                f"PID {pid} (state {state}) is not ours: no {self.marker} in its environment",
            )
        return pid, f"PID {pid} runs (state {state})"

    @property
    def marker(self) -> str:
        # Every process we start carries this, so `down` never signals a stranger.
        return f"CREDSTREAM_DEVSTACK_PROCESS={self.name}"

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **(env or {}), **dict([self.marker.split("=", 1)])},
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        return proc.pid

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM, then SIGKILL after ``timeout``; True if a process was stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.2)
        if self.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while self.pid() is not None:
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def require_free_port(port: int, what: str, setting: str) -> None:
    if not port_is_free(port):
        raise DevStackError(
            f"port {port} ({what}) is busy: another process listens there. "
            f"Stop it, or choose another port with {setting}."
        )


def port_answers(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _environ(pid: int, settle_seconds: float = 2.0) -> bytes:
    """The process's environment. It reads empty for a moment inside ``execve`` (after
    Popen has returned, before the kernel sets up the new image's environment), which on
    a loaded machine made a starting server look like a stranger; a kernel thread's stays
    empty."""
    deadline = time.monotonic() + settle_seconds
    while not (environ := Path(f"/proc/{pid}/environ").read_bytes()) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.02)
    return environ
