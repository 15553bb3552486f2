"""A minimal HTTP/1.1 client that pipelines requests over a few persistent connections.

Enough HTTP for an S3 endpoint: Content-Length and chunked bodies, keep-alive, and a
connection the server closes. Requests on a connection that fails before its response
arrives are reported unanswered, so the caller can send them again (our writes are
conditional, so a request that did reach the store is answered 412 the second time).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def encode(self) -> bytes:
        head = [f"{self.method} {self.path} HTTP/1.1"]
        head.extend(f"{name}: {value}" for name, value in self.headers.items())
        head.append(f"content-length: {len(self.body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class ConnectionFailed(OSError):
    """The connection broke or the server closed it before answering."""


class _Connection:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._address = (host, port)
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = bytearray()

    def _socket(self) -> socket.socket:
        if self._sock is None:
            sock = socket.create_connection(self._address, timeout=self._timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
            self._buffer.clear()
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._buffer.clear()

    def send(self, data: bytes) -> None:
        try:
            self._socket().sendall(data)
        except OSError as error:
            self.close()
            raise ConnectionFailed(str(error)) from error

    def _fill(self) -> None:
        assert self._sock is not None
        chunk = self._sock.recv(262144)
        if not chunk:
            raise ConnectionFailed("server closed the connection")
        self._buffer += chunk

    def read(self) -> Response:
        try:
            return self._read()
        except OSError as error:
            self.close()
            raise ConnectionFailed(str(error)) from error

    def _read(self) -> Response:
        if self._sock is None:
            raise ConnectionFailed("not connected")
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            self._fill()
        head = self._buffer[:end].decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        status = int(head[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            length = int(headers.get("content-length", "0"))
            while len(self._buffer) < length:
                self._fill()
            body = bytes(self._buffer[:length])
            del self._buffer[:length]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, headers, body)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            while (end := self._buffer.find(b"\r\n")) < 0:
                self._fill()
            size = int(bytes(self._buffer[:end]).split(b";")[0], 16)
            del self._buffer[: end + 2]
            while len(self._buffer) < size + 2:
                self._fill()
            body += self._buffer[:size]
            del self._buffer[: size + 2]
            if size == 0:
                return bytes(body)


class PipelinedClient:
    """Sends batches of requests over ``connections`` keep-alive connections."""

    def __init__(
        self, endpoint: str, connections: int = 4, depth: int = 64, timeout: float = 10.0
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the pipelined client speaks plain http, not {endpoint!r}")
        self.host_header = parts.netloc
        port = parts.port or 80
        self._connections = [_Connection(parts.hostname, port, timeout) for _ in range(connections)]
        self._depth = depth

    def close(self) -> None:
        for connection in self._connections:
            connection.close()

    def exchange(self, requests: list[Request]) -> list[Response | None]:
        """One response per request, in order; None where the connection failed first."""
        responses: list[Response | None] = [None] * len(requests)
        position = 0
        while position < len(requests):
            rounds: list[tuple[_Connection, range]] = []
            for connection in self._connections:
                if position >= len(requests):
                    break
                batch = range(position, min(position + self._depth, len(requests)))
                position = batch.stop
                try:
                    connection.send(b"".join(requests[i].encode() for i in batch))
                except ConnectionFailed:
                    continue
                rounds.append((connection, batch))
            for connection, batch in rounds:
                for index in batch:
                    try:
                        responses[index] = connection.read()
                    except ConnectionFailed:
                        break
        return responses
