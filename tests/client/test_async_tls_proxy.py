"""The async client's transport over TLS and through proxies, on loopback in front of the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from typing import TYPE_CHECKING

import pytest
from hostile_server import self_signed_certificate

from airflow_provider_opsgenie_incident.client import InvalidRequestError, RetrySettings, TransportError
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from pathlib import Path

LIST = {"query": "status:open"}
ONE_TRY = RetrySettings(max_attempts=1)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def _server(handle: Callable[..., Awaitable[None]], **options: object) -> AsyncIterator[int]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, **options)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


@pytest.fixture
def tls_cert(tmp_path):
    return self_signed_certificate(tmp_path, "localhost")


@contextlib.asynccontextmanager
async def _tls_front(emu, cert: tuple[Path, Path]) -> AsyncIterator[int]:
    """Terminate TLS on a loopback port and pass the plain bytes to the emulator."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)
    port = int(emu.url.rsplit(":", 1)[1])

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    async with _server(handle, ssl=context) as tls_port:
        yield tls_port


@pytest.mark.asyncio
async def test_tls_with_the_connection_ca_bundle(make_settings, emu, tls_cert, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_cert[0]))
    async with _tls_front(emu, tls_cert) as port:
        async with AsyncOpsgenieIncidentClient(make_settings(base_url=f"https://localhost:{port}")) as client:
            for _ in range(3):
                assert (await client.list_incidents(**LIST))["data"] == []
            assert client._exchange.connections_opened == 1
    assert emu.requests[-1].headers["host"] == f"localhost:{port}"


@pytest.mark.asyncio
@pytest.mark.parametrize("case", ["unknown-ca", "wrong-host"])
async def test_tls_refuses_an_unverified_server_before_sending(
    case, make_settings, emu, tls_cert, monkeypatch
):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    if case == "wrong-host":
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_cert[0]))
    host = "localhost" if case == "unknown-ca" else "127.0.0.1"
    async with _tls_front(emu, tls_cert) as port:
        settings = make_settings(base_url=f"https://{host}:{port}", retry=RetrySettings(max_attempts=2))
        async with AsyncOpsgenieIncidentClient(settings) as client:
            with pytest.raises(TransportError) as caught:
                await client.create_incident(message="m")
    assert (caught.value.cause, caught.value.request_sent) == ("tls", False)
    assert emu.requests == []


@contextlib.asynccontextmanager
async def _proxy(
    seen: list[bytes],
    answer: bytes | None = None,
    *,
    keep_open: bool = False,
    after_ok: bytes = b"",
    pause: float = 0.0,
) -> AsyncIterator[int]:
    """
    A loopback proxy: CONNECT tunnels (or ``answer`` instead); other requests get a canned answer.

    With ``keep_open`` the connection stays open after ``answer`` until the client closes it.
    ``after_ok`` is sent after the tunnel's ``200``, ``pause`` seconds later, before any tunnelled byte.
    """

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head)
        if answer is not None or not head.startswith(b"CONNECT "):
            writer.write(answer or b'HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{"data": []}')
            await writer.drain()
            if keep_open:
                with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                    await reader.read()
            writer.close()
            return
        host, port = head.split(b" ")[1].decode().rsplit(":", 1)
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n" + (b"" if pause else after_ok))
        if pause:
            await writer.drain()
            await asyncio.sleep(pause)
            writer.write(after_ok)
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    async with _server(handle) as port:
        yield port


@pytest.mark.asyncio
async def test_https_through_a_proxy_tunnel(make_settings, emu, tls_cert, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_cert[0]))
    seen: list[bytes] = []
    async with _tls_front(emu, tls_cert) as port, _proxy(seen) as proxy_port:
        settings = make_settings(
            base_url=f"https://localhost:{port}", proxy=f"http://user:p%40ss@127.0.0.1:{proxy_port}"
        )
        async with AsyncOpsgenieIncidentClient(settings) as client:
            assert (await client.list_incidents(**LIST))["data"] == []
            assert (await client.list_incidents(**LIST))["data"] == []
    (head,) = seen
    assert head.startswith(f"CONNECT localhost:{port} HTTP/1.1\r\n".encode())
    assert b"Proxy-Authorization: Basic dXNlcjpwQHNz\r\n" in head  # user:p@ss
    assert "proxy-authorization" not in emu.requests[-1].headers


@pytest.mark.asyncio
async def test_plain_http_through_a_proxy_names_the_whole_url(make_settings, emu):
    seen: list[bytes] = []
    async with _proxy(seen) as proxy_port:
        settings = make_settings(proxy=f"http://127.0.0.1:{proxy_port}")
        async with AsyncOpsgenieIncidentClient(settings) as client:
            assert (await client.list_incidents(**LIST))["data"] == []
    assert seen[0].startswith(f"GET {emu.url}/v1/incidents?query=status%3Aopen HTTP/1.1\r\n".encode())


