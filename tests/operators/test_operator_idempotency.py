"""The create operator's idempotency key: ambiguous failures and task retries adopt, never duplicate.

Each run is real: ``dag.test()`` against the emulator, whose faults stand in for a gateway that
fails, with or without the write having been applied.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.emulator import Fault
from airflow_provider_opsgenie_incident.operators.incident import IDEMPOTENCY_PREFIX, idempotency_tag

if TYPE_CHECKING:
    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

DAG_SOURCE = """
from datetime import timedelta
from airflow.sdk import DAG
from airflow_provider_opsgenie_incident.operators.incident import OpsgenieCreateIncidentOperator

with DAG("{dag_id}", schedule=None) as dag:
    OpsgenieCreateIncidentOperator(task_id="create", message="disk full"{options})
"""


def creates(emulator: OpsgenieEmulator) -> list[str]:
    """The method and path of every create and search the emulator saw, in order."""
    return [
        f"{r.method} {r.path}"
        for r in emulator.requests
        if r.path == "/v1/incidents/create" or (r.method == "GET" and r.path == "/v1/incidents")
    ]


def test_the_tag_fits_the_tag_limit_and_tells_keys_apart() -> None:
    long_key = "dag." * 30 + "task.manual__2026-01-01T00:00:00+00:00.-1"
    tags = {idempotency_tag(long_key + suffix) for suffix in ("a", "b")}

    assert len(tags) == 2  # the keys differ past the readable part: the hash tells them apart
    for tag in tags:
        assert len(tag) <= 50
        assert tag.startswith(IDEMPOTENCY_PREFIX + "dag.dag.")
        assert set(tag) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:")


def test_a_lost_response_adopts_the_incident_the_create_made(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any
) -> None:
    emulator = opsgenie_incident_connection
    emulator.add_fault(Fault("lost_response", method="POST", path="/v1/incidents/create"))

    result = run_dag(DAG_SOURCE.format(dag_id="lost_create", options=""))

    assert result.task_states == {"create": "success"}
    [incident] = emulator.incidents()
    assert result.xcom("create")["incident_id"] == incident["id"]
    assert result.xcom("create")["status"] == "Adopted incident"
    assert result.xcom("create", "opsgenie_incident_url") == result.xcom("create")["url"]
    assert creates(emulator) == ["GET /v1/incidents", "POST /v1/incidents/create", "GET /v1/incidents"]


def test_a_lost_create_still_being_processed_is_found_by_the_second_search(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any
) -> None:
    emulator = opsgenie_incident_connection
    emulator.processing_delay = 1.0  # accepted, applied a second later: the first search misses it
    emulator.add_fault(Fault("lost_response", method="POST", path="/v1/incidents/create"))

    result = run_dag(DAG_SOURCE.format(dag_id="lagging_create", options=""))

    assert result.task_states == {"create": "success"}
    [incident] = emulator.incidents()
    assert result.xcom("create")["incident_id"] == incident["id"]
    assert result.xcom("create")["status"] == "Adopted incident"
    # The search before the create, one create, then searches until the late incident shows.
    sent = creates(emulator)
    assert sent.count("POST /v1/incidents/create") == 1
    assert sent[:2] == ["GET /v1/incidents", "POST /v1/incidents/create"]
    assert set(sent[2:]) == {"GET /v1/incidents"}


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_error_that_applied_nothing_creates_once_more(
    status: int, opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = opsgenie_incident_connection
    connection = {
        "conn_type": "opsgenie_incident",
        "host": emulator.url,
        "password": emulator.api_key,
        "extra": {"max_attempts": 2},
    }
    monkeypatch.setenv("AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT", json.dumps(connection))
    # Both attempts of the client's retry fail: the error may have been applied, so search twice first.
    emulator.add_fault(Fault("status", status=status, times=2, method="POST", path="/v1/incidents/create"))

    result = run_dag(DAG_SOURCE.format(dag_id=f"gateway_{status}", options=""))

    assert result.task_states == {"create": "success"}
    [incident] = emulator.incidents()
    assert result.xcom("create")["incident_id"] == incident["id"]
    assert result.xcom("create")["status"] == "Created incident"
    # No create is sent again before a search has shown the earlier one was not applied.
    sent = creates(emulator)
    assert sent[0] == "GET /v1/incidents"
    posts = [i for i, request in enumerate(sent) if request == "POST /v1/incidents/create"]
    assert len(posts) == 3
    assert all(sent[i - 1] == "GET /v1/incidents" for i in posts[1:])


def test_a_task_retry_adopts_the_incident_of_the_first_try(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any
) -> None:
    emulator = opsgenie_incident_connection
    # The first try's create is applied, then its wait fails: Airflow retries the task.
    emulator.add_fault(Fault("status", status=401, method="GET", path="/v1/incidents/requests/"))

    options = ", retries=1, retry_delay=timedelta(seconds=0)"
    result = run_dag(DAG_SOURCE.format(dag_id="retried_create", options=options))

    assert result.task_states == {"create": "success"}
    [incident] = emulator.incidents()
    assert result.xcom("create")["incident_id"] == incident["id"]
    assert result.xcom("create")["status"] == "Adopted incident"
    assert incident["tags"] == [idempotency_tag(f"retried_create.create.{result.dag_run.run_id}.-1")]


def test_a_key_of_none_creates_without_searching(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any
) -> None:
    emulator = opsgenie_incident_connection

    result = run_dag(DAG_SOURCE.format(dag_id="no_key", options=", idempotency_key=None"))

    assert result.task_states == {"create": "success"}
    assert creates(emulator) == ["POST /v1/incidents/create"]
    [incident] = emulator.incidents()
    assert incident["tags"] == []


def test_a_key_of_none_still_never_creates_blindly_after_a_lost_answer(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any
) -> None:
    emulator = opsgenie_incident_connection
    emulator.add_fault(Fault("lost_response", method="POST", path="/v1/incidents/create"))

    result = run_dag(DAG_SOURCE.format(dag_id="no_key_lost", options=", idempotency_key=None"))

    # The client itself looks for the create (by its message) before it would send it again.
    assert result.task_states == {"create": "success"}
    [incident] = emulator.incidents()
    assert result.xcom("create")["incident_id"] == incident["id"]
    assert creates(emulator).count("POST /v1/incidents/create") == 1


def test_a_failing_wait_never_creates_again(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the create call is guarded: a gateway error while waiting for it fails the try, nothing more."""
    emulator = opsgenie_incident_connection
    connection = {"conn_type": "opsgenie_incident", "host": emulator.url, "password": emulator.api_key}
    monkeypatch.setenv(
        "AIRFLOW_CONN_OPSGENIE_INCIDENT_DEFAULT", json.dumps({**connection, "extra": {"max_attempts": 1}})
    )
    emulator.add_fault(Fault("status", status=502, times=None, method="GET", path="/v1/incidents/requests/"))

    result = run_dag(DAG_SOURCE.format(dag_id="failing_wait", options=""))

    assert result.task_states == {"create": "failed"}
    assert creates(emulator) == ["GET /v1/incidents", "POST /v1/incidents/create"]
    assert len(emulator.incidents()) == 1
