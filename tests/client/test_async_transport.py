"""The async client's HTTP/1.1 transport over loopback: reuse, bounds, timeouts, resets, TLS, proxies."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gzip
import ssl
import time
from typing import TYPE_CHECKING

import pytest

from airflow_provider_opsgenie_incident.client import (
    InvalidRequestError,
    NotFoundError,
    RetrySettings,
    ServerError,
    TransportError,
)
from airflow_provider_opsgenie_incident.client.async_http import AsyncHttp11Pool
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.client.http11 import ExchangeError
from airflow_provider_opsgenie_incident.emulator import Fault

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from pathlib import Path

LIST = {"query": "status:open"}
ONE_TRY = RetrySettings(max_attempts=1)


def _pool(client: AsyncOpsgenieIncidentClient) -> AsyncHttp11Pool:
    return client._http


@pytest.mark.asyncio
async def test_calls_reuse_one_keep_alive_connection(settings, emu):
    async with AsyncOpsgenieIncidentClient(settings) as client:
        for _ in range(5):
            await client.list_incidents(**LIST)
        assert (_pool(client).connections_opened, _pool(client).exchanges) == (1, 5)
    assert client.is_closed
    assert len(emu.requests) == 5


@pytest.mark.asyncio
async def test_calls_in_flight_are_bounded_by_the_connections(make_settings, emu):
    emu.add_fault(Fault("delay", seconds=0.05, times=None))
    async with AsyncOpsgenieIncidentClient(make_settings(), max_connections=3) as client:
        results = await asyncio.gather(*(client.list_incidents(**LIST) for _ in range(12)))
        assert all(result["data"] == [] for result in results)
        assert _pool(client).connections_opened == 3
        assert _pool(client).exchanges == 12


@pytest.mark.asyncio
async def test_an_idle_connection_expires(emu):
    pool = AsyncHttp11Pool(emu.url, headers={}, connect_timeout=1, read_timeout=1, keepalive_expiry=0.1)
    await pool.request("GET", "/v1/incidents?query=x")
    await asyncio.sleep(0.2)
    await pool.request("GET", "/v1/incidents?query=x")
    assert pool.connections_opened == 2
    await pool.aclose()


@pytest.mark.asyncio
async def test_a_reset_connection_is_replaced_and_the_get_retried(settings, emu):
    async with AsyncOpsgenieIncidentClient(settings) as client:
        await client.list_incidents(**LIST)
        emu.add_fault(Fault("reset", method="GET"))
        for _ in range(3):
            await client.list_incidents(**LIST)
        assert _pool(client).connections_opened == 2
    assert [r.fault for r in emu.requests] == [None, "reset", None, None, None]


@pytest.mark.asyncio
async def test_read_timeout_is_the_longest_silence(make_settings, emu):
    emu.add_fault(Fault("delay", seconds=1.5, times=None))
    settings = make_settings(read_timeout=0.2, retry=ONE_TRY)
    async with AsyncOpsgenieIncidentClient(settings) as client:
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            await client.get_incident(identifier="x")
        elapsed = time.monotonic() - started
        assert _pool(client).exchanges == 0
    assert caught.value.request_sent is True
    assert "get_incident failed: ReadTimeout" in str(caught.value)
    assert 0.2 <= elapsed < 1.0


@pytest.mark.asyncio
async def test_a_cancelled_call_leaves_no_half_read_connection(make_settings, emu):
    async with AsyncOpsgenieIncidentClient(make_settings()) as client:
        emu.add_fault(Fault("delay", seconds=0.5))
        call = asyncio.ensure_future(client.list_incidents(**LIST))
        await asyncio.sleep(0.1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert (await client.list_incidents(**LIST))["data"] == []
        assert _pool(client).connections_opened == 2


@contextlib.contextmanager
def _unaccepting_port():
    """A loopback port whose accept queue is full, so a new connect hangs until its timeout."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(server.getsockname())
        fillers.append(filler)
    try:
        yield server.getsockname()[1]
    finally:
        for sock in (*fillers, server):
            sock.close()


