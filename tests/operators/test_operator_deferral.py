"""Deferrable operators: the write runs in the worker, the wait in the trigger, the result is the same."""

from __future__ import annotations

import importlib
import json
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident._compat import TaskDeferred
from airflow_provider_opsgenie_incident.client.errors import RequestFailedError, WaitTimeoutError
from airflow_provider_opsgenie_incident.operators.incident import (
    OpsgenieCloseIncidentOperator,
    OpsgenieCreateIncidentOperator,
)
from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentRequestTrigger

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator


def _import(path: str) -> type[Any]:
    module, _, name = path.rpartition(".")
    cls: type[Any] = getattr(importlib.import_module(module), name)
    return cls


@pytest.mark.asyncio
async def test_execute_writes_in_the_worker_then_defers_the_wait(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    emulator = opsgenie_incident_connection
    emulator.processing_delay = 0.2
    operator = OpsgenieCreateIncidentOperator(task_id="create", message="m", deferrable=True, wait_timeout=30)

    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({})

    assert [(r.method, r.path) for r in emulator.requests] == [("POST", "/v1/incidents/create")]
    trigger = deferred.value.trigger
    assert isinstance(trigger, OpsgenieIncidentRequestTrigger)
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout == timedelta(seconds=90)  # a backstop behind the trigger's own deadline
    assert trigger.deadline == pytest.approx(time.time() + 30, abs=5)

    classpath, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs  # JSON primitives only; no key
    assert emulator.api_key not in json.dumps(kwargs)
    rebuilt = _import(classpath)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)

    events = [event async for event in rebuilt.run()]
    assert len(events) == 1
    assert events[0].payload["status"] == "success"
    incident_id = events[0].payload["data"]["incidentId"]
    created = emulator.incident(incident_id)
    assert created is not None
    assert created["message"] == "m"


def test_execute_complete_returns_what_the_worker_wait_returns(
    opsgenie_incident_connection: OpsgenieEmulator,
) -> None:
    close = OpsgenieCloseIncidentOperator(task_id="close", identifier="i-1", deferrable=True)
    data = {"success": True, "action": "Close", "status": "Closed incident", "incidentId": "i-1"}

    assert close.execute_complete({}, {"status": "success", "request_id": "r-1", "data": data}) == {
        "request_id": "r-1",
        "incident_id": "i-1",
        "action": "Close",
        "status": "Closed incident",
    }


@pytest.mark.parametrize(
    "error",
    [
        RequestFailedError("Incident does not exist", request_id="r-1", action="Close", incident_id="i-1"),
        WaitTimeoutError("request r-1 was not processed within 60 s", request_id="r-1"),
    ],
    ids=["request-failed", "wait-timeout"],
)
def test_execute_complete_raises_the_same_typed_error(error: Exception) -> None:
    close = OpsgenieCloseIncidentOperator(task_id="close", identifier="i-1", deferrable=True)
    event = {"status": "error", "request_id": "r-1", "error": error.to_dict()}  # type: ignore[attr-defined]

    with pytest.raises(type(error)) as raised:
        close.execute_complete({}, event)

    assert raised.value.to_dict() == error.to_dict()  # type: ignore[attr-defined]


def test_deferrable_operators_run_end_to_end_in_a_dag(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any
) -> None:
    """dag.test() runs triggers in-process, so the deferred path runs for real: worker, trigger, worker."""
    opsgenie_incident_connection.processing_delay = 0.2
    result = run_dag(
        """
from airflow.sdk import DAG
from airflow_provider_opsgenie_incident.operators.incident import *

with DAG("deferred_flow", schedule=None) as dag:
    create = OpsgenieCreateIncidentOperator(task_id="create", message="{{ dag.dag_id }}", deferrable=True)
    note = OpsgenieAddIncidentNoteOperator(
        task_id="note", identifier=create.output["incident_id"], note="looking", deferrable=True
    )
"""
    )

    assert result.task_states == {"create": "success", "note": "success"}
    created = result.xcom("create")
    assert created["tiny_id"] == "1"
    assert created["url"].endswith(f"/incident/detail/{created['incident_id']}")
    assert result.xcom("create", "opsgenie_incident_url") == created["url"]
    assert result.xcom("note")["status"] == "Added note"
    assert opsgenie_incident_connection.notes(created["incident_id"])[-1]["note"] == "looking"


def test_deferred_failure_keeps_the_server_text(
    opsgenie_incident_connection: OpsgenieEmulator,
    run_dag: Any,
    tmp_path: Path,
) -> None:
    record = tmp_path / "error.txt"
    result = run_dag(
        f"""
import pathlib
from airflow.sdk import DAG
from airflow_provider_opsgenie_incident.operators.incident import OpsgenieResolveIncidentOperator

def record(context):
    error = context["exception"]
    pathlib.Path({str(record)!r}).write_text(type(error).__name__ + ": " + str(error))

with DAG("deferred_failure", schedule=None) as dag:
    OpsgenieResolveIncidentOperator(
        task_id="resolve", identifier="no-such-incident", deferrable=True, on_failure_callback=record
    )
"""
    )

    assert result.task_states == {"resolve": "failed"}
    assert record.read_text().startswith("RequestFailedError: Incident does not exist")
