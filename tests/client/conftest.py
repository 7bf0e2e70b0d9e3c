"""Fixtures for the client tests: fast retry budgets and clients pointed at the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.client import ClientSettings, RetrySettings
from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from contextlib import AbstractAsyncContextManager

    from airflow_provider_opsgenie_incident.client.async_exchange import AsyncExchange
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

#: Retries that keep every fault test well under a second.
FAST_RETRY = RetrySettings(total_timeout=5.0, max_attempts=4, backoff_initial=0.01, backoff_max=0.05)


@pytest.fixture
def emu(opsgenie_emulator: OpsgenieEmulator) -> OpsgenieEmulator:
    """Return the emulator, fresh for this test."""
    return opsgenie_emulator


@pytest.fixture
def settings(emu: OpsgenieEmulator) -> ClientSettings:
    """Return client settings for the emulator, with a fast retry budget."""
    return ClientSettings(api_key=emu.api_key, base_url=emu.url, retry=FAST_RETRY)


@pytest.fixture
def make_settings(settings: ClientSettings) -> Callable[..., ClientSettings]:
    """Return a factory of settings: ``make_settings(read_timeout=0.2, retry=RetrySettings(...))``."""

    def make(**changes: Any) -> ClientSettings:
        return dataclasses.replace(settings, **changes)

    return make


@pytest.fixture
def make_client(
    make_settings: Callable[..., ClientSettings],
) -> Iterator[Callable[..., OpsgenieIncidentClient]]:
    """Return a factory of sync clients (closed after the test); keyword arguments change the settings."""
    clients: list[OpsgenieIncidentClient] = []

    def make(**changes: Any) -> OpsgenieIncidentClient:
        client = OpsgenieIncidentClient(make_settings(**changes))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., OpsgenieIncidentClient]) -> OpsgenieIncidentClient:
    """Return a sync client of the emulator."""
    return make_client()


@pytest.fixture
def new_incident(client: OpsgenieIncidentClient, emu: OpsgenieEmulator) -> Callable[..., str]:
    """Return ``new_incident(message=..., **fields) -> id``: create one and forget the requests it made."""

    def create(message: str = "Disk is full", **fields: Any) -> str:
        accepted = client.create_incident(message=message, **fields)
        incident_id = str(client.wait_for_request(accepted["requestId"], timeout=5)["incidentId"])
        emu.clear_requests()
        return incident_id

    return create


@pytest.fixture
def ids(client: OpsgenieIncidentClient, emu: OpsgenieEmulator) -> dict[str, str]:
    """Create one incident (with a note, tags, details) and one custom timeline entry to act on."""
    accepted = client.create_incident(
        message="Disk is full", note="first note", tags=["disk", "x"], details={"host": "db1", "k2": "v"}
    )
    data = client.wait_for_request(accepted["requestId"], timeout=5)
    incident = emu.incident(data["incidentId"])
    assert incident is not None
    entry = client.add_timeline_entry(incident_id=incident["id"], content="Investigating")
    emu.clear_requests()
    return {
        "id": incident["id"],
        "tiny": incident["tinyId"],
        "entry": entry["data"]["id"],
        "request": accepted["requestId"],
    }


@pytest.fixture
def canned_server() -> Callable[..., AbstractAsyncContextManager[str]]:
    """
    Return ``canned_server(answers, pause=0.01)``, a loopback server for framings the emulator never sends.

    Each connection is served ``answers`` in turn, one per request head, each written in the pieces
    given with ``pause`` seconds between them; then it is closed. It yields the server's base URL.
    """

    @contextlib.asynccontextmanager
    async def serve_answers(answers: list[list[bytes]], pause: float = 0.01) -> AsyncIterator[str]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            # Cancelled at the end of the test, when the client keeps its connection open: not an error.
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
                for pieces in answers:
                    await reader.readuntil(b"\r\n\r\n")
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

    return serve_answers


@pytest.fixture
def exchange_for() -> Callable[..., AsyncExchange]:
    """Return ``exchange_for(url, **timeouts)``: a bare async exchange (1 s timeouts, 2 s deadline)."""
    from airflow_provider_opsgenie_incident.client.async_exchange import AsyncExchange

    def make(url: str, **timeouts: float) -> AsyncExchange:
        chosen = {"connect_timeout": 1.0, "read_timeout": 1.0, "attempt_timeout": 2.0, **timeouts}
        return AsyncExchange(url, headers={"Accept": "application/json"}, **chosen)

    return make
