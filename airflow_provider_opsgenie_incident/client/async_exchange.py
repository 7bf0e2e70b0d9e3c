"""One HTTP exchange of the async client, on aiohttp, bounded in time and size.

This module imports aiohttp, so it is imported only when an async client is built (never while a
DAG file is parsed). It keeps what the async client promises:

- one ``aiohttp.ClientSession`` per client, opened on the event loop of the first call, with
  keep-alive connections (closed after ``keepalive_expiry`` seconds idle) and at most
  ``max_connections`` exchanges in flight; the others wait their turn before their deadline starts;
- TLS with the context :func:`ssl_context` builds from the ``verify`` rules of the sync client;
- an ``http://`` proxy: ``CONNECT`` tunnels for https (after the proxy's ``200`` only the TLS
  handshake is read), absolute-form requests for http; other proxy schemes are refused;
- every attempt bounded (:mod:`.limits`): a total deadline (connect, send, headers, body, however
  slowly the bytes come, interim 1xx answers included), a read timeout (the longest silence), the
  header section (aiohttp's ``max_line_size``, ``max_field_size`` and ``max_headers`` while parsing,
  then the whole section against :data:`~.limits.MAX_HEADER_BYTES`), and the body counted on the
  decoded bytes as they are read;
- every failure as a :class:`~.errors.TransportError` naming its cause and URL, and saying whether
  the request may have reached the server: a trace marks it sent as aiohttp starts writing its
  head (``on_request_headers_sent`` fires just before), so a failure before then (connect, proxy,
  TLS, a deadline while connecting) is never sent, and any later one may have been.

aiohttp repeats a request once by itself when a connection breaks under a GET, HEAD, PUT or DELETE
(RFC 9112, 9.3.1). A request that is not safe to repeat (a PUT or DELETE carrying a note) is sent
with a middleware that stops that, so the retry policy and the verification decide.
"""

from __future__ import annotations

import asyncio
import math
import os
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from airflow_provider_opsgenie_incident.client.errors import InvalidRequestError, TransportError
from airflow_provider_opsgenie_incident.client.limits import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_HEADER_COUNT,
    MAX_HEADER_LINE,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import SimpleNamespace

    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace
    from multidict import CIMultiDictProxy

    from airflow_provider_opsgenie_incident.client.limits import TransportCause

__all__ = ["AsyncExchange", "ssl_context"]


def ssl_context(bundle: str | bool) -> ssl.SSLContext:
    """
    Build the TLS context for ``verify=bundle``, by the rules the sync client follows.

    A CA bundle path (file or directory) is loaded into a default context; True means the
    ``certifi`` bundle. Only HTTP/1.1 is offered in ALPN.
    """
    if isinstance(bundle, str):
        context = (
            ssl.create_default_context(capath=bundle)
            if os.path.isdir(bundle)
            else ssl.create_default_context(cafile=bundle)
        )
    else:
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    return context


class _Attempt:
    """What one attempt has done so far; aiohttp hands it to the trace as ``trace_request_ctx``."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = False


async def _head_written(_session: object, context: SimpleNamespace, _params: object) -> None:
    attempt = context.trace_request_ctx
    if attempt is not None:
        attempt.sent = True


class _NotRepeated(Exception):
    """Carries a broken connection's error past aiohttp's own repeat of the request."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


