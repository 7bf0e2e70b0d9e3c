"""The triggers, driven against the emulator on a real event loop: events, faults, deadlines, sharing."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.client.errors import error_from_dict
from airflow_provider_opsgenie_incident.emulator import Fault
from airflow_provider_opsgenie_incident.triggers import incident as triggers
from airflow_provider_opsgenie_incident.triggers.incident import (
    OpsgenieIncidentRequestTrigger,
    OpsgenieIncidentStatusTrigger,
)

if TYPE_CHECKING:
    from airflow.triggers.base import BaseTrigger

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

STATUS_POLL = "/v1/incidents/requests/"


@pytest.fixture
def hook(opsgenie_incident_connection: OpsgenieEmulator) -> OpsgenieIncidentHook:
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

    return OpsgenieIncidentHook()


def incident_id(hook: OpsgenieIncidentHook) -> str:
    request_id = hook.create_incident(message="disk full")["requestId"]
    return str(hook.wait_for_request(request_id)["incidentId"])


async def only_event(trigger: BaseTrigger) -> dict[str, Any]:
    """Run the trigger to its end and return its one event's payload."""
    events = [event.payload async for event in trigger.run()]
    assert len(events) == 1
    payload: dict[str, Any] = events[0]
    return payload


@pytest.mark.parametrize(
    "trigger",
    [
        OpsgenieIncidentRequestTrigger(request_id="r-1", deadline=1_700_000_000.5, max_interval=5.0),
        OpsgenieIncidentStatusTrigger(
            identifier="7",
            identifier_type="tiny",
            statuses=("resolved",),
            opsgenie_incident_conn_id="other",
            poll_interval=30,
        ),
    ],
    ids=["request", "status"],
)
def test_serialize_round_trips_through_json(trigger: BaseTrigger) -> None:
    classpath, kwargs = trigger.serialize()
    assert classpath == f"{triggers.__name__}.{type(trigger).__qualname__}"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert type(trigger)(**json.loads(json.dumps(kwargs))).serialize() == (classpath, kwargs)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "faults",
    [
        [],
        [Fault("status", status=429, path=STATUS_POLL, headers={"Retry-After": "0"})],
        [Fault("status", status=503, path=STATUS_POLL, times=2)],
        [Fault("reset", path=STATUS_POLL)],
    ],
    ids=["pending-then-processed", "429-then-success", "5xx-then-success", "reset-then-success"],
)
async def test_request_trigger_waits_through_pending_and_faults(
    opsgenie_incident_connection: OpsgenieEmulator, hook: OpsgenieIncidentHook, faults: list[Fault]
) -> None:
    emulator = opsgenie_incident_connection
    emulator.processing_delay = 0.3
    request_id = hook.create_incident(message="m")["requestId"]
    for fault in faults:
        emulator.add_fault(fault)

    event = await only_event(OpsgenieIncidentRequestTrigger(request_id=request_id, deadline=time.time() + 10))

    assert event["status"] == "success"
    assert event["request_id"] == request_id
    assert event["data"]["action"] == "Create"
    assert emulator.incident(event["data"]["incidentId"]) is not None
    polls = [r for r in emulator.requests if r.path.startswith(STATUS_POLL)]
    assert 2 <= len(polls) <= 12  # pending polls sleep a growing interval; no busy loop
    assert all(fault.hits == (fault.times or 1) for fault in faults)


@pytest.mark.asyncio
async def test_request_processed_with_success_false_gives_an_error_event(
    opsgenie_incident_connection: OpsgenieEmulator, hook: OpsgenieIncidentHook
) -> None:
    request_id = hook.resolve_incident(identifier="no-such-incident")["requestId"]

    event = await only_event(OpsgenieIncidentRequestTrigger(request_id=request_id, deadline=time.time() + 10))

    assert event["status"] == "error"
    error = error_from_dict(event["error"])
    assert type(error).__name__ == "RequestFailedError"
    assert error.message == "Incident does not exist"
    assert error.request_id == request_id


@pytest.mark.asyncio
async def test_request_trigger_gives_up_at_the_deadline(
    opsgenie_incident_connection: OpsgenieEmulator, hook: OpsgenieIncidentHook
) -> None:
    opsgenie_incident_connection.processing_delay = 5.0
    request_id = hook.create_incident(message="m")["requestId"]

    started = time.monotonic()
    event = await only_event(
        OpsgenieIncidentRequestTrigger(request_id=request_id, deadline=time.time() + 0.3)
    )

    assert 0.3 <= time.monotonic() - started < 2
    assert event["status"] == "error"
    assert event["error"]["error_class"] == "WaitTimeoutError"


