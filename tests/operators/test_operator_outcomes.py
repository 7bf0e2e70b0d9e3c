"""Operator outcomes in real DAG runs: XCom inputs, failed requests, invalid input, not waiting, timeouts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_opsgenie_incident.operators.incident import (
    OpsgenieCloseIncidentOperator,
    OpsgenieCreateIncidentOperator,
    OpsgenieListIncidentsOperator,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

# A DAG whose tasks record the exception that failed them, so a test can check its type and text.
HEADER = """
import json, pathlib
from airflow.sdk import DAG
from airflow_provider_opsgenie_incident.operators.incident import *

def record(context):
    error = context["exception"]
    pathlib.Path({path!r}).write_text(json.dumps(
        {{"type": type(error).__name__, "message": str(error), "field": getattr(error, "field", None)}}
    ))

with DAG("{dag_id}", schedule=None, default_args={{"on_failure_callback": record}}) as dag:
"""


def dag_source(dag_id: str, tmp_path: Path, body: str) -> str:
    return HEADER.format(dag_id=dag_id, path=str(tmp_path / "error.json")) + body


def recorded_error(tmp_path: Path) -> dict[str, Any]:
    error: dict[str, Any] = json.loads((tmp_path / "error.json").read_text())
    return error


def test_xcom_arg_and_templated_xcom_pull_inputs(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, tmp_path: Path
) -> None:
    body = """
    create = OpsgenieCreateIncidentOperator(task_id="create", message="{{ dag.dag_id }} failed")
    close = OpsgenieCloseIncidentOperator(task_id="close", identifier=create.output["incident_id"])
    get = OpsgenieGetIncidentOperator(task_id="get", identifier="{{ ti.xcom_pull('create')['incident_id'] }}")
    close >> get
"""
    result = run_dag(dag_source("xcom_inputs", tmp_path, body))

    assert result.state == "success"
    incident_id = result.xcom("create")["incident_id"]
    assert result.xcom("create", "incident_id") == incident_id
    assert result.xcom("close")["incident_id"] == incident_id
    assert result.xcom("get")["status"] == "closed"
    assert result.xcom("get")["message"] == "xcom_inputs failed"


def test_request_processed_with_success_false_fails_with_the_server_text(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, tmp_path: Path
) -> None:
    body = """
    OpsgenieResolveIncidentOperator(task_id="resolve", identifier="no-such-incident", note="bye")
"""
    result = run_dag(dag_source("resolve_unknown", tmp_path, body))

    assert result.task_states == {"resolve": "failed"}
    error = recorded_error(tmp_path)
    assert error["type"] == "RequestFailedError"
    assert "Incident does not exist" in error["message"]


def test_invalid_input_fails_before_any_request(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, tmp_path: Path
) -> None:
    body = """
    OpsgenieCreateIncidentOperator(task_id="create", message="m", tags=["{{ 'x' * 51 }}"])
"""
    result = run_dag(dag_source("invalid_tag", tmp_path, body))

    assert result.task_states == {"create": "failed"}
    assert recorded_error(tmp_path)["type"] == "InvalidRequestError"
    assert recorded_error(tmp_path)["field"] == "tags[0]"
    assert opsgenie_incident_connection.requests == []


def test_not_waiting_returns_the_request_id_at_once(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, tmp_path: Path
) -> None:
    emulator = opsgenie_incident_connection
    emulator.processing_delay = 2.0
    body = """
    OpsgenieCreateIncidentOperator(task_id="create", message="m", wait_for_completion=False)
"""
    result = run_dag(dag_source("no_wait", tmp_path, body))

    assert result.state == "success"
    assert result.xcom("create") == {"request_id": result.xcom("create", "request_id")}
    # The search for an incident of this task run, then the create; no wait.
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", "/v1/incidents"),
        ("POST", "/v1/incidents/create"),
    ]


def test_wait_timeout_fails_with_wait_timeout_error(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Any, tmp_path: Path
) -> None:
    opsgenie_incident_connection.processing_delay = 5.0
    body = """
    OpsgenieCreateIncidentOperator(task_id="create", message="m", wait_timeout=0.3)
"""
    result = run_dag(dag_source("wait_timeout", tmp_path, body))

    assert result.task_states == {"create": "failed"}
    assert recorded_error(tmp_path)["type"] == "WaitTimeoutError"


def test_list_without_a_cap_returns_every_match(
    opsgenie_incident_connection: OpsgenieEmulator, make_incident: Callable[..., dict[str, Any]]
) -> None:
    for _ in range(3):
        make_incident(tags=["batch"])
    listing = OpsgenieListIncidentsOperator(task_id="list", query="tag:batch", max_results=None)
    assert len(listing.execute({})) == 3


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (OpsgenieCreateIncidentOperator, {"message": "m", "wait_timeout": 0}, "wait_timeout"),
        (OpsgenieListIncidentsOperator, {"query": "x", "max_results": 0}, "max_results"),
    ],
    ids=["zero-wait-timeout", "zero-max-results"],
)
def test_impossible_combinations_are_refused_at_construction(
    cls: type[Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cls(task_id="op", **kwargs)


def test_deferrable_without_waiting_returns_the_request_id_at_once(opsgenie_incident_connection: Any) -> None:
    # With [operators] default_deferrable on, a no-wait write must still work: there is nothing to defer.
    close = OpsgenieCloseIncidentOperator(
        task_id="close", identifier="x", deferrable=True, wait_for_completion=False
    )
    result = close.execute({})
    assert set(result) == {"request_id"}
    assert [r.path for r in opsgenie_incident_connection.requests] == ["/v1/incidents/x/close"]


def test_constructing_an_operator_reads_no_connection() -> None:
    operator = OpsgenieCloseIncidentOperator(
        task_id="close", identifier="x", opsgenie_incident_conn_id="missing"
    )
    assert "hook" not in vars(operator)


def test_shared_parameters_come_from_default_args() -> None:
    """The shared bases are operator classes, so Airflow fills their parameters from default_args."""
    from airflow.sdk import DAG

    defaults = {"opsgenie_incident_conn_id": "other", "identifier": "i-1", "note": "bye"}
    with DAG("shared_defaults", schedule=None, default_args=defaults):
        close = OpsgenieCloseIncidentOperator(task_id="close")
    assert (close.opsgenie_incident_conn_id, close.identifier, close.note) == ("other", "i-1", "bye")


def test_a_mapped_operator_acts_on_each_incident(
    opsgenie_incident_connection: OpsgenieEmulator,
    make_incident: Callable[..., dict[str, Any]],
    run_dag: Any,
    tmp_path: Path,
) -> None:
    ids = [make_incident()["id"] for _ in range(2)]
    body = f"""
    OpsgenieCloseIncidentOperator.partial(task_id="close", note="done").expand(identifier={ids!r})
"""
    result = run_dag(dag_source("mapped_close", tmp_path, body))

    assert result.state == "success"
    for incident_id in ids:
        closed = opsgenie_incident_connection.incident(incident_id)
        assert closed is not None
        assert closed["status"] == "closed"
