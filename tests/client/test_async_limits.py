"""The bounds of one async exchange: content codings, framings, header and body caps, deadlines.

Each case is served by a canned loopback server and must end in a typed ``TransportError`` whose
``cause`` names the bound, within its deadline, with memory bounded.
"""

from __future__ import annotations

import gzip
import time
import zlib

import pytest

from airflow_provider_opsgenie_incident.client import TransportError
from airflow_provider_opsgenie_incident.client.limits import MAX_BODY_BYTES, MAX_HEADER_COUNT


@pytest.mark.asyncio
@pytest.mark.parametrize("deadline", [0.5, 5.3], ids=["short", "past-aiohttp-rounding"])
async def test_a_trickling_answer_ends_at_the_attempt_deadline(deadline, canned_server, exchange_for):
    """One byte every 50 ms never trips the read timeout; the deadline ends it, not a second later."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    async with canned_server([[head, *[b" "] * 200]], pause=0.05) as url:
        pool = exchange_for(url, read_timeout=1, attempt_timeout=deadline)
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            await pool.request("GET", "/x")
        elapsed = time.monotonic() - started
        await pool.aclose()
    assert (caught.value.cause, caught.value.request_sent) == ("deadline", True)
    assert deadline <= elapsed < deadline + 0.5


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
async def test_content_codings_are_decoded(compress, encoding, canned_server, exchange_for):
    body = compress(b'{"a":"bc"}')
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (
        encoding.encode(),
        len(body),
    )
    async with canned_server([[answer + body]]) as url:
        pool = exchange_for(url)
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
async def test_unreadable_responses_are_typed_errors(answer, cause, canned_server, exchange_for):
    async with canned_server([[answer]]) as url:
        pool = exchange_for(url)
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
async def test_an_endless_answer_ends_at_the_attempt_deadline(head, repeated, canned_server, exchange_for):
    async with canned_server([[head, *[repeated] * 100_000]], pause=0.001) as url:
        pool = exchange_for(url, read_timeout=1, attempt_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            await pool.request("GET", "/x")
        elapsed = time.monotonic() - started
        await pool.aclose()
    assert caught.value.cause == "deadline"
    assert 0.5 <= elapsed < 1.5


@pytest.mark.asyncio
async def test_a_gzip_bomb_stops_at_the_decoded_body_cap(canned_server, exchange_for):
    """50 KB of gzip that would expand to 48 MiB: the decoded bytes are counted, memory stays bounded."""
    import tracemalloc

    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1024 * 1024)
    bomb = b"".join(compressor.compress(block) for _ in range(48)) + compressor.flush()
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb)
    async with canned_server([[head + bomb]]) as url:
        pool = exchange_for(url)
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
