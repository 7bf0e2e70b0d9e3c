"""One HTTP/1.1 client connection as an asyncio protocol: writes a request, parses the response.

The response is parsed from ``data_received`` as its bytes arrive, with no task or stream layer
in between: ``Content-Length``, chunked and close-delimited bodies, interim 1xx responses, and
gzip or deflate content coding (never asked for, but a server may send it). A read timeout is the
longest silence while a response is due, as in httpx. Failures are :class:`ExchangeError`, which
says whether the request may have reached the server.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["ExchangeError", "Headers", "Http11Connection"]

# Header fields as RFC 9110 names them (token ":" value), one per line; no obsolete line folding.
_FIELDS = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*(?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*)*")

_MAX_HEAD = 64 * 1024
_MAX_BODY = 32 * 1024 * 1024


class ExchangeError(Exception):
    """
    An exchange failed without a complete response.

    :param kind: what failed, named as httpx names it (``ConnectTimeout``, ``ReadTimeout``...).
    :param request_sent: False when no byte of the request can have reached the server.
    """

    def __init__(self, kind: str, detail: str = "", *, request_sent: bool) -> None:
        super().__init__(f"{kind} ({detail})" if detail else kind)
        self.kind = kind
        self.request_sent = request_sent


class Headers(Mapping[str, str]):
    """
    Response headers, looked up case-insensitively; a repeated field's values are joined by ``, ``.

    They are split into fields on the first look-up: a poll reads none of them.
    """

    __slots__ = ("_fields", "_map")

    def __init__(self, fields: str = "") -> None:
        self._fields = fields
        self._map: dict[str, str] | None = None

    def _fields_map(self) -> dict[str, str]:
        if self._map is None:
            self._map = {}
            for line in self._fields.split("\r\n") if self._fields else ():
                name, _, value = line.partition(":")
                name, value = name.lower(), value.strip()
                self._map[name] = f"{self._map[name]}, {value}" if name in self._map else value
        return self._map

    def get(self, key: str, default: Any = None) -> Any:
        """Return the header's value, else ``default``."""
        return self._fields_map().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return self._fields_map()[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields_map())

    def __len__(self) -> int:
        return len(self._fields_map())


def _field(lower: str, name: str) -> str:
    """Return the value of the first field ``name`` in ``lower`` (the lower-cased head), else ''."""
    start = lower.find(f"\r\n{name}:")
    if start < 0:
        return ""
    start += len(name) + 3
    end = lower.find("\r\n", start)
    return lower[start : end if end >= 0 else None].strip()


