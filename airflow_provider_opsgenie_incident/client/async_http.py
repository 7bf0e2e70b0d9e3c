"""A small HTTP/1.1 keep-alive client on asyncio protocols: the async client's transport.

A poll in the triggerer is one small GET to one host, repeated by every waiting sensor, so the
cost of the HTTP layer is most of the cost of waiting: httpx spends most of a poll parsing URLs,
merging headers and cookies, and in anyio and h11 (``benchmarks/README.md``). Here a request is
one prebuilt block of bytes written at once, and the answer is parsed by
:class:`~airflow_provider_opsgenie_incident.client.http11.Http11Connection`. What it keeps from a
general client:

- an explicit connect timeout (TCP connect, proxy tunnel and TLS handshake) and a read timeout;
- TLS with the SSL context it is given (the async client builds it by httpx's rules);
- an ``http://`` proxy: ``CONNECT`` tunnels for https, absolute-form requests for http; other
  proxy schemes are refused when the pool is built;
- reuse of idle connections (newest first; closed after ``keepalive_expiry`` seconds idle) and
  at most ``max_connections`` exchanges in flight, the others queueing;
- failures as :class:`~airflow_provider_opsgenie_incident.client.http11.ExchangeError`, which
  says whether the request may have reached the server.
"""

from __future__ import annotations

import asyncio
import base64
from collections import deque
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from airflow_provider_opsgenie_incident.client.errors import InvalidRequestError
from airflow_provider_opsgenie_incident.client.http11 import ExchangeError, Http11Connection

if TYPE_CHECKING:
    import ssl
    from collections.abc import Mapping

    from airflow_provider_opsgenie_incident.client.http11 import Headers

