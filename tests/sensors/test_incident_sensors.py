"""Both sensors in real DAG runs against the emulator: poke, reschedule, deferrable; timeouts, soft_fail."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident._compat import TaskDeferred
from airflow_provider_opsgenie_incident._tasks import min_deferral
from airflow_provider_opsgenie_incident.client.errors import InvalidRequestError
from airflow_provider_opsgenie_incident.sensors.incident import (
    OpsgenieIncidentRequestSensor,
    OpsgenieIncidentStatusSensor,
)
from airflow_provider_opsgenie_incident.triggers.incident import OpsgenieIncidentStatusTrigger

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

MODES = {
    "poke": 'mode="poke"',
    "reschedule": 'mode="reschedule"',
    "deferrable": "deferrable=True",
}

HEADER = """
import json, pathlib
from airflow.sdk import DAG
from airflow_provider_opsgenie_incident.operators.incident import *
from airflow_provider_opsgenie_incident.sensors.incident import *

def record(context):
    error = context["exception"]
    pathlib.Path({path!r}).write_text(json.dumps({{"type": type(error).__name__, "message": str(error)}}))

with DAG("{dag_id}", schedule=None, default_args={{"on_failure_callback": record}}) as dag:
"""


@pytest.fixture
def hook(opsgenie_incident_connection: OpsgenieEmulator) -> OpsgenieIncidentHook:
    from airflow_provider_opsgenie_incident.hooks.incident import OpsgenieIncidentHook

    return OpsgenieIncidentHook()


@pytest.fixture
def incident_id(hook: OpsgenieIncidentHook) -> str:
    """An open incident, made through the hook."""
    request_id = hook.create_incident(message="disk full")["requestId"]
    return str(hook.wait_for_request(request_id)["incidentId"])


def run_sensor_dag(run_dag: Any, tmp_path: Path, dag_id: str, body: str, **conf: Any) -> Any:
    source = HEADER.format(dag_id=dag_id, path=str(tmp_path / "error.json")) + body
    return run_dag(source, run_conf=conf)


def recorded_error(tmp_path: Path) -> dict[str, str]:
    error: dict[str, str] = json.loads((tmp_path / "error.json").read_text())
    return error


@pytest.mark.parametrize("mode", MODES, ids=list(MODES))
def test_request_sensor_waits_until_the_request_is_processed(
    mode: str, opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, tmp_path: Path
) -> None:
    opsgenie_incident_connection.processing_delay = 0.4
    body = f"""
    create = OpsgenieCreateIncidentOperator(task_id="create", message="m", wait_for_completion=False)
    OpsgenieIncidentRequestSensor(
        task_id="sensor", request_id=create.output["request_id"], poke_interval=0.1, {MODES[mode]}
    )
"""
    result = run_sensor_dag(run_dag, tmp_path, f"request_sensor_{mode}", body)

    assert result.task_states == {"create": "success", "sensor": "success"}
    found = result.xcom("sensor")
    assert found["request_id"] == result.xcom("create", "request_id")
    assert found["status"] == "Created incident"
    assert result.xcom("sensor", "incident_id") == opsgenie_incident_connection.incidents()[0]["id"]


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_request_sensor_fails_with_the_server_text(
    mode: str, opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, tmp_path: Path
) -> None:
    body = f"""
    resolve = OpsgenieResolveIncidentOperator(
        task_id="resolve", identifier="no-such-incident", wait_for_completion=False
    )
    OpsgenieIncidentRequestSensor(task_id="sensor", request_id=resolve.output["request_id"], {MODES[mode]})
"""
    result = run_sensor_dag(run_dag, tmp_path, f"request_sensor_fails_{mode}", body)

    assert result.task_states == {"resolve": "success", "sensor": "failed"}
    error = recorded_error(tmp_path)
    assert error["type"] == "RequestFailedError"
    assert error["message"].startswith("Incident does not exist (requestId ")


def _resolve_after_first_poll(
    emulator: OpsgenieEmulator, hook: OpsgenieIncidentHook, incident_id: str
) -> None:
    """Resolve the incident once the sensor has seen it open, however long the run takes to start."""
    deadline = time.monotonic() + 60
    while not any(r.path == f"/v1/incidents/{incident_id}" for r in emulator.requests):
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)
    hook.resolve_incident(identifier=incident_id)


@pytest.mark.parametrize("mode", MODES, ids=list(MODES))
def test_status_sensor_waits_until_the_incident_is_resolved(
    mode: str,
    opsgenie_incident_connection: OpsgenieEmulator,
    hook: OpsgenieIncidentHook,
    incident_id: str,
    run_dag: Any,
    tmp_path: Path,
) -> None:
    emulator = opsgenie_incident_connection
    emulator.clear_requests()
    resolver = threading.Thread(target=_resolve_after_first_poll, args=(emulator, hook, incident_id))
    resolver.start()
    body = f"""
    OpsgenieIncidentStatusSensor(
        task_id="sensor",
        identifier="{{{{ dag_run.conf['incident_id'] }}}}",
        target_statuses=["resolved"],
        failure_statuses=["closed"],
        poke_interval=0.1,
        {MODES[mode]},
    )