@pytest.mark.asyncio
async def test_status_trigger_waits_until_the_incident_is_resolved(
    opsgenie_incident_connection: OpsgenieEmulator, hook: OpsgenieIncidentHook
) -> None:
    emulator = opsgenie_incident_connection
    identifier = incident_id(hook)
    emulator.processing_delay = 0.35
    hook.resolve_incident(identifier=identifier)
    emulator.clear_requests()

    trigger = OpsgenieIncidentStatusTrigger(identifier=identifier, statuses=["resolved"], poll_interval=0.1)
    event = await only_event(trigger)

    assert event["status"] == "success"
    assert event["identifier"] == identifier
    assert event["incident"]["status"] == "resolved"
    assert 3 <= len(emulator.requests) <= 8  # one GET per poll_interval


@pytest.mark.asyncio
async def test_status_trigger_gives_up_at_the_deadline(
    opsgenie_incident_connection: OpsgenieEmulator, hook: OpsgenieIncidentHook
) -> None:
    identifier = incident_id(hook)
    trigger = OpsgenieIncidentStatusTrigger(
        identifier=identifier, poll_interval=0.1, deadline=time.time() + 0.3
    )

    event = await only_event(trigger)

    assert event["status"] == "error"
    error = error_from_dict(event["error"])
    assert type(error).__name__ == "WaitTimeoutError"
    assert "still open" in error.message


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("connection_key", "error_class"),
    [("emulator-key", "NotFoundError"), ("wrong-key", "AuthenticationError")],
    ids=["unknown-incident", "wrong-key"],
)
async def test_status_trigger_reports_client_errors_with_their_type(
    opsgenie_incident_connection: OpsgenieEmulator,
    monkeypatch: pytest.MonkeyPatch,
    connection_key: str,
    error_class: str,
) -> None:
    connection = {"conn_type": "opsgenie_incident", "host": opsgenie_incident_connection.url}
    monkeypatch.setenv("AIRFLOW_CONN_OPSGENIE_OTHER", json.dumps({**connection, "password": connection_key}))
    trigger = OpsgenieIncidentStatusTrigger(
        identifier="no-such-incident", opsgenie_incident_conn_id="opsgenie_other", poll_interval=0.1
    )

    event = await only_event(trigger)

    assert event["status"] == "error"
    assert event["error"]["error_class"] == error_class
    assert connection_key not in json.dumps(event)


@pytest.mark.asyncio
async def test_waiting_triggers_share_one_client_and_close_it_when_done(
    opsgenie_incident_connection: OpsgenieEmulator, hook: OpsgenieIncidentHook
) -> None:
    identifiers = [incident_id(hook) for _ in range(20)]
    waits = [
        asyncio.ensure_future(only_event(OpsgenieIncidentStatusTrigger(identifier=i, poll_interval=0.05)))
        for i in identifiers
    ]
    await asyncio.sleep(0.3)

    leases = triggers._LEASES[asyncio.get_running_loop()]
    assert [lease.users for lease in leases.values()] == [20]
    client = next(iter(leases.values())).client

    for identifier in identifiers:
        hook.close_incident(identifier=identifier)
    events = await asyncio.gather(*waits)

    assert {event["incident"]["status"] for event in events} == {"closed"}
    assert triggers._LEASES[asyncio.get_running_loop()] == {}
    assert client.is_closed


@pytest.mark.asyncio
async def test_status_triggers_started_together_spread_their_polls(
    opsgenie_incident_connection: OpsgenieEmulator, hook: OpsgenieIncidentHook
) -> None:
    """A triggerer restart starts every trigger at once; their polls must not stay in lockstep."""
    identifier = incident_id(hook)
    opsgenie_incident_connection.clear_requests()
    waits = [
        asyncio.ensure_future(
            only_event(OpsgenieIncidentStatusTrigger(identifier=identifier, poll_interval=0.6))
        )
        for _ in range(20)
    ]
    await asyncio.sleep(0.3)
    early = len(opsgenie_incident_connection.requests)
    hook.close_incident(identifier=identifier)
    await asyncio.gather(*waits)

    assert 0 < early < 20  # about half; all or none would mean a synchronised burst