__all__ = ["AsyncHttp11Pool"]


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class AsyncHttp11Pool:
    """
    Connections to one origin, reused, with at most ``max_connections`` exchanges at a time.

    :param base_url: ``http(s)://host[:port][/path]``; request targets are appended to its path.
    :param headers: sent with every request (already validated: no CR or LF).
    :param connect_timeout: seconds to connect, tunnel and shake hands.
    :param read_timeout: the longest silence, in seconds, while a response is due.
    :param ssl_context: the TLS context for an https base URL.
    :param proxy: an ``http://[user:password@]host[:port]`` proxy, or None.
    :param max_connections: exchanges in flight at most; the others wait their turn.
    :param keepalive_expiry: seconds an idle connection is kept.
    :raises InvalidRequestError: the proxy is not an ``http://`` URL.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        connect_timeout: float,
        read_timeout: float,
        ssl_context: ssl.SSLContext | None = None,
        proxy: str | None = None,
        max_connections: int = 20,
        keepalive_expiry: float = 5.0,
    ) -> None:
        parts = urlsplit(base_url)
        self._tls = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._tls else 80)
        if self._tls and ssl_context is None:
            import ssl

            ssl_context = ssl.create_default_context()
        self._ssl_context = ssl_context if self._tls else None
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._keepalive_expiry = keepalive_expiry
        host = f"[{self._host}]" if ":" in self._host else self._host
        host_header = host if self._port == (443 if self._tls else 80) else f"{host}:{self._port}"
        self._prefix = parts.path.rstrip("/")
        for name, value in headers.items():
            if any(character in name + value for character in "\r\n\0"):
                # The value is not shown: it may be the key.
                raise InvalidRequestError(f"the {name} header holds a line break or NUL", field=name)
        lines = [f"Host: {host_header}", *(f"{name}: {value}" for name, value in headers.items())]
        self._proxy = _parse_proxy(proxy) if proxy else None
        if self._proxy is not None and not self._tls:
            # Plain http through a proxy is forwarded: the request names the whole URL.
            self._prefix = f"http://{host_header}{self._prefix}"
            if self._proxy[2]:
                lines.append(f"Proxy-Authorization: {self._proxy[2]}")
        self._head_suffix = (" HTTP/1.1\r\n" + "".join(f"{line}\r\n" for line in lines)).encode("latin-1")
        self._idle: deque[Http11Connection] = deque()
        self._slots = asyncio.Semaphore(max_connections)
        self.is_closed = False
        #: Counters for tests and benchmarks: connections opened, exchanges made.
        self.connections_opened = 0
        self.exchanges = 0

    async def request(
        self, method: str, target: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, Headers, bytes]:
        """
        Make one exchange; ``target`` is the path and query below the base URL, already encoded.

        :raises ExchangeError: no complete response came.
        """
        head = f"{method} {self._prefix}{target}".encode("latin-1") + self._head_suffix
        if body is not None:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode("latin-1")
            request = head + body
        else:
            request = head + b"\r\n"
        async with self._slots:
            connection = self._idle_connection() or await self._connect()
            try:
                result = await connection.exchange(request, self._read_timeout)
            except BaseException:
                connection.close()  # an exchange cut short (error, cancellation) leaves no framing
                raise
            self.exchanges += 1
            if connection.reusable and not connection.closed and not self.is_closed:
                connection.idle_since = connection.loop.time()
                self._idle.append(connection)
            else:
                connection.close()
            return result

    def _idle_connection(self) -> Http11Connection | None:
        idle = self._idle
        while idle:
            connection = idle.pop()  # the newest: the others may expire and close
            if not connection.closed and connection.reusable:
                if connection.loop.time() - connection.idle_since < self._keepalive_expiry:
                    self._expire()
                    return connection
            connection.close()
        return None

    def _expire(self) -> None:
        idle = self._idle
        while idle and (idle[0].closed or idle[0].loop.time() - idle[0].idle_since >= self._keepalive_expiry):
            idle.popleft().close()

    async def _connect(self) -> Http11Connection:
        if self.is_closed:
            raise ExchangeError("ConnectError", "the client is closed", request_sent=False)
        loop = asyncio.get_running_loop()
        connection = Http11Connection(loop)
        try:
            await asyncio.wait_for(self._open(loop, connection), self._connect_timeout)
        except TimeoutError:
            connection.close()
            raise ExchangeError("ConnectTimeout", request_sent=False) from None
        except ExchangeError as error:  # from the proxy's answer to CONNECT: nothing reached the API
            connection.close()
            if error.kind == "ProxyError":
                raise
            raise ExchangeError("ProxyError", str(error), request_sent=False) from None
        except OSError as error:  # refused, unreachable, TLS verification (ssl.SSLError is an OSError)
            connection.close()
            detail = (
                getattr(error, "reason", None) or getattr(error, "strerror", None) or type(error).__name__
            )
            raise ExchangeError("ConnectError", str(detail), request_sent=False) from None
        except BaseException:  # cancelled while connecting: nothing may stay open
            connection.close()
            raise
        self.connections_opened += 1
        return connection

    async def _open(self, loop: asyncio.AbstractEventLoop, connection: Http11Connection) -> None:
        server_hostname = self._host if self._tls else None
        if self._proxy is None:
            await loop.create_connection(
                lambda: connection,
                self._host,
                self._port,
                ssl=self._ssl_context,
                server_hostname=server_hostname,
            )
            return
        proxy_host, proxy_port, authorization = self._proxy
        await loop.create_connection(lambda: connection, proxy_host, proxy_port)
        if not self._tls:
            return
        authority = _authority(self._host, self._port)
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        if authorization:
            lines.append(f"Proxy-Authorization: {authorization}")
        status, _headers, _body = await connection.exchange(
            ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), self._connect_timeout, head_only=True
        )
        if not 200 <= status < 300:
            raise ExchangeError("ProxyError", f"CONNECT answered {status}", request_sent=False)
        assert connection.transport is not None
        assert self._ssl_context is not None
        connection.transport = await loop.start_tls(
            connection.transport, connection, self._ssl_context, server_hostname=server_hostname
        )

    async def aclose(self) -> None:
        """Close every idle connection; those in use close when their exchange ends."""
        self.is_closed = True
        while self._idle:
            self._idle.pop().close()


def _parse_proxy(proxy: str) -> tuple[str, int, str | None]:
    """Return host, port and the ``Proxy-Authorization`` value of an ``http://`` proxy URL."""
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme != "http" or not parts.hostname:
        raise InvalidRequestError(
            f"proxy must be an http:// URL (https and socks proxies are not supported), got {parts.scheme}://",
            field="proxy",
        )
    authorization = None
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
    return parts.hostname, parts.port or 80, authorization
