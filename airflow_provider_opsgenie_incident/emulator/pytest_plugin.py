"""Pytest fixtures that serve the Opsgenie emulator (registered as the ``pytest11`` plugin).

- ``opsgenie_emulator_server`` (session): one running :class:`OpsgenieEmulator` for the session.
- ``opsgenie_emulator`` (function): that server after ``reset()``: fresh state, no faults, an empty
  request log, no pages, a zero connection count, no rate limit, ``processing_delay`` and
  ``search_lag`` 0; and the clients' pacers and sightings forgotten (``client.pacer``,
  ``client.sightings``), so a 429 or an incident of one test never reaches the next one.
- ``opsgenie_incident_connection`` (function): also sets ``AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT``
  to a JSON connection pointing at the emulator, and yields the emulator.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from airflow_provider_opsgenie_incident.emulator.server import OpsgenieEmulator

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["opsgenie_emulator", "opsgenie_emulator_server", "opsgenie_incident_connection"]

CONNECTION_ENV = "AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT"


@pytest.fixture(scope="session")
def opsgenie_emulator_server() -> Iterator[OpsgenieEmulator]:
    """Serve one emulator for the whole session."""
    with OpsgenieEmulator() as emulator:
        yield emulator


@pytest.fixture
def opsgenie_emulator(opsgenie_emulator_server: OpsgenieEmulator) -> OpsgenieEmulator:
    """Return the session emulator, reset to a fresh state for this test."""
    from airflow_provider_opsgenie_incident.client.pacer import reset_pacers
    from airflow_provider_opsgenie_incident.client.sightings import reset_sightings

    opsgenie_emulator_server.reset()
    reset_pacers()
    reset_sightings()
    return opsgenie_emulator_server


@pytest.fixture
def opsgenie_incident_connection(
    opsgenie_emulator: OpsgenieEmulator, monkeypatch: pytest.MonkeyPatch
) -> OpsgenieEmulator:
    """Point the default ``opsgenie_incident`` connection at the emulator; yield the emulator."""
    connection = {
        "conn_type": "opsgenie_incident",
        "host": opsgenie_emulator.url,
        "password": opsgenie_emulator.api_key,
        "extra": {"web_url": opsgenie_emulator.url},
    }
    monkeypatch.setenv(CONNECTION_ENV, json.dumps(connection))
    return opsgenie_emulator
