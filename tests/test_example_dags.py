"""The example DAGs load without errors and run against the emulator with ``dag.test()``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_opsgenie_incident.emulator import OpsgenieEmulator

EXAMPLES = Path(__file__).resolve().parent.parent / "example_dags"
EXAMPLE_FILES = sorted(EXAMPLES.glob("example_*.py"))


def source(name: str) -> str:
    return (EXAMPLES / f"{name}.py").read_text()


def _load(text: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(text, "example", "exec"), namespace)
    return namespace["dag"]


def test_every_example_dag_loads_without_import_errors() -> None:
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(EXAMPLES))
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dag_ids) == sorted(path.stem for path in EXAMPLE_FILES)
    for dag in dagbag.dags.values():
        assert dag.tags == {"example", "opsgenie"}
        assert dag.schedule is None or dag.timetable.summary == "None"


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.stem)
def test_examples_carry_readme_markers(path: Path) -> None:
    text = path.read_text()
    assert text.count("# [START ") == text.count("# [END ") == 1


def test_callbacks_example_opens_notes_and_resolves(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Callable[..., Any]
) -> None:
    emulator = opsgenie_incident_connection
    first = run_dag(source("example_opsgenie_incident_callbacks"))
    assert first.task_states == {"load_warehouse": "failed"}
    [incident] = emulator.incidents()
    assert incident["status"] == "open"
    assert incident["message"] == "[Airflow] example_opsgenie_incident_callbacks.load_warehouse failed"
    assert "RuntimeError: the warehouse refused the nightly load" in incident["description"]
    assert incident["details"]["run_id"] == first.dag_run.run_id
    assert incident["details"]["log_url"].endswith("/tasks/load_warehouse?try_number=1")

    second = run_dag(source("example_opsgenie_incident_callbacks"))
    assert len(emulator.incidents()) == 1
    # The second failure is recorded once, as a timeline entry at the task's end, not as a note.
    assert emulator.notes(incident["id"]) == []
    entries = [entry for entry in emulator.timeline(incident["id"]) if entry["group"] == "custom"]
    assert [entry["description"]["name"].splitlines()[2] for entry in entries] == [
        f"Run: {first.dag_run.run_id}",
        f"Run: {second.dag_run.run_id}",
    ]

    succeeded = run_dag(source("example_opsgenie_incident_callbacks"), run_conf={"fail": False})
    assert succeeded.task_states == {"load_warehouse": "success"}
    assert [i["status"] for i in emulator.incidents()] == ["resolved"]


def test_workflow_example_runs_the_incident_through(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Callable[..., Any]
) -> None:
    emulator = opsgenie_incident_connection
    # A plain dag.test(): the resolve runs before the sensor, which finds it done at its first poke.
    result = run_dag(source("example_opsgenie_incident_workflow"))
    assert set(result.task_states.values()) == {"success"}, result.task_states
    assert result.xcom("wait_until_resolved")["status"] == "resolved"
    [incident] = emulator.incidents()
    assert incident["status"] == "closed"
    assert incident["priority"] == "P2"
    assert {tag for tag in incident["tags"] if not tag.startswith("idem:")} == {"warehouse", "nightly"}
    assert incident["details"] == {"run_id": result.dag_run.run_id}
    assert {"type": "team", "name": "data-platform"} in incident["responders"]
    assert any("upstream export stalled" in note["note"] for note in emulator.notes(incident["id"]))
    assert any(
        "Export restarted" in str(entry.get("description")) for entry in emulator.timeline(incident["id"])
    )
    assert result.xcom("create_incident", "incident_id") == incident["id"]


@pytest.mark.asyncio
async def test_deadline_example_opens_in_the_triggerer_and_resolves_on_success(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Callable[..., Any]
) -> None:
    # dag.test() does not evaluate deadlines: run the alert's callback the way the triggerer does,
    # with the context the scheduler builds when the deadline is missed.
    from airflow.api_fastapi.core_api.datamodels.dag_run import DAGRunResponse
    from airflow.models import DagRun
    from airflow.triggers.callback import CallbackTrigger
    from airflow.utils.session import create_session

    emulator = opsgenie_incident_connection
    # dag.test() in Airflow 3.3 fails on a DAG with a deadline (its scheduler copy of the DAG holds the
    # alert definitions where update_state expects alert ids): run the DAG without it.
    without_alert = source("example_opsgenie_incident_deadline") + "\ndag.deadline = None\n"
    result = run_dag(without_alert)
    assert result.state == "success"
    [alert] = _load(source("example_opsgenie_incident_deadline")).deadline
    with create_session() as session:
        dag_run = session.get(DagRun, result.dag_run.id)
        dag_run_json = DAGRunResponse.model_validate(dag_run).model_dump(mode="json")
    context = {"dag_run": dag_run_json, "deadline": {"id": "d-1", "deadline_time": "2025-01-01T00:30:00Z"}}
    trigger = CallbackTrigger(alert.callback.path, {**alert.callback.kwargs, "context": context})
    events = [event.payload async for event in trigger.run()]
    assert events[-1]["state"] == "success", events
    [incident] = emulator.incidents()
    assert (
        incident["message"] == "[Airflow] example_opsgenie_incident_deadline still running after 30 minutes"
    )
    assert incident["priority"] == "P2"
    assert incident["details"]["run_id"] == result.dag_run.run_id

    # The next successful run's DAG-level success callback resolves it.
    run_dag(without_alert)
    assert emulator.incidents()[0]["status"] == "resolved"


def test_timeline_example_walks_an_entry_through_every_action(
    opsgenie_incident_connection: OpsgenieEmulator, run_dag: Callable[..., Any]
) -> None:
    emulator = opsgenie_incident_connection
    result = run_dag(source("example_opsgenie_incident_timeline"))
    assert result.state == "success", result.task_states
    [incident] = emulator.incidents()
    assert incident["message"] == f"Backfill of {result.dag_run.logical_date:%Y-%m-%d}"
    entry_id = result.xcom("add_entry")["id"]
    assert result.xcom("get_entry")["description"]["name"] == "Backfill 50 % done"
    listed = result.xcom("list_entries")
    assert [entry["id"] for entry in listed if entry["group"] == "custom"] == [entry_id]
    assert [entry["hidden"] for entry in listed if entry["id"] == entry_id] == [True]
    assert result.xcom("delete_entry")["result"] == "Deleted"
    assert [entry["group"] for entry in emulator.timeline(incident["id"])] == ["incident"]
    timeline_calls = [(r.method, r.path.rsplit("/", 1)[-1]) for r in emulator.requests if "/v2/" in r.path]
    assert [method for method, _ in timeline_calls] == ["POST", "PATCH", "GET", "GET", "GET", "GET", "DELETE"]
    assert timeline_calls[2] == ("GET", "hide")
    assert timeline_calls[5] == ("GET", "unhide")
