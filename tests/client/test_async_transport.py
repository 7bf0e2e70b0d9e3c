"""The async client's aiohttp transport over loopback: reuse, bounds, timeouts, resets, framings."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import time
import zlib
from typing import TYPE_CHECKING

import pytest

from airflow_provider_opsgenie_incident.client import (
    NotFoundError,
    RetrySettings,
    ServerError,
    TransportError,
)
from airflow_provider_opsgenie_incident.client.async_exchange import AsyncExchange
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.client.limits import MAX_BODY_BYTES, MAX_HEADER_COUNT
from airflow_provider_opsgenie_incident.emulator import Fault

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

LIST = {"query": "status:open"}
ONE_TRY = RetrySettings(max_attempts=1)


def _pool(client: AsyncOpsgenieIncidentClient) -> AsyncExchange:
    return client._exchange


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
    pool = AsyncExchange(
        emu.url, headers={}, connect_timeout=1, read_timeout=1, attempt_timeout=2, keepalive_expiry=0.1
    )
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
    assert (caught.value.request_sent, caught.value.cause) == (True, "read_timeout")
    assert caught.value.url == f"{emu.url}/v1/incidents/x"
    assert 0.2 <= elapsed < 1.0


@pytest.mark.asyncio
async def test_a_trickling_answer_ends_at_the_attempt_deadline():
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    async with _canned_server([[head, *[b" "] * 200]], pause=0.05) as url:
        pool = _pool_for(url, read_timeout=1, attempt_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            await pool.request("GET", "/x")
        elapsed = time.monotonic() - started
        await pool.aclose()
    assert (caught.value.cause, caught.value.request_sent) == ("deadline", True)
    assert 0.5 <= elapsed < 1.0


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
    assert (caught.value.cause, caught.value.request_sent) == ("connect", False)
    assert 0.35 <= elapsed < 2


# -- a canned server, for framings the emulator never sends ------------------------------------


@contextlib.asynccontextmanager
async def _canned_server(answers: list[list[bytes]], pause: float = 0.01) -> AsyncIterator[str]:
    """Serve ``answers`` in turn, one per request, each written in the pieces given; then close."""
    heads: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Cancelled at the end of the test, when the client keeps its connection open: not an error.
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            for pieces in answers:
                heads.append(await reader.readuntil(b"\r\n\r\n"))
                for piece in pieces:
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(pause)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


def _pool_for(url: str, **options: float) -> AsyncExchange:
    timeouts = {"connect_timeout": 1.0, "read_timeout": 1.0, "attempt_timeout": 2.0, **options}
    return AsyncExchange(url, headers={"Accept": "application/json"}, **timeouts)


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
        assert headers.get("CONTENT-TYPE") == headers.get("content-type")
        assert (await pool.request("GET", "/x"))[2] == b'{"a":"bc"}'
        assert pool.connections_opened == (1 if reused else 2)
        await pool.aclose()


@pytest.mark.asyncio
async def test_a_body_delimited_by_the_close():
    async with _canned_server([[b"HTTP/1.0 200 OK\r\n\r\n", b"partial ", b"then closed"]]) as url:
        pool = _pool_for(url)
        assert (await pool.request("GET", "/x"))[2] == b"partial then closed"
        await pool.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("pieces", "cause"),
    [
        ([b"SMTP ready\r\n\r\n"], "malformed"),
        ([b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"a"'], "reset"),
        ([b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{"a"'], "reset"),
        ([], "reset"),
        ([b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"], "malformed"),
        ([b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"], "malformed"),
    ],
    ids=["not-http", "cut-short", "chunked-cut-short", "no-response", "bad-header", "switching-protocols"],
)
async def test_broken_responses_are_typed_errors(pieces, cause, make_settings):
    async with _canned_server([pieces]) as url:
        settings = make_settings(base_url=url, retry=ONE_TRY)
        async with AsyncOpsgenieIncidentClient(settings) as client:
            with pytest.raises(TransportError) as caught:
                await client.get_incident(identifier="x")
    assert (caught.value.cause, caught.value.request_sent) == (cause, True)
    assert caught.value.url == f"{url}/v1/incidents/x"


@pytest.mark.asyncio
async def test_a_malformed_body_is_a_server_error_and_the_error_path_survives(make_settings, emu):
    emu.add_fault(Fault("malformed", status=502, times=None))
    async with AsyncOpsgenieIncidentClient(make_settings(retry=ONE_TRY)) as client:
        with pytest.raises(ServerError) as caught:
            await client.list_incidents(**LIST)
    assert caught.value.status == 502


@pytest.mark.asyncio
async def test_a_closed_client_refuses_new_exchanges(settings, emu):
    client = AsyncOpsgenieIncidentClient(settings)
    await client.aclose()
    with pytest.raises(TransportError) as caught:
        await client.create_incident(message="m")
    assert caught.value.request_sent is False
    assert emu.requests == []


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
        with pytest.raises(TransportError) as caught:
            await client.get_incident(identifier="x")
    assert caught.value.cause == "read_timeout"
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


# -- content codings and limits --------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("compress", "encoding"),
    [
        (zlib.compress, "deflate"),
        (lambda data: zlib.compress(data)[2:-4], "deflate"),
        (gzip.compress, "gzip"),
    ],
    ids=["zlib-deflate", "raw-deflate", "gzip"],
)
async def test_content_codings_are_decoded(compress, encoding):
    body = compress(b'{"a":"bc"}')
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (
        encoding.encode(),
        len(body),
    )
    async with _canned_server([[answer + body]]) as url:
        pool = _pool_for(url)
        assert (await pool.request("GET", "/x"))[2] == b'{"a":"bc"}'
        await pool.aclose()


_CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("answer", "cause"),
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed"),
        (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}", "malformed"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70_000, "headers_too_large"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * (MAX_HEADER_COUNT + 1) + b"\r\n", "headers_too_large"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: %s\r\n" % (b"y" * 8000) * 9 + b"\r\n", "headers_too_large"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY_BYTES + 1), "body_too_large"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", "malformed"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            "malformed",
        ),
        (_CHUNKED + b"-3\r\n{}\r\n0\r\n\r\n", "malformed"),
        (_CHUNKED + b"0x2\r\n{}\r\n0\r\n\r\n", "malformed"),
        (_CHUNKED + b"4_2\r\n{}\r\n0\r\n\r\n", "malformed"),
        (_CHUNKED + b"10000000000000000\r\n" + b"x" * 65536, "malformed"),
        (_CHUNKED + b"1" * 100_000, "malformed"),
        (_CHUNKED + b"2\r\n{}0\r\n\r\n", "malformed"),
        (_CHUNKED + b"2\r\n{}\r\n0\r\n" + b"X: y\r\n" * 5000, "headers_too_large"),
        (b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\n{}", "malformed"),
        (b"HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 2\r\n\r\n{}", "malformed"),
    ],
    ids=[
        "bad-chunk-size",
        "bad-length",
        "corrupt-gzip",
        "huge-line",
        "too-many-fields",
        "huge-section",
        "declared-too-large",
        "two-content-lengths",
        "transfer-encoding-and-content-length",
        "chunk-size-negative",
        "chunk-size-0x",
        "chunk-size-underscore",
        "chunk-size-2-to-the-64",
        "endless-chunk-size-line",
        "no-crlf-after-chunk-data",
        "endless-trailer",
        "status-2000",
        "nul-in-a-header-value",
    ],
)
async def test_unreadable_responses_are_typed_errors(answer, cause):
    async with _canned_server([[answer]]) as url:
        pool = _pool_for(url)
        with pytest.raises(TransportError) as caught:
            await pool.request("GET", "/x")
        assert (caught.value.cause, caught.value.request_sent, caught.value.url) == (cause, True, f"{url}/x")
        await pool.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("head", "repeated"),
    [(b"", b"HTTP/1.1 100 Continue\r\n\r\n"), (_CHUNKED, b"1000\r\n" + b"x" * 4096 + b"\r\n")],
    ids=["endless-100-continue", "endless-chunks"],
)
async def test_an_endless_answer_ends_at_the_attempt_deadline(head, repeated):
    async with _canned_server([[head, *[repeated] * 100_000]], pause=0.001) as url:
        pool = _pool_for(url, read_timeout=1, attempt_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            await pool.request("GET", "/x")
        elapsed = time.monotonic() - started
        await pool.aclose()
    assert caught.value.cause == "deadline"
    assert 0.5 <= elapsed < 1.5


@pytest.mark.asyncio
async def test_a_gzip_bomb_stops_at_the_decoded_body_cap():
    """50 KB of gzip that would expand to 48 MiB: the decoded bytes are counted, memory stays bounded."""
    import tracemalloc

    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1024 * 1024)
    bomb = b"".join(compressor.compress(block) for _ in range(48)) + compressor.flush()
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb)
    async with _canned_server([[head + bomb]]) as url:
        pool = _pool_for(url)
        tracemalloc.start()
        try:
            with pytest.raises(TransportError) as caught:
                await pool.request("GET", "/x")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        await pool.aclose()
    assert caught.value.cause == "body_too_large"
    assert peak < MAX_BODY_BYTES + 16 * 1024 * 1024


@pytest.mark.asyncio
@pytest.mark.parametrize("delay", [0.0, 0.05], ids=["with-the-answer", "while-idle"])
async def test_an_answer_nobody_asked_for_is_never_taken_for_the_next_one(delay):
    """A second answer on a kept-alive connection spoils it, whether it comes at once or while idle."""
    forged = b'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n"forged"'
    answers = [[b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", *([forged] if delay else [])]]
    if not delay:
        answers[0] = [answers[0][0] + forged]
    answers.append([b'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"real"'])
    async with _canned_server(answers, pause=delay) as url:
        pool = _pool_for(url)
        assert (await pool.request("POST", "/x", b"{}", repeatable=False))[2] == b"{}"
        await asyncio.sleep(0.15)
        assert (await pool.request("POST", "/x", b"{}", repeatable=False))[2] == b"{}"
        assert pool.connections_opened == 2
        await pool.aclose()


@pytest.mark.asyncio
async def test_a_write_with_a_note_is_not_sent_again_by_the_transport(settings, emu, new_incident):
    """aiohttp repeats a DELETE on a broken kept-alive connection by itself; a noted one is verified."""
    incident_id = new_incident(tags=["a", "b"])
    async with AsyncOpsgenieIncidentClient(settings) as client:
        await client.get_incident(identifier=incident_id)
        emu.add_fault(Fault("lost_response", method="DELETE"))
        answer = await client.remove_tags(identifier=incident_id, tags=["a"], note="tag a dropped")
        assert _pool(client).connections_opened == 2
    assert answer["verified"] is True
    assert [r.fault for r in emu.requests if r.method == "DELETE"] == ["lost_response"]
    assert [note["note"] for note in emu.notes(incident_id)].count("tag a dropped") == 1


@pytest.mark.asyncio
async def test_a_create_reset_on_a_kept_alive_connection_is_searched_for_then_sent_once_more(settings, emu):
    async with AsyncOpsgenieIncidentClient(settings) as client:
        await client.list_incidents(**LIST)
        emu.add_fault(Fault("reset", method="POST"))
        accepted = await client.create_incident(message="once", tags=["t"])
        assert _pool(client).connections_opened == 2
    assert "requestId" in accepted
    creates = [r for r in emu.requests if r.method == "POST"]
    assert [r.fault for r in creates] == ["reset", None]
    assert len(emu.requests) > len(creates) + 1  # the searches made between the two creates
    emu.wait_until_processed()
    assert len(emu.incidents()) == 1
