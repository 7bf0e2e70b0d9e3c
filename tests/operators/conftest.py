"""Operator test fixtures: a hook on the emulator, and incidents made through it before a DAG runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook


@pytest.fixture
def hook(opsgenie_incident_connection: OpsgenieEmulator) -> OpsgenieIncidentHook:
    """A hook on the default connection, which points at the emulator."""
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

    return OpsgenieIncidentHook()


@pytest.fixture
def make_incident(hook: OpsgenieIncidentHook) -> Callable[..., dict[str, Any]]:
    """Return a function that creates an incident through the hook, waits for it and returns it."""

    def make(**fields: Any) -> dict[str, Any]:
        request_id = hook.create_incident(**{"message": "disk full", **fields})["requestId"]
        incident_id = hook.wait_for_request(request_id)["incidentId"]
        incident: dict[str, Any] = hook.get_incident(identifier=incident_id)["data"]
        return incident

    return make
