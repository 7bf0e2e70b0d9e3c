"""Deferrable operators: the write runs in the worker, the wait in the trigger, the result is the same."""

from __future__ import annotations

import importlib
import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident._compat import TaskDeferred
from airflow_provider_opsgenie_incident._tasks import min_deferral
from airflow_provider_opsgenie_incident.client.errors import RequestFailedError, WaitTimeoutError
from airflow_provider_opsgenie_incident.operators.incident import (
    OpsgenieCloseIncidentOperator,
    OpsgenieCreateIncidentOperator,
)
from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentRequestTrigger

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook


def _import(path: str) -> type[Any]:
    module, _, name = path.rpartition(".")
    cls: type[Any] = getattr(importlib.import_module(module), name)
    return cls


@pytest.mark.asyncio
async def test_a_request_still_pending_after_defer_after_is_waited_for_in_the_trigger(
    opsgenie_incident_connection: OpsgenieEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = opsgenie_incident_connection
    emulator.processing_delay = 1.5
    operator = OpsgenieCreateIncidentOperator(
        task_id="create", message="m", deferrable=True, wait_timeout=30, defer_after=0.3
    )

    started = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({})
    deferred_at = time.time()

    assert deferred_at - started >= 0.3  # waited defer_after in the worker, then deferred
    sent = [(r.method, r.path) for r in emulator.requests if "/requests/" not in r.path]
    assert sent == [("GET", "/v1/incidents"), ("POST", "/v1/incidents/create")]  # search, create
    trigger = deferred.value.trigger
    assert isinstance(trigger, OpsgenieIncidentRequestTrigger)
    assert deferred.value.method_name == "execute_complete"
    # The deferral timeout is a backstop behind the trigger's own deadline.
    assert deferred.value.timeout.total_seconds() == pytest.approx(90, abs=2)
    assert trigger.deadline == pytest.approx(started + 30, abs=1)
    assert trigger.not_before == pytest.approx(deferred_at + min_deferral(), abs=1)

    classpath, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs  # JSON primitives only; no key
    assert emulator.api_key not in json.dumps(kwargs)
    rebuilt = _import(classpath)(**kwargs)  # as a restarted triggerer rebuilds it
    assert rebuilt.serialize() == (classpath, kwargs)

    events = [event async for event in rebuilt.run()]
    assert time.time() >= kwargs["not_before"]  # processed after 1.5 s, held back until the minimum
    assert "Done; holding the event" in capsys.readouterr().out  # the trigger says why it waits
    assert len(events) == 1
    assert events[0].payload["status"] == "success"
    created = emulator.incident(events[0].payload["data"]["incidentId"])
    assert created is not None
    assert created["message"] == "m"


@pytest.mark.asyncio
async def test_a_trigger_rebuilt_after_its_not_before_yields_at_once(
    opsgenie_incident_connection: OpsgenieEmulator, hook: OpsgenieIncidentHook
) -> None:
    """not_before is a point in time, so a triggerer restarted after it does not wait again."""
    request_id = hook.create_incident(message="m")["requestId"]
    trigger = OpsgenieIncidentRequestTrigger(request_id=request_id, not_before=time.time() - 1)

    started = time.monotonic()
    events = [event async for event in trigger.run()]

    assert time.monotonic() - started < min_deferral() / 2
    assert [event.payload["status"] for event in events] == ["success"]


def test_defer_after_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="defer_after"):
        OpsgenieCreateIncidentOperator(task_id="create", message="m", deferrable=True, defer_after=-1)


# A create operator that records when its task deferred and when it resumed, as Airflow runs it.
RECORDED_DAG = """
import json, pathlib, time
from airflow.sdk import DAG
from airflow_provider_opsgenie_incident.operators.incident import OpsgenieCreateIncidentOperator

def record(what, **fields):
    with pathlib.Path({path!r}).open("a") as log:
        log.write(json.dumps({{"what": what, "at": time.time(), **fields}}) + "\\n")

class RecordedCreate(OpsgenieCreateIncidentOperator):
    def defer(self, *, trigger, **kwargs):
        record("deferred", kwargs=trigger.serialize()[1])
        super().defer(trigger=trigger, **kwargs)

    def execute_complete(self, context, event):
        record("resumed")
        return super().execute_complete(context, event)

with DAG("{dag_id}", schedule=None) as dag:
    RecordedCreate(task_id="create", message="m", deferrable=True{options})
"""


def recorded_run(run_dag: Any, tmp_path: Path, dag_id: str, options: str = "") -> tuple[Any, list[Any]]:
    log = tmp_path / "deferrals.jsonl"
    result = run_dag(RECORDED_DAG.format(path=str(log), dag_id=dag_id, options=options))
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, records


def test_a_fast_request_costs_no_deferral(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, tmp_path: Path
) -> None:
    opsgenie_incident_connection.processing_delay = 0.2  # Opsgenie's usual: well under a second

    result, records = recorded_run(run_dag, tmp_path, "fast_request")

    assert result.task_states == {"create": "success"}
    assert records == []
    assert result.xcom("create")["status"] == "Created incident"


def test_a_slow_request_defers_and_resumes_no_sooner_than_the_minimum(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, tmp_path: Path
) -> None:
    emulator = opsgenie_incident_connection
    emulator.processing_delay = 1.5

    result, records = recorded_run(run_dag, tmp_path, "slow_request", options=", defer_after=0.5")

    assert result.task_states == {"create": "success"}
    assert [r["what"] for r in records] == ["deferred", "resumed"]
    deferred, resumed = records
    # Processed 1.5 s after it was accepted, yet the task resumed only once the minimum had passed.
    assert deferred["kwargs"]["not_before"] == pytest.approx(deferred["at"] + min_deferral(), abs=1)
    assert resumed["at"] >= deferred["kwargs"]["not_before"]
    # Resumed in a worker, the task returns what a wait in the worker returns, link included.
    created = result.xcom("create")
    assert created["tiny_id"] == "1"
    assert created["url"] == f"{emulator.url}/incident/detail/{created['incident_id']}"
    assert result.xcom("create", "opsgenie_incident_url") == created["url"]


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


def test_deferred_failure_keeps_the_server_text(
    opsgenie_incident_connection: OpsgenieEmulator,
    run_dag: Any,
    tmp_path: Path,
) -> None:
    opsgenie_incident_connection.processing_delay = 0.6  # fails in the triggerer, not in the worker
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
        task_id="resolve",
        identifier="no-such-incident",
        deferrable=True,
        defer_after=0.1,
        on_failure_callback=record,
    )
"""
    )

    assert result.task_states == {"resolve": "failed"}
    assert record.read_text().startswith("RequestFailedError: Incident does not exist")
