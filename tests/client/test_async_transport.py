"""The async client's aiohttp transport over loopback: reuse, bounds, timeouts, resets, framings."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import time

import pytest

from airflow_provider_opsgenie_incident.client import (
    NotFoundError,
    RetrySettings,
    ServerError,
    TransportError,
)
from airflow_provider_opsgenie_incident.client.async_exchange import AsyncExchange
from airflow_provider_opsgenie_incident.client.asynchronous import AsyncOpsgenieIncidentClient
from airflow_provider_opsgenie_incident.emulator import Fault

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
async def test_response_framings(pieces, reused, canned_server, exchange_for):
    async with canned_server([pieces, pieces]) as url:
        pool = exchange_for(url)
        status, headers, body = await pool.request("GET", "/x")
        assert (status, body) == (200, b'{"a":"bc"}')
        assert headers.get("CONTENT-TYPE") == headers.get("content-type")
        assert (await pool.request("GET", "/x"))[2] == b'{"a":"bc"}'
        assert pool.connections_opened == (1 if reused else 2)
        await pool.aclose()


@pytest.mark.asyncio
async def test_a_body_delimited_by_the_close(canned_server, exchange_for):
    async with canned_server([[b"HTTP/1.0 200 OK\r\n\r\n", b"partial ", b"then closed"]]) as url:
        pool = exchange_for(url)
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
async def test_broken_responses_are_typed_errors(pieces, cause, make_settings, canned_server):
    async with canned_server([pieces]) as url:
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


# -- kept-alive connections: unasked-for answers, writes on a broken connection ---------------


@pytest.mark.asyncio
@pytest.mark.parametrize("delay", [0.0, 0.05], ids=["with-the-answer", "while-idle"])
async def test_an_answer_nobody_asked_for_is_never_taken_for_the_next_one(delay, canned_server, exchange_for):
    """A second answer on a kept-alive connection spoils it, whether it comes at once or while idle."""
    forged = b'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n"forged"'
    answers = [[b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", *([forged] if delay else [])]]
    if not delay:
        answers[0] = [answers[0][0] + forged]
    answers.append([b'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"real"'])
    async with canned_server(answers, pause=delay) as url:
        pool = exchange_for(url)
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


@pytest.mark.asyncio
async def test_a_deadline_that_passes_while_connecting_is_never_sent(make_settings):
    with _unaccepting_port() as port:
        settings = make_settings(
            base_url=f"http://127.0.0.1:{port}", connect_timeout=5, attempt_timeout=0.3, retry=ONE_TRY
        )
        async with AsyncOpsgenieIncidentClient(settings) as client:
            started = time.monotonic()
            with pytest.raises(TransportError) as caught:
                await client.create_incident(message="m")
            elapsed = time.monotonic() - started
    assert (caught.value.cause, caught.value.request_sent) == ("deadline", False)
    assert 0.3 <= elapsed < 1.3


@pytest.mark.asyncio
async def test_an_exchange_waiting_its_turn_has_not_started_its_deadline(make_settings, emu):
    emu.add_fault(Fault("delay", seconds=0.3, times=None))
    settings = make_settings(attempt_timeout=0.6, retry=ONE_TRY)
    async with AsyncOpsgenieIncidentClient(settings, max_connections=1) as client:
        started = time.monotonic()
        results = await asyncio.gather(*(client.list_incidents(**LIST) for _ in range(3)))
        elapsed = time.monotonic() - started
        assert _pool(client).connections_opened == 1
    assert all(result["data"] == [] for result in results)
    assert elapsed >= 0.9
