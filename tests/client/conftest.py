"""Fixtures for the client tests: fast retry budgets and clients pointed at the emulator."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.client import ClientSettings, RetrySettings
from airflow_provider_opsgenie_incident.client.sync import OpsgenieIncidentClient

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

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