@pytest.mark.asyncio
async def test_a_proxy_refusing_the_tunnel_is_never_sent(make_settings, emu, tls_cert, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_cert[0]))
    seen: list[bytes] = []
    refusal = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
    async with _tls_front(emu, tls_cert) as port, _proxy(seen, refusal) as proxy_port:
        settings = make_settings(
            base_url=f"https://localhost:{port}", proxy=f"http://127.0.0.1:{proxy_port}", retry=ONE_TRY
        )
        async with AsyncOpsgenieIncidentClient(settings) as client:
            with pytest.raises(TransportError) as caught:
                await client.create_incident(message="m")
    assert (caught.value.cause, caught.value.request_sent) == ("proxy", False)
    assert "407" in str(caught.value)
    assert emu.requests == []


FORGED = b'HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n{"data": [{"id": "forged-1"}]}'


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("pause", "outcome"), [(0.0, "answer"), (0.05, "tls")], ids=["with-the-200", "before-the-handshake"]
)
async def test_bytes_a_proxy_sends_after_its_200_are_never_an_answer(
    pause, outcome, make_settings, emu, tls_cert, monkeypatch
):
    """
    After ``200`` to CONNECT only the TLS handshake is read.

    Bytes that come with the ``200`` are dropped with it; bytes that come later reach the handshake,
    which fails. Either way no forged answer is read.
    """
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_cert[0]))
    async with _tls_front(emu, tls_cert) as port, _proxy([], after_ok=FORGED, pause=pause) as proxy_port:
        settings = make_settings(
            base_url=f"https://localhost:{port}", proxy=f"http://127.0.0.1:{proxy_port}", retry=ONE_TRY
        )
        async with AsyncOpsgenieIncidentClient(settings) as client:
            if outcome == "answer":
                assert (await client.list_incidents(**LIST))["data"] == []
                return
            with pytest.raises(TransportError) as caught:
                await client.list_incidents(**LIST)
    assert (caught.value.cause, caught.value.request_sent) == ("tls", False)
    assert emu.requests == []


@pytest.mark.asyncio
async def test_a_proxy_that_answers_200_and_never_tunnels_ends_at_the_connect_timeout(
    make_settings, emu, tls_cert, monkeypatch
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_cert[0]))
    answer = b"HTTP/1.1 200 Connection established\r\n\r\n" + FORGED
    async with _tls_front(emu, tls_cert) as port, _proxy([], answer, keep_open=True) as proxy_port:
        settings = make_settings(
            base_url=f"https://localhost:{port}",
            proxy=f"http://127.0.0.1:{proxy_port}",
            connect_timeout=0.5,
            retry=ONE_TRY,
        )
        async with AsyncOpsgenieIncidentClient(settings) as client:
            started = time.monotonic()
            with pytest.raises(TransportError) as caught:
                await client.list_incidents(**LIST)
            elapsed = time.monotonic() - started
    assert (caught.value.cause, caught.value.request_sent) == ("connect", False)
    assert 0.5 <= elapsed < 1.5


@pytest.mark.asyncio
@pytest.mark.parametrize("through_proxy", [False, True], ids=["api", "proxy"])
async def test_a_refused_connection_is_never_sent(through_proxy, make_settings, emu, tls_cert, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_cert[0]))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    target = {"proxy": f"http://127.0.0.1:{closed}"} if through_proxy else {}
    settings = make_settings(base_url=f"https://localhost:{closed}", retry=ONE_TRY, **target)
    async with AsyncOpsgenieIncidentClient(settings) as client:
        with pytest.raises(TransportError) as caught:
            await client.create_incident(message="m")
    assert (caught.value.cause, caught.value.request_sent) == ("proxy" if through_proxy else "connect", False)
    assert caught.value.url == f"https://localhost:{closed}/v1/incidents/create"


@pytest.mark.parametrize("proxy", ["https://proxy.local:3128", "socks5://proxy.local:1080"])
def test_other_proxy_schemes_are_refused_when_the_client_is_built(proxy, make_settings):
    with pytest.raises(InvalidRequestError) as caught:
        AsyncOpsgenieIncidentClient(make_settings(base_url="https://api.opsgenie.com", proxy=proxy))
    assert caught.value.field == "proxy"


def test_a_key_with_a_line_break_is_refused_without_showing_it(make_settings):
    with pytest.raises(InvalidRequestError) as caught:
        AsyncOpsgenieIncidentClient(make_settings(api_key="secret\r\nX-Injected: 1"))
    assert caught.value.field == "Authorization"
    assert "secret" not in str(caught.value)