"""
    result = run_sensor_dag(run_dag, tmp_path, f"status_sensor_{mode}", body, incident_id=incident_id)
    resolver.join(timeout=5)

    assert result.task_states == {"sensor": "success"}
    assert result.xcom("sensor")["id"] == incident_id
    assert result.xcom("sensor")["status"] == "resolved"
    url = f"{emulator.url}/incident/detail/{incident_id}"
    assert result.xcom("sensor", "opsgenie_incident_url") == url
    assert result.xcom("sensor", "_link_OpsgenieIncidentLink") == url
    assert len([r for r in emulator.requests if r.path == f"/v1/incidents/{incident_id}"]) >= 2


@pytest.mark.parametrize("soft_fail", [False, True], ids=["fail", "soft-fail"])
@pytest.mark.parametrize("mode", MODES, ids=list(MODES))
def test_status_sensor_timeout(
    mode: str, soft_fail: bool, incident_id: str, run_dag: Any, tmp_path: Path
) -> None:
    body = f"""
    OpsgenieIncidentStatusSensor(
        task_id="sensor", identifier="{incident_id}", poke_interval=0.1, timeout=0.4,
        soft_fail={soft_fail}, {MODES[mode]},
    )
"""
    result = run_sensor_dag(run_dag, tmp_path, f"status_timeout_{mode}_{soft_fail}", body)

    assert result.task_states == {"sensor": "skipped" if soft_fail else "failed"}
    if not soft_fail:
        assert recorded_error(tmp_path)["type"] == "AirflowSensorTimeout"


@pytest.mark.parametrize("soft_fail", [False, True], ids=["fail", "soft-fail"])
@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_status_sensor_failure_statuses(
    mode: str,
    soft_fail: bool,
    hook: OpsgenieIncidentHook,
    incident_id: str,
    run_dag: Any,
    tmp_path: Path,
) -> None:
    hook.close_incident(identifier=incident_id)
    body = f"""
    OpsgenieIncidentStatusSensor(
        task_id="sensor", identifier="{incident_id}", target_statuses=["resolved"],
        failure_statuses=["closed"], soft_fail={soft_fail}, {MODES[mode]},
    )
"""
    result = run_sensor_dag(run_dag, tmp_path, f"status_failure_{mode}_{soft_fail}", body)

    assert result.task_states == {"sensor": "skipped" if soft_fail else "failed"}
    assert result.xcom("sensor", "opsgenie_incident_url")  # the link works on a failed wait too
    if not soft_fail:
        assert recorded_error(tmp_path) == {
            "type": "AirflowFailException",
            "message": f"incident {incident_id} is closed",
        }


def test_deferrable_status_sensor_pokes_once_then_defers(
    opsgenie_incident_connection: OpsgenieEmulator, incident_id: str
) -> None:
    sensor = OpsgenieIncidentStatusSensor(
        task_id="sensor",
        identifier=incident_id,
        target_statuses=["resolved"],
        failure_statuses=["closed"],
        poke_interval=30,
        timeout=600,
        deferrable=True,
    )

    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})

    assert len(opsgenie_incident_connection.requests) == 3  # create, its request status, one poke
    trigger = deferred.value.trigger
    assert isinstance(trigger, OpsgenieIncidentStatusTrigger)
    assert deferred.value.timeout == timedelta(seconds=600)
    classpath, kwargs = trigger.serialize()
    assert kwargs["statuses"] == ["resolved", "closed"]
    assert kwargs["poll_interval"] == 30
    assert kwargs["not_before"] == pytest.approx(time.time() + min_deferral(), abs=2)
    assert OpsgenieIncidentStatusTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_deferrable_request_sensor_returns_at_once_when_already_processed(
    hook: OpsgenieIncidentHook,
) -> None:
    request_id = hook.create_incident(message="m")["requestId"]  # processed at once: no delay
    sensor = OpsgenieIncidentRequestSensor(task_id="sensor", request_id=request_id, deferrable=True)

    assert sensor.execute({})["status"] == "Created incident"


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "reschedule"}, {"exponential_backoff": True}],
    ids=["reschedule", "exponential-backoff"],
)
def test_deferrable_refuses_what_the_trigger_cannot_do(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="deferrable"):
        OpsgenieIncidentRequestSensor(task_id="sensor", request_id="r", deferrable=True, **kwargs)


@pytest.mark.parametrize(
    ("target", "failure"),
    [(["fixed"], []), ([], []), (["resolved"], ["resolved"])],
    ids=["unknown-status", "no-target", "overlap"],
)
def test_status_lists_are_checked_before_any_request(
    opsgenie_incident_connection: OpsgenieEmulator, target: list[str], failure: list[str]
) -> None:
    sensor = OpsgenieIncidentStatusSensor(
        task_id="sensor",
        identifier="i",
        target_statuses=target,  # type: ignore[arg-type]
        failure_statuses=failure,  # type: ignore[arg-type]
    )
    with pytest.raises(InvalidRequestError):
        sensor.poke({})
    assert opsgenie_incident_connection.requests == []
