"""What a user gets from either client when the server or the proxy is hostile.

Every case runs against a real loopback server (``hostile_server.py`` beside it) that writes
the hostile bytes, on the sync client and on :class:`AsyncOpsgenieIncidentClient`. For each one
the test asserts the typed error and its cause, that it came within the attempt's deadline plus
one second, and that the Python heap grew by no more than 64 MiB while it ran (``tracemalloc``
peak: the bytes, decoders and buffers of both the client and the server threads).
"""

from __future__ import annotations

import asyncio
import http.client
import ssl
import time
import tracemalloc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from hostile_server import (
    OK_BODY,
    HostileServer,
    endless,
    gzip_bomb,
    keep_alive,
    read_request,
    self_signed_certificate,
    send,
    stream,
    trickle,
    tunnel,
)

from airflow_provider_opsgenie_incident.client import ClientSettings, RetrySettings, TransportError
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.client.limits import MAX_HEADER_BYTES, MAX_HEADER_LINE
from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from hostile_server import Script

KEY = "hostile-secret-key"
DEADLINE = 2.0
#: One attempt: the time asserted is one attempt's, under its deadline.
ONE_TRY = RetrySettings(max_attempts=1)
MEMORY_CAP = 64 * 1024 * 1024
LIST = {"query": "status:open"}

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
CHUNKED = OK + b"Transfer-Encoding: chunked\r\n\r\n"
CHUNKED_BODY = b"c\r\n" + OK_BODY + b"\r\n0\r\n\r\n"


def _fixed(*fields: bytes, body: bytes = OK_BODY, status: bytes = b"HTTP/1.1 200 OK") -> bytes:
    return b"\r\n".join((status, *fields, b"", body))


@dataclass(frozen=True)
class Case:
    """A hostile answer and the causes a client may name for it."""

    script: Callable[[], Script]
    causes: frozenset[str]
    via_proxy: bool = False
    #: When the request provably never left (a refused tunnel), the error must say so.
    never_sent: bool = False
    #: Dial the server with https (its script speaks whatever it likes in place of TLS).
    tls_origin: bool = False


def _case(script: Callable[[], Script], *causes: str, **options: Any) -> Case:
    return Case(script, frozenset(causes), **options)


FORGED = _fixed(b"Content-Length: 12")

