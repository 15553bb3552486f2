"""A TCP fault proxy on loopback: put it between a worker and a service, then break it.

Modes (switchable while traffic flows, from any thread):

- ``forward``: bytes go both ways unchanged (the default);
- ``refuse``: the listening socket is closed (new connections are refused) and every open
  connection is reset: the service has gone away;
- ``blackhole``: connections are accepted and reads taken, nothing is forwarded or answered
  (open connections stall too): a hung service, found only by timeouts. The bytes are
  held, not dropped: back in ``forward`` they go on, late. The first line of each held
  chunk is kept in ``stats.held`` (which request a worker is stuck in). With
  ``hold_only``, only requests whose first line contains it are held (and whatever
  follows them on their connection); everything else flows;
- ``respond``: every new connection reads one HTTP request and gets a canned response,
  then is closed (open connections are reset): a service that answers with errors, such
  as KMS throttling.

The proxy runs an asyncio loop in a daemon thread of the test process; ``close()`` stops it
and releases the port. It listens on a port outside the ephemeral range, so that it can
close and re-open the same port without another process taking it meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["forward", "refuse", "blackhole", "respond"]
_CHUNK = 65536


def free_port(low: int = 20000, high: int = 29999) -> int:
    """A free loopback port below the ephemeral range (32768-60999)."""
    for _ in range(200):
        port = random.randint(low, high)
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


@dataclass
class ProxyStats:
    accepted: int = 0
    forwarded_bytes: int = 0
    reset: int = 0
    answered: int = 0
    held: list[bytes] = field(default_factory=list)
    modes: list[tuple[float, str]] = field(default_factory=list)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (SO_LINGER 0), as a crashed peer's kernel would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    def __init__(self, upstream: str, port: int | None = None) -> None:
        """``upstream``: ``host:port`` of the real service."""
        host, _, upstream_port = upstream.rpartition(":")
        self._upstream = (host or "127.0.0.1", int(upstream_port))
        self.port = port or free_port()
        self.stats = ProxyStats()
        self._mode: Mode = "forward"
        self._response = b""
        self._hold_only = b""
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._call(self._listen())
        self._record("forward")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode, response: bytes = b"", hold_only: bytes = b"") -> None:
        self._hold_only = hold_only
        self._call(self._switch(mode, response))
        self._record(mode)

    @contextlib.contextmanager
    def fault(self, mode: Mode, response: bytes = b"") -> Iterator[FaultProxy]:
        """``mode`` inside the block; forwarding again after it, whatever happens."""
        self.set_mode(mode, response)
        try:
            yield self
        finally:
            self.set_mode("forward")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- inside the loop ------------------------------------------------------------------
    def _record(self, mode: str) -> None:
        self.stats.modes.append((self._loop.time(), mode))

    def _call(self, coroutine: object) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]
        future.result(timeout=30)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, "127.0.0.1", self.port, reuse_address=True
            )

    async def _unlisten(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _reset_all(self) -> None:
        for writer in list(self._connections):
            _reset(writer)
            self.stats.reset += 1
        self._connections.clear()

    async def _switch(self, mode: Mode, response: bytes) -> None:
        self._mode, self._response = mode, response
        if mode == "refuse":
            await self._unlisten()
            self._reset_all()
            return
        await self._listen()
        if mode == "respond":
            self._reset_all()

    async def _shutdown(self) -> None:
        await self._unlisten()
        self._reset_all()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.accepted += 1
        if self._mode == "refuse":  # accepted just before the switch
            _reset(writer)
            return
        if self._mode == "respond":
            await self._answer(reader, writer)
            return
        self._connections.add(writer)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            self._connections.discard(writer)
            _reset(writer)
            return
        self._connections.add(upstream_writer)
        try:
            await asyncio.gather(
                self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
            )
        finally:
            for end in (writer, upstream_writer):
                self._connections.discard(end)
                with contextlib.suppress(OSError, RuntimeError):
                    end.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        holding = False  # a held request's later bytes wait behind it
        try:
            while True:
                data = await reader.read(_CHUNK)
                if not data:
                    break
                first_line = data.split(b"\r\n", 1)[0]
                if self._mode == "blackhole" and (holding or self._hold_only in first_line):
                    holding = True
                    self.stats.held.append(first_line[:200])
                while self._mode == "blackhole" and holding:  # hold the bytes: a hung peer
                    await asyncio.sleep(0.1)
                holding = False
                if writer.is_closing():
                    break
                writer.write(data)
                await writer.drain()
                self.stats.forwarded_bytes += len(data)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                if writer.can_write_eof() and not writer.is_closing():
                    writer.write_eof()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            if length:
                await reader.readexactly(length)
            writer.write(self._response)
            await writer.drain()
            self.stats.answered += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()


def http_error(status: int, reason: str, body: bytes, content_type: str) -> bytes:
    """A complete HTTP/1.1 response that closes the connection."""
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nx-amzn-RequestId: fault-proxy\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


KMS_THROTTLING = http_error(
    400,
    "Bad Request",
    b'{"__type":"ThrottlingException","message":"Rate exceeded"}',
    "application/x-amz-json-1.1",
)
