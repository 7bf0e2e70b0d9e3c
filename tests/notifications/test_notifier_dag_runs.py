"""Real Airflow runs (``dag.test()``): callbacks on ``default_args`` and on the DAG itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

DAG_SOURCE = """
from airflow.sdk import DAG, task

from airflow_provider_opsgenie_incident.notifications.incident import opsgenie_incident_callbacks

with DAG(
    dag_id="notifier_dag_runs",
    schedule=None,
    params={"fail": True},
    default_args={"retries": 0, **opsgenie_incident_callbacks(tags=["task-level"])},
    **opsgenie_incident_callbacks(tags=["dag-level"], recovery_note="{{ dag.dag_id }} is back"),
) as dag:

    @task
    def ingest(params=None):
        if params["fail"]:
            raise ValueError("upstream file missing")

    ingest()
"""


def test_task_and_dag_callbacks_open_note_and_resolve(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Callable[..., Any]
) -> None:
    emulator = opsgenie_incident_connection
    assert run_dag(DAG_SOURCE).state == "failed"
    run_dag(DAG_SOURCE)
    incidents = {incident["tags"][1]: incident for incident in emulator.incidents()}
    assert set(incidents) == {"task-level", "dag-level"}
    assert incidents["task-level"]["message"] == "[Airflow] notifier_dag_runs.ingest failed"
    assert incidents["dag-level"]["message"] == "[Airflow] DAG notifier_dag_runs failed"
    for incident in incidents.values():
        assert incident["status"] == "open"
        # The second run's failure is recorded once, as a timeline entry rather than a note.
        assert emulator.notes(incident["id"]) == []
        assert len(custom_entries(emulator, incident["id"])) == 2

    assert run_dag(DAG_SOURCE, run_conf={"fail": False}).state == "success"
    assert [incident["status"] for incident in emulator.incidents()] == ["resolved", "resolved"]
    dag_incident = incidents["dag-level"]["id"]
    assert emulator.notes(dag_incident)[-1]["note"] == "notifier_dag_runs is back"
    titles = [e["description"]["name"].splitlines()[0] for e in custom_entries(emulator, dag_incident)]
    assert titles == ["Failed: DAG notifier_dag_runs"] * 2 + ["Recovered: DAG notifier_dag_runs succeeded"]
    task_entries = custom_entries(emulator, incidents["task-level"]["id"])
    assert [e["description"]["name"].splitlines()[0] for e in task_entries] == [
        "Failed: notifier_dag_runs.ingest, try 1 of 1",
        "Failed: notifier_dag_runs.ingest, try 1 of 1",
        "Recovered: notifier_dag_runs.ingest succeeded on try 1 of 1",
    ]


def custom_entries(emulator: OpsgenieEmulator, incident_id: str) -> list[dict[str, Any]]:
    return [entry for entry in emulator.timeline(incident_id) if entry["group"] == "custom"]
