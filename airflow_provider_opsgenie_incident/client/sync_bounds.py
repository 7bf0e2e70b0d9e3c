"""Strict, bounded HTTP/1.1 for the sync client, as subclasses of http.client and urllib3 pieces.

requests stays the transport (its pool, TLS, proxies); what changes is what a response may be:

- the header section (and the 1xx answers before it, and a chunked body's trailer) is capped by
  :data:`.MAX_HEADER_BYTES`, :data:`.MAX_HEADER_LINE` and :data:`.MAX_HEADER_COUNT`;
- the framing RFC 9112 says a client must reject is refused: a status that is not three digits,
  more than one ``Content-Length``, ``Transfer-Encoding`` with ``Content-Length`` (6.3),
  a chunk size that is not hex digits (``-3``, ``0x42``, ``4_2``: Python's ``int`` takes them), a
  chunk not followed by CRLF (7.1), a NUL or bare CR in a field value (5), and a ``101`` to a
  request that asked for no upgrade (its payload would otherwise be read as a new response);
- a chunk or a ``Content-Length`` over :data:`.MAX_BODY_BYTES` is refused before it is read;
- after a proxy's ``200`` to ``CONNECT`` nothing is read but the TLS handshake: the proxy's answer
  is read byte by byte, and any byte it sent after it ends the connection;
- every socket is attached to the exchange under way (:mod:`.watchdog`), so the watchdog can end
  it at its deadline, and the exchange records when its request may have left.

Each refusal records its cause (a :data:`.TransportCause`) on the exchange and raises an
``http.client.HTTPException``, which urllib3 treats as a broken connection: it is never reused.
This module imports requests and urllib3, so only :mod:`.sync` imports it, when a client is built.
"""

from __future__ import annotations

import http.client
import re
import socket
from typing import TYPE_CHECKING, Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from airflow_provider_opsgenie_incident.client.limits import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_HEADER_COUNT,
    MAX_HEADER_LINE,
)
from airflow_provider_opsgenie_incident.client.watchdog import current

if TYPE_CHECKING:
    import urllib3

    from airflow_provider_opsgenie_incident.client.limits import TransportCause
    from airflow_provider_opsgenie_incident.client.watchdog import Exchange

__all__ = ["BoundedAdapter", "Refused", "read_body"]

#: Bytes asked of urllib3 per read of a chunked or encoded body: as many raw bytes (64 KiB of gzip
#: can hold 64 MiB), decoded at most this many at a time.
_BLOCK = 64 * 1024

_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-5][0-9][0-9])(?: ([^\r\n]*))?\r?\n")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(rb"[\x00\r\n]")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,64})[ \t]*(?:;[^\r\n]*)?\r?\n")
_DIGITS = re.compile(r"[0-9]{1,19}")


class Refused(http.client.HTTPException):
    """A response broke a limit or a framing rule; the cause is on the exchange."""


def _refuse(cause: TransportCause, message: str) -> Refused:
    exchange: Exchange | None = getattr(current, "exchange", None)
    if exchange is not None and exchange.cause is None:
        exchange.cause, exchange.message = cause, message
    return Refused(message)