@pytest.mark.asyncio
async def test_connect_timeout_is_never_sent_so_even_a_create_is_retried(make_settings):
    with _unaccepting_port() as port:
        settings = make_settings(
            base_url=f"http://127.0.0.1:{port}",
            connect_timeout=0.2,
            retry=RetrySettings(max_attempts=2, backoff_initial=0.01),
        )
        async with AsyncOpsgenieIncidentClient(settings) as client:
            started = time.monotonic()
            with pytest.raises(TransportError) as caught:
                await client.create_incident(message="m")
            elapsed = time.monotonic() - started
    assert "ConnectTimeout" in str(caught.value)
    assert caught.value.request_sent is False
    assert 0.35 <= elapsed < 2


# -- a canned server, for framings the emulator never sends ------------------------------------


@contextlib.asynccontextmanager
async def _canned_server(answers: list[list[bytes]]) -> AsyncIterator[str]:
    """Serve ``answers`` in turn, one per request, each written in the pieces given; then close."""
    heads: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            for pieces in answers:
                heads.append(await reader.readuntil(b"\r\n\r\n"))
                for piece in pieces:
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.01)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


def _pool_for(url: str, **options: float) -> AsyncHttp11Pool:
    return AsyncHttp11Pool(
        url, headers={"Accept": "application/json"}, connect_timeout=1, read_timeout=1, **options
    )


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("pieces", "reused"),
    [
        ([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", b'{"a":', b'"bc"}'], True),
        (
            [
                b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r',
                b'\n5\r\n"bc"}\r\n0\r\n\r\n',
            ],
            True,
        ),
        ([b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{"a":"bc"}'], True),
        ([b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{"a":"bc"}'], False),
        (
            [
                b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
                % len(gzip.compress(b'{"a":"bc"}'))
                + gzip.compress(b'{"a":"bc"}')
            ],
            True,
        ),
    ],
    ids=["content-length-in-pieces", "chunked-split-mid-line", "interim-100", "connection-close", "gzip"],
)
async def test_response_framings(pieces, reused):
    async with _canned_server([pieces, pieces]) as url:
        pool = _pool_for(url)
        status, headers, body = await pool.request("GET", "/x")
        assert (status, body) == (200, b'{"a":"bc"}')
        assert headers.get("CONTENT-LENGTH") == headers.get("content-length")
        assert bool(pool._idle and not pool._idle[-1].closed) == reused
        await pool.aclose()


@pytest.mark.asyncio
async def test_a_body_delimited_by_the_close():
    async with _canned_server([[b"HTTP/1.0 200 OK\r\n\r\n", b"partial ", b"then closed"]]) as url:
        pool = _pool_for(url)
        assert (await pool.request("GET", "/x"))[2] == b"partial then closed"
        assert not pool._idle
        await pool.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("pieces", "detail"),
    [
        ([b"SMTP ready\r\n\r\n"], "malformed status line"),
        ([b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"a"'], "incomplete response"),
        ([], "server disconnected without sending a response"),
        ([b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"], "malformed header"),
    ],
    ids=["not-http", "cut-short", "no-response", "bad-header"],
)
async def test_broken_responses_are_typed_errors(pieces, detail, make_settings):
    async with _canned_server([pieces]) as url:
        settings = make_settings(base_url=url, retry=ONE_TRY)
        async with AsyncOpsgenieIncidentClient(settings) as client:
            with pytest.raises(TransportError) as caught:
                await client.get_incident(identifier="x")
    assert caught.value.request_sent is True
    assert detail in str(caught.value)


@pytest.mark.asyncio
async def test_a_malformed_body_is_a_server_error_and_the_error_path_survives(make_settings, emu):
    emu.add_fault(Fault("malformed", status=502, times=None))
    async with AsyncOpsgenieIncidentClient(make_settings(retry=ONE_TRY)) as client:
        with pytest.raises(ServerError) as caught:
            await client.list_incidents(**LIST)
    assert caught.value.status == 502


# -- TLS and proxies ----------------------------------------------------------------------------


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """Write a self-signed certificate for ``name`` (DNS name) and its key; return their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


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
    return _certificate(tmp_path, "localhost")


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
            assert _pool(client).connections_opened == 1
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
    assert caught.value.request_sent is False
    assert "ConnectError" in str(caught.value)
    assert emu.requests == []


@contextlib.asynccontextmanager
async def _proxy(seen: list[bytes], answer: bytes | None = None) -> AsyncIterator[int]:
    """A loopback proxy: CONNECT tunnels (or ``answer`` instead); other requests get a canned answer."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head)
        if answer is not None or not head.startswith(b"CONNECT "):
            writer.write(answer or b'HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{"data": []}')
            await writer.drain()
            writer.close()
            return
        host, port = head.split(b" ")[1].decode().rsplit(":", 1)
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
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
    assert caught.value.request_sent is False
    assert "ProxyError (CONNECT answered 407)" in str(caught.value)
    assert emu.requests == []


@pytest.mark.parametrize("proxy", ["https://proxy.local:3128", "socks5://proxy.local:1080"])
def test_other_proxy_schemes_are_refused_when_the_client_is_built(proxy, make_settings):
    with pytest.raises(InvalidRequestError) as caught:
        AsyncOpsgenieIncidentClient(make_settings(base_url="https://api.opsgenie.com", proxy=proxy))
    assert caught.value.field == "proxy"


@pytest.mark.asyncio
async def test_a_closed_client_refuses_new_exchanges(settings, emu):
    client = AsyncOpsgenieIncidentClient(settings)
    await client.aclose()
    with pytest.raises(TransportError) as caught:
        await client.create_incident(message="m")
    assert caught.value.request_sent is False
    assert emu.requests == []


def test_exchange_error_names_the_kind():
    error = ExchangeError("ReadTimeout", request_sent=True)
    assert (str(error), error.kind) == ("ReadTimeout", "ReadTimeout")
    assert str(ExchangeError("ConnectError", "refused", request_sent=False)) == "ConnectError (refused)"


@pytest.mark.asyncio
async def test_not_found_keeps_its_type(settings, emu):
    async with AsyncOpsgenieIncidentClient(settings) as client:
        with pytest.raises(NotFoundError):
            await client.get_incident(identifier="nope")


# -- the retry policy around the first attempt ---------------------------------------------------


@pytest.mark.asyncio
async def test_the_time_budget_counts_from_the_first_attempt(make_settings, emu):
    # Each attempt times out after 0.3 s. Counted from the first attempt's start, a third attempt
    # would start after ~0.6 s, past the 0.5 s budget; counted from the first failure, it would not.
    emu.add_fault(Fault("delay", seconds=2, times=None))
    settings = make_settings(
        read_timeout=0.3,
        retry=RetrySettings(total_timeout=0.5, max_attempts=10, backoff_initial=0.01, backoff_max=0.01),
    )
    async with AsyncOpsgenieIncidentClient(settings) as client:
        with pytest.raises(TransportError, match="ReadTimeout"):
            await client.get_incident(identifier="x")
    assert len(emu.requests) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(("attempts", "expected"), [(1, 1), (3, 3)])
async def test_the_first_attempt_is_one_of_max_attempts(attempts, expected, make_settings, emu):
    emu.add_fault(Fault("status", status=503, times=None))
    settings = make_settings(retry=RetrySettings(max_attempts=attempts, backoff_initial=0.01))
    async with AsyncOpsgenieIncidentClient(settings) as client:
        with pytest.raises(ServerError):
            await client.list_incidents(**LIST)
    assert len(emu.requests) == expected


@pytest.mark.asyncio
async def test_a_prepared_request_is_sent_under_the_same_policy(settings, emu):
    from airflow_provider_opsgenie_incident.client.protocol import prepare

    poll = prepare("list_incidents", LIST)
    emu.add_fault(Fault("status", status=429, headers={"Retry-After": "0"}))
    async with AsyncOpsgenieIncidentClient(settings) as client:
        assert (await client.send(poll))["data"] == []
        assert (await client.send(poll))["data"] == []
    assert [r.fault for r in emu.requests] == ["status", None, None]