CASES: dict[str, Case] = {
    # After its 200 to CONNECT, a proxy answers for the server: never read as the server's answer.
    # Refused as they come (proxy), read as a broken handshake (tls), or dropped with the CONNECT
    # answer's buffer, the handshake then never completing within the connect timeout (connect).
    "forged-bytes-after-connect-200": _case(
        lambda: send(b"HTTP/1.1 200 Connection established\r\n\r\n" + FORGED, hold=DEADLINE),
        "proxy",
        "tls",
        "connect",
        via_proxy=True,
    ),
    # The same bytes a moment later, once the client has sent its ClientHello: read as TLS, refused.
    "forged-bytes-after-connect-200-late": _case(
        lambda: stream(b"HTTP/1.1 200 Connection established\r\n\r\n", _late(FORGED)),
        "tls",
        via_proxy=True,
    ),
    "endless-answer-to-connect": _case(
        lambda: stream(b"HTTP/1.1 200 Connection established\r\n", endless(b"", b"X-Proxy: p\r\n")),
        "deadline",
        "proxy",
        "headers_too_large",
        via_proxy=True,
    ),
    # A TLS record header announcing 16 KiB, whose bytes then come one every half second: ended by
    # the deadline, or by the handshake's own timeout (the connect timeout, 1 s here).
    "tls-handshake-trickled": _case(
        lambda: stream(b"\x16\x03\x03\x40\x00", _slow_bytes()), "deadline", "connect", tls_origin=True
    ),
    "proxy-407": _case(
        lambda: send(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
        "proxy",
        via_proxy=True,
        never_sent=True,
    ),
    # Memory.
    "chunk-size-2^64": _case(
        lambda: stream(CHUNKED + b"10000000000000000\r\n", endless(b"", b"a")),
        "body_too_large",
        "malformed",
    ),
    "chunk-of-256-MiB": _case(
        lambda: stream(CHUNKED + b"10000000\r\n", endless(b"", b"a")), "body_too_large"
    ),
    "gzip-bomb-1.3MB-to-1.25GiB": _case(
        lambda: stream(
            OK + b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", gzip_bomb(), chunked=True
        ),
        "body_too_large",
    ),
    "endless-body-without-length": _case(
        lambda: stream(OK + b"Connection: close\r\n\r\n", endless(b"", b"x")), "body_too_large"
    ),
    # Time.
    # aiohttp, in about one run of twenty, sets the parser's error aside and idles to the deadline.
    "endless-chunk-size-line": _case(
        lambda: stream(CHUNKED, endless(b"", b"1")),
        "malformed",
        "headers_too_large",
        "body_too_large",
        "deadline",
    ),
    "endless-trailer": _case(
        lambda: stream(CHUNKED + b"0\r\n", endless(b"", b"X-Trailer: t\r\n")),
        "headers_too_large",
        "malformed",
        "deadline",
    ),
    "endless-100-continue": _case(
        lambda: stream(b"", endless(b"", b"HTTP/1.1 100 Continue\r\n\r\n")),
        "headers_too_large",
        "malformed",
        "deadline",
    ),
    "one-byte-every-half-second": _case(lambda: trickle(_fixed(b"Content-Length: 12"), 0.5), "deadline"),
    "body-trickled-after-headers": _case(
        lambda: stream(OK + b"Content-Length: 1000\r\n\r\n", _slow_bytes()), "deadline"
    ),
    # Header section.
    "header-line-too-long": _case(
        lambda: send(_fixed(b"X-Long: " + b"a" * MAX_HEADER_LINE, b"Content-Length: 12")), "headers_too_large"
    ),
    "too-many-header-fields": _case(
        lambda: send(_fixed(*(b"X-F%d: v" % n for n in range(200)), b"Content-Length: 12")),
        "headers_too_large",
    ),
    "header-section-too-large": _case(
        lambda: send(_fixed(*(b"X-F%d: %s" % (n, b"v" * 4000) for n in range(MAX_HEADER_BYTES // 4000 + 2)))),
        "headers_too_large",
    ),
    # Framing RFC 9112 says a client must reject.
    "same-content-length-twice": _case(
        lambda: send(_fixed(b"Content-Length: 12", b"Content-Length: 12")), "malformed"
    ),
    "two-content-lengths": _case(
        lambda: send(_fixed(b"Content-Length: 12", b"Content-Length: 13")), "malformed"
    ),
    "transfer-encoding-with-content-length": _case(
        lambda: send(
            _fixed(
                b"Content-Length: 12",
                b"Transfer-Encoding: chunked",
                body=b"c\r\n" + OK_BODY + b"\r\n0\r\n\r\n",
            )
        ),
        "malformed",
    ),
    "chunk-size-minus-3": _case(lambda: send(CHUNKED + b"-3\r\nabc\r\n0\r\n\r\n"), "malformed"),
    "chunk-size-0x42": _case(lambda: send(CHUNKED + b"0xc\r\n" + OK_BODY + b"\r\n0\r\n\r\n"), "malformed"),
    "chunk-size-4_2": _case(lambda: send(CHUNKED + b"1_2\r\n" + OK_BODY + b"\r\n0\r\n\r\n"), "malformed"),
    "no-crlf-after-chunk-data": _case(
        lambda: send(CHUNKED + b"c\r\n" + OK_BODY + b"XX0\r\n\r\n"), "malformed"
    ),
    "status-2000": _case(
        lambda: send(_fixed(b"Content-Length: 12", status=b"HTTP/1.1 2000 OK")), "malformed"
    ),
    "nul-in-a-header-value": _case(
        lambda: send(_fixed(b"Content-Length: 12", b"X-Evil: a\x00b")), "malformed"
    ),
    "101-payload-as-a-new-response": _case(
        lambda: send(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: evil\r\nConnection: Upgrade\r\n\r\n" + FORGED
        ),
        "malformed",
    ),
    "gzip-that-is-not-gzip": _case(
        lambda: send(_fixed(b"Content-Encoding: gzip", b"Content-Length: 12")), "malformed"
    ),
    # Truncated answers.
    "truncated-body": _case(lambda: send(_fixed(b"Content-Length: 100")), "reset", "malformed"),
    "truncated-chunked-body": _case(lambda: send(CHUNKED + b'c\r\n{"da'), "reset", "malformed"),
    "truncated-headers": _case(lambda: send(b"HTTP/1.1 200 OK\r\nContent-Le"), "reset", "malformed"),
}


def _late(data: bytes) -> Iterator[bytes]:
    time.sleep(0.3)
    yield data
    time.sleep(0.5)


def _slow_bytes() -> Iterator[bytes]:
    while True:
        yield b" "
        time.sleep(0.5)


def _settings(url: str, **changes: Any) -> ClientSettings:
    options: dict[str, Any] = {
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "attempt_timeout": DEADLINE,
        "retry": ONE_TRY,
    }
    return ClientSettings(**{"api_key": KEY, "base_url": url, **options, **changes})


def _call_sync(settings: ClientSettings, plan: str = "list", repeat: int = 1, **arguments: Any) -> Any:
    """Make the calls of ``plan`` on one sync client: ``list`` (``repeat`` times) or ``list_then_create``."""
    with OpsgenieIncidentClient(settings) as client:
        if plan == "list_then_create":
            return [client.list_incidents(**LIST), client.create_incident(**arguments)]
        results = [client.list_incidents(**LIST) for _ in range(repeat)]
    return results if repeat > 1 else results[0]


def _call_async(settings: ClientSettings, plan: str = "list", repeat: int = 1, **arguments: Any) -> Any:
    """Make the same calls as :func:`_call_sync` on one async client."""

    async def run() -> Any:
        async with AsyncOpsgenieIncidentClient(settings) as client:
            if plan == "list_then_create":
                return [await client.list_incidents(**LIST), await client.create_incident(**arguments)]
            results = [await client.list_incidents(**LIST) for _ in range(repeat)]
        return results if repeat > 1 else results[0]

    return asyncio.run(run())


CLIENTS = {"sync": _call_sync, "async": _call_async}


@pytest.fixture(params=sorted(CLIENTS))
def call(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Return a function that makes one call with one of the two clients."""
    return CLIENTS[request.param]


def _measured(call: Callable[..., Any], settings: ClientSettings) -> tuple[TransportError, float, int]:
    """Make the call, which must fail; return its error, the seconds it took and the heap's peak growth."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    started = time.monotonic()
    try:
        with pytest.raises(TransportError) as caught:
            call(settings)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return caught.value, elapsed, peak


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_answer_is_a_typed_error_in_time_and_memory(name: str, call: Callable[..., Any]) -> None:
    case = CASES[name]
    with HostileServer(case.script(), first=case.tls_origin) as server:
        if case.via_proxy:
            settings = _settings("https://api.opsgenie.invalid", proxy=server.url)
        elif case.tls_origin:
            settings = _settings(f"https://localhost:{server.port}")
        else:
            settings = _settings(server.url)
        error, elapsed, peak = _measured(call, settings)
    assert error.cause in case.causes, (error.cause, str(error))
    assert elapsed <= DEADLINE + 1.0
    assert peak <= MEMORY_CAP
    assert str(error.url).startswith(settings.base_url)
    assert KEY not in f"{error} {error!r} {error.url}"
    if case.never_sent:
        assert error.request_sent is False


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data)


GZIPPED = _gzip(OK_BODY)

#: Valid answers the strict framing must keep accepting, each kept alive for the next call.
VALID = {
    "content-length": _fixed(b"Content-Length: 12"),
    "chunked-with-extension-and-trailer": CHUNKED[:-2]
    + b"\r\n5;name=value\r\n"
    + OK_BODY[:5]
    + b"\r\n7\r\n"
    + OK_BODY[5:]
    + b"\r\n0\r\nX-Trailer: t\r\n\r\n",
    "gzip": _fixed(
        b"Content-Encoding: gzip", b"Content-Length: %d" % len(_gzip(OK_BODY)), body=_gzip(OK_BODY)
    ),
    "100-continue-and-103-early-hints-first": b"HTTP/1.1 100 Continue\r\n\r\n"
    + b"HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
    + _fixed(b"Content-Length: 12"),
}


@pytest.mark.parametrize("name", list(VALID))
def test_valid_framing_is_accepted_and_the_connection_kept(name: str, call: Callable[..., Any]) -> None:
    with HostileServer(keep_alive(VALID[name])) as server:
        assert call(_settings(server.url), repeat=3) == [{"data": []}] * 3
    assert server.connections == 1


def test_a_body_read_to_the_close_is_accepted(call: Callable[..., Any]) -> None:
    with HostileServer(send(OK + b"Connection: close\r\n\r\n" + OK_BODY)) as server:
        assert call(_settings(server.url)) == {"data": []}


# TLS: a certificate nobody vouches for, and one for another name.


@pytest.mark.parametrize("case", ["self-signed", "another-name"])
def test_an_unverified_certificate_is_refused_before_sending(
    case: str, call: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "localhost" if case == "self-signed" else "other.example"
    cert, key = self_signed_certificate(tmp_path, name)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    if case == "another-name":
        # Trusted, but issued for another name than the one dialled.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    else:
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with HostileServer(send(_fixed(b"Content-Length: 12")), tls=context) as server:
        error, elapsed, peak = _measured(call, _settings(f"https://localhost:{server.port}"))
        assert server.requests == []
    assert error.cause == "tls"
    assert error.request_sent is False
    assert elapsed <= DEADLINE + 1.0
    assert peak <= MEMORY_CAP


def test_https_through_an_honest_proxy_tunnel(
    call: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed_certificate(tmp_path, "localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with (
        HostileServer(send(_fixed(b"Content-Length: 12")), tls=context) as origin,
        HostileServer(tunnel(origin.port)) as proxy,
    ):
        result = call(_settings(f"https://localhost:{origin.port}", proxy=proxy.url))
    assert result == {"data": []}
    assert proxy.requests[0].startswith(f"CONNECT localhost:{origin.port} ".encode())
    assert origin.requests[0].startswith(b"GET /v1/incidents?query=status%3Aopen HTTP/1.1\r\n")


# A server that drops the second request of a kept-alive connection.


class _DropsTheSecondRequest:
    """Answer the first request of a connection; read the second and close the connection unanswered."""

    def __init__(self) -> None:
        self.dropped = 0

    def __call__(self, sock: socket.socket, request: bytes) -> None:
        sock.sendall(_fixed(b"Content-Length: 12"))
        if read_request(sock):
            self.dropped += 1


def test_a_get_dropped_on_a_reused_connection_is_retried(call: Callable[..., Any]) -> None:
    retry = RetrySettings(max_attempts=3, backoff_initial=0.01, backoff_max=0.02)
    script = _DropsTheSecondRequest()
    with HostileServer(script) as server:
        settings = _settings(server.url, retry=retry)
        results = call(settings, repeat=3)
    assert results == [{"data": []}] * 3
    # The second and the third call were each dropped once, then answered on a new connection.
    assert script.dropped == 2
    assert server.connections == 3


class _DroppingFront:
    """
    Forward requests to the emulator, but drop the first POST that is not the first request of its
    connection: the connection is closed unanswered, after the emulator applied the POST
    (``applied``) or before it saw it, as a server or a middlebox failing a kept-alive connection.
    """

    def __init__(self, upstream: str, *, applied: bool) -> None:
        host, port = upstream.rsplit("/", 1)[1].split(":")
        self.upstream = (host, int(port))
        self.applied = applied
        self.dropped = 0

    def __call__(self, sock: socket.socket, request: bytes) -> None:
        first = True
        while request:
            if not first and request.startswith(b"POST ") and not self.dropped:
                if self.applied:
                    self._forward(request)
                self.dropped += 1
                return
            first = False
            sock.sendall(self._forward(request))
            request = read_request(sock)

    def _forward(self, request: bytes) -> bytes:
        head, _, body = request.partition(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ")
        fields = dict(line.split(": ", 1) for line in lines)
        headers = {k: v for k, v in fields.items() if k.lower() not in ("host", "connection")}
        connection = http.client.HTTPConnection(*self.upstream, timeout=5)
        try:
            connection.request(method, target, body=body or None, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        return b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
            response.status,
            len(content),
            content,
        )


@pytest.mark.parametrize("applied", [True, False], ids=["applied-then-dropped", "dropped-unapplied"])
def test_a_create_dropped_on_a_reused_connection_is_verified_and_made_once(
    applied: bool, call: Callable[..., Any], emu: Any
) -> None:
    front = _DroppingFront(emu.url, applied=applied)
    retry = RetrySettings(max_attempts=3, backoff_initial=0.01, backoff_max=0.02)
    with HostileServer(front) as server:
        settings = _settings(
            server.url, api_key=emu.api_key, retry=retry, read_timeout=5.0, attempt_timeout=10.0
        )
        results = call(settings, "list_then_create", message="Disk is full on db1", tags=["hostile-front"])
    created = results[-1]
    assert front.dropped == 1
    # Found applied, it is reported verified; not found, it was sent once more and accepted.
    assert created.get("verified", False) is applied
    emu.wait_until_processed()
    assert [incident["message"] for incident in emu.incidents()] == ["Disk is full on db1"]


def test_plain_http_through_a_proxy_names_the_whole_url(call: Callable[..., Any]) -> None:
    with HostileServer(send(_fixed(b"Content-Length: 12"))) as proxy:
        origin = "http://127.0.0.1:9"  # never dialled: the proxy answers for it
        assert call(_settings(origin, proxy=proxy.url)) == {"data": []}
    assert proxy.requests[0].startswith(
        f"GET {origin}/v1/incidents?query=status%3Aopen HTTP/1.1\r\n".encode()
    )


# Memory, as the operating system sees it: the peak RSS of a fresh process around one hostile call.

_RSS_PROBE = """
import asyncio, json, resource, sys
sys.path.insert(0, sys.argv[3])
from airflow_provider_opsgenie_incident.client import TransportError
import test_hostile

call = test_hostile.CLIENTS[sys.argv[1]]
settings = test_hostile._settings(sys.argv[2])
try:
    call(test_hostile._settings("http://127.0.0.1:9"))  # warm up: imports, TLS context, event loop
except TransportError:
    pass
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    call(settings)
    cause = None
except TransportError as error:
    cause = error.cause
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"cause": cause, "growth_kib": after - before}))
"""


@pytest.mark.parametrize("name", ["gzip-bomb-1.3MB-to-1.25GiB", "chunk-of-256-MiB", "chunk-size-2^64"])
@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_the_largest_answers_keep_the_process_under_64_mib(name: str, client: str) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    case = CASES[name]
    with HostileServer(case.script()) as server:
        here = str(Path(__file__).parent)
        done = subprocess.run(
            [sys.executable, "-c", _RSS_PROBE, client, server.url, here],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["cause"] in case.causes
    assert result["growth_kib"] * 1024 <= MEMORY_CAP