class StrictResponse(http.client.HTTPResponse):
    """http.client's response with a bounded, strict head and strict chunked framing."""

    _head_left = MAX_HEADER_BYTES

    def _readline(self, what: str) -> bytes:
        assert self.fp is not None
        line: bytes = self.fp.readline(MAX_HEADER_LINE + 1)
        self._head_left -= len(line)
        if len(line) > MAX_HEADER_LINE:
            raise _refuse("headers_too_large", f"a {what} is longer than {MAX_HEADER_LINE} bytes")
        if self._head_left < 0:
            raise _refuse("headers_too_large", f"the header section is larger than {MAX_HEADER_BYTES} bytes")
        return line

    def _read_status(self) -> tuple[str, int, str]:
        line = self._readline("status line")
        if not line:
            raise http.client.RemoteDisconnected("Remote end closed connection without response")
        match = _STATUS_LINE.fullmatch(line)
        if match is None:
            raise _refuse("malformed", f"not an HTTP/1.x status line: {line[:40]!r}")
        minor, status, reason = match.groups()
        return f"HTTP/1.{minor.decode()}", int(status), (reason or b"").decode("iso-8859-1")

    def _read_fields(self, what: str) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = []
        while True:
            line = self._readline(what)
            if line in (b"\r\n", b"\n"):
                return fields
            if not line.endswith(b"\n"):
                raise http.client.IncompleteRead(line)
            if len(fields) >= MAX_HEADER_COUNT:
                raise _refuse("headers_too_large", f"more than {MAX_HEADER_COUNT} {what}s")
            name, colon, value = line.partition(b":")
            value = value.strip(b" \t\r\n")
            if _BAD_VALUE.search(value):
                raise _refuse("malformed", f"a {what} value holds NUL, CR or LF")
            if not colon or _TOKEN.fullmatch(name) is None:
                # Also an obs-fold line: Opsgenie never folds, a hostile server might to smuggle.
                raise _refuse("malformed", f"not a {what}: {line[:40]!r}")
            fields.append((name.decode("ascii"), value.decode("iso-8859-1")))

    def begin(self) -> None:
        if self.headers is not None:
            return
        while True:
            version, status, reason = self._read_status()
            if status >= 200:
                break
            if status == 101:
                raise _refuse("malformed", "101 Switching Protocols to a request that asked for no upgrade")
            # 1xx answers are skipped (RFC 9110, 15.2), and count against the header section.
            self._read_fields("header")
        self.code = self.status = status
        self.reason = reason.strip()
        self.version = 11 if version == "HTTP/1.1" else 10
        message = http.client.HTTPMessage()
        for name, value in self._read_fields("header"):
            message[name] = value
        self.headers = self.msg = message
        self._frame(message.get_all("Transfer-Encoding"), message.get_all("Content-Length"))
        self.will_close = self._check_close()
        if status in (204, 304) or self._method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True

    def _frame(self, encodings: list[str] | None, lengths: list[str] | None) -> None:
        """Decide the body's framing from its fields, as RFC 9112 section 6.3 has a client do it."""
        self.chunked = False
        self.length = None
        if encodings:
            if lengths:
                raise _refuse("malformed", "both Transfer-Encoding and Content-Length")
            if len(encodings) != 1 or encodings[0].strip().lower() != "chunked":
                raise _refuse("malformed", "a Transfer-Encoding other than chunked")
            self.chunked = True
            self.chunk_left = None
        elif lengths:
            # RFC 9112 6.3 lets a recipient refuse even repeated identical values; aiohttp does.
            if len(lengths) != 1:
                raise _refuse("malformed", "more than one Content-Length")
            value = lengths[0].strip()
            if _DIGITS.fullmatch(value) is None:
                raise _refuse("malformed", f"Content-Length is not a number: {value[:20]!r}")
            self.length = int(value)
            if self.length > MAX_BODY_BYTES:
                raise _refuse("body_too_large", f"a body of {self.length} bytes is over {MAX_BODY_BYTES}")

    def _read_next_chunk_size(self) -> int:
        assert self.fp is not None
        line = self.fp.readline(MAX_HEADER_LINE + 1)
        match = _CHUNK_SIZE.fullmatch(line)
        if match is None:
            raise _refuse("malformed", f"not a chunk size line: {line[:40]!r}")
        size = int(match.group(1), 16)
        if size > MAX_BODY_BYTES:
            raise _refuse("body_too_large", f"a chunk of {size} bytes is over {MAX_BODY_BYTES}")
        return size

    def _read_and_discard_trailer(self) -> None:
        self._head_left = MAX_HEADER_BYTES
        self._read_fields("trailer field")

    def _get_chunk_left(self) -> int | None:
        chunk_left: int | None = self.chunk_left
        if not chunk_left:
            if chunk_left is not None and self._safe_read(2) != b"\r\n":  # type: ignore[attr-defined]
                raise _refuse("malformed", "chunk data not followed by CRLF")
            chunk_left = self._read_next_chunk_size()
            if chunk_left == 0:
                self._read_and_discard_trailer()
                self._close_conn()  # type: ignore[attr-defined]
                chunk_left = None
            self.chunk_left = chunk_left
        return chunk_left