async def _send_once(request: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
    try:
        response: aiohttp.ClientResponse = await handler(request)
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as error:
        raise _NotRepeated(error) from error
    return response


class _IdleCheckingConnector(aiohttp.TCPConnector):
    """
    A connector that never lends a kept-alive connection on which bytes came while it was idle.

    aiohttp parses what arrives on an idle connection and would hand it to the next request as
    its answer; a server that answers twice (or anything on the path to a plain-http one) could
    answer a request before it is sent.
    """

    async def connect(
        self, req: aiohttp.ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> Connection:
        """Get a connection from the pool, or a new one, with nothing unasked-for waiting on it."""
        for _ in range(self.limit or 8):
            connection = await super().connect(req, traces, timeout)
            protocol = connection.protocol
            if protocol is None or not protocol.should_close:
                return connection
            connection.close()
        return await super().connect(req, traces, timeout)


def _chain(error: BaseException) -> list[BaseException]:
    """Return ``error`` and the exceptions it was raised from, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _classify(
    error: BaseException, timeout: aiohttp.ClientTimeout
) -> tuple[TransportCause, bool | None, str]:
    """
    Return the cause of a failed exchange, whether it is known not to have been sent, and a detail.

    The middle value is False when the request provably never left (it failed while connecting),
    None when the attempt's trace tells.
    """
    from aiohttp import http_exceptions

    if isinstance(error, aiohttp.ClientHttpProxyError):
        return "proxy", False, f"the proxy answered {error.status} to CONNECT"
    if isinstance(error, aiohttp.ClientSSLError):
        return "tls", False, str(error.os_error) or type(error.os_error).__name__
    if isinstance(error, aiohttp.ClientProxyConnectionError):
        return "proxy", False, f"no connection to the proxy ({error.os_error})"
    if isinstance(error, aiohttp.ClientConnectorError):
        return "connect", False, str(error.os_error) or type(error.os_error).__name__
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return "connect", False, f"no connection within {timeout.connect:g} s"
    if isinstance(error, aiohttp.ServerTimeoutError):
        return "read_timeout", None, f"no byte within {timeout.sock_read:g} s"
    if isinstance(error, TimeoutError):
        return "deadline", None, f"no complete answer within the attempt's {timeout.total:g} s"
    if isinstance(error, (aiohttp.ClientResponseError, aiohttp.ClientPayloadError)):
        # The head or a chunked body's trailer broke a limit: aiohttp raises over the parser's error,
        # which for too many fields is a plain BadHttpMessage told apart only by its text. A trailer
        # that does so while the body is read surfaces as a payload "not completed".
        for inner in _chain(error):
            if isinstance(inner, http_exceptions.LineTooLong) or (
                isinstance(inner, http_exceptions.BadHttpMessage) and "Too many headers" in inner.message
            ):
                return "headers_too_large", None, inner.message
    if isinstance(error, aiohttp.ClientResponseError):
        return "malformed", None, error.message
    if isinstance(error, aiohttp.ClientPayloadError):
        # The same parser errors say "too short" when the connection closed mid-body (aiohttp then
        # reports the payload "not completed") and "malformed" when the bytes broke the framing.
        if "not completed" in str(error):
            return "reset", None, "the connection closed before the body was complete"
        return "malformed", None, str(error)
    return "reset", None, str(error) or type(error).__name__


def _parse_proxy(proxy: str) -> str:
    """Return an ``http://`` proxy URL, or refuse another scheme."""
    url = proxy if "://" in proxy else f"http://{proxy}"
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise InvalidRequestError(
            f"proxy must be an http:// URL (https and socks proxies are not supported), got {parts.scheme}://",
            field="proxy",
        )
    return url


class AsyncExchange:
    """
    Exchanges with one origin through one aiohttp session, each bounded in time and size.

    :param base_url: ``http(s)://host[:port][/path]``; request targets are appended to it.
    :param headers: sent with every request.
    :param connect_timeout: seconds to connect, tunnel through the proxy and shake hands.
    :param read_timeout: the longest silence, in seconds, while a response is due.
    :param attempt_timeout: seconds one exchange may take in all.
    :param tls: the TLS context for an https base URL (:func:`ssl_context`).
    :param proxy: an ``http://[user:password@]host[:port]`` proxy, or None.
    :param max_connections: exchanges in flight at most; the others wait their turn.
    :param keepalive_expiry: seconds an idle connection is kept.
    :raises InvalidRequestError: the proxy is not an ``http://`` URL, or a header holds a line break.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        connect_timeout: float,
        read_timeout: float,
        attempt_timeout: float,
        tls: ssl.SSLContext | None = None,
        proxy: str | None = None,
        max_connections: int = 20,
        keepalive_expiry: float = 5.0,
    ) -> None:
        for name, value in headers.items():
            if any(character in name + value for character in "\r\n\0"):
                # The value is not shown: it may be the key.
                raise InvalidRequestError(f"the {name} header holds a line break or NUL", field=name)
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._proxy = _parse_proxy(proxy) if proxy else None
        self._tls = tls
        self._timeout = aiohttp.ClientTimeout(
            total=attempt_timeout,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
            # aiohttp rounds timeouts of 5 s and more up to the next whole second of the loop clock
            # (here and in the connector); a deadline should end when it says.
            ceil_threshold=math.inf,
        )
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._slots = asyncio.Semaphore(max_connections)
        self._session: aiohttp.ClientSession | None = None
        self.is_closed = False
        #: Counters for tests and benchmarks: connections opened, exchanges completed.
        self.connections_opened = 0
        self.exchanges = 0

    def _open(self) -> aiohttp.ClientSession:
        trace = aiohttp.TraceConfig()
        trace.on_request_headers_sent.append(_head_written)
        trace.on_connection_create_end.append(self._count_connection)
        connector = _IdleCheckingConnector(
            limit=self._max_connections,
            limit_per_host=0,
            ssl=self._tls if self._tls is not None else True,
            keepalive_timeout=self._keepalive_expiry,
            timeout_ceil_threshold=math.inf,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            timeout=self._timeout,
            trace_configs=[trace],
            cookie_jar=aiohttp.DummyCookieJar(),
            proxy=self._proxy,
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
            max_headers=MAX_HEADER_COUNT,
        )
        return self._session

    async def _count_connection(self, *_args: object) -> None:
        self.connections_opened += 1

    async def request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        *,
        repeatable: bool = True,
        name: str = "",
    ) -> tuple[int, CIMultiDictProxy[str], bytes]:
        """
        Make one exchange; ``target`` is the path and query below the base URL, already encoded.

        :param repeatable: whether aiohttp may send it again by itself on a broken connection.
        :param name: what the exchange does (the endpoint's name), for error messages.
        :raises TransportError: no complete, bounded answer came.
        """
        url = f"{self._base_url}{target}"
        label = f"{method} {name or url}"
        if self.is_closed:
            raise TransportError(
                f"{label}: the client is closed", request_sent=False, cause="connect", url=url
            )
        session = self._session or self._open()
        attempt = _Attempt()
        async with self._slots:
            try:
                response = await session.request(
                    method,
                    URL(url, encoded=True),
                    data=body,
                    headers={"Content-Type": "application/json"} if body is not None else None,
                    allow_redirects=False,
                    trace_request_ctx=attempt,
                    middlewares=None if repeatable else (_send_once,),
                )
                try:
                    content = await self._read(response, label, url)
                except BaseException:
                    response.close()
                    raise
            except (aiohttp.ClientError, OSError, TimeoutError, _NotRepeated) as error:
                cause, sent, detail = _classify(
                    error.error if isinstance(error, _NotRepeated) else error, self._timeout
                )
                raise TransportError(
                    # aiohttp's parser errors go on to show the bytes that broke it: one line suffices.
                    f"{label} failed ({cause}): {detail.partition(chr(10))[0].rstrip(': ')}",
                    request_sent=attempt.sent if sent is None else sent,
                    cause=cause,
                    url=url,
                ) from None
        response.release()
        self.exchanges += 1
        return response.status, response.headers, content

    @staticmethod
    async def _read(response: aiohttp.ClientResponse, label: str, url: str) -> bytes:
        """Check the head, then read the body in chunks, counting the decoded bytes."""

        def refuse(cause: TransportCause, detail: str) -> TransportError:
            return TransportError(f"{label} failed ({cause}): {detail}", cause=cause, url=url)

        if response.status < 200:
            # aiohttp skips interim answers; a 101 (we never ask to switch) or a 1xx it hands back is
            # no final answer, and what follows it is not HTTP/1.1 to us.
            raise refuse("malformed", f"a {response.status} is not a final answer")
        head = sum(len(name) + len(value) + 4 for name, value in response.raw_headers)
        if head > MAX_HEADER_BYTES:
            raise refuse("headers_too_large", f"the header section passed {MAX_HEADER_BYTES} bytes")
        declared = response.content_length
        if (
            declared is not None
            and declared > MAX_BODY_BYTES
            and not response.headers.get("Content-Encoding")
        ):
            raise refuse("body_too_large", f"a body of {declared} bytes is over {MAX_BODY_BYTES}")
        chunks: list[bytes] = []
        size = 0
        stream = response.content
        while chunk := await stream.readany():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise refuse("body_too_large", f"the decoded body passed {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def aclose(self) -> None:
        """Close the session and its connections; calls made after this fail, never sent."""
        self.is_closed = True
        if self._session is not None:
            await self._session.close()