class Http11Connection(asyncio.Protocol):
    """One connection; parses one response at a time as its bytes arrive."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self.idle_since = 0.0
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, Headers, bytes]] | None = None
        self._head: tuple[int, Headers] | None = None
        self._length: int | None = None  # the body's length; None: chunked or until the close
        self._chunked = False
        self._encoding = ""
        self._body = bytearray()
        self._received = False
        self._head_only = False
        self._last_read = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Take in response bytes; complete the exchange once the response is whole."""
        self._last_read = self.loop.time()
        self._received = True
        self._buffer += data
        if self._waiter is None:
            self.reusable = False  # bytes nobody asked for: the framing is lost
            return
        try:
            self._parse()
        except ExchangeError as error:
            self._fail(error)

    def eof_received(self) -> bool:
        """End a close-delimited body, else fail the exchange."""
        self.closed = True
        if self._waiter is not None and self._head is not None and self._length is None and not self._chunked:
            body = bytes(self._buffer)  # a body delimited by the close
            self._buffer.clear()
            try:
                self._complete(body)
            except ExchangeError as error:
                self._fail(error)
        else:
            self._fail(self._disconnected(None))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Fail the exchange in progress, if any."""
        self.closed = True
        self._fail(self._disconnected(exc))

    # exchanges -------------------------------------------------------------------------------

    def exchange(
        self, request: bytes, read_timeout: float, *, head_only: bool = False
    ) -> asyncio.Future[tuple[int, Headers, bytes]]:
        """Write ``request``; return a future of ``(status, headers, body)``; ``head_only``: no body."""
        assert self.transport is not None
        waiter = self._waiter = self.loop.create_future()
        self._received = False
        self._head_only = head_only
        self._last_read = self.loop.time()
        self.transport.write(request)
        self._timer = self.loop.call_at(self._last_read + read_timeout, self._check_timeout, read_timeout)
        return waiter

    def _check_timeout(self, read_timeout: float) -> None:
        silent_until = self._last_read + read_timeout
        if self.loop.time() < silent_until:  # bytes arrived meanwhile: wait from the last of them
            self._timer = self.loop.call_at(silent_until, self._check_timeout, read_timeout)
            return
        self._fail(ExchangeError("ReadTimeout", request_sent=True))
        self.close()

    def close(self) -> None:
        """Close the connection; it is never reused."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _disconnected(self, exc: Exception | None) -> ExchangeError:
        if exc is not None:
            return ExchangeError("ReadError", type(exc).__name__, request_sent=True)
        detail = "incomplete response" if self._received else "server disconnected without sending a response"
        return ExchangeError("RemoteProtocolError", detail, request_sent=True)

    def _fail(self, error: ExchangeError) -> None:
        self.reusable = False
        if self._timer is not None:
            self._timer.cancel()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def _complete(self, body: bytes) -> None:
        assert self._head is not None
        status, headers = self._head
        if self._encoding and self._encoding != "identity":
            body = _decode(body, self._encoding)
        self._head = None
        self._body = bytearray()
        if self._timer is not None:
            self._timer.cancel()
        waiter, self._waiter = self._waiter, None
        if self._buffer:
            self.reusable = False  # more than one response to one request
        if waiter is not None and not waiter.done():
            waiter.set_result((status, headers, body))

    # parsing ---------------------------------------------------------------------------------

    def _parse(self) -> None:
        buffer = self._buffer
        while self._head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_HEAD:
                    raise ExchangeError("RemoteProtocolError", "response head too large", request_sent=True)
                return
            head = bytes(buffer[:end]).decode("latin-1")
            del buffer[: end + 4]
            if not self._read_head(head):
                continue  # an interim 1xx response: the final one follows
        if self._chunked:
            self._parse_chunks()
        elif self._length is not None:
            if len(buffer) >= self._length:
                body = bytes(buffer[: self._length])
                del buffer[: self._length]
                self._complete(body)
        elif len(buffer) > _MAX_BODY:
            raise ExchangeError("RemoteProtocolError", "response body too large", request_sent=True)

    def _read_head(self, head: str) -> bool:
        """Read a status line and headers; return False for an interim (1xx) response."""
        status_line, _, fields = head.partition("\r\n")
        version, _, rest = status_line.partition(" ")
        try:
            status = int(rest[:3])
        except ValueError:
            raise ExchangeError("RemoteProtocolError", "malformed status line", request_sent=True) from None
        if not version.startswith("HTTP/1."):
            raise ExchangeError("RemoteProtocolError", "malformed status line", request_sent=True)
        if 100 <= status < 200:
            return False
        if fields and not _FIELDS.fullmatch(fields):
            raise ExchangeError("RemoteProtocolError", "malformed header", request_sent=True)
        lower = "\r\n" + fields.lower()
        connection = _field(lower, "connection")
        if "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection):
            self.reusable = False
        self._chunked = not self._head_only and "chunked" in _field(lower, "transfer-encoding")
        self._encoding = _field(lower, "content-encoding")
        self._length = None
        if status in (204, 304) or self._head_only:
            self._length = 0
        elif not self._chunked:
            length = _field(lower, "content-length")
            if not length:
                self.reusable = False  # the body ends with the connection
            elif not length.isdigit() or int(length) > _MAX_BODY:
                raise ExchangeError("RemoteProtocolError", "bad Content-Length", request_sent=True)
            else:
                self._length = int(length)
        self._head = (status, Headers(fields))
        return True

    def _parse_chunks(self) -> None:
        buffer = self._buffer
        while True:
            end = buffer.find(b"\r\n")
            if end < 0:
                return
            try:
                size = int(bytes(buffer[:end]).split(b";", 1)[0], 16)
            except ValueError:
                raise ExchangeError("RemoteProtocolError", "malformed chunk", request_sent=True) from None
            if size == 0:
                last = buffer.find(b"\r\n\r\n", end)  # after the trailer fields, if any
                if last < 0:
                    return
                del buffer[: last + 4]
                self._complete(bytes(self._body))
                return
            if len(buffer) < end + 2 + size + 2:
                return
            if len(self._body) + size > _MAX_BODY:
                raise ExchangeError("RemoteProtocolError", "response body too large", request_sent=True)
            self._body += buffer[end + 2 : end + 2 + size]
            del buffer[: end + 2 + size + 2]


def _decode(body: bytes, encoding: str) -> bytes:
    try:
        if encoding == "gzip":
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except zlib.error:
        raise ExchangeError("DecodingError", encoding, request_sent=True) from None
    raise ExchangeError("DecodingError", f"unsupported content coding {encoding}", request_sent=True)