class _TunnelResponse(StrictResponse):
    """The proxy's answer to CONNECT, read unbuffered so that no byte after it is consumed."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        assert self.fp is not None
        self.fp.close()
        self.fp = sock.makefile("rb", buffering=0)  # type: ignore[assignment]


class _Attached:
    """Attach each connection's socket to the calling thread's exchange, and mark when it sends."""

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        exchange: Exchange | None = getattr(current, "exchange", None)
        if exchange is not None:
            exchange.attach(sock)
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        exchange: Exchange | None = getattr(current, "exchange", None)
        if exchange is not None:
            # TLS wraps the socket into a new object: the watchdog must hold that one.
            exchange.attach(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is None:
            self.connect()
        exchange: Exchange | None = getattr(current, "exchange", None)
        if exchange is not None:
            exchange.attach(self.sock)
            exchange.sent = True
        super().request(*args, **kwargs)  # type: ignore[misc]


class _Connection(_Attached, HTTPConnection):
    response_class = StrictResponse


class _TLSConnection(_Attached, HTTPSConnection):
    response_class = StrictResponse
    _handshake_sock: socket.socket | None = None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        exchange: Exchange | None = getattr(current, "exchange", None)
        if exchange is not None:
            # TLS detaches this socket object when it wraps it, before the handshake: a duplicate
            # of the descriptor, ours alone, lets the watchdog end a handshake that trickles too.
            self._handshake_sock = sock.dup()
            exchange.attach(self._handshake_sock)
        return sock

    def connect(self) -> None:
        try:
            super().connect()
        finally:
            if self._handshake_sock is not None:
                self._handshake_sock.close()
                self._handshake_sock = None

    def _tunnel(self) -> None:
        self.response_class = _TunnelResponse
        try:
            super()._tunnel()
        except http.client.HTTPException as error:
            # CPython 3.12+ reads the proxy's header fields itself, with its own caps (a line of
            # 64 KiB, 100 fields): past them, as past ours, the answer to CONNECT is too large.
            self.close()
            too_large = isinstance(error, http.client.LineTooLong) or "got more than" in str(error)
            raise _refuse(
                "headers_too_large" if too_large else "proxy", f"the proxy's answer to CONNECT: {error}"
            ) from error
        finally:
            del self.response_class
        sock = self.sock
        assert sock is not None
        timeout = sock.gettimeout()
        sock.settimeout(0)  # a socket with a timeout would wait for data even with MSG_DONTWAIT
        try:
            early = sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            early = b""
        finally:
            sock.settimeout(timeout)
        if early:
            # Only the server may speak first inside the tunnel, and only after our ClientHello.
            self.close()
            raise _refuse("proxy", "the proxy sent bytes after its 200 to CONNECT")


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


_POOLS = {"http": _Pool, "https": _TLSPool}


class BoundedAdapter(HTTPAdapter):
    """requests' adapter over the strict connection classes above, direct and through a proxy."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Build requests' pool manager, over the strict connection classes."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> urllib3.ProxyManager:
        """Return requests' manager for ``proxy``, over the strict connection classes."""
        manager: urllib3.ProxyManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def read_body(raw: urllib3.BaseHTTPResponse) -> bytes | bytearray:
    """
    Read a whole body, counting the cap on the decoded bytes, in blocks.

    A body of known length that is not encoded is read in one call (its length is checked against
    the cap with the headers); anything else (chunked, gzip) is decoded a block at a time, so a
    gzip bomb stops at the cap instead of expanding whole.
    """
    if raw.length_remaining is not None and "Content-Encoding" not in raw.headers:
        return raw.read()
    body = bytearray()
    while block := raw.read(_BLOCK, decode_content=True):
        body += block
        if len(body) > MAX_BODY_BYTES:
            raise _refuse("body_too_large", f"the decoded body is larger than {MAX_BODY_BYTES} bytes")
    return body
